#!/usr/bin/env node
// WAL flush benchmark (not a test). Needs a build: `npx tsc -p .` first.
//   node bench/wal-fsync.mjs [--seconds 3] [--size 1024] [--dir /tmp] [--no-phys]
// For 1 writer (append, await flush, repeat) and 32 concurrent appenders (group commit), with and
// without preallocation, prints flushes/s (= write+fdatasync cycles), records/s and the p50/p99
// latency of flush() as its callers see it; then raw write+fdatasync from
// /work/shared/bench/physlimits.mjs (if present) for comparison.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { WriteAheadLog } = await import(path.join(here, '..', 'dist', 'src', 'storage', 'wal.js'));

const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? args[i + 1] : d;
};
const SECONDS = Number(opt('seconds', 3));
const SIZE = Number(opt('size', 1024));
const BASE = opt('dir', os.tmpdir());
const PHYS = !args.includes('--no-phys');

function pct(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function run(writers, preallocate) {
  const dir = fs.mkdtempSync(path.join(BASE, 'kraal-walbench-'));
  const wal = await WriteAheadLog.open(dir, { preallocate });
  const payload = Buffer.alloc(SIZE, 0x5a);
  let next = 1;
  const lat = [];
  let stop = false;
  // warm-up 200 ms, then measure
  const warmEnd = performance.now() + 200;
  let measuring = false;
  let fs0 = 0;
  let recs = 0;
  const worker = async () => {
    while (!stop) {
      wal.append({ index: next++, term: 1, payload });
      const t = performance.now();
      await wal.flush();
      const now = performance.now();
      if (measuring) {
        lat.push(now - t);
        recs++;
      } else if (now >= warmEnd) {
        measuring = true;
        fs0 = wal.stats().fsyncCount;
      }
    }
  };
  const t0 = performance.now();
  const ws = Array.from({ length: writers }, worker);
  while (!measuring) await new Promise((r) => setTimeout(r, 10));
  const tm = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  stop = true;
  const elapsed = (performance.now() - tm) / 1000;
  await Promise.all(ws);
  const flushes = wal.stats().fsyncCount - fs0;
  await wal.close();
  fs.rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  void t0;
  return {
    writers,
    preallocate,
    flushesPerSec: Math.round(flushes / elapsed),
    recordsPerSec: Math.round(recs / elapsed),
    recordsPerFlush: +(recs / Math.max(1, flushes)).toFixed(1),
    p50: +pct(lat, 0.5).toFixed(3),
    p99: +pct(lat, 0.99).toFixed(3),
    p999: +pct(lat, 0.999).toFixed(3),
  };
}

const rows = [];
for (const preallocate of (opt('modes', 'zeros,sparse,false')).split(',').map((m) => (m === 'false' ? false : m))) for (const writers of [1, 32]) rows.push(await run(writers, preallocate));
console.log(`WAL flush, ${SIZE}-byte records, ${SECONDS} s each, dir ${BASE}`);
for (const r of rows) {
  console.log(
    `  ${String(r.writers).padStart(2)} writer(s), preallocate ${String(r.preallocate).padEnd(6)}: ` +
      `${r.flushesPerSec} flushes/s, ${r.recordsPerSec} records/s (${r.recordsPerFlush}/flush), ` +
      `flush latency p50 ${r.p50} p99 ${r.p99} p99.9 ${r.p999} ms`,
  );
}
const out = { tool: 'wal-fsync', size: SIZE, seconds: SECONDS, rows };

const physScript = '/work/shared/bench/physlimits.mjs';
if (PHYS && fs.existsSync(physScript)) {
  const r = spawnSync(process.execPath, [physScript, '--json', '--n', '2000', '--rtt-n', '100', '--dir', path.join(BASE, 'kraal-phys')], {
    encoding: 'utf8',
  });
  const line = r.stdout.trim().split('\n').pop();
  try {
    const p = JSON.parse(line);
    const f = (s) => `${Math.round(1000 / s.mean)} /s, p50 ${s.p50} p99 ${s.p99} ms`;
    console.log(`raw write 1 KiB + fdatasync (physlimits): growing file ${f(p.fdatasync_1k_append_ms)}; preallocated ${f(p.fdatasync_1k_prealloc_ms)}`);
    out.phys = { append: p.fdatasync_1k_append_ms, prealloc: p.fdatasync_1k_prealloc_ms };
  } catch {
    console.log(`physlimits did not produce JSON: ${r.stderr || line}`);
  }
}
console.log(JSON.stringify(out));
