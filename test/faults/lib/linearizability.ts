// A linearizability checker for histories recorded by fault-injection tests.
//
// The search is the Wing–Gong algorithm with Lowe's memoization, as Porcupine and Knossos' "wgl"
// use it: the history becomes a time-ordered list of call and return events; we repeatedly try to
// linearize (take out of the list) an operation whose call comes before the first remaining return,
// stepping the sequential model; reaching a return whose operation is still in the list means no
// order of the remaining choices works from here, so we undo the last choice. A set of (which ops
// are linearized, model state) pairs already explored stops the search from redoing work it has
// done under another order — that is what makes realistic histories polynomial in practice.
//
// Indeterminate operations (crashed, timed out, connection lost: the client never learned whether
// they took effect) have no return event. They may be linearized at any point after their call —
// even long after the client gave up, since a request in flight can still be applied — or never:
// the search succeeds as soon as every *determinate* operation is placed.
//
// P-compositionality: linearizability is local, so when the model says which key an operation
// touches, each key's sub-history is checked on its own. Independent registers then cost the sum,
// not the product, of their searches.
//
// Crashed ops are what make such searches blow up, since each may or may not have happened
// anywhere after its call. Two reductions, both exact: an indeterminate op is never placed where
// it would not change the state (leaving it out is as good), and indeterminate ops that are
// indistinguishable (Model.normalize) are placed in call order only. With them a 2,000-op
// single-register history with a few percent of crashed ops checks in well under a second when it
// is linearizable. Refuting a non-linearizable one must exhaust the search, which with many
// crashed ops on one key can outlast the budget ({ok: 'unknown'}); fault suites should spread a
// register workload over keys (a few hundred ops each) and treat 'unknown' as a failure to look at.
//
// Usage:
//   const rec = new HistoryRecorder<ZkRegisterInput, ZkRegisterOutput>();
//   const op = rec.invoke(clientId, { type: 'cas', key: '/r1', version: 3, value: 'x' });
//   … op.ok({ ok: true, version: 4 }) | op.ok({ ok: false }) on BadVersion | op.unknown() on ConnectionLoss/timeout
//   const result = checkHistory(zkRegisterModel(), rec.history(), { timeoutMs: 60000 });
//   if (result.ok !== true) assert.fail(`${formatResult(result)}\nhistory: ${saveHistory(file, rec.history(), { result })}`);

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** What a model's `step` receives as the output of an indeterminate operation. */
export const UNKNOWN: unique symbol = Symbol('unknown output');
export type Unknown = typeof UNKNOWN;

export interface Operation<I = unknown, O = unknown> {
  /** Who issued it. Informational only: real-time order comes from the timestamps. */
  clientId: number | string;
  /** When the request was sent (any clock shared by all clients, e.g. performance.now()). */
  call: number;
  /** When the response arrived. Required unless `indeterminate`; kept only for reports otherwise. */
  return?: number;
  input: I;
  /** The observed response. Ignored when `indeterminate`. */
  output?: O;
  /** The outcome is unknown: the op may have taken effect at any moment after `call`, or never. */
  indeterminate?: boolean;
  /** Anything worth keeping in a report (error text, zxid, server…). */
  meta?: unknown;
}

export type History<I = unknown, O = unknown> = Operation<I, O>[];

export type StepResult<S> = { ok: true; newState: S } | { ok: false };

/** A sequential specification. States must be treated as immutable: `step` returns new ones. */
export interface Model<S, I, O> {
  name: string;
  /** The state before any operation (of the given partition, when the model partitions). */
  init(key: string | undefined): S;
  /**
   * Whether `input` applied to `state` may produce `output`, and the state after it. `output` is
   * UNKNOWN for indeterminate ops: say how the op would change the state had it taken effect here.
   */
  step(state: S, input: I, output: O | Unknown): StepResult<S>;
  /** Memoization key. Equal states must hash equally; unequal ones may collide only if `equal` is given. */
  hash(state: S): string | number;
  equal?(a: S, b: S): boolean;
  /** The key an op touches; ops of different keys must be independent (checked separately). */
  partition?(input: I): string;
  /** True when the op never changes the state: indeterminate ones can then be dropped up front. */
  readOnly?(input: I): boolean;
  /**
   * Rewrites the inputs of one partition's ops into equivalent ones (same length and order), so
   * that indeterminate ops which cannot be told apart get identical inputs. Example: a crashed
   * write whose value no read ever returned can only have bumped the version, so all such writes
   * become one "unobserved" write. The search then uses identical indeterminate ops in call order
   * only, instead of trying every subset of them (see the search loop).
   */
  normalize?(ops: readonly Operation<I, O>[]): I[];
  describeState?(state: S): string;
  describeOp?(op: Operation<I, O>): string;
}

export interface CheckOptions {
  /** Wall-clock budget for the whole check (ms). Exceeding it gives {ok: 'unknown'}. */
  timeoutMs?: number;
  /** Budget in search steps (one step = one event visited), summed over partitions. */
  maxSteps?: number;
}

export interface CheckStats {
  ops: number;
  partitions: number;
  steps: number;
  elapsedMs: number;
}

export interface Explanation<I = unknown, O = unknown> {
  /** The partition (key) that failed; undefined when the model does not partition. */
  partition: string | undefined;
  /** The longest linearizable prefix the search found, in linearization order. */
  prefix: Operation<I, O>[];
  /** Their positions in the history given to the checker. */
  prefixIndices: number[];
  /** The model state after the prefix, described. */
  state: string;
  /** The operation that could not be placed: it returned before any remaining choice worked. */
  stuck: Operation<I, O>;
  stuckIndex: number;
  /** Ops that were pending (called, not linearized) when `stuck` returned: the candidates tried. */
  pending: Operation<I, O>[];
  pendingIndices: number[];
  message: string;
}

export type CheckResult<I = unknown, O = unknown> =
  | ({ ok: true } & CheckStats)
  | ({ ok: false; explanation: Explanation<I, O> } & CheckStats)
  | ({ ok: 'unknown'; reason: 'timeout' | 'steps'; partition: string | undefined } & CheckStats);

// ---------------------------------------------------------------------------------------------
// The search

interface Event {
  op: number; // index within the partition
  isCall: boolean;
  match: Event | null; // call → its return (null for indeterminate ops); return → its call
  prev: Event | null;
  next: Event | null;
}

// Zobrist hashing of the linearized set: two independent 32-bit words per op index, XORed in and
// out as ops are linearized and undone, so the set's hash costs O(1) per step instead of O(n).
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

class Bitset {
  readonly words: Uint32Array;
  h1 = 0;
  h2 = 0;
  constructor(n: number) {
    this.words = new Uint32Array((n + 31) >>> 5);
  }
  flip(i: number): void {
    this.words[i >>> 5]! ^= 1 << (i & 31);
    this.h1 ^= mix32(i * 2 + 1);
    this.h2 ^= mix32(i * 2 + 0x9e3779b9);
  }
  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }
}

// The explored (linearized set, state) pairs. Large searches record hundreds of thousands, so the
// sets live back to back in one growing arena (no object or typed array per entry for the GC to
// trace) and lookups go state hash → set hash → arena offsets, with no key strings built.
class Memo<S> {
  private readonly byState = new Map<string | number, Map<number, number | number[]>>();
  private arena: Uint32Array;
  private used = 0;
  private readonly states: S[] = []; // by entry number, kept only when the model has `equal`

  constructor(
    private readonly model: Model<S, unknown, unknown>,
    private readonly width: number,
  ) {
    this.arena = new Uint32Array(Math.max(1024, width * 256));
  }

  /** Records (bits, state); false if it was already explored. */
  add(bits: Bitset, state: S): boolean {
    const sh = this.model.hash(state);
    let byBits = this.byState.get(sh);
    if (byBits === undefined) this.byState.set(sh, (byBits = new Map()));
    const hk = (bits.h1 ^ Math.imul(bits.h2, 0x9e3779b1)) >>> 0;
    const found = byBits.get(hk);
    if (found !== undefined) {
      const eq = this.model.equal;
      for (const off of typeof found === 'number' ? [found] : found) {
        if (!this.sameBits(bits, off)) continue;
        if (eq === undefined || eq(this.states[off / this.width]!, state)) return false;
      }
    }
    const off = this.store(bits);
    if (this.model.equal !== undefined) this.states[off / this.width] = state;
    if (found === undefined) byBits.set(hk, off);
    else if (typeof found === 'number') byBits.set(hk, [found, off]);
    else found.push(off);
    return true;
  }

  private sameBits(bits: Bitset, off: number): boolean {
    const w = bits.words;
    const a = this.arena;
    for (let k = 0; k < w.length; k++) if (a[off + k] !== w[k]) return false;
    return true;
  }

  private store(bits: Bitset): number {
    if (this.used + this.width > this.arena.length) {
      const bigger = new Uint32Array(this.arena.length * 2);
      bigger.set(this.arena);
      this.arena = bigger;
    }
    const off = this.used;
    this.arena.set(bits.words, off);
    this.used += this.width;
    return off;
  }
}

interface Budget {
  deadline: number;
  maxSteps: number;
  steps: number;
}

type PartitionOutcome<S> =
  | { kind: 'ok' }
  | { kind: 'unknown'; reason: 'timeout' | 'steps' }
  | { kind: 'fail'; prefix: number[]; stuck: number; pending: number[]; state: S };

function searchPartition<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[], key: string | undefined, budget: Budget): PartitionOutcome<S> {
  const n = ops.length;
  // Build the event list. Equal timestamps: calls first, so ops that merely touch count as
  // concurrent — the lenient reading, since clocks are coarse and the checker must not cry wolf.
  const evs: { t: number; call: boolean; op: number }[] = [];
  let remaining = 0;
  for (let i = 0; i < n; i++) {
    const op = ops[i]!;
    evs.push({ t: op.call, call: true, op: i });
    if (!op.indeterminate) {
      evs.push({ t: op.return!, call: false, op: i });
      remaining++;
    }
  }
  evs.sort((a, b) => a.t - b.t || (a.call === b.call ? a.op - b.op : a.call ? -1 : 1));
  const head: Event = { op: -1, isCall: false, match: null, prev: null, next: null };
  const calls: Event[] = new Array(n);
  let last = head;
  for (const e of evs) {
    const ev: Event = { op: e.op, isCall: e.call, match: null, prev: last, next: null };
    last.next = ev;
    last = ev;
    if (e.call) calls[e.op] = ev;
    else {
      ev.match = calls[e.op]!;
      calls[e.op]!.match = ev;
    }
  }

  const lift = (c: Event): void => {
    c.prev!.next = c.next;
    if (c.next !== null) c.next.prev = c.prev;
    const r = c.match;
    if (r !== null) {
      r.prev!.next = r.next;
      if (r.next !== null) r.next.prev = r.prev;
    }
  };
  const unlift = (c: Event): void => {
    const r = c.match;
    if (r !== null) {
      r.prev!.next = r;
      if (r.next !== null) r.next.prev = r;
    }
    c.prev!.next = c;
    if (c.next !== null) c.next.prev = c;
  };

  const outputs = ops.map((o) => (o.indeterminate ? UNKNOWN : (o.output as O)));
  const inputs = model.normalize ? model.normalize(ops) : ops.map((o) => o.input);
  // Symmetry: identical indeterminate ops are interchangeable, and the earlier-called one can go
  // wherever the later one could (an indeterminate op has no deadline). So any linearization can
  // be rewritten to use them in call order: op i may be placed only once `twin[i]`, the previous
  // identical one, has been. This turns 2^k subsets of k crashed ops into k + 1 counts.
  const twin = new Int32Array(n).fill(-1);
  {
    const lastOfClass = new Map<string, number>();
    const byCall = ops.map((_, i) => i).filter((i) => ops[i]!.indeterminate);
    byCall.sort((a, b) => ops[a]!.call - ops[b]!.call || a - b);
    for (const i of byCall) {
      const cls = JSON.stringify(inputs[i]);
      const prev = lastOfClass.get(cls);
      if (prev !== undefined) twin[i] = prev;
      lastOfClass.set(cls, i);
    }
  }
  const bits = new Bitset(n);
  const memo = new Memo<S>(model as Model<S, unknown, unknown>, bits.words.length);
  const stack: { ev: Event; before: S }[] = [];
  let state = model.init(key);
  let best: { prefix: number[]; stuck: number; pending: number[]; state: S } | undefined;
  let entry: Event | null = head.next;

  while (remaining > 0) {
    if (++budget.steps > budget.maxSteps) return { kind: 'unknown', reason: 'steps' };
    if ((budget.steps & 1023) === 0 && Date.now() > budget.deadline) return { kind: 'unknown', reason: 'timeout' };

    if (entry !== null && entry.isCall) {
      const i = entry.op;
      if (twin[i]! >= 0 && !bits.has(twin[i]!)) {
        entry = entry.next;
        continue;
      }
      const r = model.step(state, inputs[i]!, outputs[i]!);
      // An indeterminate op that would change nothing here is never worth placing here: it has no
      // output to justify and no deadline, so leaving it out is always at least as good. Without
      // this, every such op doubles the (set, state) pairs to explore while it is pending (a
      // crashed CAS on a stale version stays pending, and useless, to the end of the history).
      if (r.ok && ops[i]!.indeterminate && sameState(model, state, r.newState)) {
        entry = entry.next;
        continue;
      }
      if (r.ok) {
        bits.flip(i);
        if (memo.add(bits, r.newState)) {
          stack.push({ ev: entry, before: state });
          state = r.newState;
          if (!ops[i]!.indeterminate) remaining--;
          lift(entry);
          entry = head.next;
          continue;
        }
        bits.flip(i);
      }
      entry = entry.next;
      continue;
    }
    // A return (entry === null cannot happen while determinate ops remain, but is handled the same
    // way): its op could not be placed before it returned, given the choices on the stack.
    if (entry !== null && (best === undefined || stack.length > best.prefix.length)) {
      const pending: number[] = [];
      for (let e = head.next; e !== null && e !== entry; e = e.next) if (e.isCall && e.op !== entry.op) pending.push(e.op);
      best = { prefix: stack.map((s) => s.ev.op), stuck: entry.op, pending, state };
    }
    const top = stack.pop();
    if (top === undefined) {
      return best === undefined
        ? { kind: 'fail', prefix: [], stuck: entry?.op ?? 0, pending: [], state }
        : { kind: 'fail', ...best };
    }
    state = top.before;
    bits.flip(top.ev.op);
    if (!ops[top.ev.op]!.indeterminate) remaining++;
    unlift(top.ev);
    entry = top.ev.next;
  }
  return { kind: 'ok' };
}

function sameState<S>(model: Model<S, any, any>, a: S, b: S): boolean {
  if (a === b) return true;
  if (model.hash(a) !== model.hash(b)) return false;
  return model.equal === undefined || model.equal(a, b);
}

function validate(history: readonly Operation<unknown, unknown>[]): void {
  history.forEach((op, i) => {
    if (typeof op.call !== 'number' || !Number.isFinite(op.call)) throw new TypeError(`operation ${i}: call time must be a finite number`);
    if (op.indeterminate) return;
    if (typeof op.return !== 'number' || !Number.isFinite(op.return)) {
      throw new TypeError(`operation ${i}: a determinate operation needs a finite return time (mark it indeterminate if it never returned)`);
    }
    if (op.return < op.call) throw new TypeError(`operation ${i}: returns (${op.return}) before it is called (${op.call})`);
  });
}

/** Checks that `history` is linearizable with respect to `model`. */
export function checkHistory<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[], options: CheckOptions = {}): CheckResult<I, O> {
  const started = Date.now();
  validate(history);
  const budget: Budget = {
    deadline: options.timeoutMs === undefined ? Infinity : started + options.timeoutMs,
    maxSteps: options.maxSteps ?? Infinity,
    steps: 0,
  };
  // Group by key, keeping each op's position in the caller's history for reports. An
  // indeterminate read-only op can neither be contradicted nor affect others: drop it.
  const groups = new Map<string | undefined, number[]>();
  history.forEach((op, i) => {
    if (op.indeterminate && model.readOnly?.(op.input)) return;
    const key = model.partition?.(op.input);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = []));
    g.push(i);
  });
  const stats = (): CheckStats => ({ ops: history.length, partitions: groups.size, steps: budget.steps, elapsedMs: Date.now() - started });

  // Smallest partitions first: a violation in a small one is found before a big one eats the budget.
  const order = [...groups.entries()].sort((a, b) => a[1].length - b[1].length);
  for (const [key, idx] of order) {
    const ops = idx.map((i) => history[i]!);
    const out = searchPartition(model, ops, key, budget);
    if (out.kind === 'ok') continue;
    if (out.kind === 'unknown') return { ok: 'unknown', reason: out.reason, partition: key, ...stats() };
    const g = (k: number): number => idx[k]!;
    const explanation: Explanation<I, O> = {
      partition: key,
      prefix: out.prefix.map((k) => history[g(k)]!),
      prefixIndices: out.prefix.map(g),
      state: describeState(model, out.state),
      stuck: history[g(out.stuck)]!,
      stuckIndex: g(out.stuck),
      pending: out.pending.map((k) => history[g(k)]!),
      pendingIndices: out.pending.map(g),
      message: '',
    };
    explanation.message = explain(model, explanation);
    return { ok: false, explanation, ...stats() };
  }
  return { ok: true, ...stats() };
}

function describeState<S>(model: Model<S, any, any>, s: S): string {
  return model.describeState ? model.describeState(s) : safeJson(s);
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** One line per op, for reports: `#index client c: input → output [call, return]`. */
export function describeOperation<I, O>(op: Operation<I, O>, index?: number, model?: Model<any, I, O>): string {
  const body = model?.describeOp
    ? model.describeOp(op)
    : `${safeJson(op.input)} → ${op.indeterminate ? '?' : safeJson(op.output)}`;
  const at = `[${op.call}, ${op.indeterminate ? '∞ (indeterminate)' : op.return}]`;
  return `${index === undefined ? '' : `#${index} `}client ${op.clientId}: ${body} ${at}`;
}

function explain<I, O>(model: Model<any, I, O>, e: Explanation<I, O>): string {
  const lines: string[] = [];
  lines.push(`not linearizable (${model.name}${e.partition === undefined || e.partition === '' ? '' : `, key ${JSON.stringify(e.partition)}`})`);
  lines.push(`longest linearizable prefix: ${e.prefix.length} op(s); state after it: ${e.state}`);
  const tail = e.prefix.slice(-5);
  if (e.prefix.length > tail.length) lines.push(`  … ${e.prefix.length - tail.length} earlier op(s)`);
  tail.forEach((op, k) => lines.push(`  ${describeOperation(op, e.prefixIndices[e.prefix.length - tail.length + k], model)}`));
  lines.push(`could not place: ${describeOperation(e.stuck, e.stuckIndex, model)}`);
  if (e.pending.length > 0) {
    lines.push(`other ops pending then (none could go first either):`);
    e.pending.slice(0, 10).forEach((op, k) => lines.push(`  ${describeOperation(op, e.pendingIndices[k], model)}`));
    if (e.pending.length > 10) lines.push(`  … ${e.pending.length - 10} more`);
  }
  return lines.join('\n');
}

/** A human-readable summary of a result (the explanation's message for failures). */
export function formatResult(r: CheckResult<any, any>): string {
  const tail = `${r.ops} ops, ${r.partitions} partition(s), ${r.steps} steps, ${r.elapsedMs} ms`;
  if (r.ok === true) return `linearizable (${tail})`;
  if (r.ok === 'unknown') return `unknown: search budget (${r.reason}) exhausted${r.partition === undefined ? '' : ` in key ${JSON.stringify(r.partition)}`} (${tail})`;
  return `${r.explanation.message}\n(${tail})`;
}

// ---------------------------------------------------------------------------------------------
// Saving histories

export interface SavedHistory<I = unknown, O = unknown> {
  savedAt: string;
  model?: string;
  /** The check's verdict in JSON-friendly form (ops referenced by index into `history`). */
  result?: unknown;
  /** Anything that helps reproduce the run: seed, cluster layout, fault schedule… */
  meta?: unknown;
  history: Operation<I, O>[];
}

/**
 * Writes a history (and, if given, the verdict) to `file` as JSON, creating directories.
 * Returns the file's absolute path, for the test's failure message.
 */
export function saveHistory<I, O>(
  file: string,
  history: readonly Operation<I, O>[],
  extra: { model?: string; result?: CheckResult<I, O>; meta?: unknown } = {},
): string {
  const abs = path.resolve(file);
  mkdirSync(path.dirname(abs), { recursive: true });
  const doc: SavedHistory<I, O> = {
    savedAt: new Date().toISOString(),
    ...(extra.model === undefined ? {} : { model: extra.model }),
    ...(extra.result === undefined ? {} : { result: resultToJson(extra.result) }),
    ...(extra.meta === undefined ? {} : { meta: extra.meta }),
    history: [...history],
  };
  writeFileSync(abs, JSON.stringify(doc, null, 1) + '\n');
  return abs;
}

export function loadHistory<I = unknown, O = unknown>(file: string): SavedHistory<I, O> {
  return JSON.parse(readFileSync(file, 'utf8')) as SavedHistory<I, O>;
}

function resultToJson(r: CheckResult<any, any>): unknown {
  const { ok, ops, partitions, steps, elapsedMs } = r;
  if (r.ok === true) return { ok, ops, partitions, steps, elapsedMs };
  if (r.ok === 'unknown') return { ok, reason: r.reason, partition: r.partition, ops, partitions, steps, elapsedMs };
  const e = r.explanation;
  return {
    ok,
    partition: e.partition,
    prefixIndices: e.prefixIndices,
    state: e.state,
    stuckIndex: e.stuckIndex,
    pendingIndices: e.pendingIndices,
    message: e.message,
    ops,
    partitions,
    steps,
    elapsedMs,
  };
}

// ---------------------------------------------------------------------------------------------
// Recording histories from real clients

export interface PendingOperation<O> {
  readonly index: number;
  /** The response arrived (a definite failure such as BadVersion is an output too). */
  ok(output: O): void;
  /** The outcome is unknown (timeout, connection loss, crash). */
  unknown(meta?: unknown): void;
}

/** Collects a history from concurrent clients; ops still open when `history()` is called are indeterminate. */
export class HistoryRecorder<I, O> {
  private readonly ops: Operation<I, O>[] = [];
  private readonly open = new Set<number>();

  constructor(private readonly clock: () => number = () => performance.now()) {}

  invoke(clientId: number | string, input: I): PendingOperation<O> {
    const index = this.ops.length;
    this.ops.push({ clientId, call: this.clock(), input });
    this.open.add(index);
    const close = (): Operation<I, O> => {
      if (!this.open.delete(index)) throw new Error(`operation ${index} completed twice`);
      return this.ops[index]!;
    };
    return {
      index,
      ok: (output) => {
        const op = close();
        op.return = this.clock();
        op.output = output;
      },
      unknown: (meta) => {
        const op = close();
        op.indeterminate = true;
        op.return = this.clock(); // when the client gave up; the checker ignores it
        if (meta !== undefined) op.meta = meta;
      },
    };
  }

  /**
   * Runs `fn` as one operation. `classify` maps an error to a definite output (e.g. BadVersion →
   * {ok: false}) or 'unknown'; errors classified 'unknown' are swallowed and reported as undefined.
   */
  async run(clientId: number | string, input: I, fn: () => Promise<O>, classify: (err: unknown) => { output: O } | 'unknown' = () => 'unknown'): Promise<O | undefined> {
    const p = this.invoke(clientId, input);
    let out: O;
    try {
      out = await fn();
    } catch (err) {
      const c = classify(err);
      if (c === 'unknown') {
        p.unknown({ error: err instanceof Error ? err.message : String(err) });
        return undefined;
      }
      p.ok(c.output);
      return c.output;
    }
    p.ok(out);
    return out;
  }

  /** A copy of the history so far; ops not yet completed appear as indeterminate. */
  history(): History<I, O> {
    return this.ops.map((op, i) => (this.open.has(i) ? { ...op, indeterminate: true } : { ...op }));
  }
}

// ---------------------------------------------------------------------------------------------
// Models

export type Value = string | number | boolean | null;

/** Stands in for values no operation ever revealed (see Model.normalize). */
export const UNOBSERVED = '\u0000unobserved value';

function describeValue(v: Value): string {
  return v === UNOBSERVED ? '(a value nobody read)' : JSON.stringify(v);
}

/**
 * A ZooKeeper znode used as a compare-and-set register through getData/setData:
 *  - read → { value, version }                       (getData: data and Stat.version)
 *  - write(value) → { version? }                     (setData with version -1; the new Stat.version)
 *  - cas(version, value) → { ok: true, version? }    (setData with that version succeeded)
 *                        | { ok: false }             (BadVersion)
 * Every successful write bumps the version by one, so versions totally order the writes the
 * clients saw, which makes lost or reordered writes very visible. Ops carrying a `key` (the znode
 * path) are checked per key.
 */
export type ZkRegisterInput =
  | { type: 'read'; key?: string }
  | { type: 'write'; key?: string; value: Value }
  | { type: 'cas'; key?: string; version: number; value: Value };
export type ZkRegisterOutput = { value: Value; version: number } | { version?: number } | { ok: boolean; version?: number };
export interface ZkRegisterState {
  readonly value: Value;
  readonly version: number;
}

export function zkRegisterModel(
  opts: { initial?: ZkRegisterState | ((key: string | undefined) => ZkRegisterState) } = {},
): Model<ZkRegisterState, ZkRegisterInput, ZkRegisterOutput> {
  const initial = opts.initial ?? { value: null, version: 0 };
  return {
    name: 'zk-cas-register',
    init: (key) => (typeof initial === 'function' ? initial(key) : initial),
    step(s, input, output) {
      const unknown = output === UNKNOWN;
      switch (input.type) {
        case 'read': {
          if (unknown) return { ok: true, newState: s };
          const o = output as { value: Value; version: number };
          return o.value === s.value && o.version === s.version ? { ok: true, newState: s } : { ok: false };
        }
        case 'write': {
          const version = s.version + 1;
          const seen = unknown ? undefined : (output as { version?: number }).version;
          if (seen !== undefined && seen !== version) return { ok: false };
          return { ok: true, newState: { value: input.value, version } };
        }
        case 'cas': {
          const matches = s.version === input.version;
          if (unknown) return { ok: true, newState: matches ? { value: input.value, version: s.version + 1 } : s };
          const o = output as { ok: boolean; version?: number };
          if (!o.ok) return matches ? { ok: false } : { ok: true, newState: s };
          if (!matches || (o.version !== undefined && o.version !== s.version + 1)) return { ok: false };
          return { ok: true, newState: { value: input.value, version: s.version + 1 } };
        }
      }
    },
    hash: (s) => `${s.version}:${JSON.stringify(s.value)}`,
    partition: (i) => i.key ?? '',
    readOnly: (i) => i.type === 'read',
    // Only reads reveal values (CAS compares versions), so a crashed write or CAS whose value no
    // read returned is just "some version bump": all such become the same op.
    normalize(ops) {
      const seen = new Set<string>();
      for (const op of ops) if (!op.indeterminate && op.input.type === 'read') seen.add(JSON.stringify((op.output as { value: Value }).value));
      return ops.map((op) => (op.indeterminate && op.input.type !== 'read' && !seen.has(JSON.stringify(op.input.value)) ? { ...op.input, value: UNOBSERVED } : op.input));
    },
    describeState: (s) => `value ${describeValue(s.value)} version ${s.version}`,
    describeOp(op) {
      const i = op.input;
      const k = i.key === undefined ? '' : `${i.key} `;
      const o = op.output as Record<string, unknown> | undefined;
      const res = op.indeterminate || o === undefined ? '?' : i.type === 'read' ? `(${JSON.stringify(o.value)}, v${o.version})` : i.type === 'write' ? `v${o.version ?? '?'}` : o.ok ? `ok${o.version === undefined ? '' : ` v${o.version}`}` : 'BadVersion';
      const call = i.type === 'read' ? 'read' : i.type === 'write' ? `write ${JSON.stringify(i.value)}` : `cas v${i.version} → ${JSON.stringify(i.value)}`;
      return `${k}${call} → ${res}`;
    },
  };
}

/**
 * A plain key-value store of registers: read → value, write(value) → (output ignored),
 * cas(expected, value) → boolean. Ops without a key all act on one register.
 */
export type KvInput =
  | { type: 'read'; key?: string }
  | { type: 'write'; key?: string; value: Value }
  | { type: 'cas'; key?: string; expected: Value; value: Value };
export type KvOutput = Value | boolean | undefined;

export function kvModel(opts: { initial?: Value | ((key: string | undefined) => Value) } = {}): Model<Value, KvInput, KvOutput> {
  const initial = opts.initial ?? null;
  return {
    name: 'kv',
    init: (key) => (typeof initial === 'function' ? initial(key) : initial),
    step(s, input, output) {
      const unknown = output === UNKNOWN;
      switch (input.type) {
        case 'read':
          return unknown || output === s ? { ok: true, newState: s } : { ok: false };
        case 'write':
          return { ok: true, newState: input.value };
        case 'cas': {
          const matches = s === input.expected;
          if (unknown) return { ok: true, newState: matches ? input.value : s };
          if (output !== matches) return { ok: false };
          return { ok: true, newState: matches ? input.value : s };
        }
      }
    },
    hash: (s) => JSON.stringify(s),
    partition: (i) => i.key ?? '',
    readOnly: (i) => i.type === 'read',
    // Values are revealed by reads and by CAS comparisons (of any CAS, since a crashed one still
    // compares); a crashed write or CAS of a value never revealed is one "unobserved" write.
    normalize(ops) {
      const seen = new Set<string>();
      for (const op of ops) {
        if (op.input.type === 'cas') seen.add(JSON.stringify(op.input.expected));
        else if (op.input.type === 'read' && !op.indeterminate) seen.add(JSON.stringify(op.output));
      }
      return ops.map((op) => (op.indeterminate && op.input.type !== 'read' && !seen.has(JSON.stringify(op.input.value)) ? { ...op.input, value: UNOBSERVED } : op.input));
    },
    describeState: describeValue,
  };
}

/**
 * The same model over all keys at once (state: key → sub-state), ignoring P-compositionality.
 * Slower; it exists to cross-check the partitioned search and for models whose keys interact.
 */
export function withoutPartitioning<S, I, O>(model: Model<S, I, O>): Model<ReadonlyMap<string, S>, I, O> {
  const keyOf = (i: I): string => model.partition?.(i) ?? '';
  return {
    name: `${model.name} (unpartitioned)`,
    init: () => new Map(),
    step(m, input, output) {
      const k = keyOf(input);
      const r = model.step(m.has(k) ? m.get(k)! : model.init(k), input, output);
      if (!r.ok) return r;
      const next = new Map(m);
      next.set(k, r.newState);
      return { ok: true, newState: next };
    },
    hash: (m) =>
      [...m.keys()]
        .sort()
        .map((k) => `${JSON.stringify(k)}=${model.hash(m.get(k)!)}`)
        .join(','),
    ...(model.equal ? { equal: (a: ReadonlyMap<string, S>, b: ReadonlyMap<string, S>) => a.size === b.size && [...a].every(([k, s]) => b.has(k) && model.equal!(s, b.get(k)!)) } : {}),
    ...(model.readOnly ? { readOnly: (i: I) => model.readOnly!(i) } : {}),
    describeState: (m) => `{${[...m].map(([k, s]) => `${JSON.stringify(k)}: ${model.describeState ? model.describeState(s) : JSON.stringify(s)}`).join(', ')}}`,
    ...(model.describeOp ? { describeOp: model.describeOp } : {}),
  };
}
