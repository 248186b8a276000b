#!/usr/bin/env node
// Client benchmark: the same load from Kraal's client (dist/src/client) and from node-zookeeper-client
// against the same server, in one run. Each round runs both clients one after the other (alternating
// which goes first) so drift affects both equally.
//
//   node bench/client-bench.mjs [--connect host:port] [--duration 5] [--rounds 3] [--sessions 4]
//                               [--concurrency 64] [--ops get,set,create-delete,exists] [--size 100] [--json]
//
// Without --connect a Kraal server is started as a separate process (bin/kraal.js, forceSync=no, so the
// numbers measure the clients and the server's CPU path rather than the disk). Load per op: `sessions`
// client sessions, `concurrency` requests in flight per session (closed loop: each worker awaits its
// reply and issues the next). Reports ops/s and p50/p99 latency per client and op, and the ratio.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const require = createRequire(import.meta.url);
const nzc = require('node-zookeeper-client');
const { ZooKeeperClient } = await import(path.join(REPO, 'dist/src/client/index.js'));

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, arr) => {
  if (a.startsWith('--')) acc.push([a.slice(2), arr[i + 1] && !arr[i + 1].startsWith('--') ? arr[i + 1] : 'true']);
  return acc;
}, []));
const DURATION = Number(args.duration ?? 5) * 1000;
const ROUNDS = Number(args.rounds ?? 3);
const SESSIONS = Number(args.sessions ?? 4);
const CONC = Number(args.concurrency ?? 64);
const OPS = (args.ops ?? 'get,set,create-delete,exists').split(',');
const SIZE = Number(args.size ?? 100);
const PAYLOAD = Buffer.alloc(SIZE, 120);

async function freePort() {
  return new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}

async function startKraal() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kraal-clientbench-'));
  const port = await freePort();
  writeFileSync(path.join(dir, 'zoo.cfg'), [
    `dataDir=${dir}/data`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1', 'tickTime=2000', 'maxClientCnxns=0',
    'forceSync=no', 'admin.enableServer=false', '4lw.commands.whitelist=*', 'autopurge.purgeInterval=0', '',
  ].join('\n'));
  const child = spawn(process.execPath, [path.join(REPO, 'bin/kraal.js'), 'server', path.join(dir, 'zoo.cfg')], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => { const s = net.connect(port, '127.0.0.1'); s.on('connect', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { connect: `127.0.0.1:${port}`, stop: async () => { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); rmSync(dir, { recursive: true, force: true }); } };
}

// ------------------------------------------------------------------ drivers (promise-shaped)

const kraalDriver = {
  name: 'kraal-client',
  async open(connect) {
    const c = await ZooKeeperClient.connect(connect, { sessionTimeout: 30000 });
    return {
      get: (p) => c.getData(p),
      set: (p, d) => c.setData(p, d),
      exists: (p) => c.exists(p),
      create: (p, d) => c.create(p, d),
      del: (p) => c.delete(p),
      close: () => c.close(),
    };
  },
};

const nzcDriver = {
  name: 'node-zookeeper-client',
  async open(connect) {
    const c = nzc.createClient(connect, { sessionTimeout: 30000, retries: 0 });
    await new Promise((resolve, reject) => { c.once('connected', resolve); c.once('disconnected', () => reject(new Error('nzc disconnected'))); c.connect(); });
    const cb = (resolve, reject) => (err, res) => (err ? reject(err) : resolve(res));
    return {
      get: (p) => new Promise((res, rej) => c.getData(p, cb(res, rej))),
      set: (p, d) => new Promise((res, rej) => c.setData(p, d, -1, cb(res, rej))),
      exists: (p) => new Promise((res, rej) => c.exists(p, cb(res, rej))),
      create: (p, d) => new Promise((res, rej) => c.create(p, d, cb(res, rej))),
      del: (p) => new Promise((res, rej) => c.remove(p, -1, cb(res, rej))),
      close: () => new Promise((res) => { c.once('disconnected', res); c.close(); }),
    };
  },
};

// ------------------------------------------------------------------ load

function pct(sorted, q) { return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]; }

async function runOne(driver, connect, op, round) {
  const sessions = [];
  for (let i = 0; i < SESSIONS; i++) sessions.push(await driver.open(connect));
  const base = `/cb-${driver.name.replace(/[^a-z]/g, '')}-${round}-${op}`;
  await sessions[0].create(base, PAYLOAD);
  const keys = [];
  for (let i = 0; i < 64; i++) { keys.push(`${base}/k${i}`); await sessions[0].create(`${base}/k${i}`, PAYLOAD); }
  let stop = false;
  let n = 0;
  const lat = [];
  let seq = 0;
  const worker = async (s, w) => {
    let i = w;
    while (!stop) {
      const t0 = performance.now();
      const k = keys[i++ & 63];
      switch (op) {
        case 'get': await s.get(k); break;
        case 'set': await s.set(k, PAYLOAD); break;
        case 'exists': await s.exists(k); break;
        case 'create-delete': { const p = `${base}/n${seq++}`; await s.create(p, PAYLOAD); await s.del(p); break; }
        default: throw new Error(`unknown op ${op}`);
      }
      n++;
      if ((n & 15) === 0) lat.push(performance.now() - t0);
    }
  };
  const workers = [];
  // Warm-up 1/5 of the duration, then measure.
  const warm = Math.max(300, DURATION / 5);
  for (const s of sessions) for (let w = 0; w < CONC; w++) workers.push(worker(s, w));
  await new Promise((r) => setTimeout(r, warm));
  n = 0; lat.length = 0;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, DURATION));
  const measured = n;
  const secs = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(workers);
  lat.sort((a, b) => a - b);
  for (const k of keys) await sessions[0].del(k);
  await sessions[0].del(base);
  for (const s of sessions) await s.close();
  return { client: driver.name, op, round, opsPerSec: Math.round(measured / secs), p50ms: +pct(lat, 0.5).toFixed(3), p99ms: +pct(lat, 0.99).toFixed(3) };
}

const server = args.connect ? { connect: args.connect, stop: async () => {} } : await startKraal();
const results = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const op of OPS) {
      const order = round % 2 === 0 ? [nzcDriver, kraalDriver] : [kraalDriver, nzcDriver];
      for (const d of order) {
        const r = await runOne(d, server.connect, op, round);
        results.push(r);
        if (args.json) console.log(JSON.stringify(r));
        else console.error(`round ${round} ${op.padEnd(14)} ${d.name.padEnd(22)} ${String(r.opsPerSec).padStart(8)} ops/s  p50 ${r.p50ms} ms  p99 ${r.p99ms} ms`);
      }
    }
  }
} finally {
  await server.stop();
}
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
console.log(`\nserver ${args.connect ?? 'kraal (separate process, forceSync=no)'}; ${SESSIONS} sessions x ${CONC} in flight, ${DURATION / 1000}s x ${ROUNDS} rounds, ${SIZE}-byte values`);
console.log('| op | kraal-client ops/s | node-zookeeper-client ops/s | ratio | kraal p50/p99 ms | nzc p50/p99 ms |');
console.log('|---|---:|---:|---:|---|---|');
for (const op of OPS) {
  const k = results.filter((r) => r.op === op && r.client === 'kraal-client');
  const z = results.filter((r) => r.op === op && r.client === 'node-zookeeper-client');
  const ko = med(k.map((r) => r.opsPerSec)); const zo = med(z.map((r) => r.opsPerSec));
  console.log(`| ${op} | ${ko} | ${zo} | ${(ko / zo).toFixed(2)} | ${med(k.map((r) => r.p50ms))}/${med(k.map((r) => r.p99ms))} | ${med(z.map((r) => r.p50ms))}/${med(z.map((r) => r.p99ms))} |`);
}
