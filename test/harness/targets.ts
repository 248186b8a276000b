// Pairing of a real ZooKeeper with Kraal inside one node:test file, and the compare helper.
//
//   const pair = setupPair({ name: 'kazoo', portBase: 22100 });
//   test('crud', () => pair.compare('crud', async (t) => runKazoo(t, 'crud')));
//
// ZooKeeper is started in before() and stopped in after(). Kraal is started lazily (once) the
// first time a scenario needs it, so the ZooKeeper half of every scenario runs (and is checked)
// even when Kraal is missing; the test then FAILS with a clear message.
//
// KRAAL_COMPAT_SELFTEST=1 replaces Kraal by a second real ZooKeeper: this proves that every
// scenario is deterministic after normalization (ZooKeeper compared with itself).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { startKraal, startZooKeeper, type KraalOptions, type Target, type ZkOptions } from './servers.js';

export const SELFTEST = process.env.KRAAL_COMPAT_SELFTEST === '1';

export interface Pair {
  zk(): Target;
  kraal(): Promise<Target>;
  compare<T>(name: string, scenario: (t: Target) => Promise<T>, checkZk?: (zkResult: T) => void): Promise<T>;
}

export interface PairOptions {
  name: string;
  portBase: number;
  zk?: ZkOptions;
  kraal?: KraalOptions;
}

export function setupPair(opts: PairOptions): Pair {
  let zk: Target | undefined;
  let kraalP: Promise<Target> | undefined;
  before(async () => {
    zk = await startZooKeeper({ ...(opts.zk ?? {}), portBase: opts.portBase });
  });
  after(async () => {
    const stops: Promise<void>[] = [];
    if (zk) stops.push(zk.stop());
    if (kraalP) stops.push(kraalP.then((k) => k.stop(), () => undefined));
    await Promise.all(stops);
  });
  const pair: Pair = {
    zk() {
      if (!zk) throw new Error('ZooKeeper did not start (see before hook)');
      return zk;
    },
    kraal() {
      if (!kraalP) {
        kraalP = SELFTEST
          ? startZooKeeper({ ...(opts.zk ?? {}), portBase: opts.portBase + 50 }).then((t) => ({ ...t, kind: 'zookeeper' as const }))
          : startKraal(opts.kraal ?? {});
        kraalP.catch(() => undefined);
      }
      return kraalP;
    },
    async compare<T>(name: string, scenario: (t: Target) => Promise<T>, checkZk?: (zkResult: T) => void): Promise<T> {
      const expected = await scenario(pair.zk());
      dump(opts.name, name, 'zookeeper', expected);
      if (checkZk) checkZk(expected);
      let k: Target;
      try {
        k = await pair.kraal();
      } catch (e) {
        throw new Error(`[${opts.name}/${name}] scenario passed on ZooKeeper but Kraal could not be started: ${(e as Error).message}`);
      }
      const actual = await scenario(k);
      dump(opts.name, name, SELFTEST ? 'zookeeper2' : 'kraal', actual);
      assert.deepStrictEqual(actual, expected,
        `[${opts.name}/${name}] Kraal (${k.host}:${k.port}) differs from ZooKeeper 3.8 (normalized; actual = Kraal, expected = ZooKeeper)`);
      return expected;
    },
  };
  return pair;
}

/** Find a step's value in a [[label, value], ...] list. */
export function step(steps: unknown[][], label: string): unknown {
  const s = steps.find((x) => x[0] === label);
  if (!s) throw new Error(`no step ${label}`);
  return s[1];
}

/** KRAAL_COMPAT_DUMP=dir writes every normalized observation to dir/<file>-<scenario>-<side>.json. */
function dump(file: string, scenario: string, side: string, v: unknown): void {
  const dir = process.env.KRAAL_COMPAT_DUMP;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${file}-${scenario}-${side}.json`.replace(/[^A-Za-z0-9_.-]/g, '_')),
    JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2) + '\n');
}
