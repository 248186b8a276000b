// SnapshotStore (atomic write, latest with fallback, purge) and HardStateStore.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SnapshotStore, SNAPSHOT_HEADER_BYTES, snapshotFileName } from '../../src/storage/snapshots.js';
import { HardStateStore, HARDSTATE_FILE } from '../../src/storage/hardstate.js';
import { CorruptionError } from '../../src/storage/wal.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kraal-snap-test-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let seq = 0;
const newDir = () => path.join(root, `d${++seq}`);

function body(index: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (index + i * 13) & 0xff;
  return b;
}

function store(dir: string, warns: string[] = []): SnapshotStore {
  return new SnapshotStore(dir, { fsync: true, onWarn: (m) => warns.push(m) });
}

describe('SnapshotStore', () => {
  test('empty or missing directory', async () => {
    const s = store(newDir());
    assert.equal(await s.latest(), undefined);
    assert.deepEqual(await s.list(), []);
    assert.deepEqual(await s.purge(3), { removed: [], oldestKeptIndex: undefined });
  });

  test('write (several chunks) + latest + list; no temp file left', async () => {
    const dir = newDir();
    const s = store(dir);
    const data = body(7, 300_000);
    await s.write(0x100000005, 3, [data.subarray(0, 1), data.subarray(1, 100_000), Buffer.alloc(0), data.subarray(100_000)]);
    await s.write(0x100000009, 4, [body(9, 10)]);
    await s.write(0x100000002, 2, []);
    const latest = await s.latest();
    assert.ok(latest);
    assert.equal(latest.index, 0x100000009);
    assert.equal(latest.term, 4);
    assert.ok(latest.data.equals(body(9, 10)));
    const list = await s.list();
    assert.deepEqual(
      list.map((e) => [e.index, path.basename(e.file), e.bytes]),
      [
        [0x100000002, snapshotFileName(0x100000002), SNAPSHOT_HEADER_BYTES + 4],
        [0x100000005, 'snapshot.0000000100000005', SNAPSHOT_HEADER_BYTES + 300_000 + 4],
        [0x100000009, snapshotFileName(0x100000009), SNAPSHOT_HEADER_BYTES + 10 + 4],
      ],
    );
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.includes('tmp')),
      [],
    );
  });

  test('falls back to an older snapshot when the newest is damaged; temp files are removed', async () => {
    const dir = newDir();
    const warns: string[] = [];
    const s = store(dir, warns);
    await s.write(10, 1, [body(10, 5000)]);
    await s.write(20, 1, [body(20, 5000)]);
    await s.write(30, 2, [body(30, 5000)]);
    // a crash while writing snapshot 40
    fs.writeFileSync(path.join(dir, `${snapshotFileName(40)}.tmp.999.1`), Buffer.alloc(100, 1));
    // flip a body byte of 30, truncate... 20 stays fine
    const f30 = path.join(dir, snapshotFileName(30));
    const b30 = fs.readFileSync(f30);
    b30[SNAPSHOT_HEADER_BYTES + 1234] ^= 1;
    fs.writeFileSync(f30, b30);
    let latest = await s.latest();
    assert.equal(latest?.index, 20);
    assert.ok(latest?.data.equals(body(20, 5000)));
    assert.ok(warns.some((w) => w.includes(f30) && /body CRC mismatch/.test(w) && /falling back/.test(w)), warns.join('\n'));
    assert.ok(warns.some((w) => /interrupted snapshot write/.test(w)));
    assert.ok(!fs.readdirSync(dir).some((n) => n.includes('.tmp.')));
    // a truncated newest snapshot (incomplete file) is skipped too
    const f20 = path.join(dir, snapshotFileName(20));
    fs.truncateSync(f20, 3000);
    warns.length = 0;
    latest = await s.latest();
    assert.equal(latest?.index, 10);
    assert.ok(warns.some((w) => w.includes(f20) && /incomplete or damaged/.test(w)));
    // header damage
    const f10 = path.join(dir, snapshotFileName(10));
    const b10 = fs.readFileSync(f10);
    b10[20] ^= 0xff;
    fs.writeFileSync(f10, b10);
    assert.equal(await s.latest(), undefined);
  });

  test('rewriting the same index replaces it atomically', async () => {
    const dir = newDir();
    const s = store(dir);
    await s.write(5, 1, [body(1, 100)]);
    await s.write(5, 2, [body(2, 200)]);
    const l = await s.latest();
    assert.equal(l?.term, 2);
    assert.ok(l?.data.equals(body(2, 200)));
    assert.equal((await s.list()).length, 1);
  });

  test('purge keeps the newest `retain` (at least 3) and reports the oldest kept index', async () => {
    const dir = newDir();
    const s = store(dir);
    for (const i of [1, 2, 3, 4, 5, 6, 7]) await s.write(i * 100, 1, [body(i, 64)]);
    let r = await s.purge(1); // raised to 3
    assert.equal(r.oldestKeptIndex, 500);
    assert.deepEqual(
      r.removed.map((f) => path.basename(f)).sort(),
      [100, 200, 300, 400].map(snapshotFileName),
    );
    assert.deepEqual(
      (await s.list()).map((e) => e.index),
      [500, 600, 700],
    );
    // a damaged (truncated) newest one is kept for inspection but not counted
    await s.write(800, 1, [body(8, 64)]);
    fs.truncateSync(path.join(dir, snapshotFileName(800)), 10);
    r = await s.purge(3);
    assert.deepEqual(r.removed, []);
    assert.equal(r.oldestKeptIndex, 500);
    await s.write(900, 1, [body(9, 64)]);
    r = await s.purge(3);
    assert.deepEqual(
      r.removed.map((f) => path.basename(f)),
      [snapshotFileName(500)],
    );
    assert.equal(r.oldestKeptIndex, 600);
    assert.equal((await s.latest())?.index, 900);
  });
});

describe('HardStateStore', () => {
  test('defaults, save/load round trip, replace, null vote', async () => {
    const dir = newDir();
    const h = new HardStateStore(dir, { fsync: true });
    assert.deepEqual(await h.load(), { term: 0, vote: null, commit: 0 });
    await h.save({ term: 3, vote: 2, commit: 0x100000010 });
    assert.deepEqual(await new HardStateStore(dir).load(), { term: 3, vote: 2, commit: 0x100000010 });
    // concurrent saves apply in call order
    const p1 = h.save({ term: 4, vote: null, commit: 1 });
    const p2 = h.save({ term: 5, vote: 1, commit: 2 });
    await Promise.all([p1, p2]);
    assert.deepEqual(await h.load(), { term: 5, vote: 1, commit: 2 });
    await h.save({ term: 6, vote: null, commit: 2 });
    assert.deepEqual(await h.load(), { term: 6, vote: null, commit: 2 });
    assert.deepEqual(fs.readdirSync(dir), [HARDSTATE_FILE]);
  });

  test('rejects invalid values', async () => {
    const h = new HardStateStore(newDir(), { fsync: false });
    await assert.rejects(h.save({ term: -1, vote: null, commit: 0 }), RangeError);
    await assert.rejects(h.save({ term: 1, vote: 1.5, commit: 0 }), RangeError);
    await assert.rejects(h.save({ term: 1, vote: null, commit: 2 ** 53 }), RangeError);
  });

  test('a damaged file is CorruptionError, never silently reset; a leftover temp file is ignored', async () => {
    const dir = newDir();
    const warns: string[] = [];
    const h = new HardStateStore(dir, { fsync: false, onWarn: (m) => warns.push(m) });
    await h.save({ term: 9, vote: 3, commit: 100 });
    fs.writeFileSync(path.join(dir, `${HARDSTATE_FILE}.tmp`), Buffer.alloc(10));
    assert.deepEqual(await h.load(), { term: 9, vote: 3, commit: 100 });
    assert.equal(warns.length, 1);
    assert.ok(!fs.existsSync(path.join(dir, `${HARDSTATE_FILE}.tmp`)));
    const f = path.join(dir, HARDSTATE_FILE);
    const b = fs.readFileSync(f);
    b[20] ^= 4;
    fs.writeFileSync(f, b);
    await assert.rejects(h.load(), (e: unknown) => {
      assert.ok(e instanceof CorruptionError);
      assert.equal(e.file, f);
      assert.match(e.message, /CRC mismatch/);
      assert.match(e.message, /vote twice/);
      return true;
    });
    fs.truncateSync(f, 20);
    await assert.rejects(h.load(), CorruptionError);
  });
});
