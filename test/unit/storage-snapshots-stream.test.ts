// SnapshotStore streaming: writeStream (incremental CRC, header last) and loadLatest
// (chunked read, CRC checked at the end, fallback to an older snapshot).

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SnapshotStore, SNAPSHOT_HEADER_BYTES, snapshotFileName, type SnapshotConsumer } from '../../src/storage/snapshots.js';
import { ZkDatabase } from '../../src/zk/database.js';
import { SnapshotError } from '../../src/zk/snapshot-format.js';
import { Harness } from './zk-support.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kraal-snapstream-test-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let seq = 0;
const newDir = () => path.join(root, `d${++seq}`);

function body(index: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (index + i * 13) & 0xff;
  return b;
}

/** A consumer that keeps copies of what it is given. */
function collector(log: string[] = []): () => SnapshotConsumer<Buffer> {
  return () => {
    const chunks: Buffer[] = [];
    return {
      push: (c) => void chunks.push(Buffer.from(c)),
      finish: () => {
        log.push('finish');
        return Buffer.concat(chunks);
      },
    };
  };
}

function bigState(nodes: number): Harness {
  const h = new Harness();
  h.create('/big');
  for (let i = 0; i < nodes; i++) h.create(`/big/n${i}`, Buffer.alloc(100, i & 0xff), { flags: i % 97 === 0 ? 1 : 0 });
  return h;
}

describe('SnapshotStore streaming', () => {
  test('writeStream from a function reusing one buffer, an async iterable, a plain array: same files as write()', async () => {
    const dir = newDir();
    const s = new SnapshotStore(dir, { fsync: true });
    const data = body(3, 3_000_000);
    const shared = Buffer.alloc(64 * 1024);
    let off = 0;
    const r = await s.writeStream(1, 1, () => {
      if (off >= data.length) return null;
      const n = data.copy(shared, 0, off, Math.min(off + shared.length, data.length));
      off += n;
      return shared.subarray(0, n); // reused by the next call
    });
    assert.equal(r.bytes, data.length);
    async function* gen() {
      for (let i = 0; i < data.length; i += 777_777) yield data.subarray(i, i + 777_777);
    }
    await s.writeStream(2, 1, gen());
    await s.write(3, 1, [data]);
    const f = (i: number) => fs.readFileSync(path.join(dir, snapshotFileName(i)));
    const same = (a: Buffer, b: Buffer) => a.subarray(24, 40).equals(b.subarray(24, 40)) && a.subarray(SNAPSHOT_HEADER_BYTES).equals(b.subarray(SNAPSHOT_HEADER_BYTES));
    assert.ok(same(f(1), f(3)) && same(f(2), f(3)));
    const got = await s.loadLatest(collector());
    assert.equal(got?.index, 3);
    assert.equal(got?.bodyBytes, data.length);
    assert.ok(got?.value.equals(data));
  });

  test('a failing source leaves neither a final file nor a temp file', async () => {
    const dir = newDir();
    const s = new SnapshotStore(dir, { fsync: false });
    let n = 0;
    await assert.rejects(
      s.writeStream(5, 1, () => {
        if (++n > 3) throw new Error('source broke');
        return body(n, 1000);
      }),
      /source broke/,
    );
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.equal(await s.loadLatest(collector()), undefined);
  });

  test('loadLatest: bad body CRC, truncation and header damage fall back; the bad one is never finished', async () => {
    const dir = newDir();
    const warns: string[] = [];
    const s = new SnapshotStore(dir, { fsync: false, onWarn: (m) => warns.push(m) });
    for (const i of [10, 20, 30]) await s.write(i, 1, [body(i, 3_000_000)]); // several read chunks each
    const f30 = path.join(dir, snapshotFileName(30));
    const b = fs.readFileSync(f30);
    b[SNAPSHOT_HEADER_BYTES + 2_500_000] ^= 0x40; // in the third chunk: found only at the end
    fs.writeFileSync(f30, b);
    const log: string[] = [];
    let pushed = 0;
    const got = await s.loadLatest((meta) => {
      const inner = collector(log)();
      return {
        push: (c) => {
          pushed += c.length;
          inner.push(c);
        },
        finish: () => {
          log.push(`finish ${meta.index}`);
          return inner.finish();
        },
      };
    });
    assert.equal(got?.index, 20);
    assert.ok(got?.value.equals(body(20, 3_000_000)));
    assert.deepEqual(log, ['finish 20', 'finish']);
    assert.equal(pushed, 6_000_000); // 30 was streamed whole, then dropped
    assert.ok(warns.some((w) => w.includes(f30) && /body CRC mismatch/.test(w) && /falling back/.test(w)), warns.join('\n'));
    fs.truncateSync(path.join(dir, snapshotFileName(20)), 1000);
    const h10 = path.join(dir, snapshotFileName(10));
    const b10 = fs.readFileSync(h10);
    b10[30] ^= 1; // header damage
    fs.writeFileSync(h10, b10);
    warns.length = 0;
    assert.equal(await s.loadLatest(collector()), undefined);
    assert.ok(warns.some((w) => /incomplete or damaged/.test(w)) && warns.some((w) => /header CRC mismatch/.test(w)), warns.join('\n'));
  });

  test('a consumer error on a damaged file falls back; on an intact file it is an error naming the file', async () => {
    const dir = newDir();
    const warns: string[] = [];
    const s = new SnapshotStore(dir, { fsync: false, onWarn: (m) => warns.push(m) });
    const h = bigState(50);
    await s.write(7, 1, h.db.serialize());
    const garbage = body(1, 5000);
    await s.write(9, 1, [garbage]);
    const load = () => s.loadLatest((meta) => ZkDatabase.loader({}, { totalBytes: meta.bodyBytes }));
    // 9 is intact on disk but is no snapshot body: refusing to start beats silently using 7
    await assert.rejects(load(), (e: unknown) => {
      assert.ok(e instanceof SnapshotError);
      assert.match(e.message, new RegExp(`${snapshotFileName(9)} has an intact CRC but cannot be loaded: .*bad magic`));
      return true;
    });
    // damaged: the parse error is reported with the CRC mismatch, and 7 is used
    const f9 = path.join(dir, snapshotFileName(9));
    const b9 = fs.readFileSync(f9);
    b9[SNAPSHOT_HEADER_BYTES + 100] ^= 1;
    fs.writeFileSync(f9, b9);
    const got = await load();
    assert.equal(got?.index, 7);
    assert.ok(Buffer.concat(got!.value.serialize()).equals(Buffer.concat(h.db.serialize())));
    assert.ok(warns.some((w) => /body CRC mismatch/.test(w) && /reading it had also failed/.test(w)), warns.join('\n'));
  });

  test('end to end: a database streamed out while it changes, streamed back in', async () => {
    const dir = newDir();
    const s = new SnapshotStore(dir, { fsync: true });
    const h = bigState(20_000);
    const expected = Buffer.concat(h.db.serialize());
    const cursor = h.db.beginSnapshot();
    let turns = 0;
    const written = s.writeStream(cursor.zxid, 2, () => {
      // the database keeps changing between slices
      h.setData(`/big/n${(turns * 997) % 20_000}`, `t${turns}`);
      h.delete(`/big/n${(turns * 1601 + 5) % 20_000}`);
      h.create(`/big/new${turns++}`, 'x');
      return cursor.next(32 * 1024);
    });
    await written;
    assert.ok(turns > 50 && cursor.preimages > 20, `${turns} slices, ${cursor.preimages} pre-images`);
    const got = await s.loadLatest((meta) => ZkDatabase.loader({}, { totalBytes: meta.bodyBytes }));
    assert.equal(got?.index, cursor.zxid);
    assert.equal(got?.term, 2);
    assert.ok(Buffer.concat(got!.value.serialize()).equals(expected));
  });
});
