// DurableStorage: the Raft core's MemoryStorage backed by disk, using the server's storage layer:
// the write-ahead log (src/storage/wal.ts) holds the entries, HardStateStore the term/vote/commit,
// SnapshotStore the snapshots. It restores a node on start and persists each Ready (step 2a of
// the order documented in rawnode.ts):
//
//   1. rd.snapshot (received from the leader, index S): if the WAL reaches S, cut it after S-1
//      (our entries from S on conflict with the leader's committed prefix, so none of them is
//      committed); write the snapshot file atomically (temp, fsync, rename, fsync dir).
//   2. rd.entries: if the first one is at or below the WAL's last index (a follower overwriting
//      a conflicting suffix, or a suffix that recovery could not use), truncateAfter(first-1)
//      first; then append them (buffered).
//   3. rd.hardState: when term or vote changed, save it (durable) concurrently with step 4, with
//      the commit index of the previous Ready (see below).
//   4. one WAL flush() (group commit: one write + fdatasync for the whole Ready).
//   Only then are the MemoryStorage updated and persist() resolved: the caller may send the
//   messages and apply the committed entries.
//
// The commit index on disk is a hint that must never run ahead of the durable log: a Ready's
// commit can cover entries that the same Ready writes, replacing stale ones of an older term.
// Saved before those reach the disk, it would make a node that crashed in between apply the
// stale entries after restart (the simulator found exactly that). So a commit index becomes
// savable only once its Ready's flush completed, and commit-only changes never cost a
// synchronous fsync: they reach the hardstate file in the background (at most once per
// commitSaveIntervalMs, default 1 s) and at close(). After a crash it may be behind (entries
// are re-learned from the leader, or re-committed by a single node's own election).
//
// WAL record: index and term in the record header (CRC per record, torn tails cut on open);
// payload = [entry type (u8)][entry data]. Snapshot file body = [u32 length of the
// SnapshotMeta record][SnapshotMeta (jute, messages.ts)][application data].
//
// Recovery (open): newest valid snapshot S (the store falls back to an older one if the newest
// is damaged) + the WAL records after S that form a contiguous, term-monotonic run starting at
// S+1. Records past a gap or a term going back (only possible after a damaged snapshot was
// skipped, or an interrupted snapshot install) are ignored with a warning and overwritten by
// the next append. The hard state's term is raised to the log's last term if a crash hit
// between the WAL flush and the hard state save (vote then cleared: it was never sent).
//
// Vote convention: the core uses NONE (0); HardStateStore uses null.

import * as path from 'node:path';
import { HardStateStore } from '../storage/hardstate.js';
import { SnapshotStore } from '../storage/snapshots.js';
import { WriteAheadLog } from '../storage/wal.js';
import { decodeFromBuffer, encodeToBuffer } from '../jute/schema.js';
import { MemoryStorage } from './memory-storage.js';
import { type ConfState, type Entry, type HardState, NONE, type Snapshot, SnapshotMeta } from './messages.js';
import type { Ready } from './rawnode.js';

export interface DurableStorageOptions {
  /** Base directory: hard state in `dir/hardstate`, log in `dir/wal`, snapshots in `dir/snap` unless overridden. */
  dir: string;
  walDir?: string;
  snapDir?: string;
  /** Default true. false: nothing is durable (tests and benchmarks of other layers only). */
  fsync?: boolean;
  /** WAL segment size (default: the WAL's, 64 MiB). */
  segmentBytes?: number;
  /** Snapshots kept by compaction (at least 3, the store's minimum). */
  retainSnapshots?: number;
  /**
   * How WAL flushes are made durable after recovery (WalOptions.syncMode). Default 'dsync': one
   * positional write through an O_DSYNC descriptor per Ready, one thread-pool round trip instead
   * of two (write, then fdatasync).
   */
  syncMode?: 'dsync' | 'fdatasync';
  /** Commit-only hard state changes are saved in the background at most this often. Default 1000 ms. */
  commitSaveIntervalMs?: number;
  onWarn?: (msg: string) => void;
}

export interface DurableStats {
  /** Readys persisted. */
  readys: number;
  /** WAL flushes awaited (one per Ready with entries). */
  flushes: number;
  /** Synchronous hard state saves (term or vote changed). */
  hardStateSaves: number;
  /** Background commit-index saves. */
  commitSaves: number;
  /** Suffix truncations (follower overwriting a conflicting suffix). */
  truncations: number;
  snapshotsWritten: number;
}

const EMPTY = Buffer.alloc(0);

export function encodeEntryPayload(e: Entry): Buffer {
  const data = e.data ?? EMPTY;
  const b = Buffer.allocUnsafe(1 + data.length);
  b[0] = e.type;
  data.copy(b, 1);
  return b;
}

export function decodeEntryPayload(index: number, term: number, payload: Buffer): Entry {
  if (payload.length < 1) throw new Error(`raft WAL record ${index}: empty payload (expected entry type + data)`);
  const type = payload[0]!;
  if (type !== 0 && type !== 1) throw new Error(`raft WAL record ${index}: unknown entry type ${type}`);
  return { index, term, type, data: payload.subarray(1) };
}

export function encodeSnapshotBody(meta: SnapshotMeta, data: Buffer): Buffer[] {
  const m = encodeToBuffer(SnapshotMeta, meta);
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(m.length, 0);
  return [len, m, data];
}

export function decodeSnapshotBody(index: number, term: number, body: Buffer): Snapshot {
  if (body.length < 4) throw new Error(`raft snapshot ${index}: body too short`);
  const n = body.readUInt32BE(0);
  if (4 + n > body.length) throw new Error(`raft snapshot ${index}: meta length ${n} past the body`);
  const meta = decodeFromBuffer(SnapshotMeta, body.subarray(4, 4 + n));
  if (meta.index !== index || meta.term !== term) {
    throw new Error(`raft snapshot ${index}: meta says ${meta.term}/${meta.index}, file header ${term}/${index}`);
  }
  return { meta, data: body.subarray(4 + n) };
}

export class DurableStorage {
  readonly memory: MemoryStorage;
  readonly wal: WriteAheadLog;
  readonly hardStateStore: HardStateStore;
  readonly snapshots: SnapshotStore;
  /** The snapshot recovered on open (meta.index 0 when none): the application restores from it. */
  readonly restoredSnapshot: Snapshot;

  private readonly warn: (msg: string) => void;
  private readonly retain: number;
  /**
   * Newest commit index whose entries are all durable (the background saver writes this, with
   * the newest term and vote). A Ready's commit may cover entries written by that same Ready, so
   * it becomes savable only after the Ready's WAL flush: a commit index on disk ahead of the
   * durable log would let a restarted node apply stale entries a new leader had replaced.
   */
  private durableCommit: number;
  /** Term and vote known durable or being saved. */
  private savedTerm: number;
  private savedVote: number;
  private commitSaveRunning: Promise<void> | undefined;
  private commitDirty = false;
  private commitTimer: NodeJS.Timeout | undefined;
  private lastCommitSave = 0;
  private readonly commitInterval: number;
  private commitSavedValue: number;
  private closed = false;
  private readonly st: DurableStats = { readys: 0, flushes: 0, hardStateSaves: 0, commitSaves: 0, truncations: 0, snapshotsWritten: 0 };

  private constructor(
    memory: MemoryStorage,
    wal: WriteAheadLog,
    hss: HardStateStore,
    snaps: SnapshotStore,
    snap: Snapshot,
    hs: HardState,
    opts: DurableStorageOptions,
  ) {
    this.memory = memory;
    this.wal = wal;
    this.hardStateStore = hss;
    this.snapshots = snaps;
    this.restoredSnapshot = snap;
    this.durableCommit = hs.commit;
    this.savedTerm = hs.term;
    this.savedVote = hs.vote;
    this.commitSavedValue = hs.commit;
    this.warn = opts.onWarn ?? ((m) => process.emitWarning(m, 'KraalRaftStorageWarning'));
    this.retain = opts.retainSnapshots ?? 3;
    this.commitInterval = opts.commitSaveIntervalMs ?? 1000;
  }

  /** Opens (creating if needed) and recovers the node's durable state. */
  static async open(opts: DurableStorageOptions): Promise<DurableStorage> {
    const warn = opts.onWarn ?? ((m: string) => process.emitWarning(m, 'KraalRaftStorageWarning'));
    const fsync = opts.fsync ?? true;
    const dir = path.resolve(opts.dir);
    const hss = new HardStateStore(dir, { fsync, onWarn: warn });
    const snaps = new SnapshotStore(opts.snapDir ?? path.join(dir, 'snap'), { fsync, onWarn: warn });
    const stored = await hss.load();
    const latest = await snaps.latest();
    const wal = await WriteAheadLog.open(opts.walDir ?? path.join(dir, 'wal'), {
      fsync,
      onWarn: warn,
      ...(opts.segmentBytes !== undefined ? { segmentBytes: opts.segmentBytes } : {}),
    });

    const memory = new MemoryStorage();
    let snap: Snapshot = memory.snapshot();
    if (latest !== undefined) {
      snap = decodeSnapshotBody(latest.index, latest.term, latest.data);
      memory.applySnapshot(snap);
    }
    const sIndex = snap.meta.index;
    const sTerm = snap.meta.term;
    const entries: Entry[] = [];
    let expect = sIndex + 1;
    let lastTerm = sTerm;
    let stop: string | undefined;
    for await (const rec of wal.read(sIndex > 0 ? sIndex : 1)) {
      if (rec.index === sIndex) {
        if (rec.term !== sTerm) {
          stop = `the record at the snapshot index ${sIndex} has term ${rec.term}, the snapshot term ${sTerm}`;
          break;
        }
        continue;
      }
      if (rec.index !== expect) {
        stop = `gap: expected index ${expect}, found ${rec.index}`;
        break;
      }
      if (rec.term < lastTerm) {
        stop = `term goes back at index ${rec.index} (${rec.term} < ${lastTerm})`;
        break;
      }
      entries.push(decodeEntryPayload(rec.index, rec.term, rec.payload));
      lastTerm = rec.term;
      expect++;
    }
    if (stop !== undefined) {
      warn(
        `raft storage ${dir}: the log after index ${expect - 1} is not usable (${stop}); ignoring it ` +
          `(WAL ends at ${wal.lastIndex}). It is overwritten by the next append; the leader resends what is missing.`,
      );
    }
    memory.append(entries);

    // Term/vote: a crash between the WAL flush and the hard state save can leave the log holding
    // entries of a newer term than the saved one. Raising our term is always safe; the vote of
    // that term was never sent (messages wait for both), so it is none.
    let term = stored.term;
    let vote = stored.vote === null ? NONE : stored.vote;
    if (lastTerm > term) {
      warn(`raft storage ${dir}: log holds term ${lastTerm} but the saved term is ${term} (crash before the hard state save); using term ${lastTerm}, no vote`);
      term = lastTerm;
      vote = NONE;
    }
    const hs: HardState = { term, vote, commit: stored.commit };
    memory.setHardState(hs);
    wal.setSyncMode(opts.syncMode ?? 'dsync');
    return new DurableStorage(memory, wal, hss, snaps, snap, hs, opts);
  }

  /** Step 2a of the Ready handling order: make rd durable, then update the MemoryStorage. */
  async persist(rd: Ready): Promise<void> {
    if (this.closed) throw new Error('raft storage: persist after close');
    this.st.readys++;
    const snap = rd.snapshot;
    if (snap !== undefined) {
      const s = snap.meta.index;
      const walLast = this.wal.lastIndex;
      if (walLast !== undefined && walLast >= s) {
        await this.wal.truncateAfter(s - 1);
        this.st.truncations++;
      }
      await this.snapshots.write(s, snap.meta.term, encodeSnapshotBody(snap.meta, snap.data));
      this.st.snapshotsWritten++;
    }
    const ents = rd.entries;
    if (ents.length > 0) {
      const first = ents[0]!.index;
      const walLast = this.wal.lastIndex;
      if (walLast !== undefined && first <= walLast) {
        await this.wal.truncateAfter(first - 1);
        this.st.truncations++;
      }
      for (const e of ents) this.wal.append({ index: e.index, term: e.term, payload: encodeEntryPayload(e) });
    }
    const waits: Promise<void>[] = [];
    const hs = rd.hardState;
    if (hs !== undefined && (hs.term !== this.savedTerm || hs.vote !== this.savedVote)) {
      // Term and vote must be durable before this Ready's messages are sent; the commit index
      // written with them is the last one known to be covered (see durableCommit).
      this.savedTerm = hs.term;
      this.savedVote = hs.vote;
      this.commitSavedValue = this.durableCommit;
      this.st.hardStateSaves++;
      waits.push(this.hardStateStore.save(this.stored()));
    }
    if (ents.length > 0) {
      this.st.flushes++;
      waits.push(this.wal.flush());
    }
    if (waits.length === 1) await waits[0];
    else if (waits.length > 1) await Promise.all(waits);
    if (hs !== undefined && hs.commit > this.durableCommit) {
      this.durableCommit = hs.commit;
      this.saveCommitInBackground();
    }

    if (snap !== undefined) this.memory.applySnapshot(snap);
    if (ents.length > 0) this.memory.append(ents);
    if (hs !== undefined) this.memory.setHardState(hs);
  }

  /** At most one background commit save per commitSaveIntervalMs, coalesced to the newest value. */
  private saveCommitInBackground(): void {
    this.commitDirty = true;
    if (this.closed || this.commitSaveRunning !== undefined || this.commitTimer !== undefined) return;
    const wait = this.lastCommitSave + this.commitInterval - Date.now();
    if (wait > 0) {
      this.commitTimer = setTimeout(() => {
        this.commitTimer = undefined;
        this.saveCommitInBackground();
      }, wait);
      this.commitTimer.unref();
      return;
    }
    this.commitDirty = false;
    this.lastCommitSave = Date.now();
    const stored = this.stored();
    this.st.commitSaves++;
    this.commitSaveRunning = this.hardStateStore
      .save(stored)
      .then(
        () => {
          this.commitSavedValue = Math.max(this.commitSavedValue, stored.commit);
        },
        (e: Error) => this.warn(`raft storage: background save of the commit index failed: ${e.message}`),
      )
      .finally(() => {
        this.commitSaveRunning = undefined;
        if (this.commitDirty) this.saveCommitInBackground();
      });
  }

  /**
   * Log compaction after the application took a snapshot of its state at `index` (≤ applied):
   * writes it (atomically, durable), compacts the in-memory log keeping the last `keep` entries
   * it covers, removes old snapshot files (the newest `retainSnapshots` are kept) and WAL
   * segments every kept snapshot makes unnecessary. Call between Readys (not concurrently with
   * persist()).
   */
  async compact(index: number, confState: ConfState, data: Buffer, keep = 0): Promise<void> {
    const term = this.memory.term(index);
    if (term === undefined) throw new Error(`raft storage: cannot snapshot at ${index}: past the log's last index ${this.memory.lastIndex()}`);
    const meta: SnapshotMeta = { index, term, confState };
    await this.snapshots.write(index, term, encodeSnapshotBody(meta, data));
    this.st.snapshotsWritten++;
    this.memory.createSnapshot(index, confState, data, keep);
    const { oldestKeptIndex } = await this.snapshots.purge(this.retain);
    if (oldestKeptIndex !== undefined) {
      // Records ≤ the oldest kept snapshot are covered by every snapshot recovery may fall back to.
      await this.wal.purgeBefore(Math.min(oldestKeptIndex + 1, this.memory.firstIndex()));
    }
  }

  stats(): DurableStats & { walSegments: number; walBytes: number; fsyncs: number } {
    const w = this.wal.stats();
    return { ...this.st, walSegments: w.segments, walBytes: w.dataBytes, fsyncs: w.fsyncCount };
  }

  /** What the hard state file should hold now (vote convention: see the header). */
  private stored(): StoredHardState {
    return { term: this.savedTerm, vote: this.savedVote === NONE ? null : this.savedVote, commit: this.durableCommit };
  }

  /** Saves the latest commit index, flushes and closes the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.commitTimer !== undefined) clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    while (this.commitSaveRunning !== undefined) await this.commitSaveRunning;
    if (this.durableCommit !== this.commitSavedValue) {
      await this.hardStateStore.save(this.stored()).catch((e: Error) => this.warn(`raft storage: saving the commit index at close failed: ${e.message}`));
    }
    await this.wal.close();
  }
}

type StoredHardState = { term: number; vote: number | null; commit: number };
