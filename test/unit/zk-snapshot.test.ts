import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Err, Op, Perms } from '../../src/jute/constants.js';
import type { ACL } from '../../src/jute/records.js';
import { digestId } from '../../src/zk/acl.js';
import { ZkDatabase, type ZkDatabaseOptions } from '../../src/zk/database.js';
import { SnapshotError } from '../../src/zk/snapshot-format.js';
import type { ApplyResult } from '../../src/zk/types.js';
import { Harness, IP, multiOps as m, SID } from './zk-support.js';
import { rng } from '../support/prng.js';

const OPTS: ZkDatabaseOptions = { extendedTypesEnabled: true };
const BOB = { scheme: 'digest', id: digestId('bob', 'pw') };
const acl = (perms: number, scheme: string, id: string): ACL => ({ perms, id: { scheme, id } });


/** Exercises every kind of state a snapshot must carry. */
function richState(h: Harness, bigData = false): void {
  const other = 0x2000;
  h.session(other, 12345, Buffer.from('0123456789abcdef'));
  h.session(0x3000, 6000); // a session without ephemerals
  h.create('/app', 'config', { acl: [acl(Perms.ALL, 'digest', BOB.id), acl(Perms.READ, 'ip', '10.0.0.0/8')], ids: [IP, BOB] });
  h.create('/app/null', null, { ids: [BOB] });
  h.create('/app/empty', Buffer.alloc(0), { ids: [BOB] });
  h.create('/app/bin', Buffer.from([0, 255, 128, 10, 13, 0xc3]), { ids: [BOB] });
  h.create('/été/', null, { flags: 2 });
  h.create('/q');
  for (let i = 0; i < 5; i++) h.create('/q/item-', String(i), { flags: 2 });
  h.delete('/q/item-0000000001');
  h.delete('/q/item-0000000003');
  h.create('/locks');
  h.create('/locks/lock-', null, { flags: 3 });
  h.create('/locks/other', 'x', { flags: 1, sessionId: other });
  h.create('/locks/e2', null, { flags: 1 });
  h.create('/c', null, { op: Op.createContainer, flags: 4 });
  h.create('/c/kid');
  h.delete('/c/kid');
  h.create('/c2', null, { op: Op.createContainer, flags: 0 });
  h.create('/ttl', 't', { op: Op.createTTL, flags: 5, ttl: 5000 });
  h.create('/ttl/s', null, { op: Op.createTTL, flags: 6, ttl: 1 });
  h.setData('/q', 'v1');
  h.setData('/q', 'v2');
  h.setAcl('/q', [acl(Perms.ALL, 'world', 'anyone'), acl(Perms.ADMIN, 'digest', BOB.id)]);
  h.setData('/', 'rootdata');
  h.multi([m.create('/mx'), m.create('/mx/y', Buffer.from('z')), m.check('/q', 2)]);
  h.multi([m.delete('/q/item-0000000000'), m.check('/q', 99)]); // fails, rolled back
  if (bigData) for (let i = 0; i < 3; i++) h.create(`/big${i}`, Buffer.alloc(900_000, i + 1));
}

/** Every observable of a database, for deep comparison. */
function observe(db: ZkDatabase, now: number): unknown {
  const nodes: unknown[] = [];
  const walk = (path: string): void => {
    const r = db.read(Op.getChildren2, { path, watch: false }, [{ scheme: 'super', id: '' }], 0);
    const children = (r.response as { children: string[] }).children;
    nodes.push({ path, stat: db.stat(path), acl: db.acl(path), data: db.data(path), children });
    for (const c of children) walk(path === '/' ? `/${c}` : `${path}/${c}`);
  };
  walk('/');
  const sessions = [...db.sessions()].map((s) => ({ ...s, ephemerals: [...s.ephemerals] }));
  return {
    nodes,
    sessions,
    lastZxid: db.lastZxid,
    nodeCount: db.nodeCount(),
    size: db.approximateDataSize(),
    ephemerals: db.ephemeralCount(),
    reap: db.reapCandidates(now, 1000, 100),
  };
}

function roundTrip(db: ZkDatabase): ZkDatabase {
  return ZkDatabase.deserialize(Buffer.concat(db.serialize()), OPTS);
}

/** The same commands again (same zxids, times, identities) on a second database. */
function twin(h: Harness, db: ZkDatabase): Harness {
  const t = new Harness(OPTS, false);
  t.db = db;
  t.zxid = h.zxid;
  t.time = h.time;
  return t;
}

function continueBoth(a: Harness, b: Harness): void {
  const steps: ((h: Harness) => ApplyResult)[] = [
    (h) => h.create('/q/item-', 'n', { flags: 2 }), // uses the restored counter C
    (h) => h.create('/c/again'),
    (h) => h.closeSession(SID), // deletion (and trigger) order comes from the restored ephemeral order
    (h) => h.deleteContainer('/c2'),
    (h) => h.multi([m.setData('/mx/y', null), m.delete('/mx/y'), m.delete('/mx')]),
    (h) => h.setAcl('/app', [acl(Perms.ALL, 'auth', '')], -1, { ids: [BOB] }),
  ];
  for (const step of steps) assert.deepEqual(step(b), step(a));
}

test('snapshot round-trip preserves every field and continues identically', () => {
  const h = new Harness(OPTS);
  richState(h);
  const bytes = Buffer.concat(h.db.serialize());
  const restored = roundTrip(h.db);
  assert.deepEqual(observe(restored, h.time + 10_000), observe(h.db, h.time + 10_000));
  assert.deepEqual(Buffer.concat(restored.serialize()), bytes);
  assert.equal(restored.lastZxid, h.zxid);
  assert.deepEqual(restored.getSession(0x2000)!.passwd, Buffer.from('0123456789abcdef'));
  assert.equal(restored.getSession(0x2000)!.timeout, 12345);
  const b = twin(h, restored);
  continueBoth(h, b);
  assert.deepEqual(Buffer.concat(b.db.serialize()), Buffer.concat(h.db.serialize()));
  assert.deepEqual(observe(b.db, h.time), observe(h.db, h.time));
});

test('a fresh database round-trips too', () => {
  const db = new ZkDatabase();
  const back = ZkDatabase.deserialize(Buffer.concat(db.serialize()));
  assert.deepEqual(observe(back, 0), observe(db, 0));
  assert.equal(back.nodeCount(), 5);
  assert.equal(back.approximateDataSize(), 44);
});

test('large snapshots come in ~1 MiB chunks and round-trip', () => {
  const h = new Harness(OPTS);
  richState(h, true);
  const chunks = h.db.serialize();
  assert.ok(chunks.length >= 3, `${chunks.length} chunks`);
  for (const c of chunks) assert.ok(c.length > 0 && c.length <= 1 << 20, `chunk of ${c.length}`); // a record never straddles chunks
  const restored = roundTrip(h.db);
  assert.deepEqual(observe(restored, h.time), observe(h.db, h.time));
});

test('truncated snapshots are rejected with a SnapshotError at every length', () => {
  const h = new Harness(OPTS);
  richState(h);
  const bytes = Buffer.concat(h.db.serialize());
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(() => ZkDatabase.deserialize(bytes.subarray(0, n), OPTS), SnapshotError, `length ${n}`);
  }
  assert.throws(() => ZkDatabase.deserialize(Buffer.concat([bytes, Buffer.from([0])]), OPTS), /trailing/);
});

test('corrupted snapshots never crash or hang: every single-byte change gives a SnapshotError or a database', () => {
  const h = new Harness(OPTS);
  richState(h);
  const bytes = Buffer.concat(h.db.serialize());
  const rand = rng(1);
  let rejected = 0;
  for (let i = 0; i < bytes.length; i++) {
    const bad = Buffer.from(bytes);
    bad[i] = (bad[i]! + 1 + Math.floor(rand() * 255)) & 0xff;
    try {
      ZkDatabase.deserialize(bad, OPTS);
    } catch (e) {
      assert.ok(e instanceof SnapshotError, `byte ${i}: ${String(e)}`);
      rejected++;
    }
  }
  // Most bytes are stat fields or data where any value is legal (the storage CRC catches those); structure damage must be caught.
  assert.ok(rejected > bytes.length / 5, `${rejected} of ${bytes.length} corruptions detected`);
});

test('garbage, wrong magic, wrong version and absurd counts are rejected clearly', () => {
  const rand = rng(7);
  for (let i = 0; i < 200; i++) {
    const junk = Buffer.alloc(Math.floor(rand() * 300));
    for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rand() * 256);
    if (i % 2 === 0 && junk.length >= 12) {
      junk.write('KRLSNAP1', 0, 'latin1');
      junk.writeInt32BE(1, 8);
    }
    assert.throws(() => ZkDatabase.deserialize(junk), SnapshotError);
  }
  const good = Buffer.concat(new ZkDatabase().serialize());
  assert.throws(() => ZkDatabase.deserialize(Buffer.from('not a snapshot at all')), /bad magic/);
  const v99 = Buffer.from(good);
  v99.writeInt32BE(99, 8);
  assert.throws(() => ZkDatabase.deserialize(v99), /version 99/);
  for (const [offset, what] of [
    [20, /ACL list count/],
    [24, /node count/],
    [28, /session count/],
  ] as const) {
    const huge = Buffer.from(good);
    huge.writeInt32BE(0x7fffffff, offset);
    assert.throws(() => ZkDatabase.deserialize(huge), what);
    huge.writeInt32BE(-5, offset);
    assert.throws(() => ZkDatabase.deserialize(huge), SnapshotError);
  }
});

test('replay is deterministic: the same commands give the same results and bytes', () => {
  const run = (): { h: Harness; results: ApplyResult[] } => {
    const h = new Harness(OPTS);
    const rand = rng(42);
    const results: ApplyResult[] = [];
    const pick = (n: number) => Math.floor(rand() * n);
    const path = () => ['/a', '/a/b', '/c', '/a/b/d', '/e', '/c/f'][pick(6)]!;
    h.session(0x2000);
    for (let i = 0; i < 600; i++) {
      const sid = pick(2) === 0 ? SID : 0x2000;
      switch (pick(7)) {
        case 0:
          results.push(h.create(path(), String(i), { flags: pick(4), sessionId: sid }));
          break;
        case 1:
          results.push(h.delete(path(), pick(3) - 1, { sessionId: sid }));
          break;
        case 2:
          results.push(h.setData(path(), pick(5) === 0 ? null : `d${i}`, pick(3) - 1, { sessionId: sid }));
          break;
        case 3:
          results.push(h.multi([m.create(path(), null, { flags: pick(3) }), m.setData(path(), Buffer.from('m')), m.delete(path())], { sessionId: sid }));
          break;
        case 4:
          results.push(h.create(path(), null, { op: Op.createContainer, flags: 4, sessionId: sid }));
          break;
        case 5:
          if (pick(10) === 0) {
            results.push(h.closeSession(sid));
            results.push(h.session(sid));
          }
          break;
        default:
          results.push(h.setAcl(path(), [acl(Perms.ALL, 'world', 'anyone')], -1, { sessionId: sid }));
      }
    }
    return { h, results };
  };
  const a = run();
  const b = run();
  assert.deepEqual(b.results, a.results);
  assert.deepEqual(Buffer.concat(b.h.db.serialize()), Buffer.concat(a.h.db.serialize()));
  assert.ok(a.results.some((r) => r.err === 0) && a.results.some((r) => r.err === Err.NodeExists));
});
