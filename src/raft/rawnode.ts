// RawNode: the caller's interface to the core (after etcd's rawnode.go). Single-threaded, no I/O.
//
// Driving loop, in this order (the order is the contract; the simulator asserts it):
//   1. feed inputs: tick() every tick, step(msg) for each message from a peer, propose(...),
//      proposeConfChange(...), transferLeader(id), readIndex(ctx);
//   2. if hasReady(): rd = ready(), then
//      a. persist rd.hardState (if set), rd.entries (appending; an entry at an index that exists
//         replaces it and everything after) and rd.snapshot (if set), and make them durable;
//         then write them to the MemoryStorage (storage.append / applySnapshot / setHardState).
//         If term/vote and entries are made durable separately, hardState.commit must not reach
//         the disk before the entries of the same Ready do (it may cover them);
//      b. send rd.messages (several may depend on (a): votes and append acks);
//      c. apply rd.snapshot (if set) then rd.committedEntries in order; for each ConfChange
//         entry call applyConfChange() (the change is already in force since it was appended;
//         this records it as applied, for snapshots); serve rd.readStates once applied ≥ their index;
//      d. advance(rd).
//   Exactly one Ready is outstanding at a time.

import { assert } from './assert.js';
import { type ConfChange, type ConfState, type Entry, EntryType, type HardState, isLocalMessage, makeMessage, type Message, MessageType, NONE, type Snapshot } from './messages.js';
import { encodeConfChange, ProposalDroppedError, Raft, type RaftConfig, type ReadState, type StateType } from './raft.js';

export interface SoftState {
  lead: number;
  state: StateType;
}

export interface Ready {
  /** Set when term, vote or commit changed: persist it before sending messages. */
  hardState?: HardState;
  /** Entries to persist (append) before sending messages. */
  entries: Entry[];
  /** A snapshot from the leader to persist and install (then apply). */
  snapshot?: Snapshot;
  /** Committed, durable entries to apply in order. */
  committedEntries: Entry[];
  /** Messages to send after the persist step. */
  messages: Message[];
  readStates: ReadState[];
  /** Set when leader or role changed. */
  softState?: SoftState;
  /** True when hardState/entries/snapshot must be fsync'd (false: nothing durable changed). */
  mustSync: boolean;
}

export class RawNode {
  readonly raft: Raft;
  private prevHard: HardState;
  private prevSoft: SoftState;
  private outstanding: Ready | undefined;
  /** Conf-change entries in the outstanding Ready, how many the application applied, and how many of the rest a snapshot made stale. */
  private confChangesHandedOut = 0;
  private confChangesApplied = 0;
  private staleConfChanges = 0;

  constructor(config: RaftConfig, raft?: Raft) {
    this.raft = raft ?? new Raft(config);
    this.prevHard = this.raft.hardState();
    this.prevSoft = { lead: this.raft.lead, state: this.raft.state };
  }

  get id(): number {
    return this.raft.id;
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (tests, or the server's "campaign" admin action). */
  campaign(): void {
    this.raft.step(makeMessage({ type: MessageType.Hup, from: this.raft.id }));
  }

  /**
   * Steps a message received from a peer. Local message types are refused (a peer must never be
   * able to make us campaign or beat); messages from unknown senders are still processed (a new
   * leader may know of members we have not applied yet). Proposals forwarded to a node that
   * cannot take them are dropped silently: the proposer retries on its own timeout.
   */
  step(m: Message): void {
    if (isLocalMessage(m.type)) throw new Error(`raft: local message ${m.type} received from the network`);
    const snapBefore = this.raft.raftLog.unstableSnapshot;
    try {
      this.raft.step(m);
    } catch (e) {
      if (e instanceof ProposalDroppedError) return;
      throw e;
    } finally {
      // A leader's snapshot installed while the application still holds committed entries from the
      // outstanding Ready: those entries precede the snapshot, whose ConfState already includes
      // their effect. Applying their conf changes again would move the membership backwards.
      if (this.outstanding !== undefined && this.raft.raftLog.unstableSnapshot !== snapBefore) {
        this.staleConfChanges = this.confChangesHandedOut - this.confChangesApplied;
      }
    }
  }

  /**
   * Proposes an opaque entry. Returns its index if this node is the leader and appended it, or
   * undefined if it was forwarded to the leader. Throws ProposalDroppedError when there is no
   * leader or a leadership transfer is in progress.
   */
  propose(data: Buffer): number | undefined {
    return this.proposeEntry(EntryType.Normal, data);
  }

  /** Proposes a membership change (see Raft.confChangeRefusal for when it is refused). */
  proposeConfChange(cc: ConfChange): number | undefined {
    return this.proposeEntry(EntryType.ConfChange, encodeConfChange(cc));
  }

  private proposeEntry(type: EntryType, data: Buffer): number | undefined {
    const before = this.raft.lastProposedIndex;
    this.raft.step(makeMessage({ type: MessageType.Prop, from: this.raft.id, entries: [{ term: 0, index: 0, type, data }] }));
    return this.raft.lastProposedIndex !== before ? this.raft.lastProposedIndex : undefined;
  }

  /** Applies a committed ConfChange entry; returns the new membership (to save with snapshots). */
  applyConfChange(cc: ConfChange): ConfState {
    this.confChangesApplied++;
    if (this.staleConfChanges > 0) {
      this.staleConfChanges--;
      return this.raft.appliedConfState();
    }
    return this.raft.applyConfChange(cc);
  }

  /** Asks the leader to hand leadership to `transferee` (must be an up-to-date voter). */
  transferLeader(transferee: number): void {
    this.raft.step(makeMessage({ type: MessageType.TransferLeader, from: transferee }));
  }

  /**
   * Requests a linearizable read point. A ReadState {index, context} appears in a later Ready
   * once a quorum confirmed this node's leader is still leader; the read is then served after
   * applied ≥ index. context must be unique per request. Dropped silently without a leader.
   */
  readIndex(context: Buffer): void {
    this.raft.step(makeMessage({ type: MessageType.ReadIndex, from: this.raft.id, context }));
  }

  /** The transport could not deliver to `id` (connection lost): stop pipelining to it. */
  reportUnreachable(id: number): void {
    if (this.raft.state !== 'leader') return;
    this.raft.step(makeMessage({ type: MessageType.Unreachable, from: id }));
  }

  hasReady(): boolean {
    const r = this.raft;
    const hs = r.hardState();
    return (
      r.msgs.length > 0 ||
      r.raftLog.unstableEntries.length > 0 ||
      r.raftLog.unstableSnapshot !== undefined ||
      r.raftLog.hasNextCommittedEntries() ||
      r.readStates.length > 0 ||
      !sameHardState(hs, this.prevHard) ||
      r.lead !== this.prevSoft.lead ||
      r.state !== this.prevSoft.state
    );
  }

  ready(): Ready {
    assert(this.outstanding === undefined, 'ready() called again before advance()');
    const r = this.raft;
    const log = r.raftLog;
    const hs = r.hardState();
    const rd: Ready = {
      entries: log.unstableEntries.slice(),
      committedEntries: log.nextCommittedEntries(r.maxCommittedSizePerReady),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: false,
    };
    r.msgs = [];
    r.readStates = [];
    if (!sameHardState(hs, this.prevHard)) rd.hardState = hs;
    if (log.unstableSnapshot !== undefined) rd.snapshot = log.unstableSnapshot;
    if (r.lead !== this.prevSoft.lead || r.state !== this.prevSoft.state) rd.softState = { lead: r.lead, state: r.state };
    rd.mustSync =
      rd.entries.length > 0 || rd.snapshot !== undefined || (rd.hardState !== undefined && (hs.term !== this.prevHard.term || hs.vote !== this.prevHard.vote));
    this.outstanding = rd;
    this.confChangesHandedOut = 0;
    for (const e of rd.committedEntries) if (e.type === EntryType.ConfChange) this.confChangesHandedOut++;
    this.confChangesApplied = 0;
    this.staleConfChanges = 0;
    return rd;
  }

  /** The caller finished steps a-c for rd. */
  advance(rd: Ready): void {
    assert(rd === this.outstanding, 'advance() with a Ready that is not the outstanding one');
    this.outstanding = undefined;
    const log = this.raft.raftLog;
    if (rd.hardState !== undefined) this.prevHard = rd.hardState;
    if (rd.softState !== undefined) this.prevSoft = rd.softState;
    if (rd.snapshot !== undefined) {
      log.stableSnapTo(rd.snapshot.meta.index);
      if (rd.snapshot.meta.index > log.applied) log.appliedTo(rd.snapshot.meta.index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      log.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) {
      const last = rd.committedEntries[rd.committedEntries.length - 1]!.index;
      if (last > log.applied) log.appliedTo(last);
    }
    this.maybeAutoLeaveJoint();
  }

  /** A leader in an auto-leave joint config proposes leaving it once the entry entering it is applied. */
  private maybeAutoLeaveJoint(): void {
    const r = this.raft;
    if (r.state !== 'leader' || !r.autoLeave || !r.config.isJoint) return;
    if (r.pendingConfIndex > r.raftLog.applied) return;
    try {
      this.proposeConfChange({ changes: [], joint: false, context: Buffer.alloc(0) });
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
  }

  status(): { id: number; term: number; lead: number; state: StateType; commit: number; applied: number; lastIndex: number } {
    const r = this.raft;
    return { id: r.id, term: r.term, lead: r.lead, state: r.state, commit: r.raftLog.committed, applied: r.raftLog.applied, lastIndex: r.raftLog.lastIndex() };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export { NONE };
