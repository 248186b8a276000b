#!/usr/bin/env node
// Runs the test suites with node's built-in runner in ONE invocation (one summary).
//   node scripts/run-tests.mjs              unit + integration + crash + raft + client + shell + compat + faults
//   node scripts/run-tests.mjs unit crash   only those suites
// Compiled tests live in dist/test/<suite>/ (npm test compiles first); plain .mjs tests in test/<suite>/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const suites = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'integration', 'crash', 'raft', 'client', 'shell', 'compat', 'faults'];

function collect(dir, suffixes, out) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) collect(p, suffixes, out);
    else if (suffixes.some((s) => name.endsWith(s))) out.push(p);
  }
}

const files = [];
for (const s of suites) {
  collect(path.join(root, 'dist', 'test', s), ['.test.js'], files);
  collect(path.join(root, 'test', s), ['.test.mjs'], files);
}
if (files.length === 0) {
  console.error(`no test files found for suites: ${suites.join(', ')} (did tsc run?)`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, `--test-timeout=${process.env.TEST_TIMEOUT_MS ?? 600000}`, '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 1);
