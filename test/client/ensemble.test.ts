// The client against a real 3-node ZooKeeper 3.8 ensemble: when the server it is connected to dies,
// it moves to another server with the same session; its ephemerals and watches survive, and an
// event for a change made while it was away is delivered (setWatches2 catch-up).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateMode, ZooKeeperClient, isZkError, type WatchedEvent } from '../../src/client/index.js';
import { retry } from '../../src/recipes/index.js';
import { startEnsemble, until, type Ensemble } from './support.js';

let ens: Ensemble;
before(async () => {
  ens = await startEnsemble(23400);
});
after(async () => {
  await ens?.stop();
});

const open: ZooKeeperClient[] = [];
after(() => Promise.all(open.map((c) => c.close().catch(() => undefined))));

test('reconnect to another server of a 3-node ensemble keeps session, ephemerals and watches', { timeout: 120000 }, async () => {
  const a = await ZooKeeperClient.connect(ens.connect, { sessionTimeout: 4000 });
  const first = a.connectedServer!;
  const killIdx = ens.indexOfPort(Number(first.split(':')[1]));
  // The observer talks to a server that stays up.
  const otherPort = ens.ports[(killIdx + 1) % 3]!;
  const b = await ZooKeeperClient.connect(`127.0.0.1:${otherPort}`, { sessionTimeout: 4000 });
  open.push(a, b);
  await a.create('/ens', '');
  await a.create('/ens/x', 'v0');
  await a.create('/ens/eph', 'mine', { mode: CreateMode.EPHEMERAL });
  const events: string[] = [];
  const rec = (e: WatchedEvent) => events.push(`${e.typeName} ${e.path}`);
  await a.getData('/ens/x', rec);
  await a.getChildren('/ens', rec);
  await a.exists('/ens/later', rec);
  // (Another subtree: ZooKeeper 3.8.0 keeps one watch mode per connection and path, so a recursive
  // watch on /ens would silence the standard child watch on /ens.)
  await a.create('/ens-r', '');
  const pw = await a.addWatch('/ens-r', 'recursive');
  const sid = a.sessionId;
  const states: string[] = [];
  a.on('state', (c) => states.push(`${c.state}`));

  await ens.kill(killIdx);
  // While A looks for another server, B changes what A watches.
  // (B's server may itself drop its clients while a new leader is elected: retry.)
  await retry(b, () => b.setData('/ens/x', 'v1'));
  await retry(b, () => b.create('/ens/later', '').catch((e) => { if (!isZkError(e, 'NodeExists')) throw e; }));
  await a.waitForState((s) => s === 'CONNECTED', 20000);
  await b.waitForState((s) => s === 'CONNECTED', 20000);
  const second = a.connectedServer!;
  assert.notEqual(second, first, 'moved to another server');
  assert.equal(a.sessionId, sid, 'same session');
  await until(() => events.length >= 3, 10000, 'missed events').catch((e) => {
    throw new Error(`${e.message}: events ${JSON.stringify(events)}, states ${states}, ${first} -> ${second}`);
  });
  assert.deepEqual(events.sort(), ['NodeChildrenChanged /ens', 'NodeCreated /ens/later', 'NodeDataChanged /ens/x']);
  // Ephemeral intact, seen from another server.
  await retry(b, () => b.sync('/ens'));
  const st = await retry(b, () => b.exists('/ens/eph'));
  assert.ok(st !== null && st.ephemeralOwner !== 0, 'ephemeral kept');
  assert.deepEqual(await a.getEphemerals('/ens'), ['/ens/eph']);
  // The recursive watch is re-armed on the new server.
  await retry(b, () => b.create('/ens-r/y', 'v2'));
  const ev = (await pw.next()).value as WatchedEvent;
  assert.equal(`${ev.typeName} ${ev.path}`, 'NodeCreated /ens-r/y');
  assert.deepEqual(states, ['DISCONNECTED', 'CONNECTED']);
  // Writes through the new server work and the session ends cleanly.
  await a.setData('/ens/x', 'v3');
  await a.close();
  await b.sync('/ens');
  assert.equal(await b.exists('/ens/eph'), null, 'ephemeral removed on close');
  await b.close();
});
