#!/usr/bin/env node
// Raft cluster benchmark (not a test). Needs a build: `npx tsc -p .` first.
//   node bench/raft-cluster.mjs [--seconds 5] [--sizes 100,1024] [--concurrency 1,16,64,256] [--dir /tmp] [--json]
//
// Three RaftNodes in this process, talking over loopback TCP, each with its own data directory
// and real durability (WAL writes through O_DSYNC + hard state fsync). N concurrent proposers each loop
// "propose(payload) → await applied on the leader"; the node batches every proposal queued during
// one persist cycle into one append and one fsync, so N exercises batching. Reported per
// (entry size, N): committed entries/s and commit latency p50/p99 (propose() → applied on the
// leader: leader fsync ∥ replication + follower fsync + ack + leader apply), entries per fsync.
// The state machine is a counter and compaction runs every 20000 entries, so memory stays flat.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { RaftNode } = await import(path.join(here, '..', 'dist', 'src', 'raft', 'node.js'));

const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? args[i + 1] : d;
};
const SECONDS = Number(opt('seconds', 5));
const SIZES = String(opt('sizes', '100,1024')).split(',').map(Number);
const CONC = String(opt('concurrency', '1,16,64,256')).split(',').map(Number);
const BASE = opt('dir', os.tmpdir());
const JSON_OUT = args.includes('--json');
const HOST = '127.0.0.1';

async function freePort() {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = 24000 + Math.floor(Math.random() * 1000);
    const ok = await new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, HOST, () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free port');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);

async function cluster(dir) {
  const ports = new Map();
  for (const id of [1, 2, 3]) ports.set(id, await freePort());
  const nodes = [];
  for (const id of [1, 2, 3]) {
    let applied = 0;
    nodes.push(
      await RaftNode.start({
        id,
        clusterId: 'bench',
        peers: [...ports].map(([pid, port]) => [pid, { host: HOST, port }]),
        dir: path.join(dir, `n${id}`),
        tickMs: 50,
        electionTick: 20,
        heartbeatTick: 2,
        onApply: (ents) => {
          applied += ents.length;
        },
        onRestore: (data) => {
          applied = Number(data.toString());
        },
        takeSnapshot: () => Buffer.from(String(applied)),
        snapshotEntries: 20000,
        snapshotKeep: 1000,
        proposalTimeoutMs: 30000,
        logger: { info: () => undefined, warn: (m) => process.stderr.write(`node ${id}: ${m}\n`) },
      }),
    );
  }
  nodes[0].campaign();
  const end = Date.now() + 10000;
  for (;;) {
    const l = nodes.filter((n) => n.isLeader);
    if (l.length === 1 && nodes.every((n) => n.leader === l[0].id)) return { nodes, leader: l[0] };
    if (Date.now() > end) throw new Error('no leader');
    await sleep(10);
  }
}

async function run(size, conc) {
  const dir = fs.mkdtempSync(path.join(BASE, 'kraal-raftbench-'));
  const { nodes, leader } = await cluster(dir);
  const payload = Buffer.alloc(size, 0x61);
  const lat = [];
  let count = 0;
  let errors = 0;
  let measuring = false;
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const t0 = performance.now();
      try {
        await leader.propose(payload);
      } catch {
        errors++;
        await sleep(5);
        continue;
      }
      if (measuring) {
        lat.push(performance.now() - t0);
        count++;
      }
    }
  };
  const workers = Array.from({ length: conc }, worker);
  await sleep(500); // warm-up
  const s0 = leader.stats();
  measuring = true;
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  measuring = false;
  const secs = (performance.now() - t0) / 1000;
  const s1 = leader.stats();
  stop = true;
  await Promise.all(workers);
  for (const n of nodes) await n.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  const flushes = s1.storage.flushes - s0.storage.flushes;
  return {
    size,
    conc,
    perSec: count / secs,
    p50: pct(lat, 0.5),
    p99: pct(lat, 0.99),
    perFsync: flushes > 0 ? (s1.proposals - s0.proposals) / flushes : NaN,
    errors,
  };
}

const rows = [];
for (const size of SIZES) {
  for (const conc of CONC) {
    const r = await run(size, conc);
    rows.push(r);
    process.stderr.write(`size ${size} B, ${conc} proposers: ${r.perSec.toFixed(0)} entries/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms\n`);
  }
}
if (JSON_OUT) {
  console.log(JSON.stringify({ seconds: SECONDS, node: process.version, cpus: os.cpus().length, rows }));
} else {
  console.log(`3-node in-process Raft cluster, loopback TCP, durable log writes (O_DSYNC) on every node; ${SECONDS} s per row, node ${process.version}, ${os.cpus().length} CPUs\n`);
  console.log('| entry | proposers | committed entries/s | commit p50 (ms) | commit p99 (ms) | entries per leader fsync |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const sz = r.size >= 1024 ? `${r.size / 1024} KiB` : `${r.size} B`;
    console.log(`| ${sz} | ${r.conc} | ${Math.round(r.perSec).toLocaleString('en-US')} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.perFsync.toFixed(1)} |`);
  }
}
process.exit(0);
