#!/usr/bin/env node
// Snapshot memory / latency / load-time check at scale (streaming snapshots).
//
//   npx tsc -p . && node bench/snapshot-mem.mjs [znodes=1000000] [dataBytes=100] [--old]
//
// Runs two child processes (so RSS numbers are not polluted by each other):
//   1. write: builds the tree through ZkDatabase.apply (1000 parents × N/1000 children),
//      reports RSS, then writes a streaming snapshot with SnapshotStore.writeStream while a
//      writer keeps applying setData/create commands on every event-loop turn; reports the
//      snapshot time, the event-loop delay (monitorEventLoopDelay: max and p99), RSS during
//      (peak) and after, and how many commands were applied meanwhile. --old also times the
//      former synchronous path (serialize() into memory, then write) afterwards.
//   2. load: a restart-style SnapshotStore.loadLatest into ZkDatabase.loader; reports the
//      load time and RSS after.
// The machine may be shared: run it a few times and report ranges.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist', 'src');
const mb = (n) => `${(n / 1048576).toFixed(0)} MiB`;
const rss = () => {
  globalThis.gc?.();
  return process.memoryUsage().rss;
};

async function imports() {
  const { Op } = await import(path.join(dist, 'jute/constants.js'));
  const { CreateRequest, SetDataRequest } = await import(path.join(dist, 'jute/records.js'));
  const { Writer } = await import(path.join(dist, 'jute/codec.js'));
  const { encodeToBuffer } = await import(path.join(dist, 'jute/schema.js'));
  const { OPEN_ACL_UNSAFE } = await import(path.join(dist, 'zk/acl.js'));
  const { CreateSessionBody } = await import(path.join(dist, 'zk/command.js'));
  const { ZkDatabase } = await import(path.join(dist, 'zk/database.js'));
  const { SnapshotStore } = await import(path.join(dist, 'storage/snapshots.js'));
  return { Op, CreateRequest, SetDataRequest, Writer, encodeToBuffer, OPEN_ACL_UNSAFE, CreateSessionBody, ZkDatabase, SnapshotStore };
}

async function writePhase(total, dataBytes, dir, old) {
  const m = await imports();
  const SID = 0x100;
  const ids = [{ scheme: 'ip', id: '127.0.0.1' }];
  const acl = [...m.OPEN_ACL_UNSAFE];
  const w = new m.Writer(4096);
  let zxid = 0;
  const cmd = (op, body) => ({ zxid: ++zxid, time: 1_700_000_000_000 + zxid, sessionId: SID, cxid: 1, op, identities: ids, body });
  const data = Buffer.alloc(dataBytes, 7);
  const create = (p) => cmd(m.Op.create, m.encodeToBuffer(m.CreateRequest, { path: p, data, acl, flags: 0 }, w));
  const setData = (p) => cmd(m.Op.setData, m.encodeToBuffer(m.SetDataRequest, { path: p, data, version: -1 }, w));
  const out = {};
  out.rssBaseline = rss();
  const db = new m.ZkDatabase();
  db.apply(cmd(m.Op.createSession, m.encodeToBuffer(m.CreateSessionBody, { timeOut: 30000, passwd: Buffer.alloc(16) })));
  db.apply(create('/bench'));
  const parents = Math.max(1, Math.ceil(total / 1000));
  for (let p = 0; p < parents; p++) db.apply(create(`/bench/p${p}`));
  const name = (i) => `/bench/p${i % parents}/n${String(i).padStart(10, '0')}`;
  let t = performance.now();
  for (let i = 0; i < total; i++) if (db.apply(create(name(i))).err !== 0) throw new Error('create failed');
  out.buildMs = performance.now() - t;
  out.rssBuilt = rss();

  // --- streaming snapshot while commands keep coming
  const store = new m.SnapshotStore(dir, { fsync: true });
  const h = monitorEventLoopDelay({ resolution: 1 });
  let peak = 0;
  let applied = 0;
  let created = 0;
  let writing = true;
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const writer = () => {
    if (!writing) return;
    for (let k = 0; k < 20; k++) {
      db.apply(setData(name(Math.floor(rnd() * total))));
      applied++;
    }
    db.apply(create(`/bench/p${created % parents}/late${created++}`));
    applied++;
    setImmediate(writer);
  };
  // baseline: the same writer for a while without a snapshot
  const h0 = monitorEventLoopDelay({ resolution: 1 });
  h0.enable();
  setImmediate(writer);
  await new Promise((res) => setTimeout(res, 1500));
  writing = false;
  h0.disable();
  await new Promise((res) => setTimeout(res, 20));
  out.baseLoopDelayMaxMs = h0.max / 1e6;
  out.baseLoopDelayP99Ms = h0.percentile(99) / 1e6;
  out.baseApplied = applied;
  out.rssAfterBaseline = rss();
  applied = 0;
  writing = true;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  h.enable();
  t = performance.now();
  const cursor = db.beginSnapshot();
  out.beginMs = performance.now() - t;
  setImmediate(writer);
  const nextMs = [];
  const r = await store.writeStream(cursor.zxid, 1, () => {
    const a = performance.now();
    const b = cursor.next();
    nextMs.push(performance.now() - a);
    return b;
  });
  out.snapshotMs = performance.now() - t;
  nextMs.sort((x, y) => x - y);
  out.maxNextMs = nextMs.at(-1);
  out.p50NextMs = nextMs[Math.floor(nextMs.length * 0.5)];
  out.p99NextMs = nextMs[Math.floor(nextMs.length * 0.99)];
  out.slices = nextMs.length;
  writing = false;
  h.disable();
  clearInterval(sampler);
  out.snapshotBytes = r.bytes;
  out.preimages = cursor.preimages;
  out.appliedDuring = applied;
  out.loopDelayMaxMs = h.max / 1e6;
  out.loopDelayP99Ms = h.percentile(99) / 1e6;
  out.loopDelayMeanMs = h.mean / 1e6;
  out.rssPeakDuring = peak;
  await new Promise((res) => setTimeout(res, 50));
  out.rssAfter = rss();
  out.nodeCount = db.nodeCount();
  out.zxid = cursor.zxid;

  if (old) {
    const h2 = monitorEventLoopDelay({ resolution: 1 });
    h2.enable();
    t = performance.now();
    const chunks = db.serialize();
    out.oldSerializeMs = performance.now() - t;
    await store.write(cursor.zxid + 1, 1, chunks);
    out.oldTotalMs = performance.now() - t;
    h2.disable();
    out.oldLoopDelayMaxMs = h2.max / 1e6;
    out.oldRssAfter = rss();
  }
  return out;
}

async function loadPhase(dir, old) {
  const m = await imports();
  const out = { rssBaseline: rss() };
  const store = new m.SnapshotStore(dir, { fsync: true });
  const all = await store.list();
  if (old && all.length > 1) fs.unlinkSync(all.at(-1).file); // load the streamed one, not the --old copy
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t = performance.now();
  const snap = await store.loadLatest((meta) => m.ZkDatabase.loader({}, { totalBytes: meta.bodyBytes }));
  out.loadMs = performance.now() - t;
  clearInterval(sampler);
  out.rssPeakDuring = peak;
  out.rssAfter = rss();
  out.nodeCount = snap.value.nodeCount();
  out.zxid = snap.index;
  return out;
}

const [, , a1, a2, a3] = process.argv;
if (a1 === '--child-write') {
  const [total, dataBytes, dir, old] = JSON.parse(a2);
  console.log(JSON.stringify(await writePhase(total, dataBytes, dir, old)));
} else if (a1 === '--child-load') {
  const [dir, old] = JSON.parse(a2);
  console.log(JSON.stringify(await loadPhase(dir, old)));
} else {
  const args = process.argv.slice(2);
  const old = args.includes('--old');
  const nums = args.filter((x) => !x.startsWith('--'));
  const total = Number(nums[0] ?? 1_000_000);
  const dataBytes = Number(nums[1] ?? 100);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kraal-snapmem-'));
  const self = fileURLToPath(import.meta.url);
  const run = (mode, payload) => {
    const r = spawnSync(process.execPath, ['--expose-gc', self, mode, JSON.stringify(payload)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`${mode} failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1));
  };
  try {
    const w = run('--child-write', [total, dataBytes, dir, old]);
    const l = run('--child-load', [dir, old]);
    console.log(`znodes ${total} × ${dataBytes} B (nodeCount ${w.nodeCount})`);
    console.log(
      `  build: ${(w.buildMs / 1000).toFixed(1)} s; RSS baseline ${mb(w.rssBaseline)}, after build ${mb(w.rssBuilt)}, ` +
        `after ${w.baseApplied} more writes without snapshot ${mb(w.rssAfterBaseline)}`,
    );
    console.log(
      `  streaming snapshot: ${mb(w.snapshotBytes)} in ${(w.snapshotMs / 1000).toFixed(2)} s (begin ${w.beginMs.toFixed(1)} ms), ` +
        `${w.appliedDuring} commands applied meanwhile, ${w.preimages} pre-images`,
    );
    console.log(
      `    event-loop delay: max ${w.loopDelayMaxMs.toFixed(1)} ms, p99 ${w.loopDelayP99Ms.toFixed(1)} ms, mean ${w.loopDelayMeanMs.toFixed(2)} ms ` +
        `(same writer, no snapshot: max ${w.baseLoopDelayMaxMs.toFixed(1)} ms, p99 ${w.baseLoopDelayP99Ms.toFixed(1)} ms); ` +
        `cursor.next() per slice: p50 ${w.p50NextMs.toFixed(2)} ms, p99 ${w.p99NextMs.toFixed(2)} ms, max ${w.maxNextMs.toFixed(2)} ms over ${w.slices} slices`,
    );
    console.log(`    RSS peak during ${mb(w.rssPeakDuring)}, after ${mb(w.rssAfter)}`);
    if (old) {
      console.log(
        `  old path (serialize() whole, then write): serialize ${w.oldSerializeMs.toFixed(0)} ms (event loop blocked), total ${w.oldTotalMs.toFixed(0)} ms, ` +
          `loop delay max ${w.oldLoopDelayMaxMs.toFixed(0)} ms, RSS after ${mb(w.oldRssAfter)}`,
      );
    }
    console.log(`  restart-style streaming load: ${(l.loadMs / 1000).toFixed(2)} s, RSS peak ${mb(l.rssPeakDuring)}, after ${mb(l.rssAfter)} (baseline ${mb(l.rssBaseline)})`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
