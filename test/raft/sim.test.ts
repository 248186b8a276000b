// The simulator in CI: a fixed budget of seeds (SIM_SEEDS, default 10000) over 3/5/7-node
// clusters and seed-chosen fault mixes, on all cores. Any failure prints its seed; replay one
// with SIM_SEED=<seed> (runs that seed alone, with a trace of the last events on failure).
// Planted-bug canaries prove the checks bite: a broken core must be caught within the budget.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { simulate } from './sim/cluster.js';
import { runParallel } from './sim/runner.js';

const SEEDS = Number(process.env.SIM_SEEDS ?? 10000);
const FIRST = Number(process.env.SIM_FIRST_SEED ?? 1);
const ONE = process.env.SIM_SEED;

if (ONE !== undefined) {
  test(`replay seed ${ONE}`, () => {
    const st = simulate({ seed: Number(ONE), trace: true });
    console.log(st);
  });
} else {
  test(`simulator: ${SEEDS} seeds from ${FIRST}, safety after every step and liveness after faults stop`, { timeout: 15 * 60_000 }, async () => {
    const r = await runParallel({ from: FIRST, count: SEEDS });
    const secs = r.ms / 1000;
    console.log(`# sim: ${r.runs} runs (${JSON.stringify(r.bySize)} by size), ${r.events} events, ${secs.toFixed(1)} s wall, ${(r.runs / secs).toFixed(0)} seeds/s`);
    assert.equal(r.failures.length, 0, r.failures.slice(0, 3).map((f) => f.message).join('\n\n'));
    assert.equal(r.runs, SEEDS);
    for (const size of ['3', '5', '7']) assert.ok((r.bySize[size] ?? 0) > 0, `no ${size}-node runs`);
  });

  test('planted bug: granting votes without the election restriction is caught', { timeout: 5 * 60_000 }, async () => {
    const budget = Math.min(SEEDS, 2000);
    const r = await runParallel({ from: FIRST, count: budget, bug: 'vote-without-log-check', stopOnFailure: true });
    console.log(`# planted vote-without-log-check: first caught at seed ${r.failures[0]?.seed} (${r.failures.length} of ${r.runs} runs checked)`);
    assert.ok(r.failures.length > 0, `not caught in ${budget} seeds`);
    assert.match(r.failures[0]!.message, /leader completeness|state machine safety|log matching|election safety/);
  });

  test('planted bug: committing a previous-term entry by counting (Figure 8) is caught', { timeout: 5 * 60_000 }, async () => {
    const budget = Number(process.env.SIM_FIG8_SEEDS ?? Math.min(SEEDS, 4000));
    // The nemesis most likely to produce Figure 8: 3 nodes, one entry per append, heavy loss,
    // frequent leader crashes and leader isolation.
    const profile = { maxSizePerMsg: 1, crashEvery: 10, partitionEvery: 10, loss: 0.2 };
    const r = await runParallel({ from: FIRST, count: budget, bug: 'commit-previous-term-by-counting', profile, nodes: 3, stopOnFailure: true });
    console.log(`# planted commit-previous-term-by-counting: ${r.failures.length ? `caught at seed ${r.failures[0]!.seed}` : 'NOT caught'} in ${budget} seeds`);
    assert.ok(r.failures.length > 0, `not caught in ${budget} seeds`);
  });
}
