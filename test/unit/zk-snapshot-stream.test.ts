// Streaming snapshots: copy-on-write cursor (beginSnapshot/next) and the incremental loader.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../src/jute/codec.js';
import { Op, Perms } from '../../src/jute/constants.js';
import { ACL, type ACL as AclT } from '../../src/jute/records.js';
import type { Command } from '../../src/zk/command.js';
import { ZkDatabase, type ZkDatabaseOptions } from '../../src/zk/database.js';
import { SnapshotError } from '../../src/zk/snapshot-format.js';
import type { ApplyResult } from '../../src/zk/types.js';
import { Harness, multiOps as m, SID, type CmdOpts } from './zk-support.js';
import { rng } from '../support/prng.js';

const OPTS: ZkDatabaseOptions = { extendedTypesEnabled: true };
const S2 = 0x2000;
const S3 = 0x3000;
const acl = (perms: number, scheme: string, id: string): AclT => ({ perms, id: { scheme, id } });
const ACLS: AclT[][] = [
  [acl(Perms.ALL, 'world', 'anyone')],
  [acl(Perms.READ | Perms.WRITE | Perms.CREATE | Perms.DELETE | Perms.ADMIN, 'ip', '127.0.0.1')],
  [acl(Perms.ALL, 'world', 'anyone'), acl(Perms.READ, 'ip', '10.0.0.0/8')],
  [acl(Perms.ALL, 'ip', '127.0.0.0/8')],
];


/** A Harness that keeps every command it applied, so a twin can be fed the same ones. */
class Recorder extends Harness {
  declare log: Command[]; // filled from the base constructor on: no initializer to reset it
  declare results: ApplyResult[];
  override run(op: number, body: Buffer | null, o: CmdOpts = {}): ApplyResult {
    const c = this.command(op, body, o);
    (this.log ??= []).push(c);
    const r = this.db.apply(c);
    (this.results ??= []).push(r);
    return r;
  }
}

const canon = (db: ZkDatabase): Buffer => Buffer.concat(db.serialize());

function loadInPieces(bytes: Buffer, rand: () => number, maxPiece: number): ZkDatabase {
  const l = ZkDatabase.loader(OPTS, rand() < 0.5 ? { totalBytes: bytes.length } : {});
  for (let p = 0; p < bytes.length; ) {
    const n = Math.min(bytes.length - p, 1 + Math.floor(rand() * maxPiece));
    const piece = Buffer.from(bytes.subarray(p, p + n)); // and then scribbled over: the loader must copy what it keeps
    l.push(piece);
    piece.fill(0xee);
    p += n;
  }
  return l.finish();
}

/** One random write, drawn so that it often hits nodes that already exist. */
function randomWrite(h: Recorder, rand: () => number): ApplyResult {
  const pick = (n: number) => Math.floor(rand() * n);
  const names = ['a', 'b', 'c', 'd'];
  const path = (): string => {
    const top = pick(5) === 0 ? '/q' : '';
    let p = top;
    const depth = 1 + pick(3);
    for (let i = 0; i < depth; i++) p += '/' + names[pick(names.length)];
    return p;
  };
  const data = (): Buffer | null => {
    const r = pick(20);
    if (r === 0) return null;
    if (r === 1) return Buffer.alloc(20_000 + pick(50_000), pick(256)); // records bigger than a slice
    return Buffer.alloc(pick(300), pick(256));
  };
  const sid = [SID, S2, S3][pick(3)]!;
  switch (pick(12)) {
    case 0:
    case 1:
    case 2:
      return h.create(path(), data(), { flags: pick(4), sessionId: sid });
    case 3:
      return h.create(path(), data(), { op: Op.createContainer, flags: 4, sessionId: sid });
    case 4:
      return h.create(path(), data(), { op: Op.createTTL, flags: 5, ttl: 1000, sessionId: sid });
    case 5:
    case 6:
      return h.delete(path(), -1, { sessionId: sid });
    case 7:
      return h.setData(path(), data(), -1, { sessionId: sid });
    case 8:
      return h.setAcl(path(), ACLS[pick(ACLS.length)]!, -1, { sessionId: sid });
    case 9: {
      const ops = [];
      for (let i = 1 + pick(4); i > 0; i--) {
        const k = pick(4);
        ops.push(k === 0 ? m.create(path(), data(), { flags: pick(4) }) : k === 1 ? m.delete(path()) : k === 2 ? m.setData(path(), data()) : m.check(path(), -1));
      }
      if (pick(2) === 0) ops.push(m.check('/no/such/node', 0)); // fails: everything rolls back
      return h.multi(ops, { sessionId: sid });
    }
    case 10:
      if (pick(3) === 0) {
        const s = pick(2) === 0 ? S2 : S3;
        h.closeSession(s); // deletes its ephemerals
        return h.session(s, 1000 + pick(5000));
      }
      return h.deleteContainer(path());
    default:
      return h.create(path(), null, { flags: 2, sessionId: sid }); // sequential: uses the parent's C
  }
}

function setup(seed: number): Recorder {
  const h = new Recorder(OPTS);
  h.session(S2, 5000);
  h.session(S3, 7000);
  h.create('/q', 'root of quota');
  h.create('/zookeeper/quota/q');
  h.create('/zookeeper/quota/q/zookeeper_limits', 'count=50,bytes=-1');
  h.create('/zookeeper/quota/q/zookeeper_stats', 'count=0,bytes=0');
  const rand = rng(seed * 7919);
  for (let i = 0; i < 200 + Math.floor(rand() * 400); i++) randomWrite(h, rand);
  return h;
}

test('a streamed snapshot holds exactly the state at its zxid while writes go on (many seeds)', () => {
  let preimages = 0;
  for (let seed = 1; seed <= 120; seed++) {
    const h = setup(seed);
    const rand = rng(seed);
    // the twin gets the same commands up to Z
    const twin = new ZkDatabase(OPTS);
    for (const c of h.log) twin.apply(c);
    const expected = canon(twin);
    const z = h.db.lastZxid;
    const cursor = h.db.beginSnapshot();
    assert.equal(cursor.zxid, z);
    const chunks: Buffer[] = [];
    const after = h.log.length;
    for (let step = 0; ; step++) {
      for (let k = Math.floor(rand() * 8); k > 0; k--) randomWrite(h, rand);
      const b = cursor.next(1 + Math.floor(rand() * (rand() < 0.3 ? 20 : 600)));
      if (b === null) break;
      chunks.push(Buffer.from(b)); // next() reuses its buffer
      assert.ok(step < 100_000);
    }
    preimages += cursor.preimages;
    for (let k = 0; k < 20; k++) randomWrite(h, rand); // after the snapshot: no copy-on-write any more
    const bytes = Buffer.concat(chunks);
    assert.equal(bytes.length, cursor.bytes);
    const loaded = loadInPieces(bytes, rand, rand() < 0.3 ? 7 : 5000);
    assert.equal(loaded.lastZxid, z, `seed ${seed}`);
    assert.ok(canon(loaded).equals(expected), `seed ${seed}: loaded state differs from the state at Z`);
    // and it behaves the same from there on: same replies, same final state
    for (let i = after; i < h.log.length; i++) assert.deepEqual(loaded.apply(h.log[i]!), h.results[i], `seed ${seed}, command ${i - after} after Z`);
    assert.ok(canon(loaded).equals(canon(h.db)), `seed ${seed}: final states differ`);
  }
  assert.ok(preimages > 1000, `only ${preimages} pre-images: the test does not exercise copy-on-write`);
});

test('out-of-order records (freed slots reused in reverse) load into creation order', () => {
  const h = new Recorder(OPTS);
  h.create('/p');
  for (let i = 0; i < 300; i++) h.create(`/p/old${i}`);
  for (let i = 0; i < 300; i++) h.delete(`/p/old${i}`);
  // the free list hands the slots back last-freed first: slot order is now the reverse of creation order
  for (let i = 0; i < 300; i++) h.create(`/p/n${String(i).padStart(3, '0')}-`, String(i), { flags: i % 2 === 0 ? 2 : 0 });
  h.multi([m.create('/p/m1'), m.create('/p/m2'), m.create('/p/m3')]); // same czxid: cseq decides
  h.create('/z');
  const expected = canon(h.db);
  const cursor = h.db.beginSnapshot();
  const chunks: Buffer[] = [];
  for (let b = cursor.next(100); b !== null; b = cursor.next(100)) chunks.push(Buffer.from(b));
  const bytes = Buffer.concat(chunks);
  assert.ok(!bytes.equals(expected), 'the stream is not in canonical order');
  const rand = rng(5);
  for (const piece of [1, 13, 4096, bytes.length]) {
    const db = loadInPieces(bytes, rand, piece);
    assert.ok(canon(db).equals(expected), `pieces of up to ${piece}`);
    const kids = (db.read(Op.getChildren, { path: '/p', watch: false }, [], 0).response as { children: string[] }).children;
    assert.deepEqual(kids.slice(-3), ['m1', 'm2', 'm3']);
    assert.equal(kids[0], 'n000-0000000300');
  }
});

test('only one snapshot at a time; abort stops copy-on-write; a finished cursor returns null', () => {
  const h = new Recorder(OPTS);
  for (let i = 0; i < 50; i++) h.create(`/n${i}`, 'x');
  const c1 = h.db.beginSnapshot();
  assert.throws(() => h.db.beginSnapshot(), /already/);
  h.setData('/n3', 'changed');
  assert.equal(c1.preimages, 1);
  c1.abort();
  h.setData('/n4', 'changed');
  assert.equal(c1.preimages, 1);
  assert.equal(c1.next(), null);
  const expected = canon(h.db);
  const c2 = h.db.beginSnapshot();
  const chunks: Buffer[] = [];
  for (let b = c2.next(); b !== null; b = c2.next()) chunks.push(Buffer.from(b));
  assert.equal(chunks.length, 1);
  assert.equal(c2.next(), null);
  assert.ok(canon(ZkDatabase.deserialize(Buffer.concat(chunks), OPTS)).equals(expected));
  h.db.beginSnapshot().abort(); // a new one may start once the previous one finished
});

test('the side buffer of pre-images drains and stays bounded by what changed', () => {
  const h = new Recorder(OPTS);
  for (let i = 0; i < 2000; i++) h.create(`/n${i}`, Buffer.alloc(100, 1));
  const cursor = h.db.beginSnapshot();
  const first = cursor.next(64 * 1024)!;
  assert.ok(first.length > 0);
  for (let i = 0; i < 2000; i++) h.setData(`/n${i}`, Buffer.alloc(100, 2)); // twice: a pre-image once per node
  for (let i = 0; i < 2000; i++) h.setData(`/n${i}`, Buffer.alloc(100, 3));
  const unwritten = 2000 - Math.floor(first.length / 150);
  assert.ok(cursor.preimages <= 2000 && cursor.preimages >= unwritten - 50, `${cursor.preimages} pre-images`);
  assert.ok(cursor.pendingBytes() < cursor.preimages * 200);
  cursor.next(1 << 20);
  assert.equal(cursor.pendingBytes(), 0);
  while (cursor.next() !== null);
});

/** Rewrites a version-2 body as version 1 (no cseq, same pre-order): what older Kraal wrote. */
function toV1(v2: Buffer): Buffer {
  const r = new Reader(v2);
  const out: Buffer[] = [];
  const head = Buffer.from(v2.subarray(0, 32));
  head.writeInt32BE(1, 8);
  out.push(head);
  r.pos = 20;
  const aclCount = r.int();
  const nodeCount = r.int();
  const sessionCount = r.int();
  let start = r.pos;
  for (let i = 0; i < aclCount; i++) {
    const n = r.vectorLength();
    for (let j = 0; j < n; j++) ACL.decode(r);
  }
  for (let i = 0; i < nodeCount; i++) {
    r.ustring();
    r.buffer();
    r.pos += 4 + 40 + 12 + 1 + 8;
    out.push(v2.subarray(start, r.pos));
    r.pos += 4; // cseq
    start = r.pos;
  }
  assert.ok(sessionCount >= 0);
  out.push(v2.subarray(start));
  return Buffer.concat(out);
}

test('version-1 snapshots (pre-order, no cseq) still load', () => {
  const h = setup(3);
  h.multi([m.create('/v1'), m.create('/v1/x'), m.create('/v1/y')]);
  const v2 = canon(h.db);
  const v1 = toV1(v2);
  assert.equal(v1.readInt32BE(8), 1);
  const db = ZkDatabase.deserialize(v1, OPTS);
  const kids = (db.read(Op.getChildren, { path: '/v1', watch: false }, [], 0).response as { children: string[] }).children;
  assert.deepEqual(kids, ['x', 'y']);
  // equal state: the cseq values differ (file order), so compare through a fresh v2 round trip of both
  const again = ZkDatabase.deserialize(canon(db), OPTS);
  assert.deepEqual(canon(again).length, v2.length);
  assert.equal(db.nodeCount(), h.db.nodeCount());
  assert.equal(db.approximateDataSize(), h.db.approximateDataSize());
});

test('the loader rejects bad input clearly at any chunking, and then stays failed', () => {
  const h = setup(9);
  const good = canon(h.db);
  const rand = rng(11);
  // truncated anywhere: finish() says truncated (or the stream was already malformed)
  for (let i = 0; i < 300; i++) {
    const n = Math.floor(rand() * good.length);
    assert.throws(() => loadInPieces(good.subarray(0, n), rand, 1 + Math.floor(rand() * 3000)), SnapshotError, `length ${n}`);
  }
  assert.throws(() => loadInPieces(Buffer.concat([good, Buffer.from('x')]), rand, 100), /trailing/);
  // a duplicated node record
  const l = ZkDatabase.loader(OPTS);
  const dup = Buffer.from(good);
  dup.writeInt32BE(dup.readInt32BE(24) + 1, 24); // one more node than the file has: the sessions get read as a node
  assert.throws(() => {
    l.push(dup);
    l.finish();
  }, SnapshotError);
  assert.throws(() => l.finish(), SnapshotError);
  assert.throws(() => l.push(Buffer.alloc(1)), SnapshotError);
});

test('a failure while copying a pre-image fails the snapshot, never the write', () => {
  const h = new Recorder(OPTS);
  for (let i = 0; i < 20; i++) h.create(`/n${i}`, 'x');
  const cursor = h.db.beginSnapshot();
  (cursor as unknown as { aclOf: () => number }).aclOf = () => {
    throw new Error('injected');
  };
  assert.equal(h.setData('/n7', 'changed').err, 0);
  assert.equal(h.delete('/n8').err, 0);
  assert.deepEqual(h.db.data('/n7'), Buffer.from('changed'));
  assert.throws(() => cursor.next(), /injected/);
  const again = h.db.beginSnapshot(); // copy-on-write was released
  const chunks: Buffer[] = [];
  for (let b = again.next(); b !== null; b = again.next()) chunks.push(Buffer.from(b));
  assert.ok(Buffer.concat(ZkDatabase.deserialize(Buffer.concat(chunks), OPTS).serialize()).equals(Buffer.concat(h.db.serialize())));
});
