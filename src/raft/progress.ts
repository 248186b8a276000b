// Progress: the leader's view of one follower, and the flow control that paces appends to it.
//
//            probe  --(append accepted)-->  replicate
//              ^  \                            |
//              |   \--(needs compacted log)--> snapshot --(snapshot acked / chunk done)--> probe
//              +------------(append rejected, or unreachable)----------+
//
// probe:     at most one append in flight (paused until a response or the next heartbeat);
//            used while the match point is unknown (after election, after a rejection).
// replicate: optimistic pipelining: `next` advances as soon as an append is sent; at most
//            maxInflight messages (and maxInflightBytes) outstanding, freed as acks arrive.
// snapshot:  sending a snapshot in chunks; `snapOffset` is the next chunk's offset, one chunk
//            in flight; a lost chunk is resent after the next heartbeat response.

import { assert } from './assert.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A bounded ring of (last index, bytes) of the appends in flight to one follower. */
export class Inflights {
  private readonly idx: number[] = [];
  private readonly bytes: number[] = [];
  private bytesTotal = 0;
  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {
    assert(maxCount > 0, 'maxInflight must be positive');
  }
  get count(): number {
    return this.idx.length;
  }
  full(): boolean {
    return this.idx.length >= this.maxCount || (this.maxBytes > 0 && this.bytesTotal >= this.maxBytes);
  }
  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'inflights: add while full');
    assert(this.idx.length === 0 || lastIndex > this.idx[this.idx.length - 1]!, 'inflights: indexes must increase');
    this.idx.push(lastIndex);
    this.bytes.push(bytes);
    this.bytesTotal += bytes;
  }
  /** Frees every append whose last index ≤ index. */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.idx.length && this.idx[n]! <= index) {
      this.bytesTotal -= this.bytes[n]!;
      n++;
    }
    if (n > 0) {
      this.idx.splice(0, n);
      this.bytes.splice(0, n);
    }
  }
  freeFirst(): void {
    if (this.idx.length > 0) this.freeLE(this.idx[0]!);
  }
  reset(): void {
    this.idx.length = 0;
    this.bytes.length = 0;
    this.bytesTotal = 0;
  }
}

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match = 0;
  /** Next index to send. Invariant: match < next. */
  next: number;
  state: ProgressState = 'probe';
  /** probe: an append is outstanding; wait for its answer or the next heartbeat. */
  probeSent = false;
  /** snapshot: the snapshot being sent and the next chunk's offset. */
  pendingSnapshot = 0;
  snapOffset = 0;
  snapChunkSent = false;
  /** snapshot: the next answer may set snapOffset backwards (after a heartbeat-driven resend). */
  snapResync = false;
  /** Commit index carried by the last append sent (so an ack can trigger a commit-only append). */
  sentCommit = 0;
  /** CheckQuorum: heard from since the last check. */
  recentActive = false;
  isLearner: boolean;
  readonly inflights: Inflights;

  constructor(next: number, isLearner: boolean, maxInflight: number, maxInflightBytes: number) {
    this.next = next;
    this.isLearner = isLearner;
    this.inflights = new Inflights(maxInflight, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapOffset = 0;
    this.snapChunkSent = false;
    this.snapResync = false;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapIndex;
  }

  /** An ack up to n: returns false if it is stale (nothing new). */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /** An append ending at lastIndex was sent (bytes of payload). */
  sentEntries(lastIndex: number, count: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    } else {
      assert(false, 'sentEntries in snapshot state');
    }
  }

  /**
   * A rejection of the append at `rejected` with the follower's hint (where our search should
   * continue). Returns false if the rejection is stale (an answer to an older append).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false; // stale
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false; // not the probe in flight
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** True when no more appends may be sent now. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  describe(): string {
    return `${this.state} match=${this.match} next=${this.next}${this.isLearner ? ' learner' : ''}${this.state === 'snapshot' ? ` snap=${this.pendingSnapshot}@${this.snapOffset}` : ''}`;
  }
}
