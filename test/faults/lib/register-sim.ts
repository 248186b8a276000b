// Histories from a simulated linearizable ZooKeeper register, for testing the checker (and, in
// fault suites, for checking that the checker is wired up right before trusting a green run).

import { rng } from '../../support/prng.js';
import type { Operation, Value, ZkRegisterInput, ZkRegisterOutput } from './linearizability.js';

type ZkOp = Operation<ZkRegisterInput, ZkRegisterOutput>;

export interface SimOptions {
  clients: number;
  ops: number;
  /** Chance that a client gives up on an op (before or after it took effect). */
  pIndeterminate?: number;
  keys?: string[];
}

/**
 * Clients issue ops at random; each op takes effect at one instant between its call and return
 * (its linearization point) against a true register, so the history is linearizable by
 * construction. Given-up ops become indeterminate: some already applied, some applied later
 * (a request still in flight), some never.
 */
export function simulateZkRegister(seed: number, o: SimOptions): ZkOp[] {
  const r = rng(seed);
  const keys = o.keys ?? [undefined];
  const truth = new Map<string | undefined, { value: Value; version: number }>();
  const state = (k: string | undefined) => truth.get(k) ?? { value: null, version: 0 };
  const apply = (op: ZkOp): ZkRegisterOutput => {
    const i = op.input;
    const s = state(i.key);
    if (i.type === 'read') return { ...s };
    if (i.type === 'write') {
      truth.set(i.key, { value: i.value, version: s.version + 1 });
      return { version: s.version + 1 };
    }
    if (s.version !== i.version) return { ok: false };
    truth.set(i.key, { value: i.value, version: s.version + 1 });
    return { ok: true, version: s.version + 1 };
  };
  const h: ZkOp[] = [];
  const slots: ({ op: ZkOp; applied: boolean } | null)[] = new Array(o.clients).fill(null);
  const limbo: ZkOp[] = [];
  const pI = o.pIndeterminate ?? 0;
  let t = 0;
  let issued = 0;
  let writes = 0;
  while (issued < o.ops || slots.some((s) => s !== null)) {
    t += 1 + Math.floor(r() * 3);
    if (limbo.length > 0 && r() < 0.05) {
      const [late] = limbo.splice(Math.floor(r() * limbo.length), 1);
      if (r() < 0.5) apply(late!);
    }
    const c = Math.floor(r() * o.clients);
    const s = slots[c]!;
    if (s === null) {
      if (issued >= o.ops) continue;
      issued++;
      const key = keys[Math.floor(r() * keys.length)];
      const k = key === undefined ? {} : { key };
      const x = r();
      const cur = state(key).version;
      const input: ZkRegisterInput =
        x < 0.4
          ? { type: 'read', ...k }
          : x < 0.7
            ? { type: 'write', value: `w${++writes}`, ...k }
            : { type: 'cas', version: r() < 0.6 ? cur : Math.max(0, cur - 1 + Math.floor(r() * 3)), value: `c${++writes}`, ...k };
      const op: ZkOp = { clientId: c, call: t, input };
      h.push(op);
      slots[c] = { op, applied: false };
    } else if (!s.applied) {
      if (r() < pI) {
        s.op.indeterminate = true;
        s.op.return = t;
        limbo.push(s.op);
        slots[c] = null;
      } else {
        s.op.output = apply(s.op);
        s.applied = true;
      }
    } else {
      s.op.return = t;
      if (r() < pI) {
        s.op.indeterminate = true;
        delete s.op.output;
      }
      slots[c] = null;
    }
  }
  return h;
}
