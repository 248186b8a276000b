// End-to-end behaviour of a running server over real sockets: sessions, ordering,
// watches, durability across restarts, limits and bad input.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { Err, EventType, Op, CreateMode } from '../../src/jute/constants.js';
import { RawClient, fourLetter } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { OPEN_ACL_UNSAFE } from '../../src/zk/acl.js';

const acl = [...OPEN_ACL_UNSAFE];
const create = (c: RawClient, path: string, data: string | null = 'x', flags: number = CreateMode.PERSISTENT) =>
  c.request(Op.create, { path, data: data === null ? null : Buffer.from(data), acl, flags });

describe('sessions and requests', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ tickTime: 200, minSessionTimeout: 400, maxSessionTimeout: 10000 });
  });
  after(() => s.destroy());

  test('create, read, update and delete with ZooKeeper stat semantics', async () => {
    const c = await RawClient.connect(s.port);
    const r1 = await create(c, '/crud', 'hello');
    assert.equal(r1.header.err, 0);
    assert.equal(r1.body.path, '/crud');
    const g = await c.request(Op.getData, { path: '/crud', watch: false });
    assert.equal(g.body.data.toString(), 'hello');
    assert.equal(g.body.stat.version, 0);
    assert.equal(g.body.stat.czxid, r1.header.zxid);
    const u = await c.request(Op.setData, { path: '/crud', data: Buffer.from('bye'), version: 0 });
    assert.equal(u.body.stat.version, 1);
    assert.equal(u.body.stat.mzxid, u.header.zxid);
    const bad = await c.request(Op.setData, { path: '/crud', data: null, version: 0 });
    assert.equal(bad.header.err, Err.BadVersion);
    assert.equal(bad.raw.length, 16, 'an error reply is the header alone');
    assert.ok(bad.header.zxid > u.header.zxid, 'a failed write still consumes a zxid');
    const d = await c.request(Op.delete, { path: '/crud', version: -1 });
    assert.equal(d.header.err, 0);
    const gone = await c.request(Op.exists, { path: '/crud', watch: false });
    assert.equal(gone.header.err, Err.NoNode);
    c.destroy();
  });

  test('ConnectResponse carries the readOnly byte only when the request did', async () => {
    const withByte = await RawClient.connect(s.port, { readOnly: false });
    assert.equal(withByte.connectResponseSize, 37);
    const without = await RawClient.connect(s.port, { readOnly: undefined });
    assert.equal(without.connectResponseSize, 36);
    withByte.destroy();
    without.destroy();
  });

  test('session timeout is clamped to [min, max]', async () => {
    const lo = await RawClient.connect(s.port, { timeout: 1 });
    assert.equal(lo.timeout, 400);
    const hi = await RawClient.connect(s.port, { timeout: 1_000_000 });
    assert.equal(hi.timeout, 10000);
    lo.destroy();
    hi.destroy();
  });

  test('pipelined requests are answered in order, reads see earlier writes of the same connection', async () => {
    const c = await RawClient.connect(s.port);
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      ps.push(create(c, `/pipe${i}`, String(i)));
      ps.push(c.request(Op.getData, { path: `/pipe${i}`, watch: false }));
    }
    const replies = (await Promise.all(ps)) as { header: { xid: number; err: number }; body: any }[];
    const xids = c.received.filter((r) => r.kind === 'reply').map((r) => r.xid);
    assert.deepEqual(xids, [...xids].sort((a, b) => a - b), 'replies in request order');
    for (let i = 0; i < 50; i++) {
      assert.equal(replies[2 * i + 1]!.header.err, 0);
      assert.equal(replies[2 * i + 1]!.body.data.toString(), String(i));
    }
    c.destroy();
  });

  test('a watch event reaches the client before the reply to its own write and to later reads', async () => {
    const a = await RawClient.connect(s.port);
    const b = await RawClient.connect(s.port);
    await create(a, '/w', 'v0');
    await a.request(Op.getData, { path: '/w', watch: true });
    await a.request(Op.getChildren, { path: '/w', watch: true });
    const before = a.received.length;
    const set = a.request(Op.setData, { path: '/w', data: Buffer.from('v1'), version: -1 });
    await set;
    const seq = a.received.slice(before).map((r) => r.kind);
    assert.deepEqual(seq, ['event', 'reply']);
    assert.deepEqual(a.events().at(-1), { type: EventType.NodeDataChanged, path: '/w' });
    // one-shot: a second change does not fire again
    await b.request(Op.setData, { path: '/w', data: Buffer.from('v2'), version: -1 });
    await a.request(Op.getData, { path: '/w', watch: false });
    assert.equal(a.events().length, 1);
    // a child created by another client fires the child watch before a's next read reply
    await create(b, '/w/c');
    const g = await a.request(Op.getChildren, { path: '/w', watch: false });
    assert.deepEqual(g.body.children, ['c']);
    assert.deepEqual(a.events().at(-1), { type: EventType.NodeChildrenChanged, path: '/w' });
    a.destroy();
    b.destroy();
  });

  test('re-attaching with id and password keeps the session and its ephemerals; a wrong password is expired', async () => {
    const a = await RawClient.connect(s.port, { timeout: 5000 });
    await create(a, '/eph', 'e', CreateMode.EPHEMERAL);
    const again = await RawClient.connect(s.port, { sessionId: a.sessionId, passwd: a.passwd, timeout: 5000 });
    assert.equal(again.sessionId, a.sessionId);
    await a.waitClosed(); // the old connection is closed when the session moves
    const st = await again.request(Op.exists, { path: '/eph', watch: false });
    assert.equal(st.body.stat.ephemeralOwner, a.sessionId);
    const wrong = Buffer.from(a.passwd);
    wrong[0] ^= 0xff;
    await assert.rejects(RawClient.connect(s.port, { sessionId: a.sessionId, passwd: wrong }), /expired/);
    const still = await again.request(Op.exists, { path: '/eph', watch: false });
    assert.equal(still.header.err, 0, 'a wrong password does not disturb the live session');
    again.destroy();
  });

  test('an expired session loses its ephemerals, firing watches, and its socket is closed', async () => {
    const watcher = await RawClient.connect(s.port, { timeout: 10000 });
    const dying = await RawClient.connect(s.port, { timeout: 400 });
    await create(dying, '/dying', 'd', CreateMode.EPHEMERAL);
    await watcher.request(Op.exists, { path: '/dying', watch: true });
    // stop pinging: the session must expire within timeout + one tick
    await watcher.waitFor(() => watcher.events().length > 0, 3000);
    assert.deepEqual(watcher.events()[0], { type: EventType.NodeDeleted, path: '/dying' });
    await dying.waitClosed(2000);
    await assert.rejects(RawClient.connect(s.port, { sessionId: dying.sessionId, passwd: dying.passwd }), /expired/);
    watcher.destroy();
  });

  test('closeSession replies, then closes; ephemerals go with it', async () => {
    const a = await RawClient.connect(s.port);
    await create(a, '/closing', null, CreateMode.EPHEMERAL);
    const r = await a.request(Op.closeSession, {});
    assert.equal(r.header.err, 0);
    await a.waitClosed();
    const b = await RawClient.connect(s.port);
    assert.equal((await b.request(Op.exists, { path: '/closing', watch: false })).header.err, Err.NoNode);
    b.destroy();
  });

  test('sequential nodes count creations of the parent, 10 digits', async () => {
    const c = await RawClient.connect(s.port);
    await create(c, '/seq');
    await create(c, '/seq/a');
    const r1 = await create(c, '/seq/s-', null, CreateMode.PERSISTENT_SEQUENTIAL);
    assert.equal(r1.body.path, '/seq/s-0000000001');
    await c.request(Op.delete, { path: '/seq/a', version: -1 });
    const r2 = await create(c, '/seq/s-', null, CreateMode.PERSISTENT_SEQUENTIAL);
    assert.equal(r2.body.path, '/seq/s-0000000002');
    c.destroy();
  });
});

describe('limits and bad input', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ maxClientCnxns: 4 });
  });
  after(() => s.destroy());

  test('an unknown opcode gets Unimplemented and the connection is closed; others carry on', async () => {
    const bystander = await RawClient.connect(s.port);
    const c = await RawClient.connect(s.port);
    const r = await c.request(55, {});
    assert.equal(r.header.err, Err.Unimplemented);
    await c.waitClosed();
    assert.equal((await bystander.request(Op.exists, { path: '/', watch: false })).header.err, 0);
    bystander.destroy();
  });

  test('a frame over jute.maxbuffer closes the connection without a reply; the session survives', async () => {
    const c = await RawClient.connect(s.port);
    const big = Buffer.alloc(8);
    big.writeInt32BE(1048576, 0);
    c.writeRaw(big);
    await c.waitClosed();
    assert.equal(c.received.length, 0);
    const again = await RawClient.connect(s.port, { sessionId: c.sessionId, passwd: c.passwd });
    assert.equal(again.sessionId, c.sessionId);
    again.destroy();
  });

  test('a garbage first frame closes the connection', async () => {
    const c = await RawClient.open(s.port);
    c.writeRaw(Buffer.from([0, 0, 0, 3, 1, 2, 3]));
    await c.waitClosed();
  });

  test('more connections from one address than maxClientCnxns are closed at once', async () => {
    const open: RawClient[] = [];
    for (let i = 0; i < 4; i++) open.push(await RawClient.connect(s.port));
    const extra = await RawClient.open(s.port);
    await extra.waitClosed();
    for (const c of open) c.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const ok = await RawClient.connect(s.port);
    assert.ok(ok.sessionId !== 0);
    ok.destroy();
  });

  test('a malformed request body gets MarshallingError', async () => {
    const c = await RawClient.connect(s.port);
    const f = Buffer.alloc(4 + 8 + 4);
    f.writeInt32BE(12, 0);
    f.writeInt32BE(7, 4); // xid
    f.writeInt32BE(Op.getData, 8);
    f.writeInt32BE(1000, 12); // a path length with no path behind it
    c.writeRaw(f);
    await c.waitFor(() => c.received.length > 0);
    assert.equal(c.received[0]!.reply!.header.err, Err.MarshallingError);
    c.destroy();
  });
});

describe('durability across restarts', () => {
  test('everything acknowledged is there after a restart, with snapshots taken and zxids continuing', async () => {
    let s = await startTestServer({ snapCount: 40 });
    const dataDir = s.dataDir;
    const c = await RawClient.connect(s.port);
    await create(c, '/d');
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) writes.push(create(c, `/d/n${i}`, `v${i}`));
    await Promise.all(writes);
    const last = await c.request(Op.setData, { path: '/d/n7', data: Buffer.from('changed'), version: 0 });
    c.destroy();
    await s.close();
    assert.ok(readdirSync(dataDir).some((f) => f.startsWith('snapshot')), 'snapshots were written');
    s = await startTestServer({ dataDir, snapCount: 40 });
    const d = await RawClient.connect(s.port);
    const kids = await d.request(Op.getChildren2, { path: '/d', watch: false });
    assert.equal(kids.body.children.length, 300);
    assert.equal(kids.body.stat.numChildren, 300);
    const n7 = await d.request(Op.getData, { path: '/d/n7', watch: false });
    assert.equal(n7.body.data.toString(), 'changed');
    assert.equal(n7.body.stat.mzxid, last.header.zxid);
    const next = await create(d, '/after');
    assert.ok(next.header.zxid > last.header.zxid);
    d.destroy();
    await s.destroy();
  });
});

describe('autopurge', () => {
  test('only the newest autopurge.snapRetainCount snapshots are kept, and the data survives', async () => {
    const s = await startTestServer({ snapCount: 20, autopurgeSnapRetainCount: 3, autopurgePurgeInterval: 1 });
    const c = await RawClient.connect(s.port);
    for (let i = 0; i < 400; i++) await create(c, `/p${i}`);
    c.destroy();
    await s.close();
    const snaps = readdirSync(s.dataDir).filter((f) => /^snapshot\.[0-9a-f]+$/.test(f));
    assert.ok(snaps.length >= 1 && snaps.length <= 3, `kept ${snaps.length} snapshots`);
    const again = await startTestServer({ dataDir: s.dataDir });
    const d = await RawClient.connect(again.port);
    const all = await d.request(Op.getAllChildrenNumber, { path: '/' });
    assert.equal(all.body.totalNumber, 400 + 3, 'user nodes plus /zookeeper, /zookeeper/quota, /zookeeper/config');
    d.destroy();
    await again.destroy();
  });
});

describe('four-letter words', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ fourLetterWhitelist: new Set(['srvr', 'ruok', 'mntr']) });
  });
  after(() => s.destroy());

  test('ruok, srvr and mntr answer in ZooKeeper format; others are refused by the whitelist', async () => {
    assert.equal(await fourLetter(s.port, 'ruok'), 'imok');
    const srvr = await fourLetter(s.port, 'srvr');
    assert.match(srvr, /^Zookeeper version: 3\.8\.\d+-kraal/);
    assert.match(srvr, /\nMode: standalone\n/);
    assert.match(srvr, /\nNode count: 5\n$/);
    const mntr = await fourLetter(s.port, 'mntr');
    const keys = mntr.trim().split('\n').map((l) => l.split('\t')[0]);
    for (const k of ['zk_version', 'zk_server_state', 'zk_znode_count', 'zk_watch_count', 'zk_ephemerals_count', 'zk_num_alive_connections', 'zk_outstanding_requests', 'zk_avg_latency']) {
      assert.ok(keys.includes(k), `mntr has ${k}`);
    }
    assert.equal(await fourLetter(s.port, 'wchs'), 'wchs is not executed because it is not in the whitelist.\n');
  });
});
