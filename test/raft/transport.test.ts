// Transport: framing, handshake, reconnects, bounded queues, hostile bytes, TLS.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { EntryType, makeMessage, Message, MessageType } from '../../src/raft/messages.js';
import { backoffDelay, decodeMessageFrame, FrameDecoder, Hello, Transport, TRANSPORT_MAGIC, TRANSPORT_VERSION, type TransportOptions } from '../../src/raft/transport.js';
import { Writer } from '../../src/jute/codec.js';
import { HOST, freePort } from './ports.js';



interface Node {
  t: Transport;
  got: Message[];
  warns: string[];
  unreachable: number[];
}

async function startNode(id: number, port: number, peers: [number, number][], extra: Partial<TransportOptions> = {}): Promise<Node> {
  const got: Message[] = [];
  const warns: string[] = [];
  const unreachable: number[] = [];
  const t = await Transport.start({
    id,
    clusterId: 'test-cluster',
    listen: { host: HOST, port },
    peers: peers.map(([pid, pport]) => [pid, { host: HOST, port: pport }]),
    onMessage: (m) => got.push(m),
    onUnreachable: (pid) => unreachable.push(pid),
    backoff: { initialMs: 10, maxMs: 100 },
    logger: { info: () => undefined, warn: (m) => warns.push(m) },
    ...extra,
  });
  return { t, got, warns, unreachable };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const msg = (from: number, to: number, i: number): Message =>
  makeMessage({ type: MessageType.App, from, to, term: 7, index: i, logTerm: 6, commit: i - 1, entries: [{ term: 7, index: i + 1, type: EntryType.Normal, data: Buffer.from(`payload ${i}`) }] });

function frame(body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length, 0);
  return Buffer.concat([h, body]);
}

function helloFrame(from: number, to: number, clusterId = 'test-cluster'): Buffer {
  const w = new Writer();
  Hello.encode(w, { magic: TRANSPORT_MAGIC, version: TRANSPORT_VERSION, clusterId, from, to, error: '' });
  return frame(w.toBuffer());
}

describe('transport', () => {
  test('backoff grows exponentially, is capped, and jittered', () => {
    const b = { initialMs: 10, maxMs: 1000, factor: 2, jitter: 0.5 };
    assert.deepEqual([0, 1, 2, 3, 10].map((a) => backoffDelay(a, b, () => 0)), [10, 20, 40, 80, 1000]);
    assert.equal(backoffDelay(3, b, () => 0.999), 40);
    assert.ok(backoffDelay(50, b, () => 0.5) <= 1000);
  });

  test('frame decoder: split and coalesced chunks, impossible lengths', () => {
    const d = new FrameDecoder(100);
    const all = Buffer.concat([frame(Buffer.from('abc')), frame(Buffer.from('defgh'))]);
    for (const byte of all) d.push(Buffer.from([byte]));
    assert.equal(d.next()!.toString(), 'abc');
    assert.equal(d.next()!.toString(), 'defgh');
    assert.equal(d.next(), undefined);
    d.push(Buffer.from([0, 0, 1, 0]));
    assert.throws(() => d.next(), /frame length 256/);
  });

  test('messages round trip in order, every field intact', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await startNode(1, pa, [[2, pb]]);
    const b = await startNode(2, pb, [[1, pa]]);
    try {
      const special = makeMessage({
        type: MessageType.Snap,
        from: 1,
        to: 2,
        term: 9,
        snapshot: { index: 100, term: 8, confState: { voters: [1, 2, 3], votersOutgoing: [], learners: [4], learnersNext: [], autoLeave: false } },
        offset: 4096,
        data: Buffer.alloc(70_000, 7),
        done: true,
        context: Buffer.from('ctx'),
        reject: true,
        rejectHint: 5,
      });
      for (let i = 1; i <= 500; i++) a.t.send(msg(1, 2, i));
      a.t.send(special);
      await until(() => b.got.length === 501, '501 messages');
      for (let i = 1; i <= 500; i++) assert.deepEqual(b.got[i - 1], msg(1, 2, i));
      assert.deepEqual(b.got[500], special);
      // and the other way
      b.t.send(makeMessage({ type: MessageType.AppResp, from: 2, to: 1, term: 9, index: 501 }));
      await until(() => a.got.length === 1, 'reply');
      assert.equal(a.got[0]!.index, 501);
      assert.equal(a.t.stats().peers[0]!.sent, 501);
      assert.equal(b.t.stats().received, 501);
      assert.deepEqual(b.warns, []);
    } finally {
      await a.t.close();
      await b.t.close();
    }
  });

  test('reconnects with backoff after the peer restarts; unreachable is reported; no stale backlog', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await startNode(1, pa, [[2, pb]]);
    let b = await startNode(2, pb, [[1, pa]]);
    try {
      a.t.send(msg(1, 2, 1));
      await until(() => b.got.length === 1, 'first message');
      await b.t.close();
      await until(() => a.unreachable.includes(2), 'unreachable report');
      // Sent while the peer is down: discarded by the next failed attempt (counted), not replayed later.
      for (let i = 2; i <= 5; i++) a.t.send(msg(1, 2, i));
      await until(() => a.t.stats().peers[0]!.dropped >= 4 && a.t.stats().peers[0]!.failures >= 3, 'failed attempts');
      b = await startNode(2, pb, [[1, pa]]);
      for (let i = 6; i <= 8; i++) a.t.send(msg(1, 2, i));
      await until(() => b.got.length === 3, 'messages after the restart');
      assert.deepEqual(b.got.map((m) => m.index), [6, 7, 8]);
      assert.equal(a.t.stats().peers[0]!.connects, 2);
      assert.equal(a.warns.filter((w) => /unreachable|disconnected/.test(w)).length, 1, 'one log line per outage, not one per attempt');
    } finally {
      await a.t.close();
      await b.t.close();
    }
  });

  test('per-peer queue is bounded: drops counted; oldest dropped by default, newest on request', async () => {
    for (const policy of ['oldest', 'newest'] as const) {
      const [pa, pb] = [await freePort(), await freePort()];
      // A fake peer that holds the handshake until told, then decodes what arrives.
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const got: Message[] = [];
      const fakeSockets = new Set<net.Socket>();
      const fake = net.createServer((s) => {
        fakeSockets.add(s);
        s.on('error', () => undefined);
        const dec = new FrameDecoder(1 << 20);
        let hello = false;
        s.on('data', async (chunk) => {
          dec.push(chunk);
          if (!hello) {
            if (dec.next() === undefined) return;
            hello = true;
            await released;
            s.write(helloFrame(2, 1));
          }
          for (let f = dec.next(); f !== undefined; f = dec.next()) got.push(decodeMessageFrame(f));
        });
      });
      await new Promise<void>((r) => fake.listen(pb, HOST, () => r()));
      const a = await startNode(1, pa, [[2, pb]], { maxQueue: 10, dropPolicy: policy });
      try {
        for (let i = 1; i <= 100; i++) a.t.send(msg(1, 2, i));
        const st = a.t.stats().peers[0]!;
        assert.equal(st.queued, 10);
        assert.equal(st.dropped, 90);
        release();
        await until(() => got.length === 10, '10 survivors');
        const idx = got.map((m) => m.index);
        assert.deepEqual(idx, policy === 'oldest' ? [91, 92, 93, 94, 95, 96, 97, 98, 99, 100] : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      } finally {
        await a.t.close();
        // server.close() waits for every accepted socket; don't let a half-closed one hang the test
        const closed = new Promise<void>((r) => fake.close(() => r()));
        for (const s of fakeSockets) s.destroy();
        await closed;
      }
    }
  });

  test('garbage bytes, oversized frames and lying senders close that connection only', async () => {
    const [pa, pb, pc] = [await freePort(), await freePort(), await freePort()];
    const a = await startNode(1, pa, [[2, pb]]);
    const b = await startNode(2, pb, [[1, pa], [3, pc]], { maxFrameBytes: 1 << 20 });
    try {
      a.t.send(msg(1, 2, 1));
      await until(() => b.got.length === 1, 'first');
      const attack = async (bytes: Buffer[]): Promise<void> => {
        const s = net.connect(pb, HOST);
        s.on('error', () => undefined);
        s.on('data', () => undefined);
        await new Promise<void>((r) => s.once('connect', () => r()));
        for (const x of bytes) s.write(x);
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('the transport did not close a hostile connection within 5 s')), 5000);
          s.once('close', () => {
            clearTimeout(t);
            resolve();
          });
        });
      };
      const bad0 = b.t.stats().badFrames;
      await attack([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]); // garbage handshake
      await attack([Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3])]); // impossible length
      await attack([helloFrame(3, 2), frame(Buffer.from('not a message at all'))]); // bad record after a good handshake
      await attack([helloFrame(3, 2), Buffer.from([0x7f, 0, 0, 0])]); // oversized frame
      const w = new Writer();
      Message.encode(w, msg(1, 2, 99)); // claims to be node 1 on node 3's connection
      await attack([helloFrame(3, 2), frame(w.toBuffer())]);
      const w2 = new Writer();
      Message.encode(w2, makeMessage({ type: MessageType.Hup, from: 3, to: 2 })); // local type
      await attack([helloFrame(3, 2), frame(w2.toBuffer())]);
      assert.equal(b.t.stats().badFrames - bad0, 6);
      assert.equal(b.warns.filter((x) => /closing connection/.test(x)).length, 6, b.warns.join('\n'));
      // the real peer is unaffected
      a.t.send(msg(1, 2, 2));
      await until(() => b.got.length === 2, 'second');
      assert.deepEqual(b.got.map((m) => m.index), [1, 2]);
      assert.equal(a.t.stats().peers[0]!.connects, 1);
    } finally {
      await a.t.close();
      await b.t.close();
    }
  });

  test('handshake: wrong cluster id or wrong node is refused and logged on both sides', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const b = await startNode(2, pb, [[1, pa]]);
    const other = await startNode(1, pa, [[2, pb]], { clusterId: 'other-cluster' });
    const wrongTarget = await startNode(3, await freePort(), [[5, pb]]); // thinks node 5 lives at b's address
    try {
      other.t.send(msg(1, 2, 1));
      wrongTarget.t.send(msg(3, 5, 1));
      await until(() => other.warns.some((w) => /refused/.test(w)) && wrongTarget.warns.some((w) => /refused/.test(w)), 'refusals');
      assert.ok(b.warns.some((w) => /cluster id "other-cluster"/.test(w)), b.warns.join('\n'));
      assert.ok(b.warns.some((w) => /wants node 5/.test(w)), b.warns.join('\n'));
      assert.equal(b.got.length, 0);
    } finally {
      await other.t.close();
      await wrongTarget.t.close();
      await b.t.close();
    }
  });

  const openssl = spawnSync('openssl', ['version']).status === 0;
  test('TLS: mutual authentication with a self-signed certificate', { skip: openssl ? false : 'openssl not found: cannot generate a test certificate' }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kraal-tls-'));
    try {
      const key = path.join(dir, 'key.pem');
      const cert = path.join(dir, 'cert.pem');
      const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=kraal-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const tlsOpts = { key: fs.readFileSync(key), cert: fs.readFileSync(cert), ca: fs.readFileSync(cert) };
      const [pa, pb] = [await freePort(), await freePort()];
      const a = await startNode(1, pa, [[2, pb]], { tls: tlsOpts });
      const b = await startNode(2, pb, [[1, pa]], { tls: tlsOpts });
      // a plain TCP peer cannot talk to a TLS listener
      const plain = await startNode(3, await freePort(), [[2, pb]]);
      try {
        for (let i = 1; i <= 50; i++) a.t.send(msg(1, 2, i));
        await until(() => b.got.length === 50, 'TLS messages');
        assert.deepEqual(b.got[49], msg(1, 2, 50));
        plain.t.send(msg(3, 2, 1));
        await until(() => plain.t.stats().peers[0]!.failures >= 1, 'plain connection failure');
        assert.equal(b.got.length, 50);
      } finally {
        await a.t.close();
        await b.t.close();
        await plain.t.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

