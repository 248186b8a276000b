// RaftLog: the log as the core sees it = stable part (MemoryStorage, written by the caller after
// an fsync) + unstable part (entries and possibly a snapshot accepted but not yet persisted).
//
//   storage:   [dummy] s1 s2 ... sK            (firstIndex .. stable last)
//   unstable:                  uK+1 ... uN     (offset = first unstable index; may overwrite a
//                                               suffix of storage after a follower truncation)
//
// committed ≤ lastIndex always; applied ≤ committed; only STABLE committed entries are handed
// out for applying, so nothing is applied that a crash could take back.

import { assert } from './assert.js';
import { CompactedError, limitSize, type MemoryStorage } from './memory-storage.js';
import type { Entry, Snapshot } from './messages.js';

export class RaftLog {
  readonly storage: MemoryStorage;
  /** Snapshot accepted from the leader, not yet persisted by the caller. */
  unstableSnapshot: Snapshot | undefined;
  /** Entries not yet persisted; unstableEntries[0].index === unstableOffset. */
  unstableEntries: Entry[] = [];
  unstableOffset: number;
  committed: number;
  applied: number;

  constructor(storage: MemoryStorage) {
    this.storage = storage;
    this.unstableOffset = storage.lastIndex() + 1;
    // The app's state starts at the newest snapshot, which may be newer than the log's first index.
    const snapIndex = storage.snapshot().meta.index;
    this.committed = Math.max(snapIndex, storage.firstIndex() - 1);
    this.applied = this.committed;
  }

  firstIndex(): number {
    if (this.unstableSnapshot !== undefined) return this.unstableSnapshot.meta.index + 1;
    return this.storage.firstIndex();
  }

  lastIndex(): number {
    if (this.unstableEntries.length > 0) return this.unstableOffset + this.unstableEntries.length - 1;
    if (this.unstableSnapshot !== undefined) return this.unstableSnapshot.meta.index;
    return this.storage.lastIndex();
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== undefined, 'term of the last index is unknown');
    return t;
  }

  /** Term of entry i, or undefined if it is compacted or past the end. */
  term(i: number): number | undefined {
    const snap = this.unstableSnapshot;
    if (snap !== undefined) {
      if (i === snap.meta.index) return snap.meta.term;
      if (i < snap.meta.index) return undefined;
    }
    if (i >= this.unstableOffset) {
      return this.unstableEntries[i - this.unstableOffset]?.term;
    }
    try {
      return this.storage.term(i);
    } catch (e) {
      if (e instanceof CompactedError) return undefined;
      throw e;
    }
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term;
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower side of AppendEntries (Figure 2, receiver rules 2-5). Returns the index of the last
   * new entry, or undefined when the log does not contain prevIndex/prevTerm.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      assert(conflict > this.committed, () => `entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      this.append(ents.slice(conflict - prevIndex - 1));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /** Index of the first entry in ents that is new or conflicts with ours; 0 if all are present. */
  findConflict(ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Fast backtracking: the largest index ≤ index whose term is ≤ term (0 if none known). Any entry
   * in between cannot match the other log, so the prober can skip all of them in one round trip.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = Math.min(index, this.lastIndex()); ; i--) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
  }

  /** Appends to the unstable part, truncating a conflicting suffix. Returns the new last index. */
  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const first = ents[0]!.index;
    assert(first - 1 >= this.committed, () => `append at ${first} would overwrite committed ${this.committed}`);
    assert(first <= this.lastIndex() + 1, () => `append at ${first} leaves a gap after ${this.lastIndex()}`);
    const end = this.unstableOffset + this.unstableEntries.length;
    if (first === end) {
      for (const e of ents) this.unstableEntries.push(e);
    } else if (first <= this.unstableOffset) {
      // Replaces all unstable entries (and a suffix of storage, which the caller overwrites).
      this.unstableOffset = first;
      this.unstableEntries = ents.slice();
    } else {
      this.unstableEntries = this.unstableEntries.slice(0, first - this.unstableOffset).concat(ents);
    }
    return this.lastIndex();
  }

  /** Entries [lo, lastIndex] up to maxBytes (at least one). Throws CompactedError below firstIndex. */
  entries(lo: number, maxBytes: number): Entry[] {
    return this.slice(lo, this.lastIndex() + 1, maxBytes);
  }

  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) throw new CompactedError(`entries from ${lo} compacted`);
    assert(hi <= this.lastIndex() + 1, () => `slice [${lo}, ${hi}) past last ${this.lastIndex()}`);
    let out: Entry[] = [];
    if (lo < this.unstableOffset) {
      out = this.storage.entries(lo, Math.min(hi, this.unstableOffset), maxBytes);
      if (out.length < Math.min(hi, this.unstableOffset) - lo) return out; // size limit hit
    }
    if (hi > this.unstableOffset) {
      const u = this.unstableEntries.slice(Math.max(lo, this.unstableOffset) - this.unstableOffset, hi - this.unstableOffset);
      out = out.length === 0 ? u : out.concat(u);
    }
    return limitSize(out, maxBytes);
  }

  /** Stable committed entries not yet applied, at most maxBytes (at least one). */
  nextCommittedEntries(maxBytes: number): Entry[] {
    if (this.unstableSnapshot !== undefined) return [];
    const hi = Math.min(this.committed, this.unstableOffset - 1);
    if (hi <= this.applied) return [];
    return this.slice(this.applied + 1, hi + 1, maxBytes);
  }

  hasNextCommittedEntries(): boolean {
    return this.unstableSnapshot === undefined && Math.min(this.committed, this.unstableOffset - 1) > this.applied;
  }

  commitTo(i: number): void {
    if (i <= this.committed) return;
    assert(i <= this.lastIndex(), () => `commit ${i} is past the last index ${this.lastIndex()}: log corrupted, truncated or lost?`);
    this.committed = i;
  }

  /** Leader's commit rule (§5.4.2): only an entry of the CURRENT term is committed by counting. */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  appliedTo(i: number): void {
    assert(i >= this.applied && i <= this.committed, () => `applied ${i} outside [${this.applied}, ${this.committed}]`);
    this.applied = i;
  }

  /** The caller persisted unstable entries up to index (with that term): they become stable. */
  stableTo(index: number, term: number): void {
    if (this.term(index) !== term || index < this.unstableOffset) return; // overwritten meanwhile
    const n = index - this.unstableOffset + 1;
    this.unstableEntries = this.unstableEntries.slice(n);
    this.unstableOffset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.unstableSnapshot?.meta.index === index) this.unstableSnapshot = undefined;
  }

  /** Replaces the log with a snapshot (follower installing the leader's snapshot). */
  restore(snap: Snapshot): void {
    this.committed = snap.meta.index;
    this.unstableSnapshot = snap;
    this.unstableEntries = [];
    this.unstableOffset = snap.meta.index + 1;
  }
}
