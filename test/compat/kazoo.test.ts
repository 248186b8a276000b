// Differential scenarios through the unmodified kazoo client (Debian python3-kazoo, run with
// /usr/bin/python3 — NOT the pyenv python on PATH). Each scenario is a function in
// kazoo_scenarios.py printing raw JSON; here it is normalized and compared ZooKeeper vs Kraal.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, type Target } from '../harness/servers.js';
import { normalize } from '../harness/normalize.js';
import { runProcess } from '../harness/proc.js';
import { setupPair, step } from '../harness/targets.js';

const PY = process.env.KRAAL_COMPAT_PYTHON ?? '/usr/bin/python3';
const SCRIPT = path.join(REPO_ROOT, 'test', 'compat', 'kazoo_scenarios.py');
// superDigest for "super:superpw"
const SUPER_DIGEST = 'super:g9oN2HttPfn8MMWJZ2r45Np/LIA=';
const REAPER_MS = 500;

const pair = setupPair({
  name: 'kazoo',
  portBase: 22100,
  zk: {
    cfg: { 'DigestAuthenticationProvider.superDigest': SUPER_DIGEST },
    sysProps: { 'znode.container.checkIntervalMs': REAPER_MS },
  },
  kraal: {
    // Kraal ServerConfig equivalents of the zoo.cfg line and the JVM property above
    config: { superDigest: SUPER_DIGEST, containerCheckIntervalMs: REAPER_MS },
  },
});

type Steps = [string, unknown][];

async function kazoo(t: Target, scenario: string): Promise<Steps> {
  const r = await runProcess(PY, [SCRIPT, `${t.host}:${t.port}`, scenario], { timeoutMs: 150000 });
  if (r.code !== 0) throw new Error(`kazoo scenario ${scenario} on ${t.kind} exited ${r.code}/${r.signal}: ${r.stderr.slice(-3000)}`);
  let doc: { steps: Steps };
  try {
    doc = JSON.parse(r.stdout) as { steps: Steps };
  } catch {
    throw new Error(`kazoo scenario ${scenario} on ${t.kind}: bad JSON: ${r.stdout.slice(0, 2000)} ${r.stderr.slice(-2000)}`);
  }
  const crashed = doc.steps.find((s) => s[0] === 'SCENARIO CRASHED');
  if (crashed) throw new Error(`kazoo scenario ${scenario} crashed on ${t.kind}: ${JSON.stringify(crashed[1])}`);
  return normalize(doc.steps, [t.port]) as Steps;
}

const run = (name: string, check?: (s: Steps) => void) =>
  test(name, { timeout: 300000 }, async () => { await pair.compare(name, (t) => kazoo(t, name), check); });

const err = (name: string) => ({ error: name });

describe('kazoo', { concurrency: false }, () => {
  run('crud', (s) => {
    assert.deepEqual(step(s, 'get missing'), err('NoNodeError'));
    assert.deepEqual(step(s, 'set bad version'), err('BadVersionError'));
    assert.deepEqual(step(s, 'create exists'), err('NodeExistsError'));
    assert.deepEqual(step(s, 'delete not empty'), err('NotEmptyError'));
    assert.deepEqual(step(s, 'child of ephemeral'), err('NoChildrenForEphemeralsError'));
    assert.ok(s.some(([l, v]) => l.startsWith('invalid path') && JSON.stringify(v) === '{"error":"BadArgumentsError"}'),
      'some invalid path reaches the server and gets BadArguments');
    assert.deepEqual(step(s, 'delete root'), err('BadArgumentsError'));
    assert.deepEqual(step(s, 'delete /zookeeper'), err('BadArgumentsError'));
    assert.equal((step(s, 'get null data') as unknown[])[0], null, 'null data stays null (appendix 6)');
  });
  run('sequential', (s) => {
    assert.equal((step(s, 'parent stat') as { cversion: number }).cversion, 3);
    assert.equal(step(s, 'seq 1'), '/kz_seq/s-0000000002', 'suffix counts creations only (appendix 1)');
  });
  run('ephemeral', (s) => {
    assert.equal(step(s, 'owner is c2'), true);
    assert.deepEqual(step(s, 'children after close'), []);
  });
  run('container_ttl', (s) => {
    assert.equal(step(s, 'container reaped'), true);
    assert.equal(step(s, 'ttl reaped'), true);
    assert.deepEqual(step(s, 'ttl zero'), err('BadArgumentsError'));
    assert.deepEqual(step(s, 'ttl too big'), err('BadArgumentsError'));
  });
  run('multi', (s) => {
    assert.deepEqual(step(s, 'commit bad version'), [err('RolledBackError'), err('BadVersionError'), err('RuntimeInconsistency')]);
    assert.deepEqual(step(s, 'commit empty'), []);
  });
  run('acl', (s) => {
    assert.deepEqual(step(s, 'anon delete missing child (NoAuth beats NoNode)'), err('NoAuthError'));
    assert.deepEqual(step(s, 'create auth acl (no auth)'), err('InvalidACLError'));
  });
  run('superdigest', (s) => {
    assert.notDeepEqual(step(s, 'super get'), err('NoAuthError'));
  });
  run('watches');
  run('session');
  run('recipes_lock', (s) => {
    assert.deepEqual(step(s, 'lock'), { max_concurrent: 1, total: 20, errors: [] });
    assert.equal(step(s, 'semaphore max concurrent'), 2);
  });
  run('recipes_election', (s) => {
    assert.deepEqual(step(s, 'elections'), { count: 3, distinct: 3, max_concurrent: 1 });
  });
  run('recipes_barrier', (s) => {
    assert.deepEqual(step(s, 'double barrier order'), ['enter', 'enter', 'enter', 'leave', 'leave', 'leave']);
  });
  run('recipes_counter_queue', (s) => {
    assert.equal(step(s, 'counter total'), 30);
    assert.deepEqual(step(s, 'queue gets'), ['urgent', 'item0', 'item1', 'item2', 'item3', 'item4']);
  });
  run('recipes_party_cache');
});
