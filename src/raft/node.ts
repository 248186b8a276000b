// RaftNode: a running Raft member = RawNode (pure core) + DurableStorage + Transport + a tick timer.
// This is what the ZooKeeper server puts its write path on: propose(bytes) resolves with the
// entry's index once it is committed AND applied through onApply on this node.
//
// One loop drives the core, in the order rawnode.ts documents:
//   feed inputs (ticks, peer messages, unreachable reports, the batch of queued proposals as ONE
//   Prop message)  →  ready()  →  persist (WAL append + hard state + one fsync)  →  send messages
//   →  install a received snapshot (onRestore), apply committed entries (onApply, conf changes)
//   →  advance()  →  maybe compact (takeSnapshot every snapshotEntries applied entries).
// Inputs that arrive while a Ready is being handled wait in queues and are fed together before
// the next ready(): that is where batching comes from — every proposal made during one fsync
// goes into the next Ready's single append and single fsync.
//
// Proposals are accepted only by the leader (NotLeaderError carries the leader's id, for the
// caller to redirect). A proposal resolves when its index is applied with the term it was
// appended in; if another leader's entry took that index it is rejected with ProposalLostError;
// without an outcome within proposalTimeoutMs it is rejected with ProposalTimeoutError (it may
// still commit: the caller must treat that as "unknown", like a ZooKeeper connection loss).

import { decodeConfChange, ProposalDroppedError, type RaftConfig } from './raft.js';
import { type ConfChange, type ConfState, type Entry, EntryType, makeMessage, type Message, MessageType, type SnapshotMeta } from './messages.js';
import { RawNode, type SoftState } from './rawnode.js';
import { DurableStorage } from './durable-storage.js';
import { type PeerAddress, type TlsOptions, Transport, type TransportLogger, type TransportOptions } from './transport.js';

export class NotLeaderError extends Error {
  override name = 'NotLeaderError';
  /** The leader this node knows of (0 = none). */
  constructor(readonly leader: number) {
    super(leader ? `not the leader; the leader is node ${leader}` : 'not the leader; no leader is known');
  }
}
export class ProposalLostError extends Error {
  override name = 'ProposalLostError';
}
export class ProposalTimeoutError extends Error {
  override name = 'ProposalTimeoutError';
}
export class NodeStoppedError extends Error {
  override name = 'NodeStoppedError';
}

export interface RaftNodeOptions {
  id: number;
  clusterId: string;
  /** Every member (this node included) and its peer address. */
  peers: Iterable<[number, PeerAddress]>;
  /** Listen address (default: this node's entry in peers). */
  listen?: PeerAddress;
  /** Data directory (hard state, wal/, snap/). */
  dir: string;
  /** Default true. */
  fsync?: boolean;
  segmentBytes?: number;
  /** Milliseconds per tick. Default 100. */
  tickMs?: number;
  /** Default 10 ticks. */
  electionTick?: number;
  /** Default 1 tick. */
  heartbeatTick?: number;
  /** Other core settings (maxSizePerMsg, maxInflightMsgs, preVote, ...). */
  raft?: Partial<Omit<RaftConfig, 'id' | 'storage' | 'electionTick' | 'heartbeatTick' | 'random' | 'voters'>>;
  random?: () => number;
  tls?: TlsOptions;
  transport?: Partial<Pick<TransportOptions, 'maxQueue' | 'maxQueueBytes' | 'dropPolicy' | 'maxFrameBytes' | 'backoff' | 'handshakeTimeoutMs'>>;
  /** Committed normal entries with data, in index order (empty entries and conf changes are not passed). */
  onApply: (entries: Entry[]) => void | Promise<void>;
  /** Replace the application state with a snapshot (on start, and when the leader sends one). */
  onRestore?: (data: Buffer, meta: SnapshotMeta) => void | Promise<void>;
  /** The application state as of the last applied entry (for compaction). */
  takeSnapshot?: () => Buffer | Promise<Buffer>;
  /** Take a snapshot and compact every this many applied entries (0 = never). Default 0. */
  snapshotEntries?: number;
  /** Entries kept in memory behind a snapshot, for slow followers. Default 1000. */
  snapshotKeep?: number;
  onConfChange?: (cc: ConfChange, cs: ConfState) => void;
  /** Application data another member sent with sendAppData (`from` is the sender's id, checked by the transport). */
  onAppData?: (from: number, data: Buffer) => void;
  onSoftState?: (s: SoftState) => void;
  /** Default 10000 ms. */
  proposalTimeoutMs?: number;
  logger?: TransportLogger;
  /** The node stopped because of an I/O failure or a broken invariant. Default: logs it. */
  onFatal?: (e: Error) => void;
}

interface Pending {
  term: number;
  deadline: number;
  resolve: (index: number) => void;
  reject: (e: Error) => void;
}

interface Queued {
  data: Buffer;
  resolve: (index: number) => void;
  reject: (e: Error) => void;
}

export interface NodeStats {
  proposals: number;
  proposalBatches: number;
  readys: number;
  applied: number;
  snapshotsTaken: number;
  snapshotsInstalled: number;
}

export class RaftNode {
  readonly id: number;
  readonly rn: RawNode;
  readonly storage: DurableStorage;
  readonly transport: Transport;
  private readonly o: RaftNodeOptions;
  private readonly log: TransportLogger;

  private inbox: Message[] = [];
  private unreachable = new Set<number>();
  private ticks = 0;
  private proposals: Queued[] = [];
  /** Payloads for the leader, from forward(). */
  private forwards: Buffer[] = [];
  private campaignRequested = false;
  private readonly pending = new Map<number, Pending>();

  private wakeResolve: (() => void) | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> = Promise.resolve();
  private stopping = false;
  private stoppedErr: Error | undefined;
  private appliedIndex: number;
  private snapIndex: number;
  private readonly st: NodeStats = { proposals: 0, proposalBatches: 0, readys: 0, applied: 0, snapshotsTaken: 0, snapshotsInstalled: 0 };

  private constructor(o: RaftNodeOptions, storage: DurableStorage, transport: Transport) {
    this.o = o;
    this.id = o.id;
    this.storage = storage;
    this.transport = transport;
    this.log = o.logger ?? { info: () => undefined, warn: (m) => process.emitWarning(m, 'KraalRaftWarning') };
    const voters = [...new Map(o.peers).keys()].sort((a, b) => a - b);
    this.rn = new RawNode({
      ...o.raft,
      id: o.id,
      storage: storage.memory,
      electionTick: o.electionTick ?? 10,
      heartbeatTick: o.heartbeatTick ?? 1,
      random: o.random ?? Math.random,
      voters,
    });
    this.snapIndex = storage.restoredSnapshot.meta.index;
    this.appliedIndex = this.rn.raft.raftLog.applied;
  }

  /** Recovers the node from `dir`, starts listening, ticking and driving the core. */
  static async start(o: RaftNodeOptions): Promise<RaftNode> {
    const peers = new Map(o.peers);
    const listen = o.listen ?? peers.get(o.id);
    if (listen === undefined) throw new Error(`raft node ${o.id}: no listen address (not in peers)`);
    const logger = o.logger;
    const storage = await DurableStorage.open({
      dir: o.dir,
      ...(o.fsync !== undefined ? { fsync: o.fsync } : {}),
      ...(o.segmentBytes !== undefined ? { segmentBytes: o.segmentBytes } : {}),
      ...(logger !== undefined ? { onWarn: (m: string) => logger.warn(m) } : {}),
    });
    const snap = storage.restoredSnapshot;
    if (snap.meta.index > 0) await o.onRestore?.(snap.data, snap.meta);
    let node: RaftNode | undefined;
    let transport: Transport;
    try {
      transport = await Transport.start({
        ...o.transport,
        id: o.id,
        clusterId: o.clusterId,
        listen,
        peers: [...peers].filter(([id]) => id !== o.id),
        onMessage: (m) => node?.deliver(m),
        onUnreachable: (id) => node?.reportUnreachable(id),
        ...(o.tls !== undefined ? { tls: o.tls } : {}),
        ...(o.random !== undefined ? { random: o.random } : {}),
        ...(logger !== undefined ? { logger } : {}),
      });
    } catch (e) {
      await storage.close();
      throw e;
    }
    node = new RaftNode(o, storage, transport);
    node.tickTimer = setInterval(() => {
      node!.ticks++;
      node!.kick();
    }, o.tickMs ?? 100);
    node.tickTimer.unref();
    node.loop = node.run();
    return node;
  }

  // ---- inputs --------------------------------------------------------------------------

  /**
   * Proposes `data`; resolves with its log index once it is committed and applied here.
   * Rejects with NotLeaderError on a follower.
   */
  propose(data: Buffer): Promise<number> {
    if (this.stopping) return Promise.reject(this.stoppedErr ?? new NodeStoppedError(`raft node ${this.id} is stopped`));
    if (this.rn.raft.state !== 'leader') return Promise.reject(new NotLeaderError(this.rn.raft.lead));
    return new Promise<number>((resolve, reject) => {
      this.proposals.push({ data, resolve, reject });
      this.kick();
    });
  }

  /**
   * Hands `data` to the leader as a proposal, from any member: a follower forwards it (one
   * message per batch), the leader appends it. Fire and forget: there is no index to wait for,
   * so the caller recognises its entry when it is applied (by something in the payload) and
   * gives up after a timeout of its own; a forwarded proposal can be lost with a leader change.
   * Throws NotLeaderError when no leader is known.
   */
  forward(data: Buffer): void {
    if (this.stopping) throw this.stoppedErr ?? new NodeStoppedError(`raft node ${this.id} is stopped`);
    if (this.rn.raft.state !== 'leader' && this.rn.raft.lead === 0) throw new NotLeaderError(0);
    this.forwards.push(data);
    this.kick();
  }

  /** Starts an election at once (tests; an admin action). */
  campaign(): void {
    this.campaignRequested = true;
    this.kick();
  }

  private deliver(m: Message): void {
    if (m.type === MessageType.AppData) {
      this.o.onAppData?.(m.from, m.data ?? Buffer.alloc(0));
      return;
    }
    this.inbox.push(m);
    this.kick();
  }

  /**
   * Sends opaque application data to member `to` over the peer connections. Best effort, like
   * every peer message: it may be dropped (queue bound, connection loss); order per peer is kept.
   */
  sendAppData(to: number, data: Buffer): void {
    if (this.stopping || to === this.id) return;
    this.transport.sendAll([makeMessage({ type: MessageType.AppData, from: this.id, to, data })]);
  }

  private reportUnreachable(id: number): void {
    this.unreachable.add(id);
    this.kick();
  }

  private kick(): void {
    const w = this.wakeResolve;
    if (w !== undefined) {
      this.wakeResolve = undefined;
      w();
    }
  }

  // ---- the loop ------------------------------------------------------------------------

  private async run(): Promise<void> {
    try {
      while (!this.stopping) {
        this.feed();
        if (!this.rn.hasReady()) {
          await new Promise<void>((r) => (this.wakeResolve = r));
          continue;
        }
        const rd = this.rn.ready();
        this.st.readys++;
        await this.storage.persist(rd);
        if (rd.softState !== undefined) this.o.onSoftState?.(rd.softState);
        this.transport.sendAll(rd.messages);
        if (rd.snapshot !== undefined) {
          const meta = rd.snapshot.meta;
          await this.o.onRestore?.(rd.snapshot.data, meta);
          this.st.snapshotsInstalled++;
          this.appliedIndex = meta.index;
          this.snapIndex = meta.index;
          for (const [i, p] of this.pending) {
            if (i > meta.index) continue;
            this.pending.delete(i);
            p.reject(new ProposalLostError(`entry ${i}: replaced by a snapshot from the leader; outcome unknown`));
          }
        }
        await this.apply(rd.committedEntries);
        this.rn.advance(rd);
        await this.maybeCompact();
      }
    } catch (e) {
      this.fatal(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private feed(): void {
    const rn = this.rn;
    if (this.ticks > 0) {
      const n = this.ticks;
      this.ticks = 0;
      for (let i = 0; i < n; i++) rn.tick();
      this.expireProposals();
    }
    if (this.campaignRequested) {
      this.campaignRequested = false;
      rn.campaign();
    }
    if (this.inbox.length > 0) {
      const msgs = this.inbox;
      this.inbox = [];
      for (const m of msgs) rn.step(m);
    }
    if (this.unreachable.size > 0) {
      for (const id of this.unreachable) rn.reportUnreachable(id);
      this.unreachable.clear();
    }
    if (this.proposals.length > 0) this.feedProposals();
    if (this.forwards.length > 0) this.feedForwards();
  }

  /** All queued proposals as one Prop message: one append, one broadcast, one fsync. */
  private feedProposals(): void {
    const batch = this.proposals;
    this.proposals = [];
    const raft = this.rn.raft;
    if (raft.state !== 'leader') {
      const e = new NotLeaderError(raft.lead);
      for (const q of batch) q.reject(e);
      return;
    }
    const entries = batch.map((q) => ({ term: 0, index: 0, type: EntryType.Normal, data: q.data }));
    try {
      raft.step(makeMessage({ type: MessageType.Prop, from: this.id, entries }));
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      const why = raft.state === 'leader' ? new ProposalLostError(`proposal refused: ${err.message}`) : new NotLeaderError(raft.lead);
      for (const q of batch) q.reject(why);
      return;
    }
    const last = raft.lastProposedIndex;
    const term = raft.term;
    const deadline = Date.now() + (this.o.proposalTimeoutMs ?? 10_000);
    let index = last - batch.length + 1;
    for (const q of batch) this.pending.set(index++, { term, deadline, resolve: q.resolve, reject: q.reject });
    this.st.proposals += batch.length;
    this.st.proposalBatches++;
  }

  /** Forwarded payloads as one Prop message: the core appends it (leader) or sends it to the leader (follower). */
  private feedForwards(): void {
    const batch = this.forwards;
    this.forwards = [];
    const entries = batch.map((data) => ({ term: 0, index: 0, type: EntryType.Normal, data }));
    try {
      this.rn.raft.step(makeMessage({ type: MessageType.Prop, from: this.id, entries }));
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      // No leader right now: dropped, as a forward lost in transit would be (the caller times out).
    }
  }

  private expireProposals(): void {
    if (this.pending.size === 0) return;
    const now = Date.now();
    for (const [i, p] of this.pending) {
      if (p.deadline > now) break; // insertion order is deadline order
      this.pending.delete(i);
      p.reject(new ProposalTimeoutError(`entry ${i}: no outcome within ${this.o.proposalTimeoutMs ?? 10_000} ms (it may still commit)`));
    }
  }

  private async apply(ents: Entry[]): Promise<void> {
    if (ents.length === 0) return;
    let batch: Entry[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const b = batch;
      batch = [];
      await this.o.onApply(b);
    };
    for (const e of ents) {
      if (e.type === EntryType.ConfChange) {
        await flush();
        const cc = decodeConfChange(e.data!);
        const cs = this.rn.applyConfChange(cc);
        this.o.onConfChange?.(cc, cs);
      } else if (e.data !== null && e.data.length > 0) {
        batch.push(e);
      }
    }
    await flush();
    for (const e of ents) {
      const p = this.pending.get(e.index);
      if (p === undefined) continue;
      this.pending.delete(e.index);
      if (e.term === p.term) p.resolve(e.index);
      else p.reject(new ProposalLostError(`entry ${e.index}: another leader's entry (term ${e.term}) took its place`));
    }
    this.appliedIndex = ents[ents.length - 1]!.index;
    this.st.applied += ents.length;
  }

  private async maybeCompact(): Promise<void> {
    const every = this.o.snapshotEntries ?? 0;
    if (every <= 0 || this.o.takeSnapshot === undefined) return;
    if (this.appliedIndex - this.snapIndex < every) return;
    await this.compact();
  }

  /** Snapshots the application (takeSnapshot) at the applied index and compacts the log (runs inside the loop, between Readys). */
  private async compact(): Promise<void> {
    const index = this.appliedIndex;
    if (index <= this.snapIndex || this.o.takeSnapshot === undefined) return;
    const data = await this.o.takeSnapshot();
    const keep = Math.min(this.o.snapshotKeep ?? 1000, index - this.storage.memory.firstIndex() + 1);
    await this.storage.compact(index, this.rn.raft.appliedConfState(), data, Math.max(0, keep));
    this.snapIndex = index;
    this.st.snapshotsTaken++;
  }

  private fatal(e: Error): void {
    if (this.stopping && this.stoppedErr !== undefined) return;
    this.stoppedErr = new NodeStoppedError(`raft node ${this.id} stopped: ${e.message}`, { cause: e });
    this.stopping = true;
    if (this.o.onFatal !== undefined) this.o.onFatal(e);
    else this.log.warn(`raft node ${this.id}: fatal: ${e.stack ?? e.message}`);
    this.failAll(this.stoppedErr);
    void this.shutdown();
  }

  private failAll(e: Error): void {
    for (const q of this.proposals) q.reject(e);
    this.proposals = [];
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  // ---- queries and shutdown ------------------------------------------------------------

  status(): ReturnType<RawNode['status']> & { applied: number } {
    return { ...this.rn.status(), applied: this.appliedIndex };
  }

  get isLeader(): boolean {
    return this.rn.raft.state === 'leader';
  }

  get leader(): number {
    return this.rn.raft.lead;
  }

  stats(): NodeStats & { storage: ReturnType<DurableStorage['stats']>; transport: ReturnType<Transport['stats']> } {
    return { ...this.st, storage: this.storage.stats(), transport: this.transport.stats() };
  }

  private shutdownPromise: Promise<void> | undefined;
  private shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
      this.kick();
      await this.loop;
      await this.transport.close();
      await this.storage.close().catch((e: Error) => this.log.warn(`raft node ${this.id}: closing storage: ${e.message}`));
    })();
    return this.shutdownPromise;
  }

  /** Stops the node: finishes the Ready in progress, closes the transport and the storage. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.stoppedErr = new NodeStoppedError(`raft node ${this.id} is stopped`);
    }
    await this.shutdown();
    this.failAll(this.stoppedErr!);
  }
}
