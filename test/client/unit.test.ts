// Unit tests: connection strings, the ring buffer, TLS (through a TLS-terminating proxy in front of
// Kraal, since Kraal has no secure port yet), errors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { test } from 'node:test';
import { parseConnectString, ZooKeeperClient, ZooKeeperError, isZkError } from '../../src/client/index.js';
import { shuffled } from '../../src/client/connect-string.js';
import { Deque } from '../../src/client/deque.js';
import { startKraalServer } from './support.js';

test('connection strings: hosts, default port, IPv6, chroot', () => {
  assert.deepEqual(parseConnectString('h1:2181,h2:2182/app/x'), { hosts: [{ host: 'h1', port: 2181 }, { host: 'h2', port: 2182 }], chroot: '/app/x' });
  assert.deepEqual(parseConnectString('h1'), { hosts: [{ host: 'h1', port: 2181 }], chroot: '' });
  assert.deepEqual(parseConnectString('[::1]:3000,h/'), { hosts: [{ host: '::1', port: 3000 }, { host: 'h', port: 2181 }], chroot: '' });
  assert.throws(() => parseConnectString('/app'));
  assert.throws(() => parseConnectString('h:0'));
  assert.throws(() => parseConnectString('h:1/app/'));
  const hosts = Array.from({ length: 20 }, (_, i) => i);
  const s = shuffled(hosts);
  assert.deepEqual([...s].sort((a, b) => a - b), hosts);
});

test('deque keeps FIFO order across growth', () => {
  const d = new Deque<number>(2);
  for (let i = 0; i < 100; i++) {
    d.push(i);
    if (i % 3 === 0) assert.equal(d.shift(), i / 3);
  }
  const rest = d.drain();
  assert.equal(rest[0], 34);
  assert.equal(rest.length, 66);
});

test('errors are typed: code, name, op, path', async () => {
  const s = await startKraalServer();
  try {
    const c = await ZooKeeperClient.connect(s.connect);
    const e = await c.getData('/missing').catch((x: unknown) => x);
    assert.ok(e instanceof ZooKeeperError);
    assert.equal(e.code, -101);
    assert.equal(e.codeName, 'NoNode');
    assert.equal(e.op, 'getData');
    assert.equal(e.path, '/missing');
    assert.ok(isZkError(e, 'NoNode') && e.is('NoNode'));
    await c.close();
    const after = await c.exists('/').catch((x: unknown) => x);
    assert.ok(isZkError(after) && after.codeName === 'ClientClosed');
    // connect() to nothing fails with ConnectionLoss within connectTimeout
    const dead = new ZooKeeperClient('127.0.0.1:1', { connectTimeout: 300 });
    const t0 = Date.now();
    const ce = await dead.connect().catch((x: unknown) => x);
    assert.ok(isZkError(ce, 'ConnectionLoss'));
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(dead.state, 'CLOSED');
  } finally {
    await s.stop();
  }
});

test('several hosts: unreachable ones are skipped', async () => {
  const s = await startKraalServer();
  try {
    const c = await ZooKeeperClient.connect(`127.0.0.1:1,127.0.0.1:2,${s.connect}`, { sessionTimeout: 3000 });
    assert.equal(c.connectedServer, s.connect);
    await c.close();
  } finally {
    await s.stop();
  }
});

test('TLS: connects through a TLS endpoint and verifies its certificate', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kraal-client-tls-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const s = await startKraalServer();
  const proxy = tls.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (sock) => {
    const up = net.connect(s.port, '127.0.0.1');
    sock.pipe(up).pipe(sock);
    sock.on('error', () => up.destroy());
    up.on('error', () => sock.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const port = (proxy.address() as net.AddressInfo).port;
  try {
    const c = await ZooKeeperClient.connect(`127.0.0.1:${port}`, { tls: { ca: readFileSync(cert) } });
    await c.create('/tls', 'secure');
    assert.equal((await c.getData('/tls')).data?.toString(), 'secure');
    c.dropConnection();
    assert.equal((await c.getData('/tls')).data?.toString(), 'secure', 'reconnects over TLS');
    await c.close();
    // An untrusted certificate is refused.
    const bad = new ZooKeeperClient(`127.0.0.1:${port}`, { tls: true, connectTimeout: 500 });
    assert.ok(isZkError(await bad.connect().catch((x: unknown) => x), 'ConnectionLoss'));
  } finally {
    proxy.close();
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
