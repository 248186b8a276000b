// Recipes with contending clients, connection loss and sessions expiring mid-way; run against Kraal
// and against real ZooKeeper 3.8.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import {
  Barrier,
  DistributedCounter,
  DistributedQueue,
  DoubleBarrier,
  LeaderLatch,
  Mutex,
  ReadWriteLock,
  Semaphore,
  TreeCache,
} from '../../src/recipes/index.js';
import { Clients, expire, sleep, startKraalServer, startZkServer, until, type Server } from './support.js';

const servers: Record<string, Server> = {};
before(async () => {
  const [k, z] = await Promise.all([startKraalServer(), startZkServer(23500)]);
  servers.kraal = k;
  servers.zookeeper = z;
});
after(async () => {
  await Promise.all(Object.values(servers).map((s) => s.stop()));
});

for (const kind of ['kraal', 'zookeeper'] as const) {
  describe(`recipes on ${kind}`, () => {
    const clients = new Clients();
    let cs = '';
    let n = 0;
    const dir = (name: string) => `/r-${name}-${++n}`;
    before(() => {
      cs = servers[kind]!.connect;
    });
    after(() => clients.closeAll());
    const open = (timeout = 4000) => clients.open(cs, { sessionTimeout: timeout });

    test('mutex: contenders are exclusive; an expiring holder loses the lock and the next one gets it', async () => {
      const d = dir('mutex');
      const cl = await Promise.all([0, 1, 2, 3].map(() => open()));
      let inside = 0;
      let maxInside = 0;
      let count = 0;
      await Promise.all(cl.map(async (c) => {
        const m = new Mutex(c, d);
        for (let i = 0; i < 3; i++) {
          assert.equal(await m.acquire(), true);
          inside++;
          maxInside = Math.max(maxInside, inside);
          const v = count;
          await sleep(2);
          count = v + 1;
          inside--;
          await m.release();
        }
      }));
      assert.equal(maxInside, 1);
      assert.equal(count, 12);
      assert.deepEqual(await cl[0]!.getChildren(d), []);

      // Holder's session expires mid-way.
      const holderClient = await open(800);
      const holder = new Mutex(holderClient, d);
      assert.equal(await holder.acquire(), true);
      let lost = false;
      holder.on('lost', () => (lost = true));
      const waiter = new Mutex(cl[1]!, d);
      const w = waiter.acquire();
      assert.equal(await new Mutex(cl[2]!, d).acquire(100), false, 'timeout while held');
      await expire(holderClient);
      assert.equal(await w, true, 'next contender acquires after expiry');
      assert.equal(lost, true);
      assert.equal(holder.isHeld, false);
      await waiter.release();
    });

    test('mutex: a waiter survives connection loss and still acquires', async () => {
      const d = dir('mutex-cl');
      const a = await open();
      const b = await open();
      const ma = new Mutex(a, d);
      await ma.acquire();
      const mb = new Mutex(b, d);
      const wb = mb.acquire();
      await sleep(50);
      b.testHooks.reconnectDelayMs = 200;
      b.dropConnection();
      await ma.release(); // happens while B is disconnected: its watch catches up on reconnect
      assert.equal(await wb, true);
      assert.equal(b.isConnected, true);
      await mb.release();
      b.testHooks.reconnectDelayMs = 0;
    });

    test('read-write lock: readers share, writers exclude; expiring reader frees the writer', async () => {
      const d = dir('rw');
      const [ex, b, c] = await Promise.all([open(800), open(), open()]);
      const r1 = new ReadWriteLock(ex, d).readLock;
      const r2 = new ReadWriteLock(b, d).readLock;
      assert.equal(await r1.acquire(), true);
      assert.equal(await r2.acquire(1000), true, 'two readers at once');
      const w = new ReadWriteLock(c, d).writeLock;
      assert.equal(await w.acquire(100), false, 'writer waits for readers');
      const wp = w.acquire();
      await r2.release();
      await sleep(50);
      assert.equal(w.isHeld, false, 'one reader still holds');
      // A reader queued after the waiting writer waits too (FIFO).
      const r3 = new ReadWriteLock(b, d).readLock;
      const r3p = r3.acquire();
      await sleep(50);
      assert.equal(r3.isHeld, false);
      // The remaining reader's session expires: the writer gets the lock, then the reader after it.
      await expire(ex);
      assert.equal(await wp, true);
      assert.equal(r3.isHeld, false);
      await w.release();
      assert.equal(await r3p, true);
      await r3.release();
    });

    test('semaphore: at most N holders; an expiring holder frees its lease', async () => {
      const d = dir('sem');
      const cl = await Promise.all([0, 1, 2, 3, 4].map(() => open()));
      let inside = 0;
      let maxInside = 0;
      await Promise.all(cl.map(async (c) => {
        const s = new Semaphore(c, d, 2);
        for (let i = 0; i < 2; i++) {
          const lease = await s.acquire();
          assert.ok(lease);
          inside++;
          maxInside = Math.max(maxInside, inside);
          await sleep(5);
          inside--;
          await lease.release();
        }
      }));
      assert.equal(maxInside, 2);
      const h1 = await open(800);
      const l1 = await new Semaphore(h1, d, 2).acquire();
      const l2 = await new Semaphore(cl[0]!, d, 2).acquire();
      assert.ok(l1 && l2);
      assert.equal(await new Semaphore(cl[1]!, d, 2).acquire(100), null);
      const waiting = new Semaphore(cl[1]!, d, 2).acquire();
      await expire(h1);
      const l3 = await waiting;
      assert.ok(l3, 'lease passed on after expiry');
      assert.equal(l1!.isValid, false);
      await l2!.release();
      await l3!.release();
    });

    test('leader latch: one leader; on close or expiry another is elected; steps down on disconnect', async () => {
      const d = dir('leader');
      const cl = await Promise.all([open(800), open(), open()]);
      const latches = cl.map((c, i) => new LeaderLatch(c, d, `p${i}`));
      for (const l of latches) await l.start();
      await until(() => latches.filter((l) => l.isLeader).length === 1, 5000, 'one leader');
      assert.equal(latches[0]!.isLeader, true);
      assert.deepEqual(await latches[1]!.participants(), ['p0', 'p1', 'p2']);
      const events: boolean[] = [];
      const it = latches[0]!.leadership();
      const collect = (async () => { for await (const v of it) events.push(v); })();
      let closed = false;
      latches[0]!.on('closed', () => (closed = true));
      // The leader's session expires: it steps down and p1 is elected.
      await expire(cl[0]!);
      assert.equal(await latches[1]!.waitForLeadership(5000), true);
      await collect;
      assert.equal(latches[0]!.isLeader, false);
      assert.equal(closed, true);
      assert.deepEqual(events, [false]);
      assert.equal(latches[2]!.isLeader, false);
      // Connection loss: leadership is given up at once and taken back after the re-attach.
      const flips: boolean[] = [];
      latches[1]!.on('isLeader', () => flips.push(true));
      latches[1]!.on('notLeader', () => flips.push(false));
      cl[1]!.testHooks.reconnectDelayMs = 100;
      cl[1]!.dropConnection();
      assert.equal(latches[1]!.isLeader, false);
      await until(() => latches[1]!.isLeader, 5000, 'leader again');
      assert.deepEqual(flips, [false, true]);
      cl[1]!.testHooks.reconnectDelayMs = 0;
      // Leader closes: p2 takes over.
      await latches[1]!.close();
      assert.equal(await latches[2]!.waitForLeadership(5000), true);
      await latches[2]!.close();
    });

    test('barrier and double barrier', async () => {
      const d = dir('barrier');
      const [a, b, c] = await Promise.all([open(), open(), open()]);
      const bar = new Barrier(a, `${d}/b`);
      await bar.set();
      assert.equal(await new Barrier(b, `${d}/b`).wait(100), false);
      const w = new Barrier(c, `${d}/b`).wait();
      await sleep(30);
      await bar.remove();
      assert.equal(await w, true);

      const order: string[] = [];
      const parts = [a, b, c].map((cli, i) => new DoubleBarrier(cli, `${d}/db`, 3, `m${i}`));
      await Promise.all(parts.map(async (p, i) => {
        await sleep(i * 40);
        order.push(`enter-start ${i}`);
        assert.equal(await p.enter(5000), true);
        order.push('entered');
        await sleep((2 - i) * 40);
        order.push(`leave-start ${i}`);
        assert.equal(await p.leave(5000), true);
        order.push('left');
      }));
      // Nobody passes enter() before the last participant started entering; nobody passes leave() before the last started leaving.
      assert.ok(order.indexOf('entered') > order.indexOf('enter-start 2'));
      assert.ok(order.indexOf('left') > order.lastIndexOf('leave-start 0'));
      assert.deepEqual((await a.getChildren(`${d}/db`)).sort(), []);
      // A participant whose session expires counts as gone.
      const e = await open(800);
      const solo = new DoubleBarrier(e, `${d}/db2`, 2, 'x');
      const other = new DoubleBarrier(a, `${d}/db2`, 2, 'y');
      const p = Promise.all([solo.enter(5000), other.enter(5000)]);
      assert.deepEqual(await p, [true, true]);
      const leaveOther = other.leave(10000);
      await expire(e);
      assert.equal(await leaveOther, true);
    });

    test('counter: concurrent increments from several clients, with connection drops, are exact', async () => {
      const d = dir('counter');
      const cl = await Promise.all([0, 1, 2, 3].map(() => open()));
      const dropper = setInterval(() => cl[Math.floor(Math.random() * 4)]!.dropConnection(), 40);
      try {
        await Promise.all(cl.map(async (c) => {
          const k = new DistributedCounter(c, `${d}/n`);
          for (let i = 0; i < 25; i++) await k.increment();
        }));
      } finally {
        clearInterval(dropper);
      }
      assert.equal(await new DistributedCounter(cl[0]!, `${d}/n`).get(), 100);
      assert.equal(await new DistributedCounter(cl[1]!, `${d}/n`).add(-5), 95);
    });

    test('queue: FIFO, every item taken exactly once by contending consumers; a consumer expiring loses nothing', async () => {
      const d = dir('queue');
      const [p, c1, c2, c3] = await Promise.all([open(), open(), open(), open()]);
      const q = new DistributedQueue(p, d);
      for (let i = 0; i < 5; i++) await q.put(`f${i}`);
      const single = new DistributedQueue(c1, d);
      const fifo: string[] = [];
      for (let i = 0; i < 5; i++) fifo.push((await single.take(1000))!.toString());
      assert.deepEqual(fifo, ['f0', 'f1', 'f2', 'f3', 'f4']);
      assert.equal(await single.poll(), null);
      assert.equal(await single.take(50), null);

      const taken: string[] = [];
      const consumers = [c1, c2, c3].map((c) => (async () => {
        const cq = new DistributedQueue(c, d);
        for (;;) {
          const item = await cq.take(500);
          if (item === null) return;
          taken.push(item.toString());
        }
      })());
      const producing = (async () => { for (let i = 0; i < 60; i++) await q.put(`i${i}`); })();
      await producing;
      await Promise.all(consumers);
      assert.equal(taken.length, 60);
      assert.equal(new Set(taken).size, 60);

      // A consumer whose session expires while waiting: items put afterwards are all still there.
      const dying = await open(800);
      const dq = new DistributedQueue(dying, d);
      const pending = dq.take().catch((e) => e);
      await sleep(30);
      await expire(dying);
      assert.equal((await pending as { codeName: string }).codeName, 'SessionExpired');
      await q.put('after');
      assert.equal((await new DistributedQueue(c2, d).take(1000))?.toString(), 'after');
    });

    test('tree cache mirrors a subtree through changes, a disconnection (resync) and ends on expiry', async () => {
      const d = dir('tree');
      const w = await open();
      const cc = await open(1500);
      await w.mkdirp(`${d}/a/b`);
      await w.create(`${d}/a/x`, 'x0');
      const cache = new TreeCache(cc, d);
      await cache.start();
      const snapshot = async (): Promise<Record<string, string>> => {
        const out: Record<string, string> = {};
        const walk = async (p: string) => {
          const { data } = await w.getData(p);
          out[p] = data?.toString() ?? '';
          for (const ch of (await w.getChildren(p)).sort()) await walk(`${p}/${ch}`);
        };
        await walk(d);
        return out;
      };
      const cached = () => Object.fromEntries(cache.paths().map((p) => [p, cache.get(p)!.data?.toString() ?? '']));
      assert.deepEqual(cached(), await snapshot());
      assert.deepEqual(cache.children(`${d}/a`), ['b', 'x']);
      // Random changes.
      for (let i = 0; i < 40; i++) {
        const r = i % 4;
        if (r === 0) await w.create(`${d}/a/n${i}`, `v${i}`);
        else if (r === 1) await w.setData(`${d}/a/x`, `x${i}`);
        else if (r === 2) await w.create(`${d}/a/b/m${i}`, '');
        else await w.delete(`${d}/a/n${i - 3}`);
      }
      await until(async () => JSON.stringify(cached()) === JSON.stringify(await snapshot()), 5000, 'cache converged');
      // Changes while the cache's client is disconnected: the persistent watch has no catch-up; resync.
      cc.testHooks.reconnectDelayMs = 300;
      const resynced = new Promise((r) => cache.once('resynced', r));
      cc.dropConnection();
      await w.create(`${d}/during`, 'd');
      await w.setData(`${d}/a/x`, 'changed-during');
      await w.delete(`${d}/a/b/m2`);
      await resynced;
      cc.testHooks.reconnectDelayMs = 0;
      await until(async () => JSON.stringify(cached()) === JSON.stringify(await snapshot()), 5000, 'cache resynced');
      assert.equal(cache.get(`${d}/during`)?.data?.toString(), 'd');
      // Expiry ends the cache.
      const closed = new Promise((r) => cache.once('closed', r));
      await expire(cc);
      await closed;
    });
  });
}

test('clients are all closed', () => {
  assert.ok(ZooKeeperClient);
});
