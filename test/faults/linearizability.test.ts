// The linearizability checker: hand-written histories with known verdicts, indeterminate ops both
// ways, a brute-force oracle on small random histories, histories simulated from a linearizable
// register (must pass) and mutated (must fail), budgets, saving, and speed on a 2,000-op history.

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { rng } from '../support/prng.js';
import {
  checkHistory,
  formatResult,
  HistoryRecorder,
  kvModel,
  loadHistory,
  saveHistory,
  UNKNOWN,
  withoutPartitioning,
  zkRegisterModel,
  type KvInput,
  type KvOutput,
  type Model,
  type Operation,
  type Value,
  type ZkRegisterInput,
  type ZkRegisterOutput,
} from './lib/linearizability.js';
import { simulateZkRegister as simulateZk } from './lib/register-sim.js';

type ZkOp = Operation<ZkRegisterInput, ZkRegisterOutput>;
type KvOp = Operation<KvInput, KvOutput>;

const zk = zkRegisterModel();
const kv = kvModel();

// -- history builders --------------------------------------------------------------------------

function done<I, O>(clientId: number, call: number, ret: number, input: I, output: O): Operation<I, O> {
  return { clientId, call, return: ret, input, output };
}
function crashed<I, O>(clientId: number, call: number, input: I): Operation<I, O> {
  return { clientId, call, input, indeterminate: true };
}
const read = (c: number, call: number, ret: number, value: Value, version: number): ZkOp => done(c, call, ret, { type: 'read' }, { value, version });
const write = (c: number, call: number, ret: number, value: Value, version?: number): ZkOp =>
  done(c, call, ret, { type: 'write', value }, version === undefined ? {} : { version });
const cas = (c: number, call: number, ret: number, expected: number, value: Value, ok: boolean): ZkOp =>
  done(c, call, ret, { type: 'cas', version: expected, value }, ok ? { ok, version: expected + 1 } : { ok });

function assertOk<I, O>(model: Model<any, I, O>, h: Operation<I, O>[]): void {
  const r = checkHistory(model, h);
  assert.equal(r.ok, true, formatResult(r));
}
function assertViolation<I, O>(model: Model<any, I, O>, h: Operation<I, O>[]) {
  const r = checkHistory(model, h);
  assert.equal(r.ok, false, `expected a violation, got: ${formatResult(r)}`);
  if (r.ok !== false) throw new Error('unreachable');
  return r.explanation;
}

const clone = <T>(x: T): T => structuredClone(x);
const determinate = (h: ZkOp[], type: string) => h.map((op, i) => ({ op, i })).filter(({ op }) => !op.indeterminate && op.input.type === type);

/** Exhaustive search: every order consistent with real time, indeterminate ops optional. */
function bruteForce<S, I, O>(model: Model<S, I, O>, h: Operation<I, O>[]): boolean {
  const used = new Array<boolean>(h.length).fill(false);
  const go = (state: S, left: number): boolean => {
    if (left === 0) return true;
    for (let i = 0; i < h.length; i++) {
      if (used[i]) continue;
      const op = h[i]!;
      if (h.some((p, j) => j !== i && !used[j] && !p.indeterminate && p.return! < op.call)) continue;
      const r = model.step(state, op.input, op.indeterminate ? UNKNOWN : (op.output as O));
      if (!r.ok) continue;
      used[i] = true;
      const found = go(r.newState, left - (op.indeterminate ? 0 : 1));
      used[i] = false;
      if (found) return true;
    }
    return false;
  };
  return go(model.init(undefined), h.filter((o) => !o.indeterminate).length);
}

// -- tests -------------------------------------------------------------------------------------

describe('linearizability: hand-written ZooKeeper register histories', () => {
  test('sequential reads, writes and CAS with matching versions are fine', () => {
    assertOk(zk, [
      read(1, 0, 1, null, 0),
      write(1, 2, 3, 'a', 1),
      cas(2, 4, 5, 1, 'b', true),
      cas(3, 6, 7, 1, 'c', false),
      read(3, 8, 9, 'b', 2),
      write(2, 10, 11, 'd'), // version not reported: not checked
      read(1, 12, 13, 'd', 3),
    ]);
  });

  test('an empty history and one with only indeterminate ops are linearizable', () => {
    assertOk(zk, []);
    assertOk(zk, [crashed(1, 0, { type: 'write', value: 'a' }), crashed(2, 1, { type: 'read' })]);
  });

  test('overlapping ops may see either side of a concurrent write', () => {
    assertOk(zk, [
      write(1, 0, 10, 'a', 1),
      read(2, 1, 2, null, 0), // before the write took effect
      read(3, 3, 4, 'a', 1), // after
      read(2, 5, 6, 'a', 1),
      read(4, 0, 11, null, 0), // spans the whole write: either is fine
    ]);
    // Two overlapping writes may land in either order, as their versions say.
    assertOk(zk, [write(1, 0, 5, 'a', 2), write(2, 1, 4, 'b', 1), read(3, 6, 7, 'a', 2)]);
    // Touching intervals count as concurrent (coarse clocks must not produce false alarms).
    assertOk(zk, [write(1, 0, 5, 'a', 1), read(2, 5, 6, null, 0)]);
  });

  test('a stale read is caught, and the explanation names the prefix and the stuck op', () => {
    const h = [write(1, 0, 1, 'a', 1), write(2, 2, 3, 'b', 2), read(3, 4, 5, 'a', 1)];
    const e = assertViolation(zk, h);
    assert.deepEqual(e.prefixIndices, [0, 1]);
    assert.equal(e.stuckIndex, 2);
    assert.equal(e.stuck, h[2]);
    assert.equal(e.state, 'value "b" version 2');
    assert.match(e.message, /could not place: #2 client 3: read → \("a", v1\)/);
  });

  test('a lost acknowledged write is caught', () => {
    assertViolation(zk, [write(1, 0, 1, 'a', 1), read(2, 2, 3, null, 0)]);
    // The second write was acknowledged but later reads show the first one's value and version.
    assertViolation(zk, [write(1, 0, 1, 'a', 1), write(1, 2, 3, 'b', 2), read(2, 4, 5, 'a', 1), read(2, 6, 7, 'a', 1)]);
    // Two writes reporting the same new version: one overwrote the other unversioned.
    assertViolation(zk, [write(1, 0, 5, 'a', 1), write(2, 0, 5, 'b', 1)]);
  });

  test('two CAS both succeeding on the same version are caught, even when concurrent', () => {
    assertViolation(zk, [cas(1, 0, 10, 0, 'a', true), cas(2, 1, 9, 0, 'b', true)]);
    assertViolation(zk, [cas(1, 0, 1, 0, 'a', true), cas(2, 2, 3, 0, 'b', true)]);
    // One succeeds, the other gets BadVersion: fine.
    assertOk(zk, [cas(1, 0, 10, 0, 'a', true), cas(2, 1, 9, 0, 'b', false)]);
  });

  test('BadVersion when the version did match is caught; CAS from a concurrent write is fine', () => {
    assertViolation(zk, [read(1, 0, 1, null, 0), cas(1, 2, 3, 0, 'a', false)]);
    assertOk(zk, [read(1, 0, 1, null, 0), write(2, 1, 4, 'x', 1), cas(1, 2, 3, 0, 'a', false)]);
    // A successful CAS must report the next version.
    assertViolation(zk, [done(1, 0, 1, { type: 'cas', version: 0, value: 'a' }, { ok: true, version: 5 })]);
  });

  test('a read cannot go back in time after it saw a concurrent write', () => {
    assertViolation(zk, [write(1, 0, 10, 'a', 1), read(2, 1, 2, 'a', 1), read(3, 3, 4, null, 0)]);
  });

  test('indeterminate write: may have taken effect, late or not at all', () => {
    const w = crashed<ZkRegisterInput, ZkRegisterOutput>(1, 0, { type: 'write', value: 'a' });
    assertOk(zk, [w, read(2, 5, 6, 'a', 1)]); // it took effect
    assertOk(zk, [w, read(2, 5, 6, null, 0), read(2, 7, 8, null, 0)]); // it never did
    assertOk(zk, [w, read(2, 5, 6, null, 0), read(2, 100, 101, 'a', 1)]); // long after the client gave up
    // A later acknowledged write reporting version 2 proves the crashed one happened first.
    assertOk(zk, [w, write(2, 5, 6, 'b', 2), read(3, 7, 8, 'b', 2)]);
    // …or it happened after the later write.
    assertOk(zk, [w, write(2, 5, 6, 'b', 1), read(3, 7, 8, 'a', 2)]);
  });

  test('indeterminate write: effects before the call, or undone effects, are caught', () => {
    assertViolation(zk, [read(2, 0, 5, 'a', 1), crashed(1, 6, { type: 'write', value: 'a' })]);
    assertViolation(zk, [crashed(1, 0, { type: 'write', value: 'a' }), read(2, 5, 6, 'a', 1), read(2, 7, 8, null, 0)]);
    // It can take effect only once.
    assertViolation(zk, [crashed(1, 0, { type: 'write', value: 'a' }), read(2, 5, 6, 'a', 1), write(3, 7, 8, 'b', 2), read(2, 9, 10, 'a', 3)]);
  });

  test('indeterminate CAS: applies only if the version matches where it is placed', () => {
    const c = crashed<ZkRegisterInput, ZkRegisterOutput>(1, 0, { type: 'cas', version: 0, value: 'a' });
    assertOk(zk, [c, read(2, 5, 6, 'a', 1)]);
    assertOk(zk, [c, read(2, 5, 6, null, 0)]);
    assertOk(zk, [c, write(2, 1, 2, 'b', 1), read(2, 5, 6, 'b', 1)]); // lost the race: BadVersion, unseen
    // Placed after the write it would fail, so it cannot produce version 2.
    assertViolation(zk, [c, write(2, 1, 2, 'b', 1), read(2, 5, 6, 'a', 2)]);
  });

  test('indeterminate reads are dropped; errors in history shape are reported', () => {
    assertOk(zk, [crashed(1, 0, { type: 'read' }), write(2, 1, 2, 'a', 1)]);
    assert.throws(() => checkHistory(zk, [{ clientId: 1, call: 0, input: { type: 'read' } }]), /needs a finite return time/);
    assert.throws(() => checkHistory(zk, [read(1, 5, 4, null, 0)]), /returns \(4\) before it is called \(5\)/);
  });

  test('initial state per key', () => {
    const m = zkRegisterModel({ initial: (key) => ({ value: `init ${key}`, version: 3 }) });
    assertOk(m, [done(1, 0, 1, { type: 'read', key: '/x' }, { value: 'init /x', version: 3 }), done(1, 2, 3, { type: 'cas', key: '/y', version: 3, value: 'z' }, { ok: true, version: 4 })]);
  });
});

describe('linearizability: plain key-value registers', () => {
  const kread = (c: number, call: number, ret: number, key: string, value: Value): KvOp => done(c, call, ret, { type: 'read', key }, value);
  const kwrite = (c: number, call: number, ret: number, key: string, value: Value): KvOp => done(c, call, ret, { type: 'write', key, value }, undefined);
  const kcas = (c: number, call: number, ret: number, key: string, expected: Value, value: Value, ok: boolean): KvOp =>
    done(c, call, ret, { type: 'cas', key, expected, value }, ok);

  test('read/write/cas semantics', () => {
    assertOk(kv, [kwrite(1, 0, 1, 'x', 1), kcas(2, 2, 3, 'x', 1, 2, true), kcas(1, 4, 5, 'x', 1, 3, false), kread(2, 6, 7, 'x', 2)]);
    assertViolation(kv, [kwrite(1, 0, 1, 'x', 1), kread(2, 2, 3, 'x', null)]);
    assertViolation(kv, [kcas(1, 0, 3, 'x', null, 1, true), kcas(2, 1, 2, 'x', null, 2, true)]);
    // Without versions, a write of the same value again is invisible, so this one is fine.
    assertOk(kv, [kwrite(1, 0, 1, 'x', 1), kwrite(1, 2, 3, 'x', 2), kwrite(1, 4, 5, 'x', 1), kread(2, 6, 7, 'x', 1)]);
    assertOk(kv, [crashed(1, 0, { type: 'cas', key: 'x', expected: null, value: 1 }), kread(2, 3, 4, 'x', 1)]);
  });

  test('P-compositionality: a violation is reported with its key; other keys pass', () => {
    const h: KvOp[] = [
      kwrite(1, 0, 1, 'a', 1),
      kwrite(1, 0, 1, 'b', 1),
      kread(2, 2, 3, 'a', 1),
      kread(2, 2, 3, 'b', null), // stale, on key b only
      kwrite(3, 4, 5, 'c', 7),
    ];
    const r = checkHistory(kv, h);
    assert.equal(r.ok, false);
    if (r.ok !== false) return;
    assert.equal(r.partitions, 3);
    assert.equal(r.explanation.partition, 'b');
    assert.equal(r.explanation.stuckIndex, 3);
    assert.deepEqual(r.explanation.prefixIndices, [1]);
    assert.match(r.explanation.message, /key "b"/);
  });

  test('partitioned and unpartitioned searches agree on random multi-key histories', () => {
    let failures = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const h = simulateZk(seed, { clients: 4, ops: 24, pIndeterminate: 0.1, keys: ['/a', '/b', '/c'] });
      if (seed % 2 === 0) {
        const reads = determinate(h, 'read');
        const pick = reads[seed % reads.length];
        if (pick !== undefined) (pick.op.output as { version: number }).version += 1;
      }
      const a = checkHistory(zk, h);
      const b = checkHistory(withoutPartitioning(zk), h);
      assert.equal(a.ok, b.ok, `seed ${seed}: partitioned ${formatResult(a)} vs unpartitioned ${formatResult(b)}`);
      if (a.ok === false) failures++;
    }
    assert.ok(failures > 10, `mutations should produce violations (${failures})`);
  });
});

describe('linearizability: against a brute-force oracle', () => {
  test('small random ZooKeeper-register histories: same verdict as exhaustive search', () => {
    const r = rng(42);
    const verdicts = { ok: 0, bad: 0 };
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
    for (let n = 0; n < 3000; n++) {
      let h: ZkOp[];
      if (n % 3 === 2) {
        // Crash-heavy: several indeterminate writes and CASes with distinct values, only some of
        // which reads reveal (exercises the "unobserved value" rewriting and twin ordering).
        h = [];
        const size = 3 + Math.floor(r() * 5);
        let u = 0;
        for (let k = 0; k < size; k++) {
          const call = Math.floor(r() * 8);
          const ret = call + Math.floor(r() * 4);
          const x = r();
          if (x < 0.45) h.push({ clientId: k, call, input: r() < 0.7 ? { type: 'write', value: `u${++u}` } : { type: 'cas', version: pick([0, 1, 2]), value: `u${++u}` }, indeterminate: true });
          else if (x < 0.85) h.push({ clientId: k, call, return: ret, input: { type: 'read' }, output: { value: pick([null, 'u1', 'u2', 'u3']), version: pick([0, 1, 2, 3]) } });
          else h.push({ clientId: k, call, return: ret, input: { type: 'write', value: `d${k}` }, output: { version: pick([1, 2, 3]) } });
        }
      } else if (n % 3 === 0) {
        // Random shapes and outputs: mostly not linearizable, exercises odd corners.
        h = [];
        const size = 1 + Math.floor(r() * 6);
        for (let k = 0; k < size; k++) {
          const call = Math.floor(r() * 8);
          const ret = call + Math.floor(r() * 5);
          const type = pick(['read', 'write', 'cas'] as const);
          const input: ZkRegisterInput = type === 'read' ? { type } : type === 'write' ? { type, value: pick(['a', 'b']) } : { type, version: pick([0, 1, 2]), value: pick(['a', 'b']) };
          const output: ZkRegisterOutput =
            type === 'read' ? { value: pick([null, 'a', 'b']), version: pick([0, 1, 2]) } : type === 'write' ? (r() < 0.5 ? {} : { version: pick([1, 2, 3]) }) : { ok: r() < 0.5, version: pick([1, 2, 3]) };
          h.push(r() < 0.2 ? { clientId: k, call, input, indeterminate: true } : { clientId: k, call, return: ret, input, output });
        }
      } else {
        // Simulated (linearizable) then sometimes mutated: near-misses.
        h = simulateZk(n, { clients: 3, ops: 7, pIndeterminate: 0.15 });
        if (r() < 0.6) {
          const victims = h.filter((o) => !o.indeterminate);
          const v = victims.length > 0 ? pick(victims) : undefined;
          if (v !== undefined) {
            const o = v.output as Record<string, unknown>;
            if (v.input.type === 'read') o.version = (o.version as number) + pick([-1, 1]);
            else if (v.input.type === 'write') o.version = ((o.version as number) ?? 1) + pick([-1, 1]);
            else o.ok = !o.ok;
          }
        }
      }
      const expected = bruteForce(zk, h);
      const got = checkHistory(zk, h);
      assert.equal(got.ok, expected, `case ${n}: ${JSON.stringify(h)}\n${formatResult(got)}`);
      if (expected) verdicts.ok++;
      else verdicts.bad++;
    }
    assert.ok(verdicts.ok > 500 && verdicts.bad > 500, `both verdicts exercised: ${JSON.stringify(verdicts)}`);
  });

  test('small random kv histories: same verdict as exhaustive search', () => {
    const r = rng(7);
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
    const verdicts = { ok: 0, bad: 0 };
    for (let n = 0; n < 1500; n++) {
      const h: KvOp[] = [];
      const size = 1 + Math.floor(r() * 6);
      for (let k = 0; k < size; k++) {
        const call = Math.floor(r() * 8);
        const ret = call + Math.floor(r() * 6);
        const type = pick(['read', 'write', 'cas'] as const);
        const input: KvInput = type === 'read' ? { type } : type === 'write' ? { type, value: pick([1, 2, 10 + k]) } : { type, expected: pick([null, 1, 2]), value: pick([1, 2, 10 + k]) };
        const output: KvOutput = type === 'read' ? pick([null, 1, 2]) : type === 'cas' ? r() < 0.5 : undefined;
        h.push(r() < 0.2 ? { clientId: k, call, input, indeterminate: true } : { clientId: k, call, return: ret, input, output });
      }
      const expected = bruteForce(kv, h);
      const got = checkHistory(kv, h);
      assert.equal(got.ok, expected, `case ${n}: ${JSON.stringify(h)}\n${formatResult(got)}`);
      if (expected) verdicts.ok++;
      else verdicts.bad++;
    }
    assert.ok(verdicts.ok > 200 && verdicts.bad > 200, `both verdicts exercised: ${JSON.stringify(verdicts)}`);
  });
});

describe('linearizability: simulated register histories', () => {
  test('histories from a linearizable register pass (random concurrency, indeterminate ops)', () => {
    for (let seed = 1; seed <= 80; seed++) {
      const h = simulateZk(seed, { clients: 1 + (seed % 8), ops: 150, pIndeterminate: seed % 3 === 0 ? 0.05 : 0 });
      const r = checkHistory(zk, h);
      assert.equal(r.ok, true, `seed ${seed}: ${formatResult(r)}`);
    }
  });

  test('crafted mutations are always detected', () => {
    let checked = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const base = simulateZk(seed, { clients: 5, ops: 120, pIndeterminate: 0.03 });

      // (1) A read returns a value nobody wrote.
      {
        const h = clone(base);
        const reads = determinate(h, 'read');
        (reads[seed % reads.length]!.op.output as { value: Value }).value = 'never written';
        assert.equal(checkHistory(zk, h).ok, false, `seed ${seed}: phantom value`);
      }
      // (2) Two acknowledged writes report the same new version.
      {
        const h = clone(base);
        const ws = determinate(h, 'write');
        if (ws.length >= 2) {
          const [a, b] = [ws[0]!, ws[ws.length - 1]!];
          (b.op.output as { version: number }).version = (a.op.output as { version: number }).version;
          assert.equal(checkHistory(zk, h).ok, false, `seed ${seed}: duplicate write version`);
        }
      }
      // (3) A BadVersion CAS turned into a success on a version another CAS already consumed.
      {
        const h = clone(base);
        const won = determinate(h, 'cas').filter(({ op }) => (op.output as { ok: boolean }).ok);
        const lost = determinate(h, 'cas').filter(({ op }) => !(op.output as { ok: boolean }).ok);
        if (won.length > 0 && lost.length > 0) {
          const w = won[seed % won.length]!.op;
          const l = lost[seed % lost.length]!.op;
          const v = (w.input as { version: number }).version;
          l.input = { type: 'cas', version: v, value: 'dup' };
          l.output = { ok: true, version: v + 1 };
          assert.equal(checkHistory(zk, h).ok, false, `seed ${seed}: double CAS`);
        }
      }
      // (4) A read strictly after an acknowledged write sees a state from before that write.
      {
        const h = clone(base);
        const ws = determinate(h, 'write');
        const target = determinate(h, 'read').find(({ op }) => ws.some(({ op: w }) => w.return! < op.call));
        if (target !== undefined) {
          const w = ws.filter(({ op: x }) => x.return! < target.op.call).at(-1)!.op;
          const before = (w.output as { version: number }).version - 1;
          target.op.output = before === 0 ? { value: null, version: 0 } : { value: 'stale', version: before };
          assert.equal(checkHistory(zk, h).ok, false, `seed ${seed}: stale read`);
          checked++;
        }
      }
    }
    assert.ok(checked > 30);
  });

  test('random single-output mutations are mostly detected', () => {
    const r = rng(99);
    let detected = 0;
    let total = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const h = simulateZk(seed, { clients: 6, ops: 100, pIndeterminate: 0.02 });
      const victims = h.filter((o) => !o.indeterminate);
      const v = victims[Math.floor(r() * victims.length)]!;
      const o = v.output as Record<string, any>;
      if (v.input.type === 'read') {
        // Swap in what some other read observed: a plausible stale or future read.
        const others = h.filter((x) => !x.indeterminate && x.input.type === 'read' && (x.output as any).version !== o.version);
        if (others.length === 0) continue;
        v.output = { ...(others[Math.floor(r() * others.length)]!.output as object) } as ZkRegisterOutput;
      } else if (v.input.type === 'write') {
        o.version += r() < 0.5 ? -1 : 1;
      } else {
        o.ok = !o.ok;
        if (o.ok) o.version = (v.input as { version: number }).version + 1;
      }
      total++;
      if (checkHistory(zk, h).ok === false) detected++;
    }
    assert.ok(total > 100);
    assert.ok(detected / total >= 0.9, `detected ${detected}/${total}`);
  });

  test('performance: 2,000 ops from 8 clients on one register', () => {
    const h = simulateZk(2024, { clients: 8, ops: 2000, pIndeterminate: 0.01 });
    const t0 = performance.now();
    const r = checkHistory(zk, h, { timeoutMs: 10000 });
    const ms = performance.now() - t0;
    assert.equal(r.ok, true, formatResult(r));
    assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
    // And a violation near the end is still found quickly.
    const bad = clone(h);
    const reads = determinate(bad, 'read');
    (reads.at(-3)!.op.output as { version: number }).version -= 1;
    const t1 = performance.now();
    const r2 = checkHistory(zk, bad, { timeoutMs: 10000 });
    const ms2 = performance.now() - t1;
    assert.equal(r2.ok, false, formatResult(r2));
    assert.ok(ms2 < 5000, `violation took ${ms2.toFixed(0)} ms`);
  });

  test('performance: 2,000 ops from 8 clients over 20 keys', () => {
    const keys = Array.from({ length: 20 }, (_, i) => `/k${i}`);
    const h = simulateZk(77, { clients: 8, ops: 2000, pIndeterminate: 0.02, keys });
    const t0 = performance.now();
    const r = checkHistory(zk, h, { timeoutMs: 10000 });
    assert.equal(r.ok, true, formatResult(r));
    assert.equal(r.partitions, 20);
    assert.ok(performance.now() - t0 < 5000);
  });
});

describe('linearizability: budgets, reports, recording', () => {
  test('a step or time budget gives ok: "unknown"', () => {
    const h = simulateZk(5, { clients: 8, ops: 500 });
    const bySteps = checkHistory(zk, h, { maxSteps: 50 });
    assert.equal(bySteps.ok, 'unknown');
    if (bySteps.ok === 'unknown') assert.equal(bySteps.reason, 'steps');
    const byTime = checkHistory(zk, h, { timeoutMs: -1 }); // a deadline already passed
    assert.equal(byTime.ok, 'unknown');
    if (byTime.ok === 'unknown') assert.equal(byTime.reason, 'timeout');
    assert.match(formatResult(byTime), /^unknown: search budget \(timeout\)/);
    assert.equal(checkHistory(zk, h, { maxSteps: 1e7, timeoutMs: 10000 }).ok, true);
  });

  test('saveHistory writes history, verdict and metadata as JSON; loadHistory reads it back', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kraal-lin-'));
    try {
      const h = [write(1, 0, 1, 'a', 1), crashed<ZkRegisterInput, ZkRegisterOutput>(2, 1, { type: 'write', value: 'b' }), read(3, 4, 5, null, 0)];
      const r = checkHistory(zk, h);
      assert.equal(r.ok, false);
      const file = saveHistory(path.join(dir, 'nested', 'run-1.json'), h, { model: zk.name, result: r, meta: { seed: 1234 } });
      assert.ok(path.isAbsolute(file));
      const back = loadHistory<ZkRegisterInput, ZkRegisterOutput>(file);
      assert.deepEqual(back.history, h);
      assert.equal(back.model, 'zk-cas-register');
      assert.deepEqual(back.meta, { seed: 1234 });
      const res = back.result as { ok: boolean; stuckIndex: number; prefixIndices: number[]; message: string };
      assert.equal(res.ok, false);
      assert.equal(res.stuckIndex, 2);
      assert.deepEqual(res.prefixIndices, [0, 1]); // the crashed write may well have happened first
      assert.match(res.message, /not linearizable/);
      // The saved history replays to the same verdict.
      assert.equal(checkHistory(zk, back.history).ok, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('HistoryRecorder: completed, failed-definitely, unknown and still-open ops', async () => {
    let now = 0;
    const rec = new HistoryRecorder<ZkRegisterInput, ZkRegisterOutput>(() => now++);
    const w = rec.invoke(1, { type: 'write', value: 'a' });
    const rd = rec.invoke(2, { type: 'read' });
    w.ok({ version: 1 });
    rd.ok({ value: 'a', version: 1 });
    const lost = rec.invoke(3, { type: 'write', value: 'b' });
    lost.unknown('ConnectionLoss');
    assert.throws(() => lost.ok({ version: 2 }), /completed twice/);
    rec.invoke(4, { type: 'cas', version: 1, value: 'c' }); // never completes
    const badVersion = Object.assign(new Error('BadVersion'), { code: -103 });
    const out = await rec.run(5, { type: 'cas', version: 0, value: 'd' }, () => Promise.reject(badVersion), (e) =>
      (e as { code?: number }).code === -103 ? { output: { ok: false } } : 'unknown',
    );
    assert.deepEqual(out, { ok: false });
    assert.equal(await rec.run(6, { type: 'read' }, () => Promise.reject(new Error('timeout'))), undefined);
    assert.deepEqual(await rec.run(7, { type: 'read' }, async () => ({ value: 'a', version: 1 })), { value: 'a', version: 1 });

    const h = rec.history();
    assert.equal(h.length, 7);
    assert.deepEqual(h[0], { clientId: 1, call: 0, input: { type: 'write', value: 'a' }, return: 2, output: { version: 1 } });
    assert.equal(h[2]!.indeterminate, true);
    assert.equal(h[2]!.meta, 'ConnectionLoss');
    assert.equal(h[3]!.indeterminate, true); // still open
    assert.deepEqual(h[4]!.output, { ok: false });
    assert.equal(h[5]!.indeterminate, true);
    assert.deepEqual(h[5]!.meta, { error: 'timeout' });
    assert.equal(checkHistory(zk, h).ok, true, formatResult(checkHistory(zk, h)));
  });
});
