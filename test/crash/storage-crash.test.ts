// Crash test for the WAL: a child process appends records and prints each index right after
// the flush() covering it resolved (its acknowledgement); the parent kill -9's it at a random
// moment, reopens the log and checks that every acknowledged index is there with the right
// payload and term, and that the whole log reads back. The next child continues the same log
// (so recovery + append-after-recovery is exercised each round).
//
// The same file is the child: with KRAAL_WAL_CRASH_CHILD set it runs the append loop instead
// of registering tests.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WriteAheadLog } from '../../src/storage/wal.js';

function payloadFor(index: number): Buffer {
  const size = (index * 7919) % 3000; // 0..2999 bytes: records straddle pages and batches vary
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (index * 13 + i) & 0xff;
  return b;
}

async function child(): Promise<void> {
  const dir = process.env.KRAAL_WAL_CRASH_CHILD!;
  const term = Number(process.env.KRAAL_TERM);
  const writers = Number(process.env.KRAAL_WRITERS);
  const segmentBytes = Number(process.env.KRAAL_SEGMENT_BYTES);
  const wal = await WriteAheadLog.open(dir, { segmentBytes, onWarn: (m) => process.stderr.write(`warn: ${m}\n`) });
  let next = (wal.lastIndex ?? 0) + 1 + (term % 3); // leave a gap now and then, like zxids do
  const worker = async () => {
    for (;;) {
      const index = next++;
      wal.append({ index, term, payload: payloadFor(index) });
      await wal.flush();
      process.stdout.write(`${index}\n`); // synchronous for pipes on Linux: in the pipe before we go on
    }
  };
  await Promise.all(Array.from({ length: writers }, worker));
}

if (process.env.KRAAL_WAL_CRASH_CHILD) {
  await child();
} else {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kraal-wal-crash-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const self = fileURLToPath(import.meta.url);

  async function runChild(dir: string, term: number, writers: number, segmentBytes: number, killAfterMs: number) {
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT; // the child is a plain program, not a test file
    const proc = spawn(process.execPath, [self], {
      env: {
        ...env,
        KRAAL_WAL_CRASH_CHILD: dir,
        KRAAL_TERM: String(term),
        KRAAL_WRITERS: String(writers),
        KRAAL_SEGMENT_BYTES: String(segmentBytes),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | string | null>((r) => proc.on('exit', (code, sig) => r(sig ?? code)));
    // wait for the first acknowledgement (startup includes recovery), then a random while longer
    const t0 = Date.now();
    while (!out.includes('\n')) {
      const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r(undefined), 5))]);
      if (early !== undefined) assert.fail(`child exited early (${String(early)}): ${err}`);
      if (Date.now() - t0 > 10_000) assert.fail(`child acknowledged nothing in 10 s: ${err}`);
    }
    await new Promise((r) => setTimeout(r, killAfterMs));
    proc.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const lines = out.split('\n');
    lines.pop(); // an unterminated last line is not an acknowledgement
    return { acked: lines.map(Number), stderr: err };
  }

  test('kill -9 during appends never loses an acknowledged record', async (t) => {
    const dir = path.join(root, 'wal');
    const ackedTerm = new Map<number, number>();
    const rounds = [
      { writers: 1, segmentBytes: 64 * 1024 * 1024 },
      { writers: 32, segmentBytes: 64 * 1024 * 1024 },
      { writers: 8, segmentBytes: 64 * 1024 },
      { writers: 1, segmentBytes: 64 * 1024 },
      { writers: 32, segmentBytes: 256 * 1024 },
      { writers: 4, segmentBytes: 64 * 1024 * 1024 },
      { writers: 16, segmentBytes: 64 * 1024 },
      { writers: 2, segmentBytes: 128 * 1024 },
    ];
    let torn = 0;
    for (let round = 0; round < rounds.length; round++) {
      const { writers, segmentBytes } = rounds[round]!;
      const term = round + 1;
      const killAfter = 20 + Math.floor(Math.random() * 400);
      const { acked, stderr } = await runChild(dir, term, writers, segmentBytes, killAfter);
      assert.ok(acked.length > 0);
      for (const i of acked) {
        assert.ok(Number.isSafeInteger(i), `bad ack line ${i}`);
        ackedTerm.set(i, term);
      }
      for (const line of stderr.split('\n').filter((l) => l.startsWith('warn:'))) {
        assert.match(line, /torn|holds no records/, `unexpected recovery warning: ${line}`);
        torn++;
      }

      const warns: string[] = [];
      const wal = await WriteAheadLog.open(dir, { segmentBytes, onWarn: (m) => warns.push(m) });
      for (const w of warns) assert.match(w, /torn|holds no records/, w);
      torn += warns.length;
      const seen = new Map<number, number>();
      let prev = -1;
      for await (const r of wal.read(0)) {
        assert.ok(r.index > prev, `indexes increase: ${r.index} after ${prev}`);
        prev = r.index;
        assert.ok(r.payload.equals(payloadFor(r.index)), `payload of ${r.index}`);
        seen.set(r.index, r.term);
      }
      assert.equal(wal.lastIndex, prev);
      const missing = [...ackedTerm.keys()].filter((i) => !seen.has(i));
      assert.deepEqual(missing.slice(0, 10), [], `round ${round}: ${missing.length} acknowledged record(s) lost`);
      for (const [i, t] of ackedTerm) assert.equal(seen.get(i), t, `term of ${i}`);
      await wal.close();
      t.diagnostic(`round ${round}: ${writers} writer(s), killed after ${killAfter} ms, ${acked.length} acked, log holds ${seen.size}`);
    }
    assert.ok(ackedTerm.size > 100, `only ${ackedTerm.size} acknowledgements in total`);
    t.diagnostic(`${ackedTerm.size} acknowledged records checked; ${torn} torn tail(s) repaired`);
  });
}
