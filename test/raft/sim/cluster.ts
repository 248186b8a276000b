// Deterministic cluster simulator for the Raft core (after TigerBeetle's VOPR and etcd's
// rafttest network). One seed fixes everything: cluster size, fault mix, every drop, delay,
// crash and membership change, and each node's election jitter. A failure reports its seed;
// simulate({seed, trace: true}) replays it exactly and prints the last events.
//
// Fault model:
//   network: per-message loss, duplication, delay (delay spread = reordering), partitions
//            (isolate one node, split in two groups, one-way link cuts).
//   nodes:   crash at any moment, restart later. A Ready whose fsync had not completed is lost,
//            except a random prefix of its entries and (independently) its hard state, which
//            may reach the disk: unacknowledged writes may or may not survive.
//   clocks:  each node ticks at its own rate (drift), so election timers race unevenly.
//   config:  learners added and promoted, voters removed, demoted, and replaced through
//            joint consensus, all while the faults above run.
// After every event the node it touched is checked (election safety, entry identity per
// (index, term), state-machine safety, commit/applied monotonicity, ReadIndex linearizability);
// every 64 events and at the end all logs are compared pairwise (log matching); every new
// leader is checked for leader completeness. Then faults stop (no loss, duplication, cuts or
// crashes; delays at most one tick), everything heals and restarts, and the cluster must elect a leader and commit + apply fresh proposals on every member
// within a bounded number of ticks (liveness).

import { MemoryStorage } from '../../../src/raft/memory-storage.js';
import { type ConfChange, ConfChangeType, type ConfState, type Entry, EntryType, type Message, describeMessage } from '../../../src/raft/messages.js';
import { decodeConfChange, ProposalDroppedError, Raft, type RaftConfig } from '../../../src/raft/raft.js';
import { RawNode, type Ready } from '../../../src/raft/rawnode.js';
import { Prng } from './prng.js';

export interface SimOptions {
  seed: number;
  /** 3, 5 or 7 voters initially; default chosen by the seed. */
  nodes?: number;
  /** Ticks of the fault phase; default chosen by the seed. */
  faultTicks?: number;
  /** Builds the core for each node (the planted-bug test passes a broken Raft subclass). */
  raftFactory?: (c: RaftConfig) => Raft;
  /** Overrides of the seed-chosen fault profile. */
  profile?: Partial<Profile>;
  /** Keep a trace of events; printed (last lines) when a check fails. */
  trace?: boolean;
}

export interface SimStats {
  nodes: number;
  events: number;
  messages: number;
  elections: number;
  crashes: number;
  confChanges: number;
  snapshotsSent: number;
  committed: number;
  ticks: number;
  profile: string;
}

export class SimFailure extends Error {
  override name = 'SimFailure';
  constructor(
    readonly seed: number,
    readonly reason: string,
    readonly traceTail: string[],
  ) {
    super(`raft simulation failed (seed ${seed}): ${reason}\n  replay: SIM_SEED=${seed} node --test dist/test/raft/sim.test.js` + (traceTail.length ? `\n  last events:\n    ${traceTail.join('\n    ')}` : ''));
  }
}

const TICK = 10; // time units per nominal tick
const ELECTION_TICK = 10;
const HEARTBEAT_TICK = 2;
const LEADER_BOUND_TICKS = 150;
const COMMIT_BOUND_TICKS = 600;

export interface Profile {
  loss: number;
  dup: number;
  delayMax: number;
  /** false: per-link FIFO like TCP (delays vary but never overtake); true: 10% of messages may be overtaken (as across a reconnect). */
  reorder: boolean;
  drift: number;
  crashEvery: number; // ticks between crash attempts (0 = never)
  partitionEvery: number;
  confEvery: number;
  proposeEvery: number;
  maxSizePerMsg: number;
  maxInflight: number;
  snapEvery: number;
  snapKeep: number;
  chunkBytes: number;
  fsyncMax: number;
}

function chooseProfile(r: Prng): Profile {
  return {
    loss: r.pick([0, 0, 0.01, 0.05, 0.2]),
    dup: r.pick([0, 0, 0.02, 0.1]),
    delayMax: r.pick([1, 5, 20, 60]),
    reorder: r.chance(0.3),
    drift: r.pick([0, 0.05, 0.2]),
    crashEvery: r.pick([0, 10, 40, 120]),
    partitionEvery: r.pick([0, 10, 30, 80]),
    confEvery: r.pick([0, 0, 25, 60]),
    proposeEvery: r.pick([1, 3, 8]),
    maxSizePerMsg: r.pick([1, 100, 4096]), // 1 byte: one entry per append
    maxInflight: r.pick([1, 4, 64]),
    snapEvery: r.pick([10, 40, 1e9]),
    snapKeep: r.pick([0, 3]),
    chunkBytes: r.pick([8, 32, 1 << 20]),
    fsyncMax: r.pick([0, 3, 15]),
  };
}

function describeProfile(p: Profile): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

// ---- event queue (binary heap on (time, seq)) -----------------------------------------------

type Ev =
  | { k: 'tick'; node: number; gen: number }
  | { k: 'msg'; m: Message }
  | { k: 'fsync'; node: number; gen: number }
  | { k: 'restart'; node: number }
  | { k: 'fault' }
  | { k: 'propose' }
  | { k: 'conf' };

class Queue {
  private t: number[] = [];
  private s: number[] = [];
  private e: Ev[] = [];
  private seq = 0;
  get size(): number {
    return this.e.length;
  }
  push(time: number, ev: Ev): void {
    this.t.push(time);
    this.s.push(this.seq++);
    this.e.push(ev);
    let i = this.e.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  peekTime(): number {
    return this.t[0]!;
  }
  pop(): Ev {
    const top = this.e[0]!;
    const last = this.e.length - 1;
    this.swap(0, last);
    this.t.pop();
    this.s.pop();
    this.e.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.e.length && this.less(l, m)) m = l;
      if (r < this.e.length && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
  private less(a: number, b: number): boolean {
    return this.t[a]! < this.t[b]! || (this.t[a] === this.t[b] && this.s[a]! < this.s[b]!);
  }
  private swap(a: number, b: number): void {
    [this.t[a], this.t[b]] = [this.t[b]!, this.t[a]!];
    [this.s[a], this.s[b]] = [this.s[b]!, this.s[a]!];
    [this.e[a], this.e[b]] = [this.e[b]!, this.e[a]!];
  }
}

// ---- state machine of each node (a rolling hash of everything applied) ---------------------

function fnv(h: number, x: number): number {
  h ^= x;
  return Math.imul(h, 16777619) >>> 0;
}
function entryDigest(e: Entry): number {
  let h = fnv(2166136261, e.term);
  h = fnv(h, e.type);
  const d = e.data;
  if (d !== null) for (let i = 0; i < d.length; i++) h = fnv(h, d[i]!);
  return h;
}

interface AppState {
  applied: number;
  hash: number;
  confState: ConfState;
}
function encodeApp(s: AppState): Buffer {
  return Buffer.from(JSON.stringify(s));
}
function decodeApp(b: Buffer): AppState {
  return JSON.parse(b.toString()) as AppState;
}

interface SimNode {
  id: number;
  storage: MemoryStorage;
  rn: RawNode | undefined;
  gen: number;
  pending: Ready | undefined;
  app: AppState;
  tickPeriod: number;
  rng: Prng;
  lastCommit: number;
}

export function simulate(opts: SimOptions): SimStats {
  const sim = new Simulation(opts);
  try {
    sim.run();
  } catch (e) {
    // An assertion inside the Raft core is as much a finding as a failed check: give it the seed and the trace.
    if (e instanceof SimFailure) throw e;
    sim.fail(`exception: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  return sim.stats;
}

class Simulation {
  readonly rng: Prng;
  readonly profile: Profile;
  readonly n: number;
  readonly nodes = new Map<number, SimNode>();
  readonly initialVoters: number[];
  readonly q = new Queue();
  now = 0;
  faultsOn = true;
  readonly faultEnd: number;
  readonly cut = new Set<string>(); // "from>to" links that drop everything
  readonly stats: SimStats;
  readonly trace: string[] | undefined;
  // checker state
  readonly leaderOfTerm = new Map<number, number>();
  readonly entryAt = new Map<string, number>(); // "index/term" -> digest
  readonly appliedEntry = new Map<number, number>(); // index -> digest of the entry applied there
  readonly appliedHash = new Map<number, number>(); // index -> rolling hash after applying it
  readonly appliedTerm = new Map<number, number>();
  maxApplied = 0;
  readonly reads = new Map<string, number>(); // read ctx -> highest commit anywhere when asked
  readCounter = 0;
  proposals = 0;
  readonly finalProposals = new Map<string, number>(); // data -> time proposed (liveness)
  eventsSinceFullCheck = 0;

  constructor(readonly opts: SimOptions) {
    this.rng = new Prng(opts.seed);
    const setup = this.rng.fork();
    this.n = opts.nodes ?? setup.pick([3, 3, 5, 5, 7]);
    this.profile = { ...chooseProfile(setup), ...opts.profile };
    this.faultEnd = (opts.faultTicks ?? setup.range(100, 400)) * TICK;
    this.initialVoters = [];
    for (let i = 1; i <= this.n; i++) this.initialVoters.push(i);
    this.trace = opts.trace ? [] : undefined;
    this.stats = {
      nodes: this.n,
      events: 0,
      messages: 0,
      elections: 0,
      crashes: 0,
      confChanges: 0,
      snapshotsSent: 0,
      committed: 0,
      ticks: 0,
      profile: `n=${this.n} faultTicks=${this.faultEnd / TICK} ${describeProfile(this.profile)}`,
    };
    const spares = 2;
    for (let id = 1; id <= this.n + spares; id++) {
      const node: SimNode = {
        id,
        storage: new MemoryStorage(),
        rn: undefined,
        gen: 0,
        pending: undefined,
        app: { applied: 0, hash: 0, confState: this.bootConfState() },
        tickPeriod: Math.max(2, Math.round(TICK * (1 + (setup.float() * 2 - 1) * this.profile.drift))),
        rng: setup.fork(),
        lastCommit: 0,
      };
      this.nodes.set(id, node);
      this.start(node);
    }
    this.q.push(this.at(this.profile.proposeEvery), { k: 'propose' });
    if (this.profile.crashEvery + this.profile.partitionEvery > 0) this.q.push(this.at(20), { k: 'fault' });
    if (this.profile.confEvery > 0) this.q.push(this.at(30), { k: 'conf' });
  }

  private bootConfState(): ConfState {
    return { voters: this.initialVoters.slice(), votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
  }

  private at(ticks: number): number {
    return this.now + Math.max(1, Math.round(ticks * TICK));
  }

  private log(s: string): void {
    if (this.trace === undefined) return;
    this.trace.push(`t=${this.now} ${s}`);
    if (this.trace.length > 400) this.trace.splice(0, 200);
  }

  fail(reason: string): never {
    throw new SimFailure(this.opts.seed, `${reason} [${this.stats.profile}]`, this.trace?.slice(-60) ?? []);
  }

  // ---- node lifecycle ----------------------------------------------------------------------

  private start(node: SimNode): void {
    const cfg: RaftConfig = {
      id: node.id,
      storage: node.storage,
      electionTick: ELECTION_TICK,
      heartbeatTick: HEARTBEAT_TICK,
      random: () => node.rng.float(),
      voters: this.initialVoters,
      maxSizePerMsg: this.profile.maxSizePerMsg,
      maxInflightMsgs: this.profile.maxInflight,
      snapshotChunkBytes: this.profile.chunkBytes,
    };
    const raft = this.opts.raftFactory ? this.opts.raftFactory(cfg) : undefined;
    node.rn = new RawNode(cfg, raft);
    node.gen++;
    const snap = node.storage.snapshot();
    node.app = snap.meta.index > 0 ? decodeApp(snap.data) : { applied: 0, hash: 0, confState: this.bootConfState() };
    node.lastCommit = node.rn.raft.raftLog.committed;
    this.q.push(this.now + 1 + node.rng.int(node.tickPeriod), { k: 'tick', node: node.id, gen: node.gen });
  }

  private crash(node: SimNode): void {
    const rd = node.pending;
    if (rd !== undefined) {
      // Part of the un-fsynced write may have reached the disk anyway.
      const r = this.rng;
      let snapOk = true;
      if (rd.snapshot !== undefined) {
        snapOk = r.chance(0.5);
        if (snapOk) node.storage.applySnapshot(rd.snapshot);
      }
      if (snapOk && rd.entries.length > 0) {
        const k = r.int(rd.entries.length + 1);
        node.storage.append(rd.entries.slice(0, k));
      }
      // Term and vote may reach the disk before the entries; the commit index may not (the
      // storage contract in rawnode.ts, kept by durable-storage.ts).
      if (rd.hardState !== undefined && r.chance(0.5)) {
        node.storage.setHardState({ ...rd.hardState, commit: node.storage.initialState().hardState.commit });
      }
    }
    node.pending = undefined;
    node.rn = undefined;
    node.gen++;
    this.stats.crashes++;
    this.log(`crash ${node.id}${rd ? ' (fsync in flight)' : ''}`);
  }

  // ---- main loop -----------------------------------------------------------------------------

  run(): void {
    // Liveness bounds after the faults stop: a leader within LEADER_BOUND ticks, every final
    // proposal applied on every member within COMMIT_BOUND ticks.
    const leaderDeadline = this.faultEnd + LEADER_BOUND_TICKS * TICK;
    const livenessDeadline = this.faultEnd + COMMIT_BOUND_TICKS * TICK;
    let healed = false;
    let proposedFinal = false;
    let leaderSeen = false;
    while (this.q.size > 0) {
      this.now = this.q.peekTime();
      if (!healed && this.now >= this.faultEnd) {
        healed = true;
        this.heal();
      }
      if (healed) {
        const leader = this.leader();
        if (leader !== undefined && !proposedFinal) {
          proposedFinal = true;
          for (let i = 0; i < 3; i++) this.finalProposals.set(`final-${i}`, this.now);
        }
        if (proposedFinal && this.livenessDone()) break;
        if (leader !== undefined) leaderSeen = true;
        if (!leaderSeen && this.now > leaderDeadline) this.fail(`liveness: no leader ${LEADER_BOUND_TICKS} ticks after faults stopped (${this.describeNodes()})`);
        if (this.now > livenessDeadline) {
          this.fail(
            leader === undefined
              ? `liveness: no leader ${(this.now - this.faultEnd) / TICK} ticks after faults stopped`
              : `liveness: final proposals not applied on every member (leader ${leader.id} config ${JSON.stringify(leader.rn!.raft.confState())} progress ${[...leader.rn!.raft.progress].map(([id, p]) => `${id}:${p.describe()}`).join(', ')}; ${this.describeNodes()})`,
          );
        }
      }
      const ev = this.q.pop();
      this.stats.events++;
      this.handle(ev);
      if (++this.eventsSinceFullCheck >= 64) {
        this.eventsSinceFullCheck = 0;
        this.checkLogMatching();
      }
    }
    this.checkLogMatching();
    this.stats.ticks = Math.round(this.now / TICK);
  }

  private handle(ev: Ev): void {
    switch (ev.k) {
      case 'tick': {
        const node = this.nodes.get(ev.node)!;
        if (node.gen !== ev.gen || node.rn === undefined) return;
        node.rn.tick();
        // Drift: each node has its own period; a little jitter per tick as well.
        this.q.push(this.now + node.tickPeriod + (this.profile.drift > 0 ? this.rng.int(3) : 0), { k: 'tick', node: node.id, gen: node.gen });
        this.afterInput(node);
        return;
      }
      case 'msg': {
        const node = this.nodes.get(ev.m.to);
        if (node?.rn === undefined) return;
        if (this.trace) this.log(`deliver ${describeMessage(ev.m)}`);
        node.rn.step(ev.m);
        this.afterInput(node);
        return;
      }
      case 'fsync': {
        const node = this.nodes.get(ev.node)!;
        if (node.gen !== ev.gen || node.pending === undefined) return;
        const rd = node.pending;
        node.pending = undefined;
        this.complete(node, rd);
        this.afterInput(node);
        return;
      }
      case 'restart': {
        const node = this.nodes.get(ev.node)!;
        if (node.rn !== undefined) return;
        this.start(node);
        this.log(`restart ${node.id}`);
        return;
      }
      case 'fault':
        if (!this.faultsOn) return;
        this.injectFault();
        this.q.push(this.at(Math.min(this.profile.crashEvery || 99, this.profile.partitionEvery || 99) <= 10 ? this.rng.range(2, 12) : this.rng.range(5, 40)), { k: 'fault' });
        return;
      case 'propose':
        this.proposeSome();
        this.q.push(this.at(this.profile.proposeEvery), { k: 'propose' });
        return;
      case 'conf':
        if (!this.faultsOn) return;
        this.changeMembership();
        this.q.push(this.at(this.rng.range(1, this.profile.confEvery)), { k: 'conf' });
        return;
    }
  }

  /** After a node took input: check it, then run its Ready loop. */
  private afterInput(node: SimNode): void {
    if (node.rn === undefined) return;
    this.checkNode(node);
    while (node.rn !== undefined && node.pending === undefined && node.rn.hasReady()) {
      const rd = node.rn.ready();
      if (rd.mustSync && this.profile.fsyncMax > 0) {
        node.pending = rd;
        this.q.push(this.now + 1 + this.rng.int(this.profile.fsyncMax), { k: 'fsync', node: node.id, gen: node.gen });
        return;
      }
      this.complete(node, rd);
    }
  }

  /** Steps a-d of the Ready contract (see rawnode.ts), after the fsync completed. */
  private complete(node: SimNode, rd: Ready): void {
    const rn = node.rn!;
    // a. persist
    if (rd.snapshot !== undefined) node.storage.applySnapshot(rd.snapshot);
    node.storage.append(rd.entries);
    if (rd.hardState !== undefined) node.storage.setHardState(rd.hardState);
    for (const e of rd.entries) this.checkEntryIdentity(e);
    // b. send
    for (const m of rd.messages) this.send(m);
    // c. apply
    if (rd.snapshot !== undefined) this.installSnapshot(node, rd.snapshot.data, rd.snapshot.meta.index);
    for (const e of rd.committedEntries) this.apply(node, e);
    for (const rs of rd.readStates) {
      const key = rs.context.toString();
      const floor = this.reads.get(key);
      if (floor !== undefined && rs.index < floor) this.fail(`ReadIndex: read ${key} got index ${rs.index} but ${floor} was already committed when it was requested`);
      this.reads.delete(key);
    }
    if (rd.softState?.state === 'leader') this.onNewLeader(node);
    rn.advance(rd);
    // Compaction: the application snapshots its state now and then.
    const snapIndex = node.storage.snapshot().meta.index;
    if (node.app.applied - snapIndex >= this.profile.snapEvery && node.app.applied <= node.storage.lastIndex()) {
      node.storage.createSnapshot(node.app.applied, node.app.confState, encodeApp(node.app), this.profile.snapKeep);
    }
  }

  private send(m: Message): void {
    this.stats.messages++;
    if (m.type === 9) this.stats.snapshotsSent++;
    if (this.faultsOn) {
      if (this.cut.has(`${m.from}>${m.to}`)) return;
      if (this.profile.loss > 0 && this.rng.chance(this.profile.loss)) return;
      if (this.profile.dup > 0 && this.rng.chance(this.profile.dup)) this.q.push(this.now + 1 + this.rng.int(this.profile.delayMax), { k: 'msg', m });
    }
    // Once faults stop the network is healthy: delays well under the election timeout (a delay
    // near the timeout is itself a fault; Raft promises no bound on elections under it).
    let at = this.now + 1 + this.rng.int(this.faultsOn ? this.profile.delayMax : Math.min(this.profile.delayMax, TICK));
    if (!this.profile.reorder || !this.rng.chance(0.1)) {
      const link = m.from * 64 + m.to;
      at = Math.max(at, this.linkLast.get(link) ?? 0);
      this.linkLast.set(link, at);
    }
    this.q.push(at, { k: 'msg', m });
  }
  private readonly linkLast = new Map<number, number>();

  private apply(node: SimNode, e: Entry): void {
    const app = node.app;
    if (e.index !== app.applied + 1) this.fail(`node ${node.id} applies ${e.index} after ${app.applied}`);
    const d = entryDigest(e);
    const seen = this.appliedEntry.get(e.index);
    if (seen === undefined) {
      this.appliedEntry.set(e.index, d);
      this.appliedTerm.set(e.index, e.term);
      if (e.index > this.maxApplied) this.maxApplied = e.index;
    } else if (seen !== d) {
      this.fail(`state machine safety: node ${node.id} applied a different entry at index ${e.index} (term ${e.term}, earlier term ${this.appliedTerm.get(e.index)})`);
    }
    app.applied = e.index;
    app.hash = fnv(app.hash, d);
    const h = this.appliedHash.get(e.index);
    if (h === undefined) this.appliedHash.set(e.index, app.hash);
    else if (h !== app.hash) this.fail(`state machine safety: node ${node.id} state hash differs after index ${e.index}`);
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConfChange(e.data!);
      app.confState = node.rn!.applyConfChange(cc);
      this.log(`node ${node.id} applied conf change at ${e.index}: voters=${app.confState.voters} out=${app.confState.votersOutgoing} learners=${app.confState.learners}`);
    }
    if (e.data !== null && e.data.length > 0) this.finalProposals.delete(e.data.toString()) ;
    this.stats.committed = Math.max(this.stats.committed, e.index);
  }

  private installSnapshot(node: SimNode, data: Buffer, index: number): void {
    const st = decodeApp(data);
    if (st.applied !== index) this.fail(`snapshot at ${index} holds state applied to ${st.applied}`);
    const h = this.appliedHash.get(index);
    if (h !== undefined && h !== st.hash) this.fail(`state machine safety: snapshot at ${index} differs from the state other nodes applied`);
    node.app = st;
    this.log(`node ${node.id} installed snapshot ${index}`);
  }

  // ---- checks --------------------------------------------------------------------------------

  private checkNode(node: SimNode): void {
    const r = node.rn!.raft;
    r.checkInvariants();
    if (r.state === 'leader') {
      const l = this.leaderOfTerm.get(r.term);
      if (l === undefined) this.leaderOfTerm.set(r.term, node.id);
      else if (l !== node.id) this.fail(`election safety: nodes ${l} and ${node.id} both leader in term ${r.term}`);
    }
    const c = r.raftLog.committed;
    if (c < node.lastCommit) this.fail(`node ${node.id} commit went back ${node.lastCommit} -> ${c}`);
    node.lastCommit = c;
  }

  private checkEntryIdentity(e: Entry): void {
    const key = `${e.index}/${e.term}`;
    const d = entryDigest(e);
    const seen = this.entryAt.get(key);
    if (seen === undefined) this.entryAt.set(key, d);
    else if (seen !== d) this.fail(`log matching: two different entries at index ${e.index} term ${e.term}`);
  }

  private onNewLeader(node: SimNode): void {
    this.stats.elections++;
    const log = node.rn!.raft.raftLog;
    this.log(`node ${node.id} leader of term ${node.rn!.raft.term} (last ${log.lastIndex()})`);
    // Leader completeness: every entry applied anywhere (hence committed) is in the new leader's log.
    const first = log.firstIndex();
    for (let i = Math.max(1, first); i <= this.maxApplied; i++) {
      const t = this.appliedTerm.get(i);
      if (t === undefined) continue;
      if (log.term(i) !== t) this.fail(`leader completeness: leader ${node.id} (term ${node.rn!.raft.term}) has term ${log.term(i)} at committed index ${i}, expected ${t}`);
    }
  }

  /** Log matching: if two logs hold an entry with the same index and term, they agree on all before it. */
  private checkLogMatching(): void {
    const up = [...this.nodes.values()].filter((n) => n.rn !== undefined);
    for (let a = 0; a < up.length; a++) {
      for (let b = a + 1; b < up.length; b++) {
        const la = up[a]!.rn!.raft.raftLog;
        const lb = up[b]!.rn!.raft.raftLog;
        const lo = Math.max(la.firstIndex(), lb.firstIndex());
        let matched = false;
        for (let i = Math.min(la.lastIndex(), lb.lastIndex()); i >= lo; i--) {
          const ta = la.term(i);
          const tb = lb.term(i);
          if (matched && ta !== tb) this.fail(`log matching: nodes ${up[a]!.id} and ${up[b]!.id} agree at a later index but differ at ${i} (${ta} vs ${tb})`);
          if (ta === tb) matched = true;
        }
      }
    }
  }

  private describeNodes(): string {
    return [...this.nodes.values()]
      .map((n) => (n.rn ? `${n.id}:${n.rn.raft.state[0]}t${n.rn.raft.term}c${n.rn.raft.raftLog.committed}a${n.app.applied}l${n.rn.raft.raftLog.lastIndex()}` : `${n.id}:down`))
      .join(' ');
  }

  // ---- faults and workload ---------------------------------------------------------------------

  private upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.rn !== undefined);
  }

  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      const r = n.rn?.raft;
      if (r?.state === 'leader' && (best === undefined || r.term > best.rn!.raft.term)) best = n;
    }
    return best;
  }

  private injectFault(): void {
    const r = this.rng;
    const ids = [...this.nodes.keys()];
    const p = this.profile;
    if (p.crashEvery > 0 && r.chance(10 / p.crashEvery)) {
      // Half the time the nemesis aims at the leader: leader changes are where Raft bugs live.
      const leader = this.leader();
      const up = this.upNodes();
      const victim = leader !== undefined && r.chance(0.5) ? leader : up.length > 0 ? r.pick(up) : undefined;
      if (victim !== undefined) {
        this.crash(victim);
        this.q.push(this.at(r.range(1, p.crashEvery <= 10 ? 15 : 60)), { k: 'restart', node: victim.id });
      }
    }
    if (p.partitionEvery > 0 && r.chance(10 / p.partitionEvery)) {
      this.cut.clear();
      const kind = r.int(4);
      if (kind === 0) {
        const leader = this.leader();
        const x = leader !== undefined && r.chance(0.5) ? leader.id : r.pick(ids);
        for (const y of ids) if (y !== x) this.cut.add(`${x}>${y}`).add(`${y}>${x}`);
        this.log(`partition: isolate ${x}`);
      } else if (kind === 1) {
        const side = new Set(ids.filter(() => r.chance(0.5)));
        for (const x of ids) for (const y of ids) if (side.has(x) !== side.has(y)) this.cut.add(`${x}>${y}`);
        this.log(`partition: split ${[...side]} | rest`);
      } else if (kind === 2) {
        for (let k = r.range(1, ids.length); k > 0; k--) {
          const x = r.pick(ids);
          const y = r.pick(ids);
          if (x !== y) this.cut.add(`${x}>${y}`); // one-way: asymmetric partition
        }
        this.log(`partition: one-way cuts ${[...this.cut]}`);
      } else {
        this.log('partition: healed');
      }
    }
  }

  private proposeSome(): void {
    const leader = this.leader();
    const data = this.faultsOn ? `p${this.proposals++}` : undefined;
    if (leader !== undefined) {
      const rn = leader.rn!;
      // Client back-pressure: the server stops accepting writes while too many are uncommitted.
      if (rn.raft.raftLog.lastIndex() - rn.raft.raftLog.committed > 64) return;
      try {
        if (data !== undefined) rn.propose(Buffer.from(data));
        else {
          // Client retry: re-propose what is not applied yet, at most every 30 ticks.
          for (const [d, t] of this.finalProposals) {
            if (t > this.now) continue;
            this.finalProposals.set(d, this.now + 30 * TICK);
            rn.propose(Buffer.from(d));
          }
        }
      } catch (e) {
        if (!(e instanceof ProposalDroppedError)) throw e;
      }
      // A linearizable read now and then.
      if (this.rng.chance(0.2)) {
        const ctx = `r${this.readCounter++}`;
        this.reads.set(ctx, this.highestCommit());
        const asker = this.rng.chance(0.5) ? leader : this.rng.pick(this.upNodes()); // the leader is up
        asker.rn!.readIndex(Buffer.from(ctx));
        this.afterInput(asker);
      }
      this.afterInput(leader);
    }
  }

  private highestCommit(): number {
    let c = 0;
    for (const n of this.nodes.values()) if (n.rn !== undefined) c = Math.max(c, n.rn.raft.raftLog.committed);
    return c;
  }

  private changeMembership(): void {
    const leader = this.leader();
    if (leader === undefined) return;
    const r = this.rng;
    const raft = leader.rn!.raft;
    const cs = raft.confState();
    if (cs.votersOutgoing.length > 0) return; // auto-leave will follow
    const all = [...this.nodes.keys()];
    const nonMembers = all.filter((id) => !cs.voters.includes(id) && !cs.learners.includes(id));
    let cc: ConfChange | undefined;
    const single = (type: ConfChangeType, node: number): ConfChange => ({ changes: [{ type, node }], joint: false, context: Buffer.alloc(0) });
    switch (r.int(5)) {
      case 0:
        if (nonMembers.length > 0) cc = single(ConfChangeType.AddLearner, r.pick(nonMembers));
        break;
      case 1:
        if (cs.learners.length > 0) cc = single(ConfChangeType.AddVoter, r.pick(cs.learners));
        break;
      case 2:
        if (cs.voters.length > 3) cc = single(ConfChangeType.RemoveNode, r.pick(cs.voters));
        break;
      case 3:
        if (cs.voters.length > 3) cc = single(ConfChangeType.AddLearner, r.pick(cs.voters)); // demote
        break;
      case 4: {
        // Replace a voter through joint consensus (leaves automatically).
        const candidates = [...cs.learners, ...nonMembers];
        if (candidates.length > 0) {
          cc = {
            changes: [
              { type: ConfChangeType.RemoveNode, node: r.pick(cs.voters) },
              { type: ConfChangeType.AddVoter, node: r.pick(candidates) },
            ],
            joint: false,
            context: Buffer.alloc(0),
          };
        }
        break;
      }
    }
    if (cc === undefined) return;
    try {
      leader.rn!.proposeConfChange(cc);
      this.stats.confChanges++;
      this.log(`propose conf change ${JSON.stringify(cc.changes)} at leader ${leader.id}`);
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
    this.afterInput(leader);
  }

  private heal(): void {
    this.faultsOn = false;
    this.cut.clear();
    this.log('faults stop: heal and restart everything');
    for (const n of this.nodes.values()) {
      if (n.rn === undefined) this.q.push(this.now + 1, { k: 'restart', node: n.id });
    }
  }

  private livenessDone(): boolean {
    if (this.finalProposals.size > 0) return false;
    const leader = this.leader();
    if (leader === undefined) return false;
    const cs = leader.rn!.raft.confState();
    const target = leader.rn!.raft.raftLog.committed;
    for (const id of [...cs.voters, ...cs.learners]) {
      const n = this.nodes.get(id)!;
      if (n.rn === undefined || n.app.applied < target) return false;
    }
    return true;
  }
}
