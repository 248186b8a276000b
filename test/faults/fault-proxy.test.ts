// FaultProxy and ProxyMesh against small echo/ping servers on 127.0.0.1: forwarding, blackholing
// without closing, stalling, refusing, delay, reset, one-way blocking, a dead target, and the
// reachability a mesh gives for partitions, isolation, bridges and one-way cuts.

import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { freePort } from '../support/process.js';
import { FaultProxy, ProxyMesh, type FaultProxyOptions } from './lib/fault-proxy.js';

const HOST = '127.0.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A server that records what each connection sends and (optionally) echoes it. */
interface TestServer {
  port: number;
  conns: { socket: net.Socket; data: string; ended: boolean; closed: boolean }[];
  close(): Promise<void>;
}

async function startServer(opts: { echo?: boolean; port?: number } = {}): Promise<TestServer> {
  const conns: TestServer['conns'] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const c = { socket, data: '', ended: false, closed: false };
    conns.push(c);
    socket.on('error', () => undefined);
    socket.on('data', (d) => {
      c.data += d.toString('latin1');
      if (opts.echo !== false) socket.write(d);
    });
    socket.on('end', () => {
      c.ended = true;
      socket.end();
    });
    socket.on('close', () => (c.closed = true));
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, HOST, () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    conns,
    close: async () => {
      for (const c of conns) c.socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A client connection that accumulates what it receives. */
interface Client {
  socket: net.Socket;
  data: string;
  ended: boolean;
  closed: boolean;
  error: string | undefined;
  connected: boolean;
}

function connect(port: number): Client {
  const socket = net.connect({ host: HOST, port, allowHalfOpen: true });
  const c: Client = { socket, data: '', ended: false, closed: false, error: undefined, connected: false };
  socket.on('connect', () => (c.connected = true));
  socket.on('data', (d) => (c.data += d.toString('latin1')));
  socket.on('end', () => (c.ended = true));
  socket.on('error', (e: NodeJS.ErrnoException) => (c.error = e.code ?? e.message));
  socket.on('close', () => (c.closed = true));
  return c;
}

async function connected(port: number): Promise<Client> {
  const c = connect(port);
  await until(() => c.connected || c.closed, 'connect');
  assert.ok(c.connected, `connect failed: ${c.error}`);
  return c;
}

/** Round trip of one small message through an echo server, in ms. */
async function rtt(c: Client, tag: string): Promise<number> {
  const before = c.data.length;
  const t0 = performance.now();
  c.socket.write(tag);
  await until(() => c.data.length >= before + tag.length, `echo of ${tag}`, 5000);
  return performance.now() - t0;
}

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
});

async function setup(opts: Partial<FaultProxyOptions> = {}) {
  const server = await startServer();
  const proxy = await FaultProxy.start({ target: { host: HOST, port: server.port }, ...opts });
  cleanups.push(() => proxy.close(), () => server.close());
  return { server, proxy };
}

describe('FaultProxy', () => {
  test('forwards bytes both ways in order, and half-closes like the endpoints do', { timeout: 10000 }, async () => {
    const { server, proxy } = await setup();
    const c = await connected(proxy.port);
    await rtt(c, 'hello');
    const big = randomBytes(1 << 20).toString('latin1');
    for (let k = 0; k < big.length; k += 65536) c.socket.write(Buffer.from(big.slice(k, k + 65536), 'latin1'));
    await until(() => c.data.length === 5 + big.length, 'the 1 MiB echo', 8000);
    assert.equal(c.data, 'hello' + big);
    assert.equal(server.conns[0]!.data, 'hello' + big);
    c.socket.end();
    await until(() => server.conns[0]!.ended, 'FIN at the server');
    await until(() => c.ended && c.closed, 'FIN back at the client');
    await until(() => proxy.stats().active === 0, 'the link to be forgotten');
    const st = proxy.stats();
    assert.equal(st.accepted, 1);
    assert.equal(st.forwardedBytes.out, 5 + big.length);
    assert.equal(st.forwardedBytes.in, 5 + big.length);
    assert.equal(st.reset, 0);
  });

  test('block() blackholes existing connections without closing them; unblock() resets those that lost bytes', { timeout: 10000 }, async () => {
    const { server, proxy } = await setup();
    const lossy = await connected(proxy.port);
    const idle = await connected(proxy.port);
    await rtt(lossy, 'a');
    await rtt(idle, 'i');
    proxy.block();
    assert.deepEqual(proxy.blocked, { in: true, out: true });
    lossy.socket.write('b');
    // A connection attempted during the block is accepted by the kernel but goes nowhere.
    const during = connect(proxy.port);
    await sleep(300);
    assert.equal(lossy.data, 'a');
    assert.equal(server.conns[0]!.data, 'a');
    assert.ok(!lossy.closed && !lossy.ended, 'the client side must not see a close');
    assert.ok(!server.conns[0]!.closed && !server.conns[0]!.ended, 'the server side must not see a close');
    assert.ok(during.connected && !during.closed);
    assert.equal(server.conns.length, 2, 'no new connection reaches the target while blocked');
    during.socket.write('lost');
    await sleep(50);
    assert.equal(proxy.stats().droppedBytes.out, 1 + 4);

    proxy.unblock();
    // Bytes were lost mid-stream: TCP cannot continue such a connection, so it is reset.
    await until(() => lossy.closed && during.closed, 'lossy connections to be reset');
    await until(() => server.conns[0]!.closed, 'the server side of the lossy connection to close');
    // A connection that lost nothing carries on.
    await rtt(idle, 'still here');
    assert.ok(!idle.closed);
    const fresh = await connected(proxy.port);
    await rtt(fresh, 'new');
    assert.equal(server.conns.at(-1)!.data, 'new');
  });

  test('a connection made during a block with nothing sent is connected onwards after unblock', { timeout: 10000 }, async () => {
    const { server, proxy } = await setup();
    proxy.block();
    const c = await connected(proxy.port);
    await sleep(150);
    assert.equal(server.conns.length, 0);
    proxy.unblock();
    await rtt(c, 'late but fine');
    assert.equal(server.conns.length, 1);
  });

  test("'stall' holds bytes back and delivers them in order on unblock, on the same connection", { timeout: 10000 }, async () => {
    const { server, proxy } = await setup({ blackhole: 'stall' });
    const c = await connected(proxy.port);
    await rtt(c, '0');
    proxy.block();
    c.socket.write('1');
    c.socket.write('2');
    const hung = connect(proxy.port);
    await until(() => hung.connected, 'accept during block');
    hung.socket.write('early');
    await sleep(250);
    assert.equal(server.conns[0]!.data, '0');
    assert.equal(c.data, '0');
    assert.equal(server.conns.length, 1);
    proxy.unblock();
    await until(() => c.data === '012', 'held bytes echoed');
    await until(() => hung.data === 'early', 'the hung connection to deliver its early bytes');
    assert.ok(!c.closed && !hung.closed);
    assert.equal(proxy.stats().droppedBytes.out, 0);
  });

  test("block({ newConnections: 'refuse' }) resets new connections at once", { timeout: 10000 }, async () => {
    const { server, proxy } = await setup();
    proxy.block({ newConnections: 'refuse' });
    const c = connect(proxy.port);
    await until(() => c.closed, 'the refused connection to close');
    assert.equal(c.error, 'ECONNRESET');
    assert.equal(server.conns.length, 0);
    assert.equal(proxy.stats().refused, 1);
    proxy.unblock();
    await rtt(await connected(proxy.port), 'ok');
  });

  test('delay() adds latency each way; jitter never reorders a stream; delay(0) removes it', { timeout: 15000 }, async () => {
    const { proxy } = await setup({ seed: 42 });
    const c = await connected(proxy.port);
    let base = Infinity;
    for (let k = 0; k < 3; k++) base = Math.min(base, await rtt(c, `b${k}`));
    proxy.delay(100);
    const slow = await rtt(c, 'slow');
    // 100 ms out + 100 ms back; the upper bound only guards against a runaway (loaded CI boxes).
    assert.ok(slow >= 195, `round trip ${slow.toFixed(1)} ms with 2×100 ms delay`);
    assert.ok(slow < 1500, `round trip ${slow.toFixed(1)} ms`);

    proxy.delay(5, 40);
    const before = c.data.length;
    let sent = '';
    for (let k = 0; k < 200; k++) {
      const piece = `<${k}>`;
      sent += piece;
      c.socket.write(piece);
      if (k % 10 === 0) await sleep(1);
    }
    await until(() => c.data.length === before + sent.length, 'jittered echo', 8000);
    assert.equal(c.data.slice(before), sent);

    proxy.delay(0);
    const fast = await rtt(c, 'fast');
    assert.ok(fast < Math.max(50, base * 20), `round trip ${fast.toFixed(1)} ms after removing the delay (base ${base.toFixed(1)} ms)`);
    // One direction only: half the added latency.
    proxy.delay(150, 0, 'in');
    const oneWay = await rtt(c, 'one way');
    assert.ok(oneWay >= 145 && oneWay < 1500, `round trip ${oneWay.toFixed(1)} ms with 150 ms on 'in' only`);
  });

  test('reset() closes every connection on both sides; new connections are unaffected', { timeout: 10000 }, async () => {
    const { server, proxy } = await setup();
    const cs = [await connected(proxy.port), await connected(proxy.port), await connected(proxy.port)];
    for (const c of cs) await rtt(c, 'x');
    assert.equal(proxy.reset(), 3);
    await until(() => cs.every((c) => c.closed), 'clients to see the reset');
    await until(() => server.conns.every((c) => c.closed), 'server sides to close');
    assert.ok(cs.some((c) => c.error === 'ECONNRESET'), `an RST, not a FIN: ${cs.map((c) => c.error).join(',')}`);
    assert.equal(proxy.stats().active, 0);
    await rtt(await connected(proxy.port), 'again');
  });

  test("blockDirection('out') drops client→target only; blockDirection('in') drops target→client only", { timeout: 10000 }, async () => {
    const { server, proxy } = await setup();
    const c = await connected(proxy.port);
    await rtt(c, 'a');
    const srv = server.conns[0]!;

    proxy.blockDirection('out');
    assert.deepEqual(proxy.blocked, { in: false, out: true });
    c.socket.write('to-target');
    srv.socket.write('from-target');
    await until(() => c.data === 'afrom-target', 'target→client still flowing');
    await sleep(150);
    assert.equal(srv.data, 'a', 'client→target must be dropped');
    proxy.unblockDirection('out');
    await until(() => c.closed, 'the connection that lost bytes to be reset');

    const c2 = await connected(proxy.port);
    await rtt(c2, 'b');
    const srv2 = server.conns[1]!;
    proxy.blockDirection('in');
    c2.socket.write('to-target');
    await until(() => srv2.data === 'bto-target', 'client→target still flowing');
    await sleep(150);
    assert.equal(c2.data, 'b', 'target→client (the echo) must be dropped');
    assert.ok(!c2.closed && !srv2.closed);
    // New connections still open (a one-way block is not a full partition) and show the same.
    const c3 = await connected(proxy.port);
    c3.socket.write('q');
    await until(() => server.conns[2]?.data === 'q', 'a new connection to reach the target');
    await sleep(100);
    assert.equal(c3.data, '');
    proxy.unblock();
    await until(() => c2.closed && c3.closed, 'lossy connections reset on unblock');
  });

  test('a direction that lost bytes stays dark while the other is still blocked, then the link is reset', { timeout: 10000 }, async () => {
    const { server, proxy } = await setup();
    const c = await connected(proxy.port);
    await rtt(c, 'a');
    proxy.blockDirection('out');
    c.socket.write('x'); // dropped: the client→target stream now has a hole
    await sleep(50);
    proxy.setBlocked({ out: false, in: true });
    c.socket.write('y');
    await sleep(150);
    assert.equal(server.conns[0]!.data, 'a', 'bytes after a hole must never be delivered');
    assert.ok(!c.closed);
    proxy.unblock();
    await until(() => c.closed && server.conns[0]!.closed, 'the reset once nothing is blocked');
  });

  test('a dead target: connections are reset; the proxy recovers once the target listens', { timeout: 10000 }, async () => {
    const port = await freePort();
    const proxy = await FaultProxy.start({ target: { host: HOST, port } });
    cleanups.push(() => proxy.close());
    const c = connect(proxy.port);
    await until(() => c.closed, 'the connection to fail');
    assert.equal(proxy.stats().upstreamFailures, 1);
    const server = await startServer({ port });
    cleanups.push(() => server.close());
    await rtt(await connected(proxy.port), 'up again');
  });

  test('close() stops listening and resets open connections', { timeout: 10000 }, async () => {
    const { proxy } = await setup();
    const c = await connected(proxy.port);
    const port = proxy.port;
    await proxy.close();
    await until(() => c.closed, 'open connection to be reset');
    const late = connect(port);
    await until(() => late.closed, 'connecting to a closed proxy to fail');
    assert.equal(late.error, 'ECONNREFUSED');
  });
});

// -- mesh -------------------------------------------------------------------------------------

/** A node that answers `ping <from> <nonce>\n` with `pong <id> <nonce>\n` and remembers nonces. */
async function startNode(id: number): Promise<{ id: number; port: number; got: Set<string>; close(): Promise<void> }> {
  const got = new Set<string>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [, , nonce] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        got.add(nonce!);
        s.write(`pong ${id} ${nonce}\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, HOST, () => r()));
  return {
    id,
    port: (server.address() as net.AddressInfo).port,
    got,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let nonces = 0;
/** Sends a ping from `from` to `to` through the mesh: was it delivered, did the answer come back? */
async function probe(mesh: ProxyMesh, nodes: Map<number, { got: Set<string> }>, from: number, to: number): Promise<{ delivered: boolean; replied: boolean }> {
  const nonce = `n${++nonces}`;
  const c = connect(mesh.port(from, to));
  c.socket.on('connect', () => c.socket.write(`ping ${from} ${nonce}\n`));
  const end = Date.now() + 300;
  while (Date.now() < end && !c.data.includes(nonce)) await sleep(5);
  const res = { delivered: nodes.get(to)!.got.has(nonce), replied: c.data.includes(`pong ${to} ${nonce}`) };
  c.socket.destroy();
  return res;
}

/** Probes every ordered pair at once and compares with `expect(from, to)` (can send). */
async function assertReach(mesh: ProxyMesh, nodes: Map<number, { got: Set<string> }>, what: string, expect: (from: number, to: number) => boolean): Promise<void> {
  const ids = [...nodes.keys()];
  const pairs = ids.flatMap((a) => ids.filter((b) => b !== a).map((b) => [a, b] as const));
  const results = await Promise.all(pairs.map(([a, b]) => probe(mesh, nodes, a, b)));
  const wrong: string[] = [];
  pairs.forEach(([a, b], k) => {
    const r = results[k]!;
    const want = { delivered: expect(a, b), replied: expect(a, b) && expect(b, a) };
    if (mesh.canSend(a, b) !== want.delivered) wrong.push(`${a}→${b}: mesh.canSend says ${mesh.canSend(a, b)}`);
    if (r.delivered !== want.delivered || r.replied !== want.replied) wrong.push(`${a}→${b}: got ${JSON.stringify(r)}, want ${JSON.stringify(want)}`);
  });
  assert.deepEqual(wrong, [], `${what}\n${mesh.describe()}`);
}

describe('ProxyMesh', () => {
  test('partition, isolate, bridge, one-way cut and heal give exactly the intended reachability', { timeout: 20000 }, async () => {
    const list = await Promise.all([1, 2, 3, 4, 5].map(startNode));
    const nodes = new Map(list.map((n) => [n.id, n]));
    const mesh = await ProxyMesh.start({ nodes: list.map((n) => ({ id: n.id, port: n.port })) });
    cleanups.push(() => mesh.close(), ...list.map((n) => () => n.close()));

    const peers = mesh.peersOf(1);
    assert.deepEqual([...peers.keys()], [2, 3, 4, 5]);
    assert.equal(peers.get(3)!.port, mesh.proxy(1, 3).port);
    assert.equal(mesh.proxy(1, 3).target.port, nodes.get(3)!.port);
    assert.throws(() => mesh.proxy(1, 1), /no proxy 1→1/);
    assert.throws(() => mesh.partition([[1, 2], [2, 3]]), /node 2 is in two groups/);
    assert.throws(() => mesh.isolate(9), /unknown node 9/);

    await assertReach(mesh, nodes, 'fully connected at start', () => true);

    mesh.partition([[1, 2], [3, 4, 5]]);
    const side = (x: number) => (x <= 2 ? 0 : 1);
    await assertReach(mesh, nodes, 'majority/minority', (a, b) => side(a) === side(b));

    mesh.partition([[1, 2]]); // 3, 4, 5 each alone
    await assertReach(mesh, nodes, 'unnamed nodes are alone', (a, b) => a <= 2 && b <= 2);

    mesh.isolate(3);
    await assertReach(mesh, nodes, 'isolate(3)', (a, b) => a !== 3 && b !== 3);

    mesh.bridge(3); // sides [1, 2] and [4, 5]
    await assertReach(mesh, nodes, 'bridge(3)', (a, b) => a === 3 || b === 3 || side(a) === side(b));

    mesh.heal();
    mesh.cut(1, 2);
    mesh.cut(4, 5);
    mesh.cut(5, 4);
    await assertReach(mesh, nodes, 'one-way cut 1→2, two-way 4↔5', (a, b) => !(a === 1 && b === 2) && !(a === 4 && b === 5) && !(a === 5 && b === 4));
    assert.match(mesh.describe(), /^1→ 2:✗ 3:✓ 4:✓ 5:✓$/m);

    mesh.restore(1, 2);
    mesh.heal();
    await assertReach(mesh, nodes, 'healed', () => true);
  });

  test('a long-lived connection is cut by a partition and, after heal, replaced by a fresh one', { timeout: 10000 }, async () => {
    const list = await Promise.all([1, 2, 3].map(startNode));
    const mesh = await ProxyMesh.start({ nodes: list.map((n) => ({ id: n.id, port: n.port })) });
    cleanups.push(() => mesh.close(), ...list.map((n) => () => n.close()));
    const c = await connected(mesh.port(1, 2));
    c.socket.write('ping 1 before\n');
    await until(() => c.data.includes('pong 2 before'), 'pong before the partition');
    mesh.isolate(1);
    c.socket.write('ping 1 during\n');
    await sleep(200);
    assert.ok(!list[1]!.got.has('during') && !c.closed);
    mesh.heal();
    await until(() => c.closed, 'the connection that lost a message to be reset');
    const again = await connected(mesh.port(1, 2));
    again.socket.write('ping 1 after\n');
    await until(() => again.data.includes('pong 2 after'), 'pong after heal');
    assert.ok(mesh.reset() >= 1);
  });
});
