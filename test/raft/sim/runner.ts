// Runs ranges of simulator seeds, on worker threads so CI uses every core. Used by
// test/raft/sim.test.ts (fixed CI budget) and scripts/sim-nightly.mjs (millions of seeds).

import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { type Profile, SimFailure, simulate } from './cluster.js';
import { PLANTED_BUGS } from './planted-bugs.js';

export interface RangeJob {
  from: number;
  count: number;
  bug?: string;
  profile?: Partial<Profile>;
  nodes?: number;
  /** Stop at the first failure. */
  stopOnFailure?: boolean;
}

export interface RangeResult {
  runs: number;
  failures: { seed: number; message: string }[];
  events: number;
  bySize: Record<string, number>;
  ms: number;
}

export function runRange(job: RangeJob): RangeResult {
  const t0 = performance.now();
  const res: RangeResult = { runs: 0, failures: [], events: 0, bySize: {}, ms: 0 };
  const factory = job.bug === undefined ? undefined : PLANTED_BUGS[job.bug];
  if (job.bug !== undefined && factory === undefined) throw new Error(`unknown planted bug ${job.bug}`);
  for (let seed = job.from; seed < job.from + job.count; seed++) {
    res.runs++;
    try {
      const st = simulate({ seed, raftFactory: factory, profile: job.profile, nodes: job.nodes });
      res.events += st.events;
      res.bySize[st.nodes] = (res.bySize[st.nodes] ?? 0) + 1;
    } catch (e) {
      const message = e instanceof SimFailure ? e.message : `seed ${seed}: ${(e as Error).stack}`;
      res.failures.push({ seed, message });
      if (job.stopOnFailure) break;
    }
  }
  res.ms = performance.now() - t0;
  return res;
}

/** Splits [from, from+count) over `threads` workers and merges the results. */
export async function runParallel(job: RangeJob, threads = Math.max(1, availableParallelism())): Promise<RangeResult> {
  const per = Math.ceil(job.count / threads);
  const file = fileURLToPath(import.meta.url);
  const parts: Promise<RangeResult>[] = [];
  for (let k = 0; k < threads; k++) {
    const from = job.from + k * per;
    const count = Math.min(per, job.from + job.count - from);
    if (count <= 0) break;
    parts.push(
      new Promise((resolve, reject) => {
        const w = new Worker(file, { workerData: { ...job, from, count } });
        w.once('message', resolve);
        w.once('error', reject);
      }),
    );
  }
  const all = await Promise.all(parts);
  const out: RangeResult = { runs: 0, failures: [], events: 0, bySize: {}, ms: 0 };
  for (const r of all) {
    out.runs += r.runs;
    out.failures.push(...r.failures);
    out.events += r.events;
    out.ms = Math.max(out.ms, r.ms);
    for (const [k, v] of Object.entries(r.bySize)) out.bySize[k] = (out.bySize[k] ?? 0) + v;
  }
  out.failures.sort((a, b) => a.seed - b.seed);
  return out;
}

if (!isMainThread && parentPort !== null) {
  parentPort.postMessage(runRange(workerData as RangeJob));
}
