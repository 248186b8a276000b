import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Err, EventType, MAX_TTL, Op, Perms } from '../../src/jute/constants.js';
import { CreateRequest } from '../../src/jute/records.js';
import type { ACL, Stat } from '../../src/jute/records.js';
import { digestId, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from '../../src/zk/acl.js';
import { enc, Harness, IP, SID, stateBytes, T0, type CreateOpts } from './zk-support.js';

const acl = (perms: number, scheme: string, id: string): ACL => ({ perms, id: { scheme, id } });
const BOB = { scheme: 'digest', id: digestId('bob', 'pw') };
const SUPER = { scheme: 'super', id: '' };
const WORLD = (perms: number): ACL[] => [acl(perms, 'world', 'anyone')];

/** A tree with one node of each interesting kind, for the error-order tables. */
function fixture(extended = true): Harness {
  const h = new Harness({ extendedTypesEnabled: extended });
  assert.equal(h.create('/a', 'x').err, 0);
  assert.equal(h.create('/a/child').err, 0);
  assert.equal(h.create('/noperm', null, { acl: WORLD(Perms.READ) }).err, 0); // no CREATE/DELETE/WRITE/ADMIN
  assert.equal(h.create('/noperm/x').err, Err.NoAuth);
  assert.equal(h.create('/eph', null, { flags: 1 }).err, 0);
  assert.equal(h.create('/leaf').err, 0);
  return h;
}

test('the initial tree is exactly ZooKeeper 3.8\'s (§7)', () => {
  const h = new Harness(undefined, false);
  const zero: Stat = { czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0, dataLength: 0, numChildren: 0, pzxid: 0 };
  assert.deepEqual(h.db.stat('/'), { ...zero, cversion: -1, numChildren: 1 });
  assert.deepEqual(h.db.stat('/zookeeper'), { ...zero, cversion: -2, numChildren: 2 });
  assert.deepEqual(h.db.stat('/zookeeper/quota'), zero);
  assert.deepEqual(h.db.stat('/zookeeper/config'), { ...zero, aversion: -1 });
  assert.deepEqual(h.db.acl('/'), OPEN_ACL_UNSAFE);
  assert.deepEqual(h.db.acl('/zookeeper/quota'), OPEN_ACL_UNSAFE);
  assert.deepEqual(h.db.acl('/zookeeper/config'), READ_ACL_UNSAFE);
  assert.equal(h.db.nodeCount(), 5);
  assert.equal(h.db.approximateDataSize(), 44);
  assert.equal(h.db.lastZxid, 0);
  assert.deepEqual(h.read(Op.getChildren, { path: '/', watch: false }).response, { children: ['zookeeper'] });
  assert.deepEqual(h.read(Op.getChildren, { path: '/zookeeper', watch: false }).response, { children: ['quota', 'config'] });
  assert.deepEqual(h.dataOf('/zookeeper/config'), Buffer.alloc(0)); // empty, not null
  assert.deepEqual(h.dataOf('/'), Buffer.alloc(0));
  assert.deepEqual(h.db.stat(''), h.db.stat('/')); // '' aliases the root, as in ZooKeeper's node table
});

test('create: every check in ZooKeeper\'s order (§6.2)', () => {
  type Case = [name: string, path: string, o: CreateOpts, err: number];
  const badAcl = WORLD(Perms.ALL).map((a) => ({ ...a, id: { scheme: 'world', id: 'nobody' } }));
  const cases: Case[] = [
    ['flags out of range beats everything', 'bad', { flags: 7, acl: [] }, Err.BadArguments],
    ['negative flags', '/z', { flags: -1 }, Err.BadArguments],
    ['op 1 with TTL flags', '/z', { flags: 5 }, Err.BadArguments],
    ['op 15 with TTL flags', '/z', { flags: 6, op: Op.create2 }, Err.BadArguments],
    ['createTTL ttl 0', '/z', { op: Op.createTTL, flags: 5, ttl: 0 }, Err.BadArguments],
    ['createTTL ttl > 2^40-1', '/z', { op: Op.createTTL, flags: 5, ttl: MAX_TTL + 1 }, Err.BadArguments],
    ['createTTL with a non-TTL mode', '/z', { op: Op.createTTL, flags: 0, ttl: 100 }, Err.BadArguments],
    ['createTTL with a non-TTL mode and ttl -1 (crashes 3.8)', '/z', { op: Op.createTTL, flags: 1, ttl: -1 }, Err.BadArguments],
    ['no slash beats an invalid ACL', 'z', { acl: [] }, Err.BadArguments],
    ['NUL beats an invalid ACL', '/z\u0000', { acl: [] }, Err.BadArguments],
    ['invalid ACL beats a missing parent', '/missing/z', { acl: badAcl }, Err.InvalidACL],
    ['empty ACL', '/z', { acl: [] }, Err.InvalidACL],
    ['auth ACL without credentials', '/z', { acl: [acl(Perms.ALL, 'auth', '')] }, Err.InvalidACL],
    ['missing parent', '/missing/z', {}, Err.NoNode],
    ['parent looked up before the full check', '/bad//p', {}, Err.NoNode],
    ['NoAuth beats a bad path', '/noperm/', {}, Err.NoAuth],
    ['NoAuth on the parent', '/noperm/z', {}, Err.NoAuth],
    ['trailing slash (non-sequential)', '/a/', {}, Err.BadArguments],
    ['relative segment', '/a/..', {}, Err.BadArguments],
    ['invalid character', '/a/\u0001', {}, Err.BadArguments],
    ['exists', '/a', {}, Err.NodeExists],
    ['create / is NodeExists', '/', {}, Err.NodeExists],
    ['NodeExists beats ephemeral parent', '/a/child', {}, Err.NodeExists],
    ['ephemeral parent', '/eph/z', {}, Err.NoChildrenForEphemerals],
    ['container under ephemeral parent', '/eph/z', { op: Op.createContainer, flags: 4 }, Err.NoChildrenForEphemerals],
  ];
  for (const [name, path, o, err] of cases) {
    const h = fixture();
    const before = stateBytes(h.db);
    const r = h.create(path, null, o);
    assert.equal(r.err, err, name);
    assert.deepEqual(r.triggers, [], name);
    assert.equal(r.response, undefined, name);
    assert.equal(h.db.lastZxid, h.zxid, `${name}: the zxid is consumed`);
    assert.deepEqual(stateBytes(h.db), before, `${name}: no effect`);
  }
});

test('create: TTL modes are Unimplemented without extended types, before any TTL check', () => {
  const h = fixture(false);
  assert.equal(h.create('/z', null, { flags: 5 }).err, Err.Unimplemented);
  assert.equal(h.create('/z', null, { op: Op.createTTL, flags: 5, ttl: 0, acl: [] }).err, Err.Unimplemented);
  assert.equal(h.create('/z', null, { op: Op.createTTL, flags: 6, ttl: 10 }).err, Err.Unimplemented);
  assert.equal(h.create('/z', null, { op: Op.createContainer, flags: 4 }).err, 0); // containers need no extended types
});

test('create: a body the codec cannot decode is MarshallingError (createTTL without ttl)', () => {
  const h = fixture();
  const body = enc(CreateRequest, { path: '/z', data: null, acl: [...OPEN_ACL_UNSAFE], flags: 5 });
  const r = h.run(Op.createTTL, body);
  assert.equal(r.err, Err.MarshallingError);
  assert.equal(h.db.lastZxid, h.zxid);
  assert.equal(h.db.stat('/z'), undefined);
  assert.equal(h.run(Op.setData, Buffer.from([0, 0])).err, Err.MarshallingError);
  assert.equal(h.run(Op.delete, null).err, Err.MarshallingError);
});

test('create: stat of the node and of its parent (§7)', () => {
  const h = new Harness();
  const r1 = h.create('/p', 'abc', { op: Op.create2 });
  const zp = h.zxid;
  assert.equal(r1.err, 0);
  const pStat: Stat = { czxid: zp, mzxid: zp, ctime: h.time, mtime: h.time, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0, dataLength: 3, numChildren: 0, pzxid: zp };
  assert.deepEqual(r1.response, { path: '/p', stat: pStat });
  assert.deepEqual(r1.triggers, [
    { path: '/p', type: EventType.NodeCreated, acl: OPEN_ACL_UNSAFE },
    { path: '/', type: EventType.NodeChildrenChanged, acl: OPEN_ACL_UNSAFE },
  ]);
  assert.deepEqual(h.db.stat('/'), { czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0, dataLength: 0, numChildren: 2, pzxid: zp });
  const r2 = h.create('/p/c', null, { flags: 1 });
  assert.deepEqual(r2.response, { path: '/p/c' }); // op 1: path only
  const zc = h.zxid;
  assert.deepEqual(h.db.stat('/p'), { ...pStat, cversion: 1, numChildren: 1, pzxid: zc }); // mzxid/mtime/version unchanged
  assert.deepEqual(h.db.stat('/p/c'), { czxid: zc, mzxid: zc, ctime: h.time, mtime: h.time, version: 0, cversion: 0, aversion: 0, ephemeralOwner: SID, dataLength: 0, numChildren: 0, pzxid: zc });
  assert.equal(h.dataOf('/p/c'), null); // null data stays null
  assert.deepEqual(h.dataOf('/p'), Buffer.from('abc'));
  assert.equal(h.db.nodeCount(), 7);
  assert.equal(h.db.approximateDataSize(), 44 + 2 + 3 + 4);
});

test('create: binary data round-trips and is copied out of the command buffer', () => {
  const h = new Harness();
  const bytes = Buffer.from([0, 1, 127, 128, 200, 255, 0xc3, 0x28]);
  const cmd = h.command(Op.create, enc(CreateRequest, { path: '/bin', data: bytes, acl: [...OPEN_ACL_UNSAFE], flags: 0 }));
  assert.equal(h.db.apply(cmd).err, 0);
  cmd.body!.fill(0x55); // the body is a view into the decoded log record; scribble over it
  assert.deepEqual(h.dataOf('/bin'), bytes);
  assert.equal(h.create('/empty', Buffer.alloc(0)).err, 0);
  assert.deepEqual(h.dataOf('/empty'), Buffer.alloc(0));
});

test('sequential names use the create counter C, not the reported cversion (appendix 1, §9.2)', () => {
  const h = new Harness();
  h.create('/t1');
  h.create('/t1/a');
  assert.deepEqual(h.create('/t1/s-', null, { flags: 2 }).response, { path: '/t1/s-0000000001' });
  h.delete('/t1/a');
  assert.deepEqual(h.create('/t1/s-', null, { flags: 2 }).response, { path: '/t1/s-0000000002' });
  h.create('/q');
  h.create('/q/a');
  h.create('/q/b');
  h.delete('/q/a');
  assert.equal(h.db.stat('/q')!.cversion, 3);
  assert.deepEqual(h.create('/q/n', null, { flags: 3 }).response, { path: '/q/n0000000002' });
  assert.deepEqual(h.create('/q/', null, { flags: 2 }).response, { path: '/q/0000000003' }); // '/q/' is fine when sequential
  assert.deepEqual(h.create('/s-', null, { flags: 2 }).response, { path: '/s-0000000002' }); // '/' has C=2 (t1, q)
  // a failed create does not advance C
  assert.equal(h.create('/q/b').err, Err.NodeExists);
  assert.deepEqual(h.create('/q/x', null, { flags: 2 }).response, { path: '/q/x0000000004' });
});

test('the create counter is a Java int: the suffix goes negative after 2^31-1', () => {
  const h = new Harness();
  h.create('/w');
  // Reaching 2^31 creates is impractical; set the stored counter through the tree (test-only access).
  const tree = (h.db as any).tree;
  tree.cversion[tree.lookup('/w')] = 2147483647;
  assert.deepEqual(h.create('/w/n', null, { flags: 2 }).response, { path: '/w/n2147483647' });
  assert.deepEqual(h.create('/w/n', null, { flags: 2 }).response, { path: '/w/n-2147483648' });
  assert.deepEqual(h.create('/w/n', null, { flags: 2 }).response, { path: '/w/n-2147483647' });
  assert.equal(h.db.stat('/w')!.cversion, (2 * -2147483646 - 3) | 0); // 2·C − n in 32-bit arithmetic
});

test('container and TTL nodes report ephemeralOwner 0; op 19 ignores flags; flags 4 with op 1 is persistent', () => {
  const h = new Harness({ extendedTypesEnabled: true });
  const c = h.create('/c', null, { op: Op.createContainer, flags: 0 });
  assert.equal(c.err, 0);
  assert.equal((c.response as { stat: Stat }).stat.ephemeralOwner, 0);
  const t = h.create('/t', null, { op: Op.createTTL, flags: 5, ttl: 1000 });
  assert.equal(t.err, 0);
  assert.deepEqual(Object.keys(t.response as object), ['path', 'stat']);
  assert.equal(h.db.stat('/t')!.ephemeralOwner, 0);
  assert.equal(h.create('/p4', null, { flags: 4 }).err, 0);
  h.create('/p4/x');
  h.delete('/p4/x');
  assert.deepEqual(h.db.reapCandidates(h.time + 10, 0, 100), []); // /p4 is not a container, /c never had a child, /t is young
  assert.equal(h.create('/c/x').err, 0); // containers and TTL nodes may have children
  assert.equal(h.create('/t/x').err, 0);
  const st = h.create('/sc', null, { op: Op.createContainer, flags: 2 });
  assert.equal((st.response as { path: string }).path, '/sc0000000003'); // a sequential container
});

test('delete: every check in ZooKeeper\'s order (§6.3)', () => {
  const h0 = fixture();
  h0.setData('/leaf', 'v'); // version 1
  type Case = [name: string, path: string, version: number, err: number];
  const cases: Case[] = [
    ['/', '/', -1, Err.BadArguments],
    ['/zookeeper', '/zookeeper', -1, Err.BadArguments],
    ['/zookeeper/quota', '/zookeeper/quota', -1, Err.BadArguments],
    ['/zookeeper/config', '/zookeeper/config', -1, Err.BadArguments],
    ['no slash', 'a', -1, Err.BadArguments],
    ['empty', '', -1, Err.BadArguments],
    ['NUL', '/a\u0000', -1, Err.BadArguments],
    ['missing parent', '/missing/x', -1, Err.NoNode],
    ['NoAuth (DELETE on parent) beats NoNode', '/noperm/nothing', -1, Err.NoAuth],
    ['missing node', '/nothing', -1, Err.NoNode],
    ['trailing slash is just missing', '/a/', -1, Err.NoNode],
    ['bad version', '/leaf', 0, Err.BadVersion],
    ['BadVersion beats NotEmpty', '/a', 5, Err.BadVersion],
    ['not empty', '/a', -1, Err.NotEmpty],
  ];
  for (const [name, path, version, err] of cases) {
    const h = fixture();
    h.setData('/leaf', 'v');
    const r = h.delete(path, version);
    assert.equal(r.err, err, name);
    assert.deepEqual(r.triggers, [], name);
  }
  assert.equal(h0.delete('/leaf', 1).err, 0);
});

test('delete: effects on the parent and triggers', () => {
  const h = new Harness();
  h.create('/p', null, { acl: [acl(Perms.ALL, 'ip', '127.0.0.1')] });
  h.create('/p/a', null, { acl: WORLD(Perms.READ) });
  h.create('/p/b');
  const before = h.db.stat('/p')!;
  const r = h.delete('/p/a');
  assert.equal(r.err, 0);
  assert.deepEqual(r.response, {});
  assert.deepEqual(r.triggers, [
    { path: '/p/a', type: EventType.NodeDeleted, acl: WORLD(Perms.READ) },
    { path: '/p', type: EventType.NodeChildrenChanged, acl: [acl(Perms.ALL, 'ip', '127.0.0.1')] },
  ]);
  assert.deepEqual(h.db.stat('/p'), { ...before, cversion: before.cversion + 1, numChildren: 1, pzxid: h.zxid });
  assert.equal(h.db.stat('/p/a'), undefined);
  assert.equal(h.read(Op.getData, { path: '/p/a', watch: true }).err, Err.NoNode);
  // A node deleted and re-created is a new node.
  h.create('/p/a');
  assert.equal(h.db.stat('/p/a')!.czxid, h.zxid);
});

test('setData: checks in order, and stat effects (§6.5, §7)', () => {
  const cases: [string, string, number, readonly { scheme: string; id: string }[], number][] = [
    ['invalid path', '/a/', -1, [IP], Err.BadArguments],
    ['relative path', '/a/../b', -1, [IP], Err.BadArguments],
    ['missing', '/nothing', -1, [IP], Err.NoNode],
    ['NoAuth beats BadVersion', '/noperm', 7, [IP], Err.NoAuth],
    ['super may write anything', '/noperm', -1, [SUPER], 0],
    ['bad version', '/leaf', 3, [IP], Err.BadVersion],
  ];
  for (const [name, path, version, ids, err] of cases) {
    const h = fixture();
    assert.equal(h.setData(path, 'x', version, { ids }).err, err, name);
  }
  const h = fixture();
  const s0 = h.db.stat('/leaf')!;
  const r = h.setData('/leaf', 'hello', 0);
  assert.equal(r.err, 0);
  const s1: Stat = { ...s0, version: 1, mzxid: h.zxid, mtime: h.time, dataLength: 5 };
  assert.deepEqual(r.response, { stat: s1 });
  assert.deepEqual(r.triggers, [{ path: '/leaf', type: EventType.NodeDataChanged, acl: OPEN_ACL_UNSAFE }]);
  assert.deepEqual(h.db.stat('/leaf'), s1);
  assert.equal(h.setData('/leaf', 'hello', 1).err, 0); // identical data still bumps the version
  assert.equal(h.db.stat('/leaf')!.version, 2);
  assert.equal(h.setData('/leaf', null).err, 0);
  assert.equal(h.dataOf('/leaf'), null);
  assert.equal(h.db.stat('/leaf')!.dataLength, 0);
  assert.equal(h.setData('/', 'root-data').err, 0); // the root can hold data
  assert.deepEqual(h.dataOf('/'), Buffer.from('root-data'));
  assert.equal(h.db.stat('/a')!.cversion, 1); // a child's setData does not touch the parent
});

test('setACL: checks in order, aversion, no watches (§6.5)', () => {
  type Case = [string, string, readonly ACL[], number, readonly { scheme: string; id: string }[], number];
  const bad: ACL[] = [acl(Perms.ALL, 'world', 'nobody')];
  const cases: Case[] = [
    ['invalid path beats invalid ACL', '/a/', bad, -1, [IP], Err.BadArguments],
    ['invalid ACL beats NoNode', '/nothing', bad, -1, [IP], Err.InvalidACL],
    ['missing', '/nothing', OPEN_ACL_UNSAFE, -1, [IP], Err.NoNode],
    ['NoAuth (ADMIN) beats BadVersion', '/noperm', OPEN_ACL_UNSAFE, 9, [IP], Err.NoAuth],
    ['config is read-only for the world', '/zookeeper/config', OPEN_ACL_UNSAFE, -1, [IP], Err.NoAuth],
    ['aversion mismatch', '/leaf', OPEN_ACL_UNSAFE, 1, [IP], Err.BadVersion],
    ['super', '/noperm', OPEN_ACL_UNSAFE, 0, [SUPER], 0],
    ['auth expands to the caller', '/leaf', [acl(Perms.ALL, 'auth', '')], 0, [IP, BOB], 0],
  ];
  for (const [name, path, list, version, ids, err] of cases) {
    const h = fixture();
    const r = h.setAcl(path, list, version, { ids });
    assert.equal(r.err, err, name);
    assert.deepEqual(r.triggers, [], name);
  }
  const h = fixture();
  const s0 = h.db.stat('/leaf')!;
  const r = h.setAcl('/leaf', [acl(Perms.ALL, 'auth', ''), ...READ_ACL_UNSAFE], 0, { ids: [IP, BOB] });
  assert.deepEqual(r.response, { stat: { ...s0, aversion: 1 } }); // mzxid/mtime untouched
  assert.deepEqual(h.db.acl('/leaf'), [acl(Perms.ALL, 'digest', BOB.id), ...READ_ACL_UNSAFE]);
  assert.equal(h.setData('/leaf', 'x', -1).err, Err.NoAuth); // world may only read now
  assert.equal(h.setData('/leaf', 'x', -1, { ids: [BOB] }).err, 0);
  // /zookeeper/config starts at aversion -1: an explicit version 0 does not match, -1 does
  assert.equal(h.setAcl('/zookeeper/config', OPEN_ACL_UNSAFE, 0, { ids: [SUPER] }).err, Err.BadVersion);
  assert.equal(h.setAcl('/zookeeper/config', OPEN_ACL_UNSAFE, -1, { ids: [SUPER] }).err, 0);
  assert.equal(h.db.stat('/zookeeper/config')!.aversion, 0);
});

test('identical ACL lists are shared (interned)', () => {
  const h = new Harness();
  const list = [acl(Perms.READ, 'ip', '10.0.0.0/8'), acl(Perms.ALL, 'digest', BOB.id)];
  h.create('/x', null, { acl: list });
  h.create('/y', null, { acl: list });
  assert.equal(h.db.acl('/x'), h.db.acl('/y'));
  assert.ok(Object.isFrozen(h.db.acl('/x')));
  assert.deepEqual(h.db.acl('/x'), list);
});

test('session checks, error commands, reconfig and unknown writes', () => {
  const h = new Harness();
  const stranger = { sessionId: 0x9999 };
  for (const r of [h.create('/x', null, stranger), h.delete('/x', -1, stranger), h.setData('/', 'x', -1, stranger), h.setAcl('/', OPEN_ACL_UNSAFE, -1, stranger), h.multi([], stranger)]) {
    assert.equal(r.err, Err.SessionExpired);
    assert.deepEqual(r.triggers, []);
  }
  assert.equal(h.db.lastZxid, h.zxid);
  assert.equal(h.db.stat('/x'), undefined);
  assert.equal(h.error(Err.NodeExists).err, Err.NodeExists);
  assert.equal(h.db.lastZxid, h.zxid);
  assert.equal(h.run(Op.error, Buffer.alloc(1)).err, Err.MarshallingError);
  assert.equal(h.run(Op.reconfig, null).err, Err.ReconfigDisabled);
  assert.equal(h.run(Op.check, null).err, Err.Unimplemented); // stand-alone check is never a valid write
  assert.equal(h.run(Op.getData, null).err, Err.Unimplemented);
  assert.equal(h.run(55, null).err, Err.Unimplemented);
  assert.throws(() => h.db.apply({ ...h.command(Op.error, enc(CreateRequest, { path: '/', data: null, acl: [], flags: 0 })), zxid: 1 }), /not after/);
  assert.equal(h.db.lastZxid, h.zxid - 1);
});

test('times come from the command', () => {
  const h = new Harness();
  h.create('/t', 'x', { time: T0 + 12345 });
  assert.equal(h.db.stat('/t')!.ctime, T0 + 12345);
  h.setData('/t', 'y', -1, { time: T0 + 99999 });
  assert.equal(h.db.stat('/t')!.mtime, T0 + 99999);
  assert.equal(h.db.stat('/t')!.ctime, T0 + 12345);
});
