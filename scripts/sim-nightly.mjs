#!/usr/bin/env node
// Long simulator run (nightly): millions of seeds on every core, in chunks, printing progress.
//   npx tsc -p . && node scripts/sim-nightly.mjs [--seeds 1000000] [--from 1] [--bug NAME] [--threads N]
// Any failing seed is printed with its replay command; exit code 1 if any failed.
import { runParallel } from '../dist/test/raft/sim/runner.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const total = Number(arg('seeds', 1_000_000));
const first = Number(arg('from', Math.floor(Date.now() / 1000) % 1_000_000_000));
const bug = arg('bug', undefined);
const threads = arg('threads', undefined);
const chunk = 20_000;
let runs = 0;
let failures = [];
const t0 = Date.now();
for (let from = first; from < first + total; from += chunk) {
  const r = await runParallel({ from, count: Math.min(chunk, first + total - from), bug }, ...(threads ? [Number(threads)] : []));
  runs += r.runs;
  failures.push(...r.failures);
  const secs = (Date.now() - t0) / 1000;
  console.log(`${runs}/${total} seeds from ${first}, ${failures.length} failed, ${(runs / secs).toFixed(0)} seeds/s`);
  for (const f of r.failures) console.log(f.message.split('\n').slice(0, 2).join('\n'));
}
process.exit(failures.length > 0 ? 1 : 0);
