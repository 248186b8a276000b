// MemoryStorage: the core's view of the stable (persisted) log, snapshot and hard state.
//
// Contract (as etcd's Storage): the core only READS it; the caller WRITES it, after the write is
// durable (append/applySnapshot/setHardState after the fsync that made them so). Entries handed
// out are shared: neither side mutates an Entry after it is created. Index 0 / term 0 is the
// virtual entry before the log; after compaction, `snapshotMeta` plays that role (dummy entry).

import { assert } from './assert.js';
import { type ConfState, type Entry, type HardState, type Snapshot, emptySnapshotMeta, entrySize, NONE } from './messages.js';

export class CompactedError extends Error {
  override name = 'CompactedError';
}
export class SnapshotTemporarilyUnavailableError extends Error {
  override name = 'SnapshotTemporarilyUnavailableError';
}

export class MemoryStorage {
  hardState: HardState = { term: 0, vote: NONE, commit: 0 };
  /** The newest snapshot (meta index 0 and empty data when none). */
  private snap: Snapshot = { meta: emptySnapshotMeta(), data: Buffer.alloc(0) };
  /** The dummy entry before ents: ≤ snap.meta.index (entries covered by the snapshot may be kept). */
  private offIndex = 0;
  private offTerm = 0;
  /** Entries after offIndex, contiguous. */
  private ents: Entry[] = [];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: this.snap.meta.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  firstIndex(): number {
    return this.offIndex + 1;
  }

  lastIndex(): number {
    return this.offIndex + this.ents.length;
  }

  /** Term of entry i; throws CompactedError below the dummy entry; undefined past the end. */
  term(i: number): number | undefined {
    const off = this.offIndex;
    if (i < off) throw new CompactedError(`index ${i} compacted (log starts after ${off})`);
    if (i === off) return this.offTerm;
    return this.ents[i - off - 1]?.term;
  }

  /** Entries [lo, hi): at least one if the range is non-empty, otherwise at most maxBytes in total. */
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const off = this.offIndex;
    if (lo <= off) throw new CompactedError(`entries from ${lo} compacted (log starts after ${off})`);
    assert(hi <= this.lastIndex() + 1, () => `entries(${lo}, ${hi}) past last index ${this.lastIndex()}`);
    return limitSize(this.ents.slice(lo - off - 1, hi - off - 1), maxBytes);
  }

  /** The newest snapshot; meta.index 0 when there is none. */
  snapshot(): Snapshot {
    return this.snap;
  }

  /** Appends durable entries; overlapping entries replace the stored suffix (a follower's truncation). */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const off = this.offIndex;
    assert(first <= this.lastIndex() + 1, () => `append at ${first} leaves a gap after ${this.lastIndex()}`);
    if (entries[entries.length - 1]!.index <= off) return; // all compacted already
    const skip = Math.max(0, off + 1 - first);
    this.ents.length = first + skip - off - 1;
    for (let k = skip; k < entries.length; k++) {
      const e = entries[k]!;
      assert(e.index === off + this.ents.length + 1, 'append: entries not contiguous');
      this.ents.push(e);
    }
  }

  /** Replaces the whole log with a snapshot received from the leader (call once it is durable). */
  applySnapshot(snap: Snapshot): void {
    assert(snap.meta.index >= this.snap.meta.index, 'applySnapshot: older than the current snapshot');
    this.snap = snap;
    this.offIndex = snap.meta.index;
    this.offTerm = snap.meta.term;
    this.ents = [];
  }

  /**
   * Records a snapshot the application took at `index` (≤ applied) and drops the entries it
   * covers except the last `keep` of them (kept so slightly slow followers catch up from the log).
   */
  createSnapshot(index: number, confState: ConfState, data: Buffer, keep = 0): void {
    assert(index > this.snap.meta.index && index <= this.lastIndex() && index >= this.offIndex,
      () => `createSnapshot(${index}) outside (${this.snap.meta.index}, ${this.lastIndex()}]`);
    this.snap = { meta: { index, term: this.term(index)!, confState }, data };
    this.compact(index - keep);
  }

  /** Drops entries up to and including compactIndex; it becomes the dummy entry. */
  compact(compactIndex: number): void {
    const off = this.offIndex;
    if (compactIndex <= off) return;
    assert(compactIndex <= this.lastIndex(), 'compact past the last index');
    assert(compactIndex <= this.snap.meta.index, 'compact past the snapshot: entries would be lost');
    this.offTerm = this.term(compactIndex)!;
    this.ents = this.ents.slice(compactIndex - off);
    this.offIndex = compactIndex;
  }
}

/** The longest prefix of ents (at least one entry) within maxBytes. */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length <= 1) return ents;
  let size = entrySize(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]!);
    if (size > maxBytes) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}
