// Differential tests: each scenario runs the Kraal client against real ZooKeeper 3.8 and against
// Kraal; the normalized observations (zxids renumbered, times and session ids masked) must be equal.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { normalize } from '../harness/normalize.js';
import {
  CREATOR_ALL_ACL,
  CreateMode,
  ZooKeeperClient,
  ZooKeeperError,
  type Stat,
  type WatchedEvent,
} from '../../src/client/index.js';
import { Clients, expire, sleep, startKraalServer, startZkServer, until, type Server } from './support.js';

let zk: Server;
let kraal: Server;
const clients = new Clients();

before(async () => {
  [zk, kraal] = await Promise.all([startZkServer(23300), startKraalServer()]);
});
after(async () => {
  await clients.closeAll();
  await Promise.all([zk?.stop(), kraal?.stop()]);
});

/** Observations are [label, value] steps. */
type Steps = [string, unknown][];

function err(e: unknown): unknown {
  if (e instanceof ZooKeeperError) return { error: e.codeName, code: e.code, op: e.op, path: e.path ?? null };
  throw e;
}
async function step(steps: Steps, label: string, f: () => Promise<unknown>): Promise<void> {
  try {
    steps.push([label, await f()]);
  } catch (e) {
    steps.push([label, err(e)]);
  }
}
function st(s: Stat | null): unknown {
  if (s === null) return null;
  return { ...s, ephemeralOwner: s.ephemeralOwner !== 0 }; // ZooKeeper's 64-bit owner ids are not exact as JS numbers
}
const ev = (e: WatchedEvent) => `${e.typeName} ${e.path} ${e.state}`;

async function differential(name: string, scenario: (s: Server) => Promise<unknown>): Promise<void> {
  const expected = normalize(await scenario(zk));
  const actual = normalize(await scenario(kraal));
  if (process.env.CLIENT_DIFF_DUMP) console.log(name, JSON.stringify(expected));
  assert.deepStrictEqual(actual, expected, `${name}: Kraal differs from ZooKeeper 3.8`);
}

describe('differential: client against ZooKeeper 3.8 and Kraal', () => {
  test('CRUD, errors and typed results', () =>
    differential('crud', async (s) => {
      const c = await clients.open(s.connect);
      const o: Steps = [];
      await step(o, 'create', () => c.create('/crud', 'v0'));
      await step(o, 'create-again', () => c.create('/crud', 'v0'));
      await step(o, 'create-no-parent', () => c.create('/crud/a/b'));
      await step(o, 'create-child', () => c.create('/crud/a', Buffer.from([1, 2, 3])));
      await step(o, 'seq1', () => c.create('/crud/s-', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL }));
      await step(o, 'seq2', () => c.create('/crud/s-', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL }));
      await step(o, 'get', async () => { const r = await c.getData('/crud'); return { data: r.data?.toString(), stat: st(r.stat) }; });
      await step(o, 'set-badversion', () => c.setData('/crud', 'x', 7));
      await step(o, 'set', async () => st(await c.setData('/crud', 'v1', 0)));
      await step(o, 'exists-missing', () => c.exists('/crud/none'));
      await step(o, 'exists', async () => st(await c.exists('/crud')));
      await step(o, 'children', async () => (await c.getChildren('/crud')).sort());
      await step(o, 'children2', async () => { const r = await c.getChildren2('/crud'); return { children: r.children.sort(), stat: st(r.stat) }; });
      await step(o, 'delete-notempty', () => c.delete('/crud'));
      await step(o, 'delete-badversion', () => c.delete('/crud/a', 3));
      await step(o, 'delete', () => c.delete('/crud/a', 0));
      await step(o, 'get-nonode', () => c.getData('/crud/a'));
      await step(o, 'null-data', async () => { await c.create('/crud/n', null); return (await c.getData('/crud/n')).data; });
      await step(o, 'bad-path', () => c.create('crud'));
      await step(o, 'acl', () => c.getACL('/crud'));
      await step(o, 'setACL-badversion', () => c.setACL('/crud', [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], 5));
      await step(o, 'all-children-number', () => c.getAllChildrenNumber('/crud'));
      await step(o, 'sync', () => c.sync('/crud'));
      await c.close();
      return o;
    }));

  test('create2, TTL, container, ephemerals, whoAmI', () =>
    differential('modes', async (s) => {
      const c = await clients.open(s.connect);
      const o: Steps = [];
      await step(o, 'create2', async () => { const r = await c.create2('/modes', 'd'); return { path: r.path, stat: st(r.stat) }; });
      await step(o, 'ttl', async () => c.create2('/modes/ttl', 'x', { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 60000 }).then((r) => ({ path: r.path, stat: st(r.stat) })));
      await step(o, 'ttl-seq', () => c.create('/modes/ttls-', 'x', { mode: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl: 60000 }));
      await step(o, 'ttl-zero', () => c.create('/modes/ttl0', 'x', { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 0 }));
      await step(o, 'container', () => c.create('/modes/cont', null, { mode: CreateMode.CONTAINER }));
      await step(o, 'eph', () => c.create('/modes/e1', null, { mode: CreateMode.EPHEMERAL }));
      await step(o, 'eph-seq', () => c.create('/modes/e-', null, { mode: CreateMode.EPHEMERAL_SEQUENTIAL }));
      await step(o, 'eph-child', () => c.create('/modes/e1/x'));
      await step(o, 'ephemerals', async () => (await c.getEphemerals()).sort());
      await step(o, 'ephemerals-prefix', async () => (await c.getEphemerals('/modes/e-')).sort());
      await step(o, 'whoami', () => c.whoAmI());
      await step(o, 'eph-stat', async () => (await c.exists('/modes/e1'))!.ephemeralOwner !== 0);
      const other = await clients.open(s.connect);
      await step(o, 'other-ephemerals', () => other.getEphemerals());
      await c.close();
      await step(o, 'after-close', async () => (await other.getChildren('/modes')).sort());
      await other.close();
      return o;
    }));

  test('multi and multiRead', () =>
    differential('multi', async (s) => {
      const c = await clients.open(s.connect);
      const o: Steps = [];
      await step(o, 'ok', async () => (await c.multi([
        { type: 'create', path: '/multi', data: 'm' },
        { type: 'create', path: '/multi/a' },
        { type: 'setData', path: '/multi', data: 'm2', version: 0 },
        { type: 'check', path: '/multi', version: 1 },
        { type: 'create', path: '/multi/s-', mode: CreateMode.PERSISTENT_SEQUENTIAL },
        { type: 'delete', path: '/multi/a' },
      ])).map((r) => ('stat' in r ? { ...r, stat: st(r.stat ?? null) } : r)));
      await step(o, 'fail', async () => {
        try {
          await c.multi([{ type: 'create', path: '/multi/b' }, { type: 'check', path: '/multi', version: 9 }, { type: 'delete', path: '/multi' }]);
          return 'no error';
        } catch (e) {
          return { e: err(e), results: (e as ZooKeeperError).results };
        }
      });
      await step(o, 'not-applied', () => c.exists('/multi/b'));
      await step(o, 'empty', () => c.multi([]));
      await step(o, 'multiRead', async () => (await c.multiRead([
        { type: 'getData', path: '/multi' },
        { type: 'getChildren', path: '/multi' },
        { type: 'getData', path: '/multi/missing' },
      ])).map((r) => ('stat' in r ? { ...r, data: r.data?.toString(), stat: st(r.stat) } : r)));
      await c.close();
      return o;
    }));

  test('one-shot watches: callbacks, promises and their order relative to replies', () =>
    differential('watches', async (s) => {
      const a = await clients.open(s.connect);
      const b = await clients.open(s.connect);
      const log: string[] = [];
      await a.create('/w', 'x');
      await a.getData('/w', (e) => log.push('data ' + ev(e)));
      await a.exists('/w/new', (e) => log.push('exist ' + ev(e)));
      await a.getChildren('/w', (e) => log.push('child ' + ev(e)));
      const dw = await a.watchData('/w');
      // The watcher's own write: the event is delivered before the write's reply.
      await a.setData('/w', 'y').then(() => log.push('reply setData'));
      log.push('promise ' + ev(await dw.changed));
      await b.create('/w/new');
      await until(() => log.length >= 5, 5000, 'events');
      const ex = await a.watchExists('/w/new');
      const ch = await a.watchChildren('/w');
      await b.delete('/w/new');
      log.push('exists-promise ' + ev(await ex.changed));
      log.push('children-promise ' + ev(await ch.changed));
      // one event per trigger even with several watches on the node
      let n = 0;
      await a.getData('/w', () => n++);
      await a.exists('/w', () => n++);
      await b.setData('/w', 'z');
      await a.sync('/w');
      await sleep(50);
      log.push(`callbacks for one change: ${n}`);
      await a.close();
      await b.close();
      return log;
    }));

  test('persistent and recursive watches as async iterators; removeWatches', () =>
    differential('persistent', async (s) => {
      const a = await clients.open(s.connect);
      const b = await clients.open(s.connect);
      const o: Steps = [];
      await a.create('/pw', '');
      await a.create('/pr', '');
      // Separate paths: ZooKeeper 3.8.0 keeps one watch mode per (connection, path), so a recursive
      // watch added on the path of a persistent one replaces it (Kraal keeps both).
      const p = await a.addWatch('/pw', 'persistent');
      const r = await a.addWatch('/pr', 'recursive');
      await b.create('/pw/c1');
      await b.setData('/pw', 'd');
      await b.create('/pw/c1/g');
      await b.delete('/pw/c1/g');
      await b.delete('/pw/c1');
      await b.create('/pr/c1');
      await b.setData('/pr', 'd');
      await b.create('/pr/c1/g');
      await b.setData('/pr/c1/g', 'x');
      await b.delete('/pr/c1/g');
      await b.delete('/pr/c1');
      const take = async (it: AsyncIterator<WatchedEvent>, k: number) => {
        const out: string[] = [];
        for (let i = 0; i < k; i++) out.push(ev((await it.next()).value as WatchedEvent));
        return out;
      };
      await step(o, 'persistent', () => take(p, 3));
      await step(o, 'recursive', () => take(r, 6));
      await r.close();
      await step(o, 'recursive-closed-on-server', () => a.checkWatches('/pr', 'any'));
      await step(o, 'after-close', async () => { await b.create('/pw/c2'); return take(p, 1); });
      await step(o, 'removeWatches', async () => {
        const removed: string[] = [];
        await a.getData('/pw', (e) => removed.push(ev(e)));
        await a.getChildren('/pw', (e) => removed.push(ev(e)));
        await a.removeWatches('/pw', 'data');
        return removed.slice();
      });
      await step(o, 'remove-any', async () => { await a.removeWatches('/pw', 'any'); return (await p.next()).value; });
      await step(o, 'persistent-ended', async () => (await p.next()).done);
      await step(o, 'no-watcher', () => a.removeWatches('/pw', 'children'));
      await step(o, 'checkWatches-none', () => a.checkWatches('/pw', 'data'));
      await a.close();
      await b.close();
      return o;
    }));

  test('auth, ACLs and whoAmI; auth re-sent after reconnect', () =>
    differential('auth', async (s) => {
      const a = await clients.open(s.connect);
      const b = await clients.open(s.connect);
      const o: Steps = [];
      await a.addAuth('digest', 'alice:secret');
      await step(o, 'whoami', () => a.whoAmI());
      await step(o, 'create', () => a.create('/auth', 'x', { acl: CREATOR_ALL_ACL }));
      await step(o, 'acl', () => a.getACL('/auth'));
      await step(o, 'other-noauth', () => b.getData('/auth'));
      a.dropConnection();
      await step(o, 'after-reconnect', async () => (await a.getData('/auth')).data?.toString());
      await step(o, 'whoami-after', () => a.whoAmI());
      await step(o, 'bad-acl', () => b.create('/auth2', null, { acl: [{ perms: 31, id: { scheme: 'digest', id: 'nocolon' } }] }));
      await a.close();
      await b.close();
      return o;
    }));

  test('chroot in the connection string', () =>
    differential('chroot', async (s) => {
      const root = await clients.open(s.connect);
      await root.create('/app', null);
      const c = await clients.open(`${s.connect}/app`);
      const o: Steps = [];
      const seen: string[] = [];
      await step(o, 'create', () => c.create('/x', 'x'));
      await step(o, 'seq', () => c.create('/x/s-', null, { mode: CreateMode.EPHEMERAL_SEQUENTIAL }));
      await step(o, 'root-children', async () => (await c.getChildren('/')).sort());
      await step(o, 'seen-from-root', async () => (await root.getChildren('/app')).sort());
      await c.getData('/x', (e) => seen.push(ev(e)));
      const rw = await c.addWatch('/', 'recursive');
      await root.setData('/app/x', 'y');
      await step(o, 'event', async () => { await until(() => seen.length > 0, 5000); return seen; });
      await step(o, 'recursive', async () => ev((await rw.next()).value as WatchedEvent));
      await step(o, 'multi', () => c.multi([{ type: 'create', path: '/m' }, { type: 'delete', path: '/m' }]));
      await step(o, 'ephemerals', () => c.getEphemerals());
      await step(o, 'sync', () => c.sync('/x'));
      await c.close();
      await root.close();
      return o;
    }));

  test('session timeout negotiation (clamped to [2, 20] x tickTime)', () =>
    differential('timeouts', async (s) => {
      const out: number[] = [];
      for (const t of [100, 1000, 100000]) {
        const c = await ZooKeeperClient.connect(s.connect, { sessionTimeout: t });
        out.push(c.sessionTimeout);
        await c.close();
      }
      return out;
    }));

  test('reconnect: same session, watches re-armed with setWatches2, missed events delivered', () =>
    differential('reconnect', async (s) => {
      const a = await clients.open(s.connect, { sessionTimeout: 4000 });
      const b = await clients.open(s.connect);
      const o: Steps = [];
      const log: string[] = [];
      await a.create('/rc', '');
      await a.create('/rc/x', '');
      await a.create('/rc/e', '', { mode: CreateMode.EPHEMERAL });
      await a.getData('/rc/x', (e) => log.push('data ' + ev(e)));
      await a.getChildren('/rc', (e) => log.push('child ' + ev(e)));
      await a.exists('/rc/z', (e) => log.push('exist ' + ev(e)));
      await a.exists('/rc/never', (e) => log.push('exist-never ' + ev(e)));
      const rec = await a.addWatch('/rc', 'recursive');
      const states: string[] = [];
      a.on('state', (c) => states.push(c.state));
      const sid = a.sessionId;
      a.testHooks.reconnectDelayMs = 400;
      const inflight = a.getData('/rc/x'); // written but not flushed when the connection drops
      a.dropConnection();
      await step(o, 'inflight', () => inflight.then(() => 'ok'));
      // While A is away: B changes what A watches.
      await b.setData('/rc/x', 'changed');
      await b.create('/rc/z');
      const queued = a.getData('/rc/x').then((r) => r.data?.toString()); // waits for the reconnect
      await a.waitForState((st) => st === 'CONNECTED', 5000);
      await step(o, 'queued-request', () => queued);
      await until(() => log.length >= 3, 5000, 'missed events');
      await step(o, 'events', async () => log.slice().sort());
      await step(o, 'same-session', async () => a.sessionId === sid);
      await step(o, 'states', async () => states.slice());
      await step(o, 'ephemeral-kept', async () => st(await b.exists('/rc/e')));
      // Recursive watch re-armed (no catch-up for persistent watches): later changes arrive.
      await b.setData('/rc/x', 'again');
      await step(o, 'recursive-after', async () => ev((await rec.next()).value as WatchedEvent));
      a.testHooks.reconnectDelayMs = 0;
      await a.close();
      await b.close();
      return o;
    }));

  test('expiry is final and observable: EXPIRED state, watchers told, ephemerals gone, requests fail', () =>
    differential('expiry', async (s) => {
      const a = await ZooKeeperClient.connect(s.connect, { sessionTimeout: 800 });
      const b = await clients.open(s.connect);
      const o: Steps = [];
      await a.create('/exp', '', { mode: CreateMode.EPHEMERAL });
      await a.create('/exp-keep', '');
      const seen: string[] = [];
      // (Watches on other nodes than the session's own ephemerals: see the todo test below.)
      await a.getData('/exp-keep', (e) => seen.push(ev(e)));
      const bw = await b.watchExists('/exp');
      const pw = await a.addWatch('/exp-keep', 'recursive');
      const states: string[] = [];
      const it = a.states();
      const collect = (async () => { for await (const c of it) states.push(c.state); })();
      await expire(a, 10000);
      await collect;
      await step(o, 'states', async () => states);
      await step(o, 'watcher', async () => seen);
      await step(o, 'persistent-iterator', () => pw.next());
      await step(o, 'request-after', () => a.getData('/exp'));
      await step(o, 'other-sees-delete', async () => ev(await bw.changed));
      await step(o, 'ephemeral-gone', () => b.exists('/exp'));
      await step(o, 'close-after-expiry', () => a.close());
      await b.close();
      return o;
    }));

  // Not compared: whether an expiring session's own connection still receives the NodeDeleted events of
  // its ephemerals before the socket closes is a race inside ZooKeeper 3.8 (both outcomes were observed on
  // the same machine). Kraal closes the socket first, as ZooKeeper documents ("closes without a word").

  test('requests issued while disconnected wait, then fail with ConnectionLoss after disconnectedRequestTimeout', () =>
    differential('disconnected-wait', async (s) => {
      const a = await clients.open(s.connect, { sessionTimeout: 4000, disconnectedRequestTimeout: 300 });
      a.testHooks.reconnectDelayMs = 1200;
      a.dropConnection();
      const t0 = Date.now();
      const r = await a.exists('/').then(() => 'ok', (e) => err(e));
      const waited = Date.now() - t0;
      await a.waitForState((st) => st === 'CONNECTED', 5000);
      const after = await a.exists('/').then((x) => x !== null);
      await a.close();
      return { r, waitedAtLeast300: waited >= 280, waitedLessThanReconnect: waited < 1100, after };
    }));

  test('backpressure: at most maxOutstanding requests on the wire', () =>
    differential('backpressure', async (s) => {
      const a = await clients.open(s.connect, { maxOutstanding: 4 });
      await a.create('/bp', 'x');
      let max = 0;
      const all: Promise<unknown>[] = [];
      for (let i = 0; i < 300; i++) {
        all.push(a.getData('/bp'));
        max = Math.max(max, a.outstanding.inflight);
      }
      const probe = setInterval(() => (max = Math.max(max, a.outstanding.inflight)), 0);
      await Promise.all(all);
      clearInterval(probe);
      const res = { max, waiting: a.outstanding.waiting };
      await a.close();
      return res;
    }));
});
