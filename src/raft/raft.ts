// Raft: the protocol as a pure, synchronous state machine (after etcd-io/raft's raft.go).
//
// Inputs: step(message) and tick(). Outputs accumulate in `msgs`, `readStates` and the log's
// unstable part; RawNode (rawnode.ts) packages them into a Ready. No I/O, no clock, no global
// randomness: election jitter comes from the injected `random`.
//
// Implemented (section numbers of the Raft paper / Ongaro's thesis):
//   Figure 2 rules; §5.4.2 commit only current-term entries by counting; §9.6 PreVote;
//   §6.2 CheckQuorum + leader lease on votes; §3.10 leadership transfer (TimeoutNow);
//   §6.4 ReadIndex; §4.2.1 learners; §4.3 joint consensus and §4.1 single-server changes
//   (a config takes effect when its entry is APPENDED and is undone if that entry is cut from
//   the log; one pending change at a time, and a new leader must first apply an entry of its
//   own term — see confChangeRefusal; applyConfChange only moves the applied config that
//   snapshots record);
//   §5 log compaction with snapshots sent in resumable chunks.
// Naming: become* = role change, step* = role's message handler, handle* = one message,
// maybe* = conditional action, send*/bcast* = output.

import { assert } from './assert.js';
import { RaftLog } from './log.js';
import { CompactedError, type MemoryStorage } from './memory-storage.js';
import {
  type ConfChange,
  ConfChange as ConfChangeCodec,
  ConfChangeType,
  type ConfState,
  type Entry,
  EntryType,
  makeMessage,
  type Message,
  MessageType,
  NONE,
  type Snapshot,
  entrySize,
  isResponseMessage,
} from './messages.js';
import { Progress } from './progress.js';
import { JointConfig } from './quorum.js';
import { decodeFromBuffer, encodeToBuffer } from '../jute/schema.js';

export type StateType = 'follower' | 'precandidate' | 'candidate' | 'leader';

export interface RaftConfig {
  id: number;
  storage: MemoryStorage;
  /** Ticks without hearing from a leader before campaigning (randomized in [e, 2e)). */
  electionTick: number;
  /** Ticks between leader heartbeats; must be < electionTick. */
  heartbeatTick: number;
  /** Uniform in [0, 1). The ONLY source of randomness (election jitter). */
  random: () => number;
  /** Voters and learners of a brand-new node (ignored when storage holds a snapshot). */
  voters?: number[];
  learners?: number[];
  /** Default true. */
  preVote?: boolean;
  /** Default true. */
  checkQuorum?: boolean;
  /** Max bytes of entries in one append message (at least one entry is always sent). */
  maxSizePerMsg?: number;
  /** Max appends in flight per follower in replicate state. */
  maxInflightMsgs?: number;
  /** Max bytes in flight per follower (0 = no byte limit). */
  maxInflightBytes?: number;
  /** Max bytes of committed entries in one Ready. */
  maxCommittedSizePerReady?: number;
  /** Bytes of snapshot body per chunk message. */
  snapshotChunkBytes?: number;
  /** Applied index the application already holds (restart); default: the snapshot's index. */
  applied?: number;
}

export interface ReadState {
  /** The application must wait until applied ≥ index, then serve the read tagged context. */
  index: number;
  context: Buffer;
}

export class ProposalDroppedError extends Error {
  override name = 'ProposalDroppedError';
}

interface PendingRead {
  index: number;
  context: Buffer;
  key: string;
  from: number;
  acks: Map<number, boolean>;
}

interface SnapshotReceive {
  index: number;
  term: number;
  chunks: Buffer[];
  bytes: number;
}

const TRANSFER_CONTEXT = Buffer.from('transfer');

export class Raft {
  readonly id: number;
  term = 0;
  vote = NONE;
  lead = NONE;
  state: StateType = 'follower';
  readonly raftLog: RaftLog;

  /**
   * The configuration in force: the newest one in the log, committed or not (Raft thesis §4.1,
   * "a server always uses the latest configuration in its log"). Deciding with the applied one
   * instead lets a node whose commit knowledge lags two changes behind win an election with an
   * old-config majority that no longer intersects the new config's (simulator seed 505617).
   */
  config: JointConfig;
  learners = new Set<number>();
  learnersNext = new Set<number>();
  autoLeave = false;
  /** The configuration as of the applied index (what snapshots record), and the index of the entry (or snapshot) it comes from. */
  private appliedConf!: ConfState;
  private appliedConfIndex = 0;
  /** Configs of conf-change entries in the log that are not applied yet, in index order. */
  private confLog: { index: number; term: number; cs: ConfState }[] = [];
  progress = new Map<number, Progress>();
  votes = new Map<number, boolean>();

  msgs: Message[] = [];
  readStates: ReadState[] = [];
  /** Index of the last entry appended by a local proposal (for the caller's bookkeeping). */
  lastProposedIndex = 0;

  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  randomizedElectionTimeout = 0;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  leadTransferee = NONE;
  /** Index of the newest conf change appended by this leader (or lastIndex at election). */
  pendingConfIndex = 0;

  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
  readonly maxInflightBytes: number;
  readonly maxCommittedSizePerReady: number;
  readonly snapshotChunkBytes: number;
  private readonly random: () => number;

  private pendingReads: PendingRead[] = [];
  /** ReadIndex requests waiting for this leader's first commit in its term. */
  private readsBeforeFirstCommit: Message[] = [];
  private snapRecv: SnapshotReceive | undefined;

  constructor(c: RaftConfig) {
    assert(c.id > 0, 'node id must be positive');
    assert(c.heartbeatTick > 0 && c.electionTick > c.heartbeatTick, 'need 0 < heartbeatTick < electionTick');
    this.id = c.id;
    this.raftLog = new RaftLog(c.storage);
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.random = c.random;
    this.preVote = c.preVote ?? true;
    this.checkQuorum = c.checkQuorum ?? true;
    this.maxSizePerMsg = c.maxSizePerMsg ?? 1024 * 1024;
    this.maxInflightMsgs = c.maxInflightMsgs ?? 256;
    this.maxInflightBytes = c.maxInflightBytes ?? 0;
    this.maxCommittedSizePerReady = c.maxCommittedSizePerReady ?? 64 * 1024 * 1024;
    this.snapshotChunkBytes = c.snapshotChunkBytes ?? 1024 * 1024;

    const { hardState, confState } = c.storage.initialState();
    const hasSnapshot = c.storage.snapshot().meta.index > 0;
    const cs: ConfState = hasSnapshot
      ? confState
      : { voters: c.voters ?? [], votersOutgoing: [], learners: c.learners ?? [], learnersNext: [], autoLeave: false };
    this.config = new JointConfig(new Set());
    this.appliedConf = cs;
    this.applyConfState(cs);
    if (hardState.term > 0 || hardState.vote !== NONE || hardState.commit > 0) {
      this.term = hardState.term;
      this.vote = hardState.vote;
      // The commit index is saved in its own file, apart from the entries: a crash between the two
      // fsyncs can leave it ahead of the log. Entries past the durable log were never applied
      // (apply follows persist), so clamping only forgets a hint the leader will resend.
      this.raftLog.commitTo(Math.min(hardState.commit, this.raftLog.lastIndex()));
    }
    if (c.applied !== undefined && c.applied > this.raftLog.applied) this.raftLog.appliedTo(c.applied);
    // Conf changes in the log after the snapshot: those the application already applied are part
    // of the applied config; the rest are in force already (config-on-append).
    const from = c.storage.snapshot().meta.index + 1;
    this.appliedConfIndex = from - 1;
    for (const e of this.raftLog.lastIndex() >= from ? this.entriesFrom(from) : []) {
      if (e.type !== EntryType.ConfChange) continue;
      const next = nextConfState(this.confState(), decodeFromBuffer(ConfChangeCodec, e.data!));
      if (e.index <= this.raftLog.applied) {
        this.appliedConf = next;
        this.appliedConfIndex = e.index;
      } else {
        this.confLog.push({ index: e.index, term: e.term, cs: next });
      }
      this.applyConfState(next);
    }
    this.becomeFollower(this.term, NONE);
  }

  private entriesFrom(from: number): Entry[] {
    const out: Entry[] = [];
    const last = this.raftLog.lastIndex();
    for (let i = from; i <= last; ) {
      const ents = this.raftLog.slice(i, last + 1, 64 * 1024 * 1024);
      out.push(...ents);
      i += ents.length;
    }
    return out;
  }

  /**
   * Brings the config in force up to date after entries were appended to the log (by this
   * leader or from one) or a conflicting suffix was cut: drops configs of entries no longer in
   * the log, then adopts those of new conf-change entries.
   */
  private noteConfEntries(appended: readonly Entry[]): void {
    let changed = false;
    while (this.confLog.length > 0) {
      const top = this.confLog[this.confLog.length - 1]!;
      if (top.index <= this.raftLog.lastIndex() && this.raftLog.matchTerm(top.index, top.term)) break;
      this.confLog.pop();
      changed = true;
    }
    const known = this.confLog.length > 0 ? this.confLog[this.confLog.length - 1]!.index : this.appliedConfIndex;
    for (const e of appended) {
      if (e.type !== EntryType.ConfChange || e.index <= known || !this.raftLog.matchTerm(e.index, e.term)) continue;
      const base = this.confLog.length > 0 ? this.confLog[this.confLog.length - 1]!.cs : this.appliedConf;
      const cs = nextConfState(base, decodeFromBuffer(ConfChangeCodec, e.data!));
      this.confLog.push({ index: e.index, term: e.term, cs });
      changed = true;
    }
    if (changed) this.applyConfState(this.confLog.length > 0 ? this.confLog[this.confLog.length - 1]!.cs : this.appliedConf);
  }

  // ---- roles -----------------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      assert(term > this.term, () => `term must not go back: ${this.term} -> ${term}`);
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = NONE;
    this.votes = new Map();
    this.pendingReads = [];
    this.readsBeforeFirstCommit = [];
    const last = this.raftLog.lastIndex();
    for (const [id, pr] of this.progress) {
      const fresh = new Progress(last + 1, pr.isLearner, this.maxInflightMsgs, this.maxInflightBytes);
      if (id === this.id) fresh.match = last;
      this.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0;
  }

  private resetRandomizedElectionTimeout(): void {
    const r = this.random();
    assert(r >= 0 && r < 1, 'random() must return a number in [0, 1)');
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(r * this.electionTimeout);
  }

  becomeFollower(term: number, lead: number): void {
    this.reset(term);
    this.lead = lead;
    this.state = 'follower';
  }

  becomePreCandidate(): void {
    assert(this.state !== 'leader', 'leader cannot become pre-candidate');
    // PreVote changes neither term nor vote: a refused pre-campaign leaves no trace.
    this.votes = new Map();
    this.lead = NONE;
    this.state = 'precandidate';
  }

  becomeCandidate(): void {
    assert(this.state !== 'leader', 'leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = 'candidate';
  }

  becomeLeader(): void {
    assert(this.state === 'candidate', 'only a candidate becomes leader');
    this.reset(this.term);
    this.lead = this.id;
    this.state = 'leader';
    this.progress.get(this.id)?.becomeReplicate();
    // The empty entry of §5.4.2 / §6.4: committing it commits all earlier entries and lets ReadIndex work.
    this.appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: Buffer.alloc(0) }]);
    // No conf change until everything up to and including the empty entry is applied: the
    // thesis' fix for the single-server-change bug (a new leader must commit an entry of its term first).
    this.pendingConfIndex = this.raftLog.lastIndex();
  }

  /** A voter of the current (possibly joint) configuration may campaign. */
  promotable(): boolean {
    return this.config.isVoter(this.id);
  }

  // ---- time ------------------------------------------------------------------------------

  tick(): void {
    if (this.state === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(makeMessage({ type: MessageType.Hup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(makeMessage({ type: MessageType.CheckQuorum, from: this.id }));
      if (this.state === 'leader' && this.leadTransferee !== NONE) this.leadTransferee = NONE; // transfer timed out
    }
    if (this.state !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(makeMessage({ type: MessageType.Beat, from: this.id }));
    }
  }

  // ---- step ------------------------------------------------------------------------------

  send(m: Partial<Message> & { type: MessageType; to: number }): void {
    const msg = makeMessage({ from: this.id, ...m });
    assert(msg.to !== this.id, 'message to self');
    // Vote traffic carries the campaign term; everything else our current term (responses to
    // PreVote carry the request's term so the pre-candidate counts them).
    if (m.term === undefined) msg.term = this.term;
    this.msgs.push(msg);
  }

  step(m: Message): void {
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = m.context !== null && TRANSFER_CONTEXT.equals(m.context);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        // §6.2 / §9.6: while we hear from a live leader, a (rejoining) candidate cannot disrupt us.
        if (!force && inLease) return;
      }
      if (m.type === MessageType.PreVote) {
        // never change term on a PreVote
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // the granted pre-vote carries the future term; we switch term only when we campaign
      } else {
        const fromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
        this.becomeFollower(m.term, fromLeader ? m.from : NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.App || m.type === MessageType.Heartbeat)) {
        // A stale leader (e.g. from a healed partition where we raised our term): tell it our
        // term so it steps down, since with PreVote/CheckQuorum we may never vote it out.
        this.send({ type: MessageType.AppResp, to: m.from });
      } else if (m.type === MessageType.PreVote) {
        this.send({ type: MessageType.PreVoteResp, to: m.from, reject: true });
      }
      return; // other stale messages are ignored
    }

    switch (m.type) {
      case MessageType.Hup:
        this.hup(m.context !== null && TRANSFER_CONTEXT.equals(m.context));
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(m);
        return;
    }
    switch (this.state) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'precandidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  private hup(transfer: boolean): void {
    if (this.state === 'leader') return;
    if (!this.promotable()) return;
    if (this.preVote && !transfer) this.campaign('pre');
    else this.campaign(transfer ? 'transfer' : 'election');
  }

  private campaign(kind: 'pre' | 'election' | 'transfer'): void {
    let voteMsg: MessageType;
    let term: number;
    if (kind === 'pre') {
      this.becomePreCandidate();
      voteMsg = MessageType.PreVote;
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.Vote;
      term = this.term;
    }
    this.votes.set(this.id, true);
    if (this.config.voteResult(this.votes) === 'won') {
      // single voter: no messages needed
      if (kind === 'pre') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of [...this.config.ids()].sort((a, b) => a - b)) {
      if (id === this.id) continue;
      this.send({
        type: voteMsg,
        to: id,
        term,
        index: lastIndex,
        logTerm: lastTerm,
        context: kind === 'transfer' ? TRANSFER_CONTEXT : Buffer.alloc(0),
      });
    }
  }

  private handleVoteRequest(m: Message): void {
    const pre = m.type === MessageType.PreVote;
    // We can vote for m.from if we already did in this term, or have voted for nobody and know no
    // leader; a pre-vote for a future term is always possible (it changes nothing here).
    const canVote = this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (pre && m.term > this.term);
    const respType = pre ? MessageType.PreVoteResp : MessageType.VoteResp;
    if (canVote && this.candidateLogOk(m.index, m.logTerm)) {
      this.send({ type: respType, to: m.from, term: m.term });
      if (!pre) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, to: m.from, term: this.term, reject: true });
    }
  }

  /** §5.4.1 election restriction: grant only to a candidate whose log is at least as up to date. */
  protected candidateLogOk(lastIndex: number, lastTerm: number): boolean {
    return this.raftLog.isUpToDate(lastIndex, lastTerm);
  }

  // ---- follower and candidate --------------------------------------------------------------

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Prop:
        if (this.lead === NONE) throw new ProposalDroppedError('no leader');
        this.msgs.push({ ...m, to: this.lead, term: 0 });
        return;
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshotChunk(m);
        return;
      case MessageType.TransferLeader:
        if (this.lead === NONE) return;
        this.send({ type: MessageType.TransferLeader, to: this.lead, from: m.from, term: 0 });
        return;
      case MessageType.TimeoutNow:
        // §3.10: the leader asks us to start an election at once, skipping PreVote and leases.
        this.hup(true);
        return;
      case MessageType.ReadIndex:
        if (this.lead === NONE) return; // dropped: the caller retries
        this.send({ type: MessageType.ReadIndex, to: this.lead, from: m.from, context: m.context, term: 0 });
        return;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, context: m.context ?? Buffer.alloc(0) });
        return;
    }
  }

  private stepCandidate(m: Message): void {
    const myResp = this.state === 'precandidate' ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.Prop:
        throw new ProposalDroppedError('no leader (election in progress)');
      case MessageType.App:
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshotChunk(m);
        return;
      case myResp: {
        this.votes.set(m.from, !m.reject);
        const r = this.config.voteResult(this.votes);
        if (r === 'won') {
          if (this.state === 'precandidate') this.campaign('election');
          else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (r === 'lost') {
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
    }
  }

  private handleAppend(m: Message): void {
    if (m.index < this.raftLog.committed) {
      this.send({ type: MessageType.AppResp, to: m.from, index: this.raftLog.committed });
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined && (this.confLog.length > 0 || m.entries.some((e) => e.type === EntryType.ConfChange))) this.noteConfEntries(m.entries);
    if (lastNew !== undefined) {
      this.send({ type: MessageType.AppResp, to: m.from, index: lastNew });
      return;
    }
    // Reject with a hint: our last index ≤ m.index whose term ≤ m.logTerm. All entries after it
    // cannot match the leader's log, so the leader skips them in one round trip.
    const hint = this.raftLog.findConflictByTerm(Math.min(m.index, this.raftLog.lastIndex()), m.logTerm);
    this.send({ type: MessageType.AppResp, to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    this.send({ type: MessageType.HeartbeatResp, to: m.from, context: m.context });
  }

  private handleSnapshotChunk(m: Message): void {
    const meta = m.snapshot;
    const reply = (offset: number, done: boolean) =>
      this.send({ type: MessageType.SnapResp, to: m.from, index: meta.index, logTerm: meta.term, offset, done });
    if (meta.index <= this.raftLog.committed) {
      this.snapRecv = undefined;
      reply(0, true); // we already have it all (as committed log or an earlier snapshot)
      return;
    }
    let rcv = this.snapRecv;
    if (rcv === undefined || rcv.index !== meta.index || rcv.term !== meta.term) {
      if (m.offset !== 0) {
        reply(0, false); // restart from the beginning: we hold nothing of this snapshot
        return;
      }
      rcv = this.snapRecv = { index: meta.index, term: meta.term, chunks: [], bytes: 0 };
    }
    if (m.offset !== rcv.bytes) {
      reply(rcv.bytes, false); // duplicate or out of order: resume from what we hold
      return;
    }
    const data = m.data ?? Buffer.alloc(0);
    rcv.chunks.push(data);
    rcv.bytes += data.length;
    if (!m.done) {
      reply(rcv.bytes, false);
      return;
    }
    this.snapRecv = undefined;
    this.restore({ meta, data: Buffer.concat(rcv.chunks) });
    reply(rcv.bytes, true);
  }

  /** Installs a leader's snapshot, unless our log already contains its last entry. */
  private restore(snap: Snapshot): void {
    const { index, term } = snap.meta;
    if (index <= this.raftLog.committed) return;
    if (this.raftLog.matchTerm(index, term)) {
      // Our log has the snapshot's last entry, so it has every entry it covers: just commit.
      this.raftLog.commitTo(index);
      return;
    }
    this.raftLog.restore(snap);
    this.appliedConf = snap.meta.confState;
    this.appliedConfIndex = index;
    this.confLog = [];
    this.applyConfState(snap.meta.confState);
  }

  // ---- leader ------------------------------------------------------------------------------

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.bcastHeartbeat(Buffer.alloc(0));
        return;
      case MessageType.CheckQuorum:
        if (!this.quorumActive()) {
          this.becomeFollower(this.term, NONE); // §6.2: a leader cut off from a quorum steps down
        }
        for (const [id, pr] of this.progress) if (id !== this.id) pr.recentActive = false;
        return;
      case MessageType.Prop:
        this.handlePropose(m);
        return;
      case MessageType.ReadIndex:
        this.handleReadIndex(m);
        return;
      case MessageType.TransferLeader:
        this.handleTransferLeader(m.from);
        return;
    }
    const pr = this.progress.get(m.from);
    if (pr === undefined) return; // from a removed node
    switch (m.type) {
      case MessageType.AppResp:
        pr.recentActive = true;
        this.handleAppendResponse(m, pr);
        return;
      case MessageType.HeartbeatResp:
        pr.recentActive = true;
        pr.probeSent = false;
        if (pr.state === 'snapshot') {
          pr.snapChunkSent = false;
          pr.snapResync = true;
        }
        // A full window with the follower alive means an append (or its ack) was probably lost:
        // free one slot so the next append goes out; a gap makes the follower reject it and we
        // fall back to probing from its real match point.
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
        if (pr.match < this.raftLog.lastIndex() || pr.state === 'snapshot') this.sendAppend(m.from);
        if (m.context !== null && m.context.length > 0) this.handleReadAck(m.from, m.context);
        return;
      case MessageType.SnapResp:
        pr.recentActive = true;
        this.handleSnapshotResponse(m, pr);
        return;
      case MessageType.Unreachable:
        if (pr.state === 'replicate') pr.becomeProbe();
        else if (pr.state === 'snapshot') pr.snapChunkSent = false;
        return;
    }
  }

  private handlePropose(m: Message): void {
    assert(m.entries.length > 0, 'empty proposal');
    if (!this.progress.has(this.id)) throw new ProposalDroppedError('leader was removed from the configuration');
    if (this.leadTransferee !== NONE) throw new ProposalDroppedError('leadership transfer in progress');
    for (const e of m.entries) {
      if (e.type !== EntryType.ConfChange) continue;
      const why = this.confChangeRefusal(decodeFromBuffer(ConfChangeCodec, e.data!), m.entries.length);
      if (why !== undefined) throw new ProposalDroppedError(`conf change refused: ${why}`);
      this.pendingConfIndex = this.raftLog.lastIndex() + 1;
    }
    this.appendEntries(m.entries.map((e) => ({ ...e })));
    this.lastProposedIndex = this.raftLog.lastIndex();
    this.bcastAppend();
  }

  /** Why a conf change may not be proposed now (the safety conditions), or undefined. */
  confChangeRefusal(cc: ConfChange, batch: number): string | undefined {
    if (batch !== 1) return 'a conf change must be proposed alone';
    if (this.pendingConfIndex > this.raftLog.applied) {
      return `an earlier conf change (or this leader's first entry) at ${this.pendingConfIndex} is not applied yet (applied ${this.raftLog.applied})`;
    }
    try {
      this.nextConfState(cc);
    } catch (e) {
      return (e as Error).message;
    }
    return undefined;
  }

  /** Appends entries of the current term at the end of the leader's log. */
  private appendEntries(ents: Entry[]): void {
    let i = this.raftLog.lastIndex();
    for (const e of ents) {
      e.term = this.term;
      e.index = ++i;
    }
    this.raftLog.append(ents);
    this.progress.get(this.id)?.maybeUpdate(this.raftLog.lastIndex());
    if (ents.some((e) => e.type === EntryType.ConfChange)) this.noteConfEntries(ents);
    this.maybeCommit();
  }

  /** Commits the largest index a quorum holds, if it is of the current term (§5.4.2). */
  protected maybeCommit(): boolean {
    const mci = this.config.committed((id) => this.progress.get(id)?.match ?? 0);
    return this.raftLog.maybeCommit(mci, this.term);
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    if (m.reject) {
      let hint = m.rejectHint;
      if (m.logTerm > 0) {
        // Skip our own entries whose terms are newer than the follower's entry at hint.
        hint = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
      }
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    // An ack of exactly our match point while probing (e.g. right after a snapshot) still proves
    // where the follower is: move to replicate instead of waiting for the next heartbeat.
    if (!pr.maybeUpdate(m.index) && !(pr.state === 'probe' && pr.match === m.index)) return;
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);

    if (this.maybeCommit()) {
      this.releaseReadsAfterFirstCommit();
      this.bcastAppend();
    } else if (wasPaused || pr.state === 'replicate') {
      while (this.sendAppend(m.from, false)) {
        // pipeline until paused or caught up
      }
    }
    // The follower has not been told the current commit index yet: tell it now rather than at
    // the next heartbeat (keeps commit-to-apply latency at one round trip on every member).
    if (pr.sentCommit < this.raftLog.committed) this.sendAppend(m.from);
    if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
      this.send({ type: MessageType.TimeoutNow, to: m.from });
    }
  }

  private handleSnapshotResponse(m: Message, pr: Progress): void {
    if (pr.state !== 'snapshot' || m.index !== pr.pendingSnapshot) return;
    if (m.done) {
      pr.match = Math.max(pr.match, pr.pendingSnapshot);
      pr.becomeProbe();
      this.sendAppend(m.from);
      return;
    }
    // Only progress moves the offset: duplicated or reordered answers to older chunks would
    // otherwise each trigger a resend (a message storm). After a heartbeat-triggered resend the
    // follower's answer may also move it back (it restarted and lost the partial snapshot).
    if (m.offset <= pr.snapOffset && !pr.snapResync) return;
    pr.snapResync = false;
    pr.snapOffset = m.offset;
    pr.snapChunkSent = false;
    this.sendSnapshotChunk(m.from, pr);
  }

  private handleTransferLeader(target: number): void {
    const pr = this.progress.get(target);
    if (pr === undefined || pr.isLearner || target === this.id) return;
    if (this.leadTransferee === target) return;
    this.leadTransferee = target;
    this.electionElapsed = 0; // the transfer must finish within one election timeout
    if (pr.match === this.raftLog.lastIndex()) this.send({ type: MessageType.TimeoutNow, to: target });
    else this.sendAppend(target);
  }

  /** Voters (both halves when joint) heard from within the last election timeout form a quorum. */
  private quorumActive(): boolean {
    const votes = new Map<number, boolean>();
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      votes.set(id, id === this.id || pr.recentActive);
    }
    return this.config.voteResult(votes) === 'won';
  }

  /**
   * Sends the next append (or snapshot chunk) to `to` if flow control allows. Empty appends are
   * sent only when sendIfEmpty (to carry the commit index or probe). Returns whether it sent.
   */
  sendAppend(to: number, sendIfEmpty = true): boolean {
    const pr = this.progress.get(to);
    if (pr === undefined || to === this.id) return false;
    if (pr.state === 'snapshot') {
      if (!pr.snapChunkSent) this.sendSnapshotChunk(to, pr);
      return false;
    }
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.raftLog.term(prevIndex);
    let ents: Entry[] = [];
    if (prevTerm !== undefined && pr.next <= this.raftLog.lastIndex()) {
      try {
        ents = this.raftLog.entries(pr.next, this.maxSizePerMsg);
      } catch (e) {
        if (!(e instanceof CompactedError)) throw e;
        ents = [];
        return this.startSnapshot(to, pr);
      }
    }
    if (prevTerm === undefined) return this.startSnapshot(to, pr);
    if (ents.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of ents) bytes += entrySize(e);
    this.send({ type: MessageType.App, to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.raftLog.committed });
    pr.sentCommit = this.raftLog.committed;
    pr.sentEntries(prevIndex + ents.length, ents.length, bytes);
    return ents.length > 0;
  }

  private startSnapshot(to: number, pr: Progress): boolean {
    const snap = this.raftLog.storage.snapshot();
    if (snap.meta.index === 0) return false; // nothing to send yet (cannot happen after compaction)
    pr.becomeSnapshot(snap.meta.index);
    this.sendSnapshotChunk(to, pr);
    return false;
  }

  private sendSnapshotChunk(to: number, pr: Progress): void {
    const snap = this.raftLog.storage.snapshot();
    if (snap.meta.index !== pr.pendingSnapshot) {
      // A newer snapshot replaced the one being sent: start over with it.
      pr.becomeSnapshot(snap.meta.index);
    }
    const offset = Math.min(pr.snapOffset, snap.data.length);
    const data = snap.data.subarray(offset, offset + this.snapshotChunkBytes);
    const done = offset + data.length >= snap.data.length;
    this.send({ type: MessageType.Snap, to, snapshot: snap.meta, offset, data, done, commit: this.raftLog.committed });
    pr.snapChunkSent = true;
  }

  /** Appends (possibly empty, to carry the commit index) to every follower. */
  bcastAppend(): void {
    for (const id of this.progress.keys()) {
      if (id !== this.id) this.sendAppend(id);
    }
  }

  private bcastHeartbeat(context: Buffer): void {
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      // Never tell a follower a commit index beyond what it is known to hold.
      this.send({ type: MessageType.Heartbeat, to: id, commit: Math.min(pr.match, this.raftLog.committed), context });
    }
  }

  // ---- ReadIndex (§6.4) --------------------------------------------------------------------

  private handleReadIndex(m: Message): void {
    const ctx = m.context ?? Buffer.alloc(0);
    if (this.config.incoming.size === 1 && this.config.outgoing.size === 0 && this.config.isVoter(this.id)) {
      this.respondRead(m.from, this.raftLog.committed, ctx); // a single voter is its own quorum
      return;
    }
    if (this.raftLog.term(this.raftLog.committed) !== this.term) {
      // Until an entry of this term commits we do not know the latest commit index.
      this.readsBeforeFirstCommit.push(m);
      return;
    }
    const key = ctx.toString('hex');
    const acks = new Map<number, boolean>([[this.id, true]]);
    this.pendingReads.push({ index: this.raftLog.committed, context: ctx, key, from: m.from, acks });
    this.bcastHeartbeat(ctx);
  }

  private releaseReadsAfterFirstCommit(): void {
    if (this.readsBeforeFirstCommit.length === 0) return;
    if (this.raftLog.term(this.raftLog.committed) !== this.term) return;
    const waiting = this.readsBeforeFirstCommit;
    this.readsBeforeFirstCommit = [];
    for (const m of waiting) this.handleReadIndex(m);
  }

  private handleReadAck(from: number, ctx: Buffer): void {
    const key = ctx.toString('hex');
    const at = this.pendingReads.findIndex((r) => r.key === key);
    if (at < 0) return;
    const req = this.pendingReads[at]!;
    req.acks.set(from, true);
    if (this.config.voteResult(req.acks) !== 'won') return;
    // A quorum confirmed our leadership after every read up to this one arrived: release them all.
    const done = this.pendingReads.splice(0, at + 1);
    for (const r of done) this.respondRead(r.from, r.index, r.context);
  }

  private respondRead(from: number, index: number, context: Buffer): void {
    if (from === this.id || from === NONE) this.readStates.push({ index, context });
    else this.send({ type: MessageType.ReadIndexResp, to: from, index, context });
  }

  // ---- membership --------------------------------------------------------------------------

  /** The ConfState after cc on top of the config in force; throws if cc is not allowed. */
  nextConfState(cc: ConfChange): ConfState {
    return nextConfState(this.confState(), cc);
  }

  /**
   * The application applied a committed conf change (in log order): the applied config moves to
   * it. The config in force already includes it (it took effect when appended). A leader that
   * is not a voter of the applied config steps down: it led until its removal committed.
   */
  applyConfChange(cc: ConfChange): ConfState {
    const expected = nextConfState(this.appliedConf, cc);
    const head = this.confLog.shift();
    assert(head !== undefined && sameConfState(head.cs, expected), () => `applied conf change ${JSON.stringify(expected)} is not the next one in the log (${JSON.stringify(head?.cs)})`);
    this.appliedConf = expected;
    this.appliedConfIndex = head.index;
    if (this.state === 'leader' && !new JointConfig(new Set(expected.voters), new Set(expected.votersOutgoing)).isVoter(this.id)) {
      this.becomeFollower(this.term, NONE);
    }
    return expected;
  }

  /** The configuration as of the applied index (what a snapshot taken now must record). */
  appliedConfState(): ConfState {
    return this.appliedConf;
  }

  private applyConfState(cs: ConfState): void {
    this.config = new JointConfig(new Set(cs.voters), new Set(cs.votersOutgoing));
    this.learners = new Set(cs.learners);
    this.learnersNext = new Set(cs.learnersNext);
    this.autoLeave = cs.autoLeave;
    for (const id of this.learners) assert(!this.config.isVoter(id), () => `node ${id} is both voter and learner`);
    const members = new Set([...this.config.ids(), ...this.learners, ...this.learnersNext]);
    const last = this.raftLog.lastIndex();
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const isLearner = !this.config.isVoter(id);
      let pr = this.progress.get(id);
      if (pr === undefined) {
        pr = new Progress(last + 1, isLearner, this.maxInflightMsgs, this.maxInflightBytes);
        if (id === this.id) pr.match = last;
        pr.recentActive = true; // a new member gets one check period before it counts as silent
        this.progress.set(id, pr);
      }
      pr.isLearner = isLearner;
    }
    if (this.state !== 'leader') return;
    // A leader the new config removes keeps leading (without counting itself) until the change
    // commits and is applied: then it steps down (applyConfChange).
    if (this.leadTransferee !== NONE && !this.config.isVoter(this.leadTransferee)) this.leadTransferee = NONE;
    if (this.maybeCommit()) this.releaseReadsAfterFirstCommit();
    this.bcastAppend();
  }

  confState(): ConfState {
    return toConfState(this.config.incoming, this.config.outgoing, this.learners, this.learnersNext, this.autoLeave);
  }

  // ---- misc ---------------------------------------------------------------------------------

  hardState(): { term: number; vote: number; commit: number } {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  /** Checks the internal invariants (the simulator calls it after every step). */
  checkInvariants(): void {
    const log = this.raftLog;
    assert(log.applied <= log.committed, 'applied > committed');
    assert(log.committed <= log.lastIndex(), 'committed > lastIndex');
    assert(this.state !== 'leader' || this.lead === this.id, 'leader does not know itself');
    assert(this.state !== 'candidate' || this.vote === this.id, 'candidate did not vote for itself');
    for (const [, pr] of this.progress) assert(pr.match < pr.next, () => `progress match ${pr.match} >= next ${pr.next}`);
  }
}

function sorted(s: Iterable<number>): number[] {
  return [...s].sort((a, b) => a - b);
}

function toConfState(
  incoming: ReadonlySet<number>,
  outgoing: ReadonlySet<number>,
  learners: ReadonlySet<number>,
  learnersNext: ReadonlySet<number>,
  autoLeave: boolean,
): ConfState {
  return { voters: sorted(incoming), votersOutgoing: sorted(outgoing), learners: sorted(learners), learnersNext: sorted(learnersNext), autoLeave };
}

/** The ConfState after cc on top of base; throws if cc is not allowed there. */
export function nextConfState(base: ConfState, cc: ConfChange): ConfState {
  const baseIncoming = new Set(base.voters);
  const incoming = new Set(base.voters);
  const learners = new Set(base.learners);
  const learnersNext = new Set(base.learnersNext);
  const joint = base.votersOutgoing.length > 0;
  if (cc.changes.length === 0 && !cc.joint) {
    if (!joint) throw new Error('cannot leave a joint config: not in one');
    for (const id of learnersNext) learners.add(id);
    return toConfState(incoming, new Set(), learners, new Set(), false);
  }
  if (joint) throw new Error('already in a joint config: leave it first');
  const enterJoint = cc.joint || cc.changes.length > 1;
  const out = enterJoint ? new Set(incoming) : new Set<number>();
  for (const ch of cc.changes) {
    assert(ch.node > 0, 'conf change node id must be positive');
    switch (ch.type) {
      case ConfChangeType.AddVoter:
        learners.delete(ch.node);
        learnersNext.delete(ch.node);
        incoming.add(ch.node);
        break;
      case ConfChangeType.AddLearner:
        incoming.delete(ch.node);
        if (out.has(ch.node)) learnersNext.add(ch.node);
        else learners.add(ch.node);
        break;
      case ConfChangeType.RemoveNode:
        incoming.delete(ch.node);
        learners.delete(ch.node);
        learnersNext.delete(ch.node);
        break;
      default:
        throw new Error(`unknown conf change type ${ch.type}`);
    }
  }
  if (incoming.size === 0) throw new Error('the configuration would have no voters');
  if (!enterJoint) {
    // One-at-a-time safety (§4.1): the old and new voter sets differ by at most one server,
    // so any majority of one intersects any majority of the other.
    let diff = 0;
    for (const id of incoming) if (!baseIncoming.has(id)) diff++;
    for (const id of baseIncoming) if (!incoming.has(id)) diff++;
    if (diff > 1) throw new Error('a simple conf change may change at most one voter; use joint consensus');
  }
  return toConfState(incoming, out, learners, learnersNext, enterJoint && !cc.joint);
}

function sameConfState(a: ConfState, b: ConfState): boolean {
  const eq = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(a.voters, b.voters) && eq(a.votersOutgoing, b.votersOutgoing) && eq(a.learners, b.learners) && eq(a.learnersNext, b.learnersNext) && a.autoLeave === b.autoLeave;
}

export function encodeConfChange(cc: ConfChange): Buffer {
  return encodeToBuffer(ConfChangeCodec, cc);
}
export function decodeConfChange(b: Buffer): ConfChange {
  return decodeFromBuffer(ConfChangeCodec, b);
}
export { isResponseMessage };
