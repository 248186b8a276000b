import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Err, Op, Perms } from '../../src/jute/constants.js';
import type { ACL, Stat } from '../../src/jute/records.js';
import type { MultiResult } from '../../src/jute/requests.js';
import { digestId, OPEN_ACL_UNSAFE } from '../../src/zk/acl.js';
import { Harness, IP, SID } from './zk-support.js';

const acl = (perms: number, scheme: string, id: string): ACL => ({ perms, id: { scheme, id } });
const BOB = { scheme: 'digest', id: digestId('bob', 'pw') };
const EVE = { scheme: 'digest', id: digestId('eve', 'pw') };

function tree(): Harness {
  const h = new Harness();
  h.create('/a', 'data-a');
  h.create('/a/b');
  h.create('/a/b/c');
  h.create('/a/d');
  h.create('/secret', 's', { acl: [acl(Perms.ALL, 'digest', BOB.id)] });
  h.create('/mixed', null, { acl: [acl(Perms.READ, 'world', 'anyone'), acl(Perms.ALL, 'digest', BOB.id)] });
  h.create('/adminonly', null, { acl: [acl(Perms.ADMIN, 'digest', BOB.id)] });
  h.create('/writeonly', null, { acl: [acl(Perms.WRITE, 'world', 'anyone')] });
  return h;
}

test('exists: NoNode still registers the existence watch; NUL is BadArguments; no ACL check (3.8.0)', () => {
  const h = tree();
  assert.deepEqual(h.read(Op.exists, { path: '/nothing', watch: true }), { err: Err.NoNode, watch: { path: '/nothing', kind: 'exist' } });
  assert.deepEqual(h.read(Op.exists, { path: '/nothing', watch: false }), { err: Err.NoNode });
  assert.deepEqual(h.read(Op.exists, { path: '/a\u0000', watch: true }), { err: Err.BadArguments });
  const ok = h.read(Op.exists, { path: '/a', watch: true });
  assert.deepEqual(ok, { err: 0, response: { stat: h.db.stat('/a') }, watch: { path: '/a', kind: 'data' } });
  assert.equal(h.read(Op.exists, { path: '/secret', watch: false }).err, 0); // anyone may stat it on 3.8.0
  assert.equal(h.read(Op.exists, { path: 'a/', watch: false }).err, Err.NoNode); // reads do not validate paths
});

test('getData / getChildren / getChildren2: NoNode, NoAuth, watches only on success', () => {
  const h = tree();
  const cases: [number, string, readonly { scheme: string; id: string }[], number][] = [
    [Op.getData, '/nothing', [IP], Err.NoNode],
    [Op.getData, '/secret', [IP], Err.NoAuth],
    [Op.getData, '/secret', [IP, EVE], Err.NoAuth],
    [Op.getData, '/secret', [IP, BOB], 0],
    [Op.getData, '/secret', [{ scheme: 'super', id: '' }], 0],
    [Op.getChildren, '/nothing', [IP], Err.NoNode],
    [Op.getChildren, '/secret', [IP], Err.NoAuth],
    [Op.getChildren2, '/writeonly', [IP], Err.NoAuth],
    [Op.getChildren2, '/a', [IP], 0],
  ];
  for (const [op, path, ids, err] of cases) {
    const r = h.read(op, { path, watch: true }, ids);
    assert.equal(r.err, err, `${op} ${path}`);
    if (err === 0) assert.deepEqual(r.watch, { path, kind: op === Op.getData ? 'data' : 'child' });
    else assert.equal(r.watch, undefined);
  }
  assert.deepEqual(h.read(Op.getData, { path: '/a', watch: false }), { err: 0, response: { data: Buffer.from('data-a'), stat: h.db.stat('/a') } });
  assert.deepEqual(h.read(Op.getChildren, { path: '/a', watch: false }), { err: 0, response: { children: ['b', 'd'] } });
  assert.deepEqual(h.read(Op.getChildren2, { path: '/a/b/c', watch: false }), { err: 0, response: { children: [], stat: h.db.stat('/a/b/c') } });
  assert.deepEqual(h.read(Op.getChildren, { path: '/', watch: false }).response, { children: ['zookeeper', 'a', 'secret', 'mixed', 'adminonly', 'writeonly'] });
});

test('getACL needs READ or ADMIN and masks digests without ADMIN (§6.5)', () => {
  const h = tree();
  const stat = (p: string): Stat => h.db.stat(p)!;
  assert.deepEqual(h.read(Op.getACL, { path: '/mixed' }, [IP]), {
    err: 0,
    response: { acl: [acl(Perms.READ, 'world', 'anyone'), acl(Perms.ALL, 'digest', 'bob:x')], stat: stat('/mixed') },
  });
  assert.deepEqual(h.read(Op.getACL, { path: '/mixed' }, [IP, BOB]).response, { acl: [acl(Perms.READ, 'world', 'anyone'), acl(Perms.ALL, 'digest', BOB.id)], stat: stat('/mixed') });
  assert.deepEqual(h.read(Op.getACL, { path: '/adminonly' }, [BOB]).response, { acl: [acl(Perms.ADMIN, 'digest', BOB.id)], stat: stat('/adminonly') });
  assert.equal(h.read(Op.getACL, { path: '/adminonly' }, [EVE]).err, Err.NoAuth);
  assert.equal(h.read(Op.getACL, { path: '/writeonly' }, [IP]).err, Err.NoAuth);
  assert.equal(h.read(Op.getACL, { path: '/nothing' }, [IP]).err, Err.NoNode);
  assert.deepEqual(h.read(Op.getACL, { path: '/' }, [IP]).response, { acl: OPEN_ACL_UNSAFE, stat: stat('/') });
});

test('getAllChildrenNumber counts all descendants (§6.10)', () => {
  const h = tree();
  const n = (path: string, ids = [IP]) => h.read(Op.getAllChildrenNumber, { path }, ids);
  assert.deepEqual(n('/').response, { totalNumber: 3 + 4 + 4 }); // zookeeper, quota, config + a, b, c, d + 4 ACL nodes
  assert.deepEqual(n('/a').response, { totalNumber: 3 });
  assert.deepEqual(n('/a/b').response, { totalNumber: 1 });
  assert.deepEqual(n('/a/b/c').response, { totalNumber: 0 });
  assert.deepEqual(n('/zookeeper').response, { totalNumber: 2 });
  assert.equal(n('/nothing').err, Err.NoNode);
  assert.equal(n('/secret').err, Err.NoAuth);
  const fresh = new Harness();
  assert.deepEqual(fresh.read(Op.getAllChildrenNumber, { path: '/' }).response, { totalNumber: 3 });
});

test('getEphemerals: this session only, plain string prefix, null/empty/"/" = all (§6.10)', () => {
  const h = new Harness();
  h.session(0x2000);
  h.create('/app');
  h.create('/app/e1', null, { flags: 1 });
  h.create('/apple', null, { flags: 1 });
  h.create('/b', null, { flags: 3 });
  h.create('/other', null, { flags: 1, sessionId: 0x2000 });
  const eph = (prefixPath: string | null, sid = SID) => (h.read(Op.getEphemerals, { prefixPath }, [IP], sid).response as { ephemerals: string[] }).ephemerals;
  assert.deepEqual(eph(null), ['/app/e1', '/apple', '/b0000000002']);
  assert.deepEqual(eph(''), eph(null));
  assert.deepEqual(eph('/'), eph(null));
  assert.deepEqual(eph(' / '), eph(null)); // Java trims
  assert.deepEqual(eph('/app'), ['/app/e1', '/apple']); // not per segment
  assert.deepEqual(eph('/app/'), ['/app/e1']);
  assert.deepEqual(eph('/zzz'), []);
  assert.deepEqual(eph(null, 0x2000), ['/other']);
  assert.deepEqual(eph(null, 0x7777), []);
});

test('multiRead: independent sub-ops, per-op errors, watches', () => {
  const h = tree();
  const req = {
    ops: [
      { op: Op.getData, req: { path: '/a', watch: true } },
      { op: Op.getChildren, req: { path: '/nothing', watch: true } },
      { op: Op.getData, req: { path: '/secret', watch: true } },
      { op: Op.getChildren, req: { path: '/a', watch: true } },
    ],
    invalid: false,
  };
  const r = h.read(Op.multiRead, req);
  assert.equal(r.err, 0);
  assert.deepEqual(r.response as MultiResult[], [
    { op: Op.getData, err: 0, res: { data: Buffer.from('data-a'), stat: h.db.stat('/a') } },
    { op: -1, err: Err.NoNode },
    { op: -1, err: Err.NoAuth },
    { op: Op.getChildren, err: 0, res: { children: ['b', 'd'] } },
  ]);
  assert.deepEqual(r.watches, [
    { path: '/a', kind: 'data' },
    { path: '/a', kind: 'child' },
  ]);
  assert.equal(h.read(Op.multiRead, { ops: [], invalid: true }).err, Err.MarshallingError);
  assert.deepEqual(h.read(Op.multiRead, { ops: [], invalid: false }), { err: 0, response: [], watches: [] });
});

test('reads of ops the state machine does not serve are Unimplemented', () => {
  const h = tree();
  assert.equal(h.read(Op.sync, { path: '/' }).err, Err.Unimplemented);
  assert.equal(h.read(Op.create, { path: '/' }).err, Err.Unimplemented);
});
