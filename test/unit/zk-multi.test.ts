import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writer } from '../../src/jute/codec.js';
import { Err, EventType, Op } from '../../src/jute/constants.js';
import { MultiHeader } from '../../src/jute/records.js';
import { MultiResponse, MultiWriteRequest, type MultiResult } from '../../src/jute/requests.js';
import { decodeFromBuffer, encodeToBuffer } from '../../src/jute/schema.js';
import type { Stat } from '../../src/jute/records.js';
import { enc, Harness, multiOps as m, SID, stateBytes } from './zk-support.js';

const errs = (r: unknown): number[] => (r as MultiResult[]).map((x) => x.err);
const types = (r: unknown): number[] => (r as MultiResult[]).map((x) => x.op);

test('a failed multi reports [0, code, -2], applies nothing and fires nothing (§11.3)', () => {
  const h = new Harness();
  h.create('/a', 'v');
  const before = stateBytes(h.db);
  const r = h.multi([m.create('/m1'), m.check('/a', 99), m.delete('/a')]);
  assert.equal(r.err, 0); // multi errors live in the body
  assert.deepEqual(r.response, [
    { op: -1, err: 0 },
    { op: -1, err: Err.BadVersion },
    { op: -1, err: Err.RuntimeInconsistency },
  ]);
  assert.deepEqual(r.triggers, []);
  assert.equal(h.db.lastZxid, h.zxid); // still one zxid consumed
  assert.deepEqual(stateBytes(h.db), before);
  // the reply encodes as ZooKeeper's error results
  const wire = encodeToBuffer(MultiResponse, r.response as MultiResult[]);
  assert.deepEqual(decodeFromBuffer(MultiResponse, wire), r.response);
});

test('sub-ops see the effects of earlier ones, share one zxid, and fire in order', () => {
  const h = new Harness();
  const r = h.multi([m.create('/m'), m.create('/m/a', Buffer.from('x')), m.setData('/m', Buffer.from('d')), m.check('/m', 1), m.delete('/m/a')]);
  assert.equal(r.err, 0);
  assert.deepEqual(errs(r.response), [0, 0, 0, 0, 0]);
  assert.deepEqual(types(r.response), [Op.create, Op.create, Op.setData, Op.check, Op.delete]);
  const res = r.response as MultiResult[];
  assert.deepEqual(res[0]!.res, { path: '/m' });
  assert.deepEqual(res[3]!.res, {});
  const z = h.zxid;
  const st = (res[2]!.res as { stat: Stat }).stat;
  assert.equal(st.version, 1);
  assert.equal(st.mzxid, z);
  assert.equal(st.czxid, z);
  assert.deepEqual(
    r.triggers.map((t) => [t.path, t.type]),
    [
      ['/m', EventType.NodeCreated],
      ['/', EventType.NodeChildrenChanged],
      ['/m/a', EventType.NodeCreated],
      ['/m', EventType.NodeChildrenChanged],
      ['/m', EventType.NodeDataChanged],
      ['/m/a', EventType.NodeDeleted],
      ['/m', EventType.NodeChildrenChanged],
    ],
  );
  assert.deepEqual(h.db.stat('/m'), { ...st, cversion: 2, numChildren: 0, pzxid: z });
  const wire = encodeToBuffer(MultiResponse, r.response as MultiResult[]);
  assert.deepEqual(decodeFromBuffer(MultiResponse, wire), r.response);
});

test('create2/createContainer/createTTL sub-ops answer as type 15 with a stat; create as type 1', () => {
  const h = new Harness({ extendedTypesEnabled: true });
  const r = h.multi([
    m.create('/a'),
    m.create('/b', null, { op: Op.create2 }),
    m.create('/c', null, { op: Op.createContainer, flags: 4 }),
    m.create('/t', null, { op: Op.createTTL, flags: 5, ttl: 500 }),
  ]);
  assert.deepEqual(types(r.response), [Op.create, Op.create2, Op.create2, Op.create2]);
  const res = r.response as MultiResult[];
  assert.deepEqual(Object.keys(res[1]!.res), ['path', 'stat']);
  assert.equal((res[2]!.res as { stat: Stat }).stat.ephemeralOwner, 0);
  assert.deepEqual(h.db.reapCandidates(h.time + 501, 0, 10), ['/t']);
  const wire = encodeToBuffer(MultiResponse, r.response as MultiResult[]);
  assert.deepEqual(decodeFromBuffer(MultiResponse, wire), r.response);
});

test('sequential creates inside one multi take consecutive counters; a rollback restores them', () => {
  const h = new Harness();
  h.create('/s');
  const r = h.multi([m.create('/s/n', null, { flags: 2 }), m.create('/s/n', null, { flags: 2 }), m.create('/s/n', null, { flags: 2 })]);
  assert.deepEqual(
    (r.response as MultiResult[]).map((x) => x.res.path),
    ['/s/n0000000000', '/s/n0000000001', '/s/n0000000002'],
  );
  const f = h.multi([m.create('/s/n', null, { flags: 2 }), m.create('/nope/x')]);
  assert.deepEqual(errs(f.response), [0, Err.NoNode]);
  assert.deepEqual(h.create('/s/n', null, { flags: 2 }).response, { path: '/s/n0000000003' });
});

test('rollback restores deletes (child order, ephemeral order), data, versions and counters exactly', () => {
  const h = new Harness();
  h.create('/p');
  for (const c of ['a', 'b', 'c', 'd']) h.create(`/p/${c}`, c, { flags: c === 'b' || c === 'd' ? 1 : 0 });
  h.create('/p/e', null, { flags: 1 });
  h.setData('/p/c', 'cc');
  const before = stateBytes(h.db);
  const eph = [...h.db.getSession(SID)!.ephemerals];
  const r = h.multi([
    m.delete('/p/b'),
    m.setData('/p/c', Buffer.from('new'), 1),
    m.delete('/p/c'),
    m.create('/p/z', null, { flags: 3 }),
    m.delete('/p/d'),
    m.delete('/p/a'),
    m.setData('/p', Buffer.from('x')),
    m.check('/p/a', 0), // fails: /p/a is gone by now
  ]);
  assert.deepEqual(errs(r.response), [0, 0, 0, 0, 0, 0, 0, Err.NoNode]);
  assert.deepEqual(stateBytes(h.db), before);
  assert.deepEqual([...h.db.getSession(SID)!.ephemerals], eph);
  assert.deepEqual(h.read(Op.getChildren, { path: '/p', watch: false }).response, { children: ['a', 'b', 'c', 'd', 'e'] });
  assert.equal(h.db.ephemeralCount(), 3);
});

test('failure positions and the multi-level errors', () => {
  const h = new Harness();
  h.create('/x');
  assert.deepEqual(errs(h.multi([m.create('/x')]).response), [Err.NodeExists]);
  assert.deepEqual(errs(h.multi([m.check('/x', 0), m.check('/x', 0), m.delete('/zookeeper')]).response), [0, 0, Err.BadArguments]);
  assert.deepEqual(errs(h.multi([m.delete('/x'), m.delete('/x'), m.check('/x', 0), m.create('/y')]).response), [0, Err.NoNode, -2, -2]);
  // empty multi: success with no results, zxid consumed
  const e = h.multi([]);
  assert.deepEqual([e.err, e.response, e.triggers], [0, [], []]);
  assert.equal(h.db.lastZxid, h.zxid);
  // a read op inside a write multi: MarshallingError for the whole request, zxid consumed
  const mixed = enc(MultiWriteRequest, { ops: [{ op: Op.getData, req: { path: '/x', watch: false } }, m.create('/q')], invalid: false });
  assert.equal(h.run(Op.multi, mixed).err, Err.MarshallingError);
  assert.equal(h.db.stat('/q'), undefined);
  // an op that is not allowed at all, and a truncated stream
  const w = new Writer();
  MultiHeader.encode(w, { type: Op.setACL, done: false, err: -1 });
  assert.equal(h.run(Op.multi, w.toBuffer()).err, Err.MarshallingError);
  const good = enc(MultiWriteRequest, { ops: [m.create('/q')], invalid: false });
  assert.equal(h.run(Op.multi, good.subarray(0, good.length - 3)).err, Err.MarshallingError);
  assert.equal(h.db.stat('/q'), undefined);
  assert.equal(h.db.lastZxid, h.zxid);
});

test('ACL and session rules apply per sub-op', () => {
  const h = new Harness();
  h.create('/ro', null, { acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }] });
  assert.deepEqual(errs(h.multi([m.create('/ok'), m.create('/ro/x')]).response), [0, Err.NoAuth]);
  assert.deepEqual(errs(h.multi([m.check('/ro', 0), m.setData('/ro', null)]).response), [0, Err.NoAuth]);
  const r = h.multi([m.create('/e', null, { flags: 1 }), m.create('/e/x')]);
  assert.deepEqual(errs(r.response), [0, Err.NoChildrenForEphemerals]);
  assert.equal(h.db.getSession(SID)!.ephemerals.size, 0);
});
