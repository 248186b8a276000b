import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Err, EventType, Op } from '../../src/jute/constants.js';
import { OPEN_ACL_UNSAFE } from '../../src/zk/acl.js';
import { Harness, SID } from './zk-support.js';

test('createSession stores id, timeout and a copy of the password', () => {
  const h = new Harness(undefined, false);
  const pw = Buffer.alloc(16, 7);
  assert.deepEqual(h.session(0x42, 4000, pw), { err: 0, response: undefined, triggers: [] });
  const s = h.db.getSession(0x42)!;
  assert.equal(s.sessionId, 0x42);
  assert.equal(s.timeout, 4000);
  assert.deepEqual(s.passwd, pw);
  assert.equal(s.ephemerals.size, 0);
  assert.equal(h.db.lastZxid, 1);
  assert.deepEqual([...h.db.sessions()].map((x) => x.sessionId), [0x42]);
  h.session(0x42, 9000, Buffer.alloc(16, 1)); // a repeated create only refreshes the timeout
  assert.equal(h.db.getSession(0x42)!.timeout, 9000);
  assert.deepEqual(h.db.getSession(0x42)!.passwd, pw);
  assert.equal(h.run(Op.createSession, Buffer.alloc(2), { sessionId: 0x43 }).err, Err.MarshallingError);
  assert.equal(h.db.getSession(0x43), undefined);
});

test('ephemerals: owner, counts, NoChildrenForEphemerals, explicit delete', () => {
  const h = new Harness();
  h.create('/e', null, { flags: 1 });
  assert.equal(h.db.stat('/e')!.ephemeralOwner, SID);
  assert.equal(h.db.ephemeralCount(), 1);
  assert.deepEqual([...h.db.getSession(SID)!.ephemerals], ['/e']);
  assert.equal(h.create('/e/x').err, Err.NoChildrenForEphemerals);
  assert.equal(h.create('/e/x', null, { flags: 1 }).err, Err.NoChildrenForEphemerals);
  assert.equal(h.delete('/e').err, 0);
  assert.equal(h.db.ephemeralCount(), 0);
  assert.equal(h.db.getSession(SID)!.ephemerals.size, 0);
  assert.equal(h.create('/e2', null, { flags: 3, sessionId: 0x555 }).err, Err.SessionExpired); // owner must be a live session
});

test('closeSession deletes its ephemerals at one zxid with their triggers, and nothing else', () => {
  const h = new Harness();
  const other = 0x2000;
  h.session(other);
  h.create('/p');
  h.create('/q', null, { acl: [{ perms: 31, id: { scheme: 'ip', id: '127.0.0.1' } }] });
  h.create('/p/e1', null, { flags: 1 });
  h.create('/q/e2', null, { flags: 3 });
  h.create('/e3', null, { flags: 1 });
  h.create('/p/mine', null, { flags: 1, sessionId: other });
  const q0 = h.db.stat('/q')!;
  const r = h.closeSession(SID);
  const z = h.zxid;
  assert.equal(r.err, 0);
  assert.deepEqual(r.response, {});
  assert.deepEqual(
    r.triggers.map((t) => [t.path, t.type]),
    [
      ['/p/e1', EventType.NodeDeleted],
      ['/p', EventType.NodeChildrenChanged],
      ['/q/e20000000000', EventType.NodeDeleted],
      ['/q', EventType.NodeChildrenChanged],
      ['/e3', EventType.NodeDeleted],
      ['/', EventType.NodeChildrenChanged],
    ],
  );
  assert.deepEqual(r.triggers[3]!.acl, [{ perms: 31, id: { scheme: 'ip', id: '127.0.0.1' } }]);
  assert.deepEqual(r.triggers[0]!.acl, OPEN_ACL_UNSAFE);
  assert.deepEqual(h.db.stat('/q'), { ...q0, pzxid: z, numChildren: 0, cversion: q0.cversion + 1 });
  assert.equal(h.db.stat('/p')!.pzxid, z);
  assert.equal(h.db.stat('/')!.pzxid, z);
  assert.equal(h.db.getSession(SID), undefined);
  assert.equal(h.db.stat('/p/mine')!.ephemeralOwner, other);
  assert.equal(h.db.ephemeralCount(), 1);
  // the closed session can no longer write; closing it again is harmless
  assert.equal(h.create('/late').err, Err.SessionExpired);
  assert.deepEqual(h.closeSession(SID), { err: 0, response: {}, triggers: [] });
  assert.equal(h.db.lastZxid, h.zxid);
});

test('containers: reaped once emptied, never-used ones only after the interval (§9.4)', () => {
  const h = new Harness();
  h.create('/c', null, { op: Op.createContainer, flags: 4 });
  const created = h.time;
  assert.deepEqual(h.db.reapCandidates(created + 1e9, 0, 10), []); // never had a child
  assert.deepEqual(h.db.reapCandidates(created + 1000, 1000, 10), []); // not yet past the interval
  assert.deepEqual(h.db.reapCandidates(created + 1001, 1000, 10), ['/c']);
  h.create('/c/x');
  assert.deepEqual(h.db.reapCandidates(created + 1e9, 1000, 10), []); // has a child
  h.delete('/c/x');
  assert.deepEqual(h.db.reapCandidates(h.time, 0, 10), ['/c']); // emptied: at once
  assert.deepEqual(h.db.reapCandidates(h.time, 0, 0), []); // limit
  const r = h.deleteContainer('/c');
  assert.equal(r.err, 0);
  assert.deepEqual(r.triggers.map((t) => [t.path, t.type]), [
    ['/c', EventType.NodeDeleted],
    ['/', EventType.NodeChildrenChanged],
  ]);
  assert.deepEqual(h.db.reapCandidates(h.time + 1e9, 1, 10), []);
});

test('TTL nodes: reaped when childless and mtime is more than ttl ago (§9.3)', () => {
  const h = new Harness({ extendedTypesEnabled: true });
  h.create('/t', null, { op: Op.createTTL, flags: 5, ttl: 100 });
  const t0 = h.time;
  assert.deepEqual(h.db.reapCandidates(t0 + 100, 0, 10), []);
  assert.deepEqual(h.db.reapCandidates(t0 + 101, 0, 10), ['/t']);
  h.create('/t/kid');
  assert.deepEqual(h.db.reapCandidates(t0 + 1e6, 0, 10), []);
  h.delete('/t/kid');
  h.setData('/t', 'touch', -1, { time: t0 + 500 }); // setData refreshes mtime
  assert.deepEqual(h.db.reapCandidates(t0 + 600, 0, 10), []);
  assert.deepEqual(h.db.reapCandidates(t0 + 601, 0, 10), ['/t']);
  h.create('/s-', null, { op: Op.createTTL, flags: 6, ttl: 1 });
  assert.deepEqual(h.db.reapCandidates(t0 + 1e6, 0, 10).sort(), ['/s-0000000001', '/t']);
  assert.equal(h.db.reapCandidates(t0 + 1e6, 0, 1).length, 1);
});

test('deleteContainer: checks and who may send it (§6.3)', () => {
  const h = new Harness();
  h.create('/c', null, { op: Op.createContainer, flags: 4 });
  h.create('/c/x');
  h.create('/e', null, { flags: 1 });
  h.create('/plain');
  const cases: [string, number][] = [
    ['/zookeeper', Err.BadArguments],
    ['nope', Err.BadArguments],
    ['/nothing', Err.NoNode],
    ['/c', Err.NotEmpty],
    ['/e', Err.BadVersion],
  ];
  for (const [path, err] of cases) assert.equal(h.deleteContainer(path).err, err, path);
  assert.equal(h.deleteContainer('/plain', { sessionId: 0x7777 }).err, Err.SessionExpired); // a client id must be live
  assert.equal(h.deleteContainer('/plain', { sessionId: SID }).err, 0); // even a plain node, like ZooKeeper
  assert.equal(h.deleteContainer('/c/x').err, 0); // the reaper (session 0) needs no session
});
