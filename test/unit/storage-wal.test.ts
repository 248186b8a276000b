// WriteAheadLog: round trip, reopen, group commit, segments, truncation, purge, torn tails
// versus corruption, preallocation.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {
  CorruptionError,
  RECORD_OVERHEAD,
  SEGMENT_HEADER_BYTES,
  WriteAheadLog,
  repairTruncate,
  segmentFileName,
  type LogRecord,
  type WalOptions,
} from '../../src/storage/wal.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kraal-wal-test-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let dirSeq = 0;
function newDir(): string {
  return path.join(root, `d${++dirSeq}`);
}

/** zxid-like index: epoch << 32 | counter. */
function zxid(epoch: number, counter: number): number {
  return epoch * 2 ** 32 + counter;
}

function payloadFor(index: number, size = 20): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (index * 31 + i * 7) & 0xff;
  return b;
}

async function readAll(wal: WriteAheadLog, from = 0): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of wal.read(from)) out.push(r);
  return out;
}

function segFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.startsWith('log.'))
    .sort()
    .map((n) => path.join(dir, n));
}

interface Opened {
  wal: WriteAheadLog;
  warns: string[];
}
async function openWal(dir: string, opts: WalOptions = {}): Promise<Opened> {
  const warns: string[] = [];
  const wal = await WriteAheadLog.open(dir, { fsync: false, onWarn: (m) => warns.push(m), ...opts });
  return { wal, warns };
}

/** Writes records with the given indexes (term = index's epoch or 1) and closes the log. */
async function writeLog(dir: string, indexes: number[], opts: WalOptions = {}, size = 20): Promise<void> {
  const { wal } = await openWal(dir, opts);
  for (const i of indexes) wal.append({ index: i, term: Math.max(1, Math.floor(i / 2 ** 32)), payload: payloadFor(i, size) });
  await wal.flush();
  await wal.close();
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

function assertRecords(recs: LogRecord[], indexes: number[], size = 20): void {
  assert.deepEqual(
    recs.map((r) => r.index),
    indexes,
  );
  for (const r of recs) assert.ok(r.payload.equals(payloadFor(r.index, size)), `payload of ${r.index}`);
}

/** Replaces fs.fdatasync (seen by the WAL through the ESM namespace) for the duration of fn. */
async function withFdatasync(
  impl: (orig: typeof fs.fdatasync) => typeof fs.fdatasync,
  fn: () => Promise<void>,
): Promise<void> {
  const orig = fs.fdatasync;
  fs.fdatasync = impl(orig);
  syncBuiltinESMExports();
  try {
    await fn();
  } finally {
    fs.fdatasync = orig;
    syncBuiltinESMExports();
  }
}

describe('append / flush / read', () => {
  test('round trip with zxid-like indexes (gaps), first/last index and term', async () => {
    const dir = newDir();
    const { wal } = await openWal(dir);
    assert.equal(wal.firstIndex, undefined);
    assert.equal(wal.lastIndex, undefined);
    assert.equal(wal.lastTerm, undefined);
    const idx = [...range(1, 50).map((c) => zxid(1, c)), ...range(1, 50).map((c) => zxid(2, c))];
    for (const i of idx) wal.append({ index: i, term: Math.floor(i / 2 ** 32), payload: payloadFor(i) });
    assert.equal(wal.lastIndex, zxid(2, 50));
    assert.equal(wal.durableIndex, undefined);
    await wal.flush();
    assert.equal(wal.durableIndex, zxid(2, 50));
    assert.equal(wal.firstIndex, zxid(1, 1));
    assert.equal(wal.lastTerm, 2);
    const all = await readAll(wal);
    assertRecords(all, idx);
    assert.deepEqual(
      all.map((r) => r.term),
      idx.map((i) => Math.floor(i / 2 ** 32)),
    );
    // from the middle, and from an index inside a gap
    assertRecords(await readAll(wal, zxid(2, 1)), range(1, 50).map((c) => zxid(2, c)));
    assertRecords(await readAll(wal, zxid(1, 50) + 5), range(1, 50).map((c) => zxid(2, c)));
    assertRecords(await readAll(wal, zxid(3, 0)), []);
    await wal.close();
  });

  test('read returns durable records only', async () => {
    const dir = newDir();
    const { wal } = await openWal(dir);
    for (const i of range(1, 10)) wal.append({ index: i, term: 1, payload: payloadFor(i) });
    await wal.flush();
    for (const i of range(11, 20)) wal.append({ index: i, term: 1, payload: payloadFor(i) });
    assertRecords(await readAll(wal), range(1, 10));
    await wal.flush();
    assertRecords(await readAll(wal), range(1, 20));
    await wal.close();
  });

  test('append validates its input', async () => {
    const { wal } = await openWal(newDir());
    wal.append({ index: 5, term: 1, payload: Buffer.alloc(0) });
    assert.throws(() => wal.append({ index: 5, term: 1, payload: Buffer.alloc(1) }), RangeError);
    assert.throws(() => wal.append({ index: 4, term: 1, payload: Buffer.alloc(1) }), RangeError);
    assert.throws(() => wal.append({ index: 6.5, term: 1, payload: Buffer.alloc(1) }), RangeError);
    assert.throws(() => wal.append({ index: 2 ** 53, term: 1, payload: Buffer.alloc(1) }), RangeError);
    assert.throws(() => wal.append({ index: 6, term: -1, payload: Buffer.alloc(1) }), RangeError);
    wal.append({ index: 6, term: 1, payload: Buffer.alloc(0) });
    await wal.flush();
    const recs = await readAll(wal);
    assert.deepEqual(
      recs.map((r) => [r.index, r.payload.length]),
      [
        [5, 0],
        [6, 0],
      ],
    );
    await wal.close();
    assert.throws(() => wal.append({ index: 7, term: 1, payload: Buffer.alloc(0) }), /after close/);
  });

  test('reopen after close keeps everything; appends continue; close flushes', async () => {
    const dir = newDir();
    await writeLog(dir, range(1, 100));
    let { wal, warns } = await openWal(dir);
    assert.deepEqual(warns, []);
    assert.equal(wal.firstIndex, 1);
    assert.equal(wal.lastIndex, 100);
    assert.equal(wal.lastTerm, 1);
    assert.throws(() => wal.append({ index: 100, term: 1, payload: payloadFor(100) }), RangeError);
    for (const i of range(101, 150)) wal.append({ index: i, term: 1, payload: payloadFor(i) });
    await wal.close(); // no explicit flush: close flushes
    ({ wal, warns } = await openWal(dir));
    assert.deepEqual(warns, []);
    assertRecords(await readAll(wal), range(1, 150));
    await wal.close();
  });

  test('large payloads crossing read chunks', async () => {
    const dir = newDir();
    const { wal } = await openWal(dir);
    const sizes = [0, 1, 700_000, 1_500_000, 3, 2_100_000, 10];
    sizes.forEach((s, k) => wal.append({ index: k + 1, term: 1, payload: payloadFor(k + 1, s) }));
    await wal.flush();
    await wal.close();
    const { wal: w2 } = await openWal(dir);
    const recs = await readAll(w2);
    assert.equal(recs.length, sizes.length);
    recs.forEach((r, k) => assert.ok(r.payload.equals(payloadFor(k + 1, sizes[k])), `record ${k + 1}`));
    await w2.close();
  });
});

describe('group commit', () => {
  test('appends made during an fsync are written by ONE next fsync; concurrent flushes share it', async () => {
    const dir = newDir();
    const { wal } = await openWal(dir, { fsync: true });
    let inSync = 0;
    let release: (() => void) | undefined;
    await withFdatasync(
      (orig) =>
        ((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
          inSync++;
          // hold the first fsync until the test releases it; the rest run normally
          const go = () => orig(fd, cb);
          if (inSync === 1) release = go;
          else go();
        }) as typeof fs.fdatasync,
      async () => {
        wal.append({ index: 1, term: 1, payload: payloadFor(1) });
        let firstDone = false;
        const first = wal.flush().then(() => (firstDone = true));
        while (release === undefined) await new Promise((r) => setTimeout(r, 1));
        // the first fsync is running: it must not have resolved, and the event loop is free
        assert.equal(firstDone, false);
        assert.equal(wal.stats().fsyncCount, 0);
        const flushes: Promise<void>[] = [];
        for (const i of range(2, 201)) {
          wal.append({ index: i, term: 1, payload: payloadFor(i) });
          flushes.push(wal.flush());
        }
        assertRecords(await readAll(wal), []); // nothing durable yet
        release();
        await first;
        assert.equal(wal.stats().fsyncCount, 1);
        await Promise.all(flushes);
        assert.equal(wal.stats().fsyncCount, 2, '200 appends and 200 flushes made during one fsync share the next one');
        assertRecords(await readAll(wal), range(1, 201));
      },
    );
    // a flush with nothing new resolves without an fsync
    await wal.flush();
    assert.equal(wal.stats().fsyncCount, 2);
    await wal.close();
  });

  test('onFsync hook and stats', async () => {
    const dir = newDir();
    const { wal } = await openWal(dir, { fsync: true });
    const seen: [number, number][] = [];
    wal.onFsync = (ms, n) => seen.push([ms, n]);
    for (const i of range(1, 7)) wal.append({ index: i, term: 1, payload: payloadFor(i) });
    await wal.flush();
    assert.equal(seen.length, 1);
    assert.equal(seen[0]![1], 7);
    assert.ok(seen[0]![0] >= 0);
    const st = wal.stats();
    assert.equal(st.segments, 1);
    assert.equal(st.fsyncCount, 1);
    assert.equal(st.dataBytes, SEGMENT_HEADER_BYTES + 7 * (RECORD_OVERHEAD + 20));
    assert.ok(st.bytes >= st.dataBytes);
    await wal.close();
  });

  test('a failed fdatasync poisons the log: flush rejects, later appends throw', async () => {
    const dir = newDir();
    const { wal } = await openWal(dir, { fsync: true });
    await withFdatasync(
      () =>
        ((_fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
          const e: NodeJS.ErrnoException = new Error('EIO: i/o error, fdatasync');
          e.code = 'EIO';
          setImmediate(() => cb(e));
        }) as typeof fs.fdatasync,
      async () => {
        wal.append({ index: 1, term: 1, payload: payloadFor(1) });
        await assert.rejects(wal.flush(), /fdatasync failed.*EIO/);
      },
    );
    assert.throws(() => wal.append({ index: 2, term: 1, payload: payloadFor(2) }), /no longer accepts writes/);
    await assert.rejects(wal.flush(), /no longer accepts writes/);
    await wal.close();
  });
});

describe('inline sync (inlineSyncBytes)', () => {
  test('a small flush with the log idle is written inline; large or concurrent ones stay async; all recover', async () => {
    const dir = newDir();
    const { wal } = await openWal(dir, { fsync: true, syncMode: 'dsync', inlineSyncBytes: 4096 });
    let idx = 1;
    wal.append({ index: idx, term: 1, payload: payloadFor(idx) });
    idx++;
    await wal.flush(); // opens the O_DSYNC descriptor: async
    assert.equal(wal.inlineSyncs, 0);
    for (let k = 0; k < 3; k++) {
      wal.append({ index: idx, term: 1, payload: payloadFor(idx) });
      idx++;
      await wal.flush();
    }
    assert.equal(wal.inlineSyncs, 3, 'lone small flushes are inline');
    for (let k = 0; k < 300; k++, idx++) wal.append({ index: idx, term: 1, payload: payloadFor(idx) });
    await wal.flush();
    assert.equal(wal.inlineSyncs, 3, 'a batch over the limit goes through the thread pool');
    wal.append({ index: idx, term: 1, payload: payloadFor(idx, 5000) });
    idx++;
    const running = wal.flush(); // async (over the limit) and still running...
    wal.append({ index: idx, term: 1, payload: payloadFor(idx) });
    idx++;
    const next = wal.flush(); // ...so this one must wait for it, not overtake it inline
    assert.equal(wal.inlineSyncs, 3);
    await Promise.all([running, next]);
    await wal.close();
    const { wal: again } = await openWal(dir);
    const recs = await readAll(again);
    assert.deepEqual(recs.map((r) => r.index), range(1, idx - 1));
    assert.deepEqual(recs[recs.length - 1]!.payload, payloadFor(idx - 1));
    await again.close();
  });
});

describe('segments', () => {
  test('roll at segmentBytes, read across segments, reopen', async () => {
    const dir = newDir();
    const { wal } = await openWal(dir, { segmentBytes: 4096 });
    // 150 records of 124 bytes: ~32 per segment; flush in uneven batches (a batch may straddle a roll)
    for (const i of range(1, 150)) {
      wal.append({ index: i * 3, term: 1 + Math.floor(i / 60), payload: payloadFor(i * 3, 100) });
      if (i % 17 === 0) await wal.flush();
    }
    await wal.flush();
    const files = segFiles(dir);
    assert.ok(files.length >= 4, `${files.length} segments`);
    assert.equal(wal.stats().segments, files.length);
    for (const f of files.slice(0, -1)) assert.ok(fs.statSync(f).size <= 4096, `${f} within segmentBytes`);
    const idx = range(1, 150).map((i) => i * 3);
    assertRecords(await readAll(wal), idx, 100);
    assertRecords(await readAll(wal, 200), idx.filter((i) => i >= 200), 100);
    await wal.close();
    const { wal: w2, warns } = await openWal(dir, { segmentBytes: 4096 });
    assert.deepEqual(warns, []);
    assertRecords(await readAll(w2, 1), idx, 100);
    assert.equal(w2.lastTerm, 3);
    // file names carry the first index
    assert.deepEqual(
      segFiles(dir).map((f) => path.basename(f)),
      files.map((f) => path.basename(f)),
    );
    assert.equal(path.basename(files[0]!), segmentFileName(3));
    await w2.close();
  });

  test('a record larger than segmentBytes gets a segment of its own', async () => {
    const dir = newDir();
    const { wal } = await openWal(dir, { segmentBytes: 4096 });
    wal.append({ index: 1, term: 1, payload: payloadFor(1, 10) });
    wal.append({ index: 2, term: 1, payload: payloadFor(2, 10_000) });
    wal.append({ index: 3, term: 1, payload: payloadFor(3, 10) });
    await wal.flush();
    assert.equal(segFiles(dir).length, 3);
    const recs = await readAll(wal);
    assert.deepEqual(
      recs.map((r) => r.payload.length),
      [10, 10_000, 10],
    );
    await wal.close();
  });
});

describe('preallocation modes', () => {
  for (const mode of ['zeros', 'sparse', false] as const) {
    test(`preallocate ${String(mode)}: roll, reopen, torn tail, continue`, async () => {
      const dir = newDir();
      const opts: WalOptions = { segmentBytes: 8192, preallocate: mode };
      await writeLog(dir, range(1, 300), opts, 50);
      const files = segFiles(dir);
      assert.ok(files.length >= 3);
      const tail = files[files.length - 1]!;
      if (mode === false) assert.equal(fs.statSync(tail).size % (RECORD_OVERHEAD + 50), SEGMENT_HEADER_BYTES);
      else assert.equal(fs.statSync(tail).size, 8192);
      // tear the last record: drop its last 5 bytes of data (garbage-free), as a crash could
      const lastFirst = parseInt(path.basename(tail).slice(4), 16);
      const end = SEGMENT_HEADER_BYTES + (300 - lastFirst + 1) * (RECORD_OVERHEAD + 50);
      const fd = fs.openSync(tail, 'r+');
      fs.writeSync(fd, Buffer.alloc(5), 0, 5, end - 5);
      fs.closeSync(fd);
      const { wal, warns } = await openWal(dir, opts);
      assert.equal(warns.length, 1);
      assert.equal(wal.lastIndex, 299);
      for (const i of range(300, 400)) wal.append({ index: i, term: 2, payload: payloadFor(i, 50) });
      await wal.close();
      const again = await openWal(dir, opts);
      assert.deepEqual(again.warns, []);
      assertRecords(await readAll(again.wal), range(1, 400), 50);
      await again.wal.close();
    });
  }
});

describe('truncateAfter', () => {
  test('inside the tail segment, then appends continue with a new term', async () => {
    const dir = newDir();
    await writeLog(dir, range(1, 40));
    const { wal } = await openWal(dir);
    await wal.truncateAfter(25);
    assert.equal(wal.lastIndex, 25);
    assertRecords(await readAll(wal), range(1, 25));
    wal.append({ index: 26, term: 2, payload: payloadFor(26) });
    await wal.flush();
    await wal.close();
    const { wal: w2, warns } = await openWal(dir);
    assert.deepEqual(warns, []);
    assertRecords(await readAll(w2), range(1, 26));
    assert.equal(w2.lastTerm, 2);
    await w2.close();
  });

  test('across segments: later segments are deleted, the straddling one cut', async () => {
    const dir = newDir();
    await writeLog(dir, range(1, 200), { segmentBytes: 4096 }, 100);
    const before = segFiles(dir).length;
    const { wal } = await openWal(dir, { segmentBytes: 4096 });
    await wal.truncateAfter(70);
    assert.ok(segFiles(dir).length < before);
    assert.equal(wal.lastIndex, 70);
    assert.equal(wal.stats().segments, segFiles(dir).length);
    assertRecords(await readAll(wal), range(1, 70), 100);
    for (const i of range(71, 120)) wal.append({ index: i, term: 2, payload: payloadFor(i, 100) });
    await wal.flush();
    await wal.close();
    const { wal: w2, warns } = await openWal(dir, { segmentBytes: 4096 });
    assert.deepEqual(warns, []);
    const recs = await readAll(w2);
    assertRecords(recs, range(1, 120), 100);
    assert.equal(recs[69]!.term, 1);
    assert.equal(recs[70]!.term, 2);
    await w2.close();
  });

  test('at a segment boundary, of pending records, and of everything', async () => {
    const dir = newDir();
    await writeLog(dir, range(1, 100), { segmentBytes: 4096 }, 100);
    const { wal } = await openWal(dir, { segmentBytes: 4096 });
    // pending records only
    for (const i of range(101, 110)) wal.append({ index: i, term: 1, payload: payloadFor(i, 100) });
    const pendingFlush = wal.flush();
    await wal.truncateAfter(105);
    await pendingFlush;
    await wal.flush();
    assertRecords(await readAll(wal), range(1, 105), 100);
    // exactly at the last record of a segment
    const firsts = segFiles(dir).map((f) => parseInt(path.basename(f).slice(4), 16));
    const boundary = firsts[2]! - 1;
    await wal.truncateAfter(boundary);
    assert.equal(wal.lastIndex, boundary);
    assert.equal(segFiles(dir).length, 2);
    assertRecords(await readAll(wal), range(1, boundary), 100);
    // everything
    await wal.truncateAfter(0);
    assert.equal(wal.lastIndex, undefined);
    assert.equal(wal.firstIndex, undefined);
    assert.equal(segFiles(dir).length, 0);
    wal.append({ index: 7, term: 3, payload: payloadFor(7, 100) });
    await wal.flush();
    await wal.close();
    const { wal: w2 } = await openWal(dir, { segmentBytes: 4096 });
    assertRecords(await readAll(w2), [7], 100);
    await w2.close();
  });

  test('append while truncateAfter is running is refused; a read spanning it fails', async () => {
    const dir = newDir();
    await writeLog(dir, range(1, 50));
    const { wal } = await openWal(dir);
    const it = wal.read(1)[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.index, 1);
    const t = wal.truncateAfter(10);
    assert.throws(() => wal.append({ index: 11, term: 2, payload: payloadFor(11) }), /truncateAfter/);
    await t;
    await assert.rejects(async () => {
      for (;;) if ((await it.next()).done) break;
    }, /truncated during the read/);
    await wal.close();
  });
});

describe('purgeBefore', () => {
  test('deletes whole segments below the index, never the tail', async () => {
    const dir = newDir();
    await writeLog(dir, range(1, 200), { segmentBytes: 4096 }, 100);
    const { wal } = await openWal(dir, { segmentBytes: 4096 });
    const files = segFiles(dir);
    const firsts = files.map((f) => parseInt(path.basename(f).slice(4), 16));
    assert.equal(await wal.purgeBefore(1), 0);
    assert.equal(await wal.purgeBefore(firsts[1]! + 1), 1, 'only the first segment is entirely below');
    assert.equal(wal.firstIndex, firsts[1]);
    assert.equal(await wal.purgeBefore(firsts[3]!), 2);
    assert.deepEqual(segFiles(dir), files.slice(3));
    assertRecords(await readAll(wal, 0), range(firsts[3]!, 200), 100);
    assert.equal(await wal.purgeBefore(1_000_000), files.length - 4, 'all but the tail');
    assert.equal(segFiles(dir).length, 1);
    assert.equal(wal.lastIndex, 200);
    await wal.close();
    const { wal: w2 } = await openWal(dir, { segmentBytes: 4096 });
    assert.equal(w2.lastIndex, 200);
    assert.equal(w2.firstIndex, firsts[firsts.length - 1]);
    await w2.close();
  });
});

describe('torn tails and corruption', () => {
  const N = 12;
  const REC = RECORD_OVERHEAD + 20;

  async function baseline(preallocate: boolean): Promise<{ dir: string; file: string; lastStart: number; end: number }> {
    const dir = newDir();
    await writeLog(dir, range(1, N), { preallocate });
    const file = segFiles(dir)[0]!;
    const end = SEGMENT_HEADER_BYTES + N * REC;
    return { dir, file, lastStart: end - REC, end };
  }

  function cloneDir(src: string): string {
    const dst = newDir();
    fs.cpSync(src, dst, { recursive: true });
    return dst;
  }

  /** Reopens a log whose last record was damaged; `silent`: the surviving bytes are all zeros (looks like preallocation). */
  async function expectTorn(dir: string, label: string, silent = false): Promise<void> {
    const { wal, warns } = await openWal(dir);
    assert.equal(wal.lastIndex, N - 1, label);
    if (silent) assert.deepEqual(warns, [], `${label}: zeros only, nothing to report`);
    else {
      assert.equal(warns.length, 1, `${label}: one warning`);
      assert.match(warns[0]!, /torn final write at offset \d+/);
    }
    assertRecords(await readAll(wal), range(1, N - 1));
    wal.append({ index: N, term: 2, payload: payloadFor(N) });
    wal.append({ index: N + 1, term: 2, payload: payloadFor(N + 1) });
    await wal.close();
    const again = await openWal(dir);
    assert.deepEqual(again.warns, [], `${label}: clean after repair`);
    assertRecords(await readAll(again.wal), range(1, N + 1));
    await again.wal.close();
  }

  test('file cut at every offset inside the last record (no preallocation)', async () => {
    const b = await baseline(false);
    assert.equal(fs.statSync(b.file).size, b.end);
    for (let cut = b.lastStart + 1; cut < b.end; cut++) {
      const dir = cloneDir(b.dir);
      fs.truncateSync(segFiles(dir)[0]!, cut);
      // the length field 36 is 00 00 00 24: a cut inside its zero bytes leaves only zeros
      await expectTorn(dir, `cut at ${cut}`, cut < b.lastStart + 4);
    }
  });

  test('last record partly zeroed at every offset (preallocated file)', async () => {
    const b = await baseline(true);
    assert.ok(fs.statSync(b.file).size > b.end, 'preallocated');
    for (let cut = b.lastStart; cut < b.end; cut++) {
      const dir = cloneDir(b.dir);
      const f = segFiles(dir)[0]!;
      const fd = fs.openSync(f, 'r+');
      fs.writeSync(fd, Buffer.alloc(b.end - cut), 0, b.end - cut, cut);
      fs.closeSync(fd);
      if (cut === b.lastStart) {
        // the whole record is zeros: that is just a shorter log, no warning
        const { wal, warns } = await openWal(dir);
        assert.deepEqual(warns, []);
        assert.equal(wal.lastIndex, N - 1);
        await wal.close();
        continue;
      }
      await expectTorn(dir, `zeroed from ${cut}`, cut < b.lastStart + 4);
    }
  });

  test('garbage (not zeros) after the last good record is a torn tail', async () => {
    const b = await baseline(true);
    for (const len of [1, 7, 30, 5000]) {
      const dir = cloneDir(b.dir);
      const f = segFiles(dir)[0]!;
      const junk = Buffer.alloc(len);
      for (let i = 0; i < len; i++) junk[i] = (i * 131 + 17) & 0xff || 1;
      const fd = fs.openSync(f, 'r+');
      fs.writeSync(fd, junk, 0, len, b.lastStart);
      fs.closeSync(fd);
      await expectTorn(dir, `junk ${len}`);
    }
  });

  test('zeroed preallocated tail is not corruption; a rolled segment loses its zero tail', async () => {
    const dir = newDir();
    const { wal, warns } = await openWal(dir, { segmentBytes: 64 * 1024 });
    for (const i of range(1, 10)) wal.append({ index: i, term: 1, payload: payloadFor(i) });
    await wal.flush();
    const first = segFiles(dir)[0]!;
    assert.equal(fs.statSync(first).size, 64 * 1024, 'preallocated up to segmentBytes');
    for (const i of range(11, 3000)) wal.append({ index: i, term: 1, payload: payloadFor(i, 100) });
    await wal.close();
    assert.deepEqual(warns, []);
    const files = segFiles(dir);
    assert.ok(files.length > 2);
    for (const f of files.slice(0, -1)) {
      const buf = fs.readFileSync(f);
      assert.notEqual(buf[buf.length - 1], 0, `${f} trimmed to its data`);
    }
    const st = fs.statSync(files[files.length - 1]!);
    assert.equal(st.size, 64 * 1024);
    const again = await openWal(dir, { segmentBytes: 64 * 1024 });
    assert.deepEqual(again.warns, []);
    assert.equal(again.wal.lastIndex, 3000);
    assert.equal((await readAll(again.wal)).length, 3000);
    await again.wal.close();
  });

  test('one flipped byte anywhere in a middle record is CorruptionError naming file and offset', async () => {
    const b = await baseline(true);
    const mid = SEGMENT_HEADER_BYTES + 5 * REC; // record index 6
    for (let k = 0; k < REC; k++) {
      const dir = cloneDir(b.dir);
      const f = segFiles(dir)[0]!;
      const buf = fs.readFileSync(f);
      buf[mid + k] ^= 0x40;
      fs.writeFileSync(f, buf);
      await assert.rejects(
        WriteAheadLog.open(dir, { fsync: false, onWarn: () => assert.fail('no warning expected') }),
        (e: unknown) => {
          assert.ok(e instanceof CorruptionError, `byte ${k}: ${String(e)}`);
          assert.equal(e.file, f);
          assert.equal(e.offset, mid);
          assert.ok(e.message.includes(f), 'names the file');
          assert.ok(e.message.includes(`offset ${mid}`), 'names the offset');
          assert.ok(e.message.includes(`kraal repair --truncate ${f}@${mid}`), 'says what to do');
          assert.ok(/backup|other ensemble members/.test(e.message));
          return true;
        },
        `byte ${k}`,
      );
    }
  });

  test('damage in an earlier segment is CorruptionError even at its end', async () => {
    const dir = newDir();
    await writeLog(dir, range(1, 200), { segmentBytes: 4096 }, 100);
    const files = segFiles(dir);
    // cut the first segment's last record short: a torn tail anywhere but the last segment is damage
    const size = fs.statSync(files[0]!).size;
    fs.truncateSync(files[0]!, size - 3);
    await assert.rejects(WriteAheadLog.open(dir, { fsync: false }), (e: unknown) => {
      assert.ok(e instanceof CorruptionError);
      assert.equal(e.file, files[0]);
      assert.match(e.message, /not the last one/);
      return true;
    });
  });

  test('zeroed block in the middle of the last segment followed by valid records is corruption', async () => {
    const b = await baseline(true);
    const f = b.file;
    const fd = fs.openSync(f, 'r+');
    const at = SEGMENT_HEADER_BYTES + 3 * REC;
    fs.writeSync(fd, Buffer.alloc(REC * 2), 0, REC * 2, at);
    fs.closeSync(fd);
    await assert.rejects(WriteAheadLog.open(b.dir, { fsync: false }), (e: unknown) => {
      assert.ok(e instanceof CorruptionError);
      assert.equal(e.offset, at);
      assert.match(e.message, /valid record \(index 6\) follows/);
      return true;
    });
    // the operator accepts the loss: repair, then the log opens with records 1..3
    const r = repairTruncate(f, at);
    assert.equal(r.truncated, f);
    const { wal, warns } = await openWal(b.dir);
    assert.deepEqual(warns, []);
    assertRecords(await readAll(wal), range(1, 3));
    await wal.close();
  });

  test('torn creation of a new segment is removed; the previous one becomes the tail again', async () => {
    const dir = newDir();
    await writeLog(dir, range(1, 40), { segmentBytes: 4096 }, 100);
    const files = segFiles(dir);
    const lastFirst = parseInt(path.basename(files[files.length - 1]!).slice(4), 16);
    // a segment file whose header never fully reached the disk
    const torn = path.join(dir, segmentFileName(41));
    fs.writeFileSync(torn, Buffer.from('KRLWAL'));
    const { wal, warns } = await openWal(dir, { segmentBytes: 4096 });
    assert.equal(warns.length, 1);
    assert.match(warns[0]!, /torn segment creation/);
    assert.ok(!fs.existsSync(torn));
    assert.equal(wal.lastIndex, 40);
    wal.append({ index: 41, term: 1, payload: payloadFor(41, 100) });
    await wal.close();
    const again = await openWal(dir, { segmentBytes: 4096 });
    assert.deepEqual(again.warns, []);
    assertRecords(await readAll(again.wal, lastFirst), range(lastFirst, 41), 100);
    await again.wal.close();
  });

  test('a CRC-valid record whose index does not increase is corruption, not a torn tail', async () => {
    const dir = newDir();
    await writeLog(dir, range(1, 5));
    const f = segFiles(dir)[0]!;
    // append a copy of record 3 (valid CRC) after record 5
    const buf = fs.readFileSync(f);
    const end = SEGMENT_HEADER_BYTES + 5 * REC;
    const rec3 = buf.subarray(SEGMENT_HEADER_BYTES + 2 * REC, SEGMENT_HEADER_BYTES + 3 * REC);
    const fd = fs.openSync(f, 'r+');
    fs.writeSync(fd, rec3, 0, rec3.length, end);
    fs.closeSync(fd);
    await assert.rejects(WriteAheadLog.open(dir, { fsync: false }), (e: unknown) => {
      assert.ok(e instanceof CorruptionError);
      assert.equal(e.offset, end);
      assert.match(e.message, /not greater than the previous index 5/);
      return true;
    });
  });
});
