// The znode tree, stored column-wise with its bytes off the JS heap.
//
// Why: a JS object per znode (plus a Map entry, a children Set, a path string and
// a Buffer) costs ~450 bytes of heap besides the data, so a million znodes would
// not fit the memory budget, and the GC would have millions of objects to mark.
// Here a znode is a slot number:
//   * its numeric fields live in typed arrays (no per-node objects, no boxed doubles);
//   * its path and data bytes live together in one entry of a ByteArena (slabs
//     of Buffer memory, compacted when half empty);
//   * its children form a doubly linked sibling list (parent, first/last child,
//     next/prev sibling columns), kept in creation order;
//   * paths are found through a chained hash table over the UTF-8 path bytes,
//     whose chains run through a column too.
// The tree is mutated only through create/remove/setData/setAcl, which keep the
// ZooKeeper Stat rules (§7) and can record undo closures so that a failed multi
// rolls back exactly (same bytes, same child order).
//
// Snapshots (see snapshot-stream.ts) are copy-on-write at slot granularity: while
// one is active, every change to a snapshot-visible field of a slot that existed
// when it began goes through touch(slot) first, which hands the slot's pre-image to
// the snapshot if it has not been written yet; slots allocated meanwhile are marked
// as not part of it. Child order is creation order, and each node keeps the key of
// that order, (czxid, cseq) with cseq its rank among the nodes created by the same
// zxid, so a loader can rebuild the order from records arriving in any order.

import { aclKey, freezeAclList } from './acl.js';
import type { ACL, Stat } from '../jute/records.js';

/** What kind of znode a slot holds; ephemeralOwner is only client-visible for Ephemeral. */
export const Kind = { Persistent: 0, Ephemeral: 1, Container: 2, TTL: 3 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Inverse actions recorded while a multi runs; replayed backwards on failure. */
export type Undo = (() => void)[];

export const ROOT = 0;
const NONE = -1;

// ------------------------------------------------------------------ ACL intern table

/**
 * ZooKeeper's ACL cache idea: identical ACL lists are stored once and nodes hold a
 * small id. Reference counts let lists nobody uses any more be dropped.
 */
export class AclTable {
  private readonly lists: (readonly ACL[] | null)[] = [];
  private readonly keys: string[] = [];
  private readonly refs: number[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly free: number[] = [];

  /** Returns the id of this list (taking one reference), adding it if new. */
  intern(acl: readonly ACL[]): number {
    const key = aclKey(acl);
    const found = this.byKey.get(key);
    if (found !== undefined) {
      this.refs[found]!++;
      return found;
    }
    const id = this.free.length > 0 ? this.free.pop()! : this.lists.length;
    this.lists[id] = Object.isFrozen(acl) ? acl : freezeAclList(acl);
    this.keys[id] = key;
    this.refs[id] = 1;
    this.byKey.set(key, id);
    return id;
  }

  /** One more reference to an interned list. */
  retain(id: number): void {
    this.refs[id]!++;
  }

  release(id: number): void {
    if (--this.refs[id]! > 0) return;
    this.byKey.delete(this.keys[id]!);
    this.lists[id] = null;
    this.keys[id] = '';
    this.free.push(id);
  }

  /** The shared, frozen list: never mutate it. */
  get(id: number): readonly ACL[] {
    return this.lists[id]!;
  }

  /** Distinct lists in use. */
  size(): number {
    return this.byKey.size;
  }

  /** The lists in use in id order, and for every id its position among them (-1 for a free id). */
  snapshotTable(): { index: Int32Array; lists: (readonly ACL[])[] } {
    const index = new Int32Array(this.lists.length).fill(-1);
    const lists: (readonly ACL[])[] = [];
    for (let id = 0; id < this.lists.length; id++) {
      const l = this.lists[id];
      if (l === null || l === undefined || this.refs[id]! <= 0) continue;
      index[id] = lists.length;
      lists.push(l);
    }
    return { index, lists };
  }
}

// ------------------------------------------------------------------ byte arena

const SLAB_BYTES = 1 << 20;
/** Entries larger than this get a slab of their own, freed as soon as the entry dies. */
const DEDICATED_BYTES = SLAB_BYTES >> 2;

/**
 * Log-structured byte storage. Entries are appended to the current slab and never
 * written again, so views handed out stay valid and unchanged. Freeing only counts
 * dead bytes: a slab with no live bytes is dropped at once, and a closed slab less
 * than half live becomes a victim, whose live entries the tree copies to the
 * current slab (settle(), at the end of each mutation, so entries never move
 * mid-operation) before dropping it. Entries carry no header: the tree finds a
 * victim's entries by scanning its slab column, which costs a few ms per MiB
 * reclaimed even with a million nodes.
 */
class ByteArena {
  private readonly slabs: (Buffer | null)[] = [];
  private readonly views: (DataView | null)[] = [];
  private readonly used: number[] = [];
  private readonly live: number[] = [];
  private readonly freeIdx: number[] = [];
  private readonly victims: number[] = [];
  private cur = NONE;
  /** Slab and offset of the last alloc (returned this way to avoid an object per call). */
  slab = 0;
  offset = 0;
  /** Bytes held in slabs, live or not. */
  reserved = 0;

  buf(slab: number): Buffer {
    return this.slabs[slab]!;
  }

  /** A DataView over the slab (for word-wise copies), made on first use. */
  view(slab: number): DataView {
    let v = this.views[slab];
    if (v === null || v === undefined) {
      const b = this.slabs[slab]!;
      v = this.views[slab] = new DataView(b.buffer, b.byteOffset, b.length);
    }
    return v;
  }

  /** Reserves `n` bytes; the caller writes them at (slab, offset). */
  alloc(n: number): void {
    if (n > DEDICATED_BYTES) {
      this.slab = this.newSlab(n);
    } else {
      if (this.cur === NONE || this.used[this.cur]! + n > SLAB_BYTES) this.openSlab();
      this.slab = this.cur;
    }
    this.offset = this.used[this.slab]!;
    this.used[this.slab]! += n;
    this.live[this.slab]! += n;
  }

  free(slab: number, n: number): void {
    this.live[slab]! -= n;
    if (slab !== this.cur) this.review(slab); // the current slab is reviewed once it is closed
  }

  /** A slab whose live entries should be moved out, or -1. */
  nextVictim(): number {
    while (this.victims.length > 0) {
      const s = this.victims.pop()!;
      if (this.slabs[s] !== null && s !== this.cur && this.live[s]! > 0 && this.mostlyDead(s)) return s;
    }
    return NONE;
  }

  /** Drops a slab after its live entries have been moved out. */
  drop(slab: number): void {
    this.reserved -= this.slabs[slab]!.length;
    this.slabs[slab] = null;
    this.views[slab] = null;
    this.used[slab] = this.live[slab] = 0;
    this.freeIdx.push(slab);
  }

  private review(slab: number): void {
    if (this.live[slab] === 0) this.drop(slab);
    else if (this.mostlyDead(slab)) this.victims.push(slab);
  }

  private mostlyDead(slab: number): boolean {
    return this.slabs[slab]!.length === SLAB_BYTES && this.live[slab]! * 2 < this.used[slab]!;
  }

  private openSlab(): void {
    const old = this.cur;
    this.cur = this.newSlab(SLAB_BYTES);
    if (old !== NONE) this.review(old);
  }

  private newSlab(size: number): number {
    const i = this.freeIdx.length > 0 ? this.freeIdx.pop()! : this.slabs.length;
    this.slabs[i] = Buffer.allocUnsafeSlow(size); // never a view into Node's shared pool
    this.views[i] = null;
    this.used[i] = 0;
    this.live[i] = 0;
    this.reserved += size;
    return i;
  }
}

/** Buffer.copy costs ~100 ns whatever the size (it allocates a view); below ~40 bytes a loop is faster. */
export function copyBytes(src: Buffer, srcStart: number, dst: Buffer, dstStart: number, n: number): void {
  if (n > 32) {
    src.copy(dst, dstStart, srcStart, srcStart + n);
    return;
  }
  for (let i = 0; i < n; i++) dst[dstStart + i] = src[srcStart + i]!;
}

// ------------------------------------------------------------------ quota bookkeeping

const QUOTA_ROOT = '/zookeeper/quota';
const LIMIT_NODE = 'zookeeper_limits';
const STAT_NODE = 'zookeeper_stats';

/**
 * ZooKeeper's StatsTrack text ('count=1,bytes=4', newer keys after an extra '=':
 * 'count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=2'). Pairs ZooKeeper would
 * choke on (no '=', not a number) are skipped rather than failing the write.
 */
export function parseStats(text: string): Map<string, number> {
  const out = new Map<string, number>();
  if (text === '') return out;
  for (const pair of text.split(/[,;]+/)) {
    const kv = pair.split('=');
    while (kv.length > 0 && kv[kv.length - 1] === '') kv.pop(); // Java's split drops trailing empties
    if (kv.length < 2) continue;
    const v = kv[1] === '' ? -1 : /^[+-]?[0-9]+$/.test(kv[1]!) ? Number(kv[1]) : NaN;
    if (!Number.isNaN(v)) out.set(kv[0]!, v);
  }
  return out;
}

export function formatStats(stats: ReadonlyMap<string, number>): string {
  let s = `count=${stats.get('count') ?? -1},bytes=${stats.get('bytes') ?? -1}`;
  const others = [...stats.keys()].filter((k) => k !== 'count' && k !== 'bytes').sort();
  if (others.length > 0) s += '=' + others.map((k) => `;${k}=${stats.get(k)}`).join('');
  return s;
}

/** PathTrie's key for a path: its components, empty and blank ones dropped; null for the root (never under quota). */
function quotaKey(path: string): string | null {
  const parts = path.split('/').filter((p) => p.trim() !== '');
  return parts.length === 0 ? null : '/' + parts.join('/');
}

// ------------------------------------------------------------------ node store

/** Everything needed to recreate a znode: used by snapshots and by multi rollback. */
export interface NodeRecord {
  path: string;
  /** Copied in by restore(); null is kept distinct from empty. */
  data: Buffer | null;
  acl: readonly ACL[];
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  /** The stored create counter C, not the reported cversion. */
  cversion: number;
  aversion: number;
  kind: Kind;
  /** Session id for Ephemeral, TTL in ms for TTL, 0 otherwise. */
  owner: number;
  /** Rank among the nodes created by the same zxid (the child-order tie break); 0 when absent. */
  cseq?: number;
}

/** Receives the pre-image of a slot about to change while a snapshot is being written. */
export interface SnapshotSink {
  preimage(slot: number): void;
}

/** 32-bit FNV-1a over the path's UTF-8 bytes. */
function hashBytes(b: Buffer, start: number, n: number): number {
  let h = 0x811c9dc5;
  for (let i = start, end = start + n; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/** ZooKeeper sizes paths in UTF-16 units (String.length); count them from UTF-8 bytes. */
function utf16Length(b: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if ((c & 0xc0) !== 0x80) n += c >= 0xf0 ? 2 : 1;
  }
  return n;
}

function growF64(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}

function growI32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

export class DataTree {
  // Columns, indexed by slot. Read them freely from zk/; mutate only through methods.
  czxid: Float64Array;
  mzxid: Float64Array;
  pzxid: Float64Array;
  ctime: Float64Array;
  mtime: Float64Array;
  version: Int32Array;
  cversion: Int32Array;
  aversion: Int32Array;
  aclId: Int32Array;
  numChildren: Int32Array;
  parent: Int32Array;
  firstChild: Int32Array;
  lastChild: Int32Array;
  nextSibling: Int32Array; // also links the free-slot list
  prevSibling: Int32Array;
  hashNext: Int32Array;
  /** The 32-bit hash of the path bytes (chains are filtered on it before bytes are compared). */
  pathHash: Int32Array;
  /** Where the node's entry (path bytes, then data bytes) lives in the arena; blobSlab -1 for a free slot. */
  blobSlab: Int32Array;
  blobOff: Int32Array;
  pathLen: Int32Array;
  /** -1 for null data. */
  dataLen: Int32Array;
  kind: Uint8Array;
  /** Rank among the nodes created by the same zxid: with czxid, the key of the child order. */
  cseq: Int32Array;
  /** Session id of ephemerals, TTL of TTL nodes: sparse, so a map rather than a column. */
  private readonly owners = new Map<number, number>();

  readonly acls = new AclTable();
  /** Slots of containers and of TTL nodes: the reaper's candidates. */
  readonly containers = new Set<number>();
  readonly ttls = new Set<number>();
  /** Paths of each session's ephemerals in creation order; SessionInfo.ephemerals is this set. */
  private readonly ephemerals = new Map<number, Set<string>>();
  /** Paths under quota (ZooKeeper's PathTrie): derived from the zookeeper_limits nodes, rebuilt on load. */
  private readonly quotaPaths = new Set<string>();

  private readonly arena: ByteArena;
  private scratch = Buffer.allocUnsafeSlow(4096);
  private capacity: number;
  private highWater = 0;
  private freeHead = NONE;
  private buckets: Int32Array;
  /** Live znodes (the root counts once). */
  count = 0;
  /** Σ path length (UTF-16 units) + data bytes: ZooKeeper's approximate data size. */
  dataSize = 0;
  ephemeralCount = 0;
  /** Half-empty slabs evacuated so far (for tests and metrics). */
  compactions = 0;
  /** The zxid of the last create and the next cseq for it. */
  private seqZxid = -1;
  private seqNext = 0;
  // Copy-on-write state of the active snapshot: slots below cowLimit existed when it began;
  // cowDone[slot] is 1 once the slot was written (or is known not to belong to it).
  private cowLimit = 0;
  private cowDone = new Uint8Array(0);
  private cowSink: SnapshotSink | null = null;
  // Loading state (see beginLoad): parents whose children arrived out of order; what
  // loadEntry learnt about the last path (its last '/' and the hash of the part before it).
  private loadUnsorted: Set<number> | null = null;
  private loadSlot = NONE;
  private loadCut = 0;
  private loadParentHash = 0;
  /** Whether the path of the last loadEntry had a byte >= 0x80 (then check it is UTF-8). */
  loadHigh = false;

  constructor(initialCapacity = 1024) {
    const n = Math.max(16, initialCapacity);
    this.capacity = n;
    this.czxid = new Float64Array(n);
    this.mzxid = new Float64Array(n);
    this.pzxid = new Float64Array(n);
    this.ctime = new Float64Array(n);
    this.mtime = new Float64Array(n);
    this.version = new Int32Array(n);
    this.cversion = new Int32Array(n);
    this.aversion = new Int32Array(n);
    this.aclId = new Int32Array(n);
    this.numChildren = new Int32Array(n);
    this.parent = new Int32Array(n);
    this.firstChild = new Int32Array(n);
    this.lastChild = new Int32Array(n);
    this.nextSibling = new Int32Array(n);
    this.prevSibling = new Int32Array(n);
    this.hashNext = new Int32Array(n);
    this.pathHash = new Int32Array(n);
    this.blobSlab = new Int32Array(n).fill(NONE);
    this.blobOff = new Int32Array(n);
    this.pathLen = new Int32Array(n);
    this.dataLen = new Int32Array(n);
    this.kind = new Uint8Array(n);
    this.cseq = new Int32Array(n);
    let b = 16;
    while (b < n) b *= 2; // a power of two: buckets are indexed with a mask
    this.buckets = new Int32Array(b).fill(NONE);
    this.arena = new ByteArena();
  }

  // ---------------------------------------------------------------- lookup

  /** Slot of a path, or -1. "" is the root, as in ZooKeeper's node table. */
  lookup(path: string): number {
    if (path === '' || path === '/') return this.count > 0 ? ROOT : NONE;
    const n = this.encodeKey(path);
    const h = hashBytes(this.scratch, 0, n);
    const hh = h | 0;
    let s = this.buckets[h & (this.buckets.length - 1)]!;
    while (s !== NONE) {
      if (this.pathHash[s] === hh && this.pathLen[s] === n && this.keyEquals(s, n)) return s;
      s = this.hashNext[s]!;
    }
    return NONE;
  }

  path(slot: number): string {
    const start = this.blobOff[slot]!;
    return this.arena.buf(this.blobSlab[slot]!).toString('utf8', start, start + this.pathLen[slot]!);
  }

  acl(slot: number): readonly ACL[] {
    return this.acls.get(this.aclId[slot]!);
  }

  owner(slot: number): number {
    return this.owners.get(slot) ?? 0;
  }

  /** The node's data as a fresh copy (null stays null). */
  data(slot: number): Buffer | null {
    const v = this.dataView(slot);
    return v === null ? null : Buffer.from(v);
  }

  /** The UTF-8 path bytes, as a read-only view into the arena (stays valid and unchanged). */
  pathView(slot: number): Buffer {
    const start = this.blobOff[slot]!;
    return this.arena.buf(this.blobSlab[slot]!).subarray(start, start + this.pathLen[slot]!);
  }

  /** The data bytes, as a read-only view into the arena (stays valid and unchanged), or null. */
  dataView(slot: number): Buffer | null {
    const len = this.dataLen[slot]!;
    if (len < 0) return null;
    const start = this.blobOff[slot]! + this.pathLen[slot]!;
    return this.arena.buf(this.blobSlab[slot]!).subarray(start, start + len);
  }

  isEphemeral(slot: number): boolean {
    return this.kind[slot] === Kind.Ephemeral;
  }

  /** The client-visible Stat (§7): cversion = 2·C − numChildren, ephemeralOwner 0 unless ephemeral. */
  stat(slot: number): Stat {
    const n = this.numChildren[slot]!;
    return {
      czxid: this.czxid[slot]!,
      mzxid: this.mzxid[slot]!,
      ctime: this.ctime[slot]!,
      mtime: this.mtime[slot]!,
      version: this.version[slot]!,
      cversion: (Math.imul(this.cversion[slot]!, 2) - n) | 0,
      aversion: this.aversion[slot]!,
      ephemeralOwner: this.kind[slot] === Kind.Ephemeral ? this.owner(slot) : 0,
      dataLength: Math.max(0, this.dataLen[slot]!),
      numChildren: n,
      pzxid: this.pzxid[slot]!,
    };
  }

  /** Child names (no leading '/'), in creation order, decoded straight from the path bytes. */
  childNames(slot: number): string[] {
    const skip = slot === ROOT ? 1 : this.pathLen[slot]! + 1;
    const out: string[] = new Array(this.numChildren[slot]!);
    let i = 0;
    for (let c = this.firstChild[slot]!; c !== NONE; c = this.nextSibling[c]!) {
      const off = this.blobOff[c]!;
      out[i++] = this.arena.buf(this.blobSlab[c]!).toString('utf8', off + skip, off + this.pathLen[c]!);
    }
    return out;
  }

  /** Number of descendants (ZooKeeper's getAllChildrenNumber), walking the subtree without recursion. */
  descendantCount(top: number): number {
    let s = this.firstChild[top]!;
    if (s === NONE) return 0;
    let n = 0;
    for (;;) {
      n++;
      if (this.firstChild[s] !== NONE) {
        s = this.firstChild[s]!;
        continue;
      }
      while (this.nextSibling[s] === NONE) {
        s = this.parent[s]!;
        if (s === top) return n;
      }
      s = this.nextSibling[s]!;
    }
  }

  /** Every slot parent-before-children, siblings in order (snapshot order), without recursion. */
  preorder(): Int32Array {
    const out = new Int32Array(this.count);
    if (this.count === 0) return out;
    let i = 0;
    let s = ROOT;
    for (;;) {
      out[i++] = s;
      if (this.firstChild[s] !== NONE) {
        s = this.firstChild[s]!;
        continue;
      }
      while (s !== ROOT && this.nextSibling[s] === NONE) s = this.parent[s]!;
      if (s === ROOT) return out;
      s = this.nextSibling[s]!;
    }
  }

  /** The live set of a session's ephemeral paths (created empty on first use). */
  ephemeralSet(sessionId: number): Set<string> {
    let set = this.ephemerals.get(sessionId);
    if (set === undefined) {
      set = new Set();
      this.ephemerals.set(sessionId, set);
    }
    return set;
  }

  forgetSession(sessionId: number): void {
    this.ephemerals.delete(sessionId);
  }

  /** Bytes of slab memory held for paths and data (live or awaiting compaction). */
  arenaBytes(): number {
    return this.arena.reserved;
  }

  // ---------------------------------------------------------------- mutation

  /**
   * Creates a child of `parentSlot` with a fresh Stat (§7) and bumps the parent's
   * create counter and pzxid. Copies `data`. Takes ownership of one reference to `aclId`.
   */
  create(path: string, parentSlot: number, data: Buffer | null, aclId: number, kind: Kind, owner: number, zxid: number, time: number, undo: Undo | null): number {
    this.touch(parentSlot);
    const oldC = this.cversion[parentSlot]!;
    const oldPzxid = this.pzxid[parentSlot]!;
    if (zxid !== this.seqZxid) {
      this.seqZxid = zxid;
      this.seqNext = 0;
    }
    const slot = this.attach(path, parentSlot, data, aclId, kind, owner, NONE, this.seqNext++);
    this.czxid[slot] = this.mzxid[slot] = this.pzxid[slot] = zxid;
    this.ctime[slot] = this.mtime[slot] = time;
    this.cversion[parentSlot] = (oldC + 1) | 0; // a signed int in ZooKeeper: it wraps
    this.pzxid[parentSlot] = zxid;
    if (undo !== null) {
      // Undo finds nodes by path: undoing later steps may have re-created them in other slots.
      const parentPath = this.path(parentSlot);
      undo.push(() => {
        this.detach(this.lookup(path));
        const p = this.lookup(parentPath);
        this.touch(p);
        this.cversion[p] = oldC;
        this.pzxid[p] = oldPzxid;
        this.settle();
      });
    }
    this.quotaAfterCreate(path, data === null ? 0 : data.length, undo);
    this.settle();
    return slot;
  }

  /** Deletes a childless node; the parent's pzxid moves forward (never back). `path` saves decoding it. */
  remove(slot: number, zxid: number, undo: Undo | null, path = this.path(slot)): void {
    const parentSlot = this.parent[slot]!;
    const oldPzxid = this.pzxid[parentSlot]!;
    const bytes = Math.max(0, this.dataLen[slot]!);
    if (undo !== null) undo.push(this.undoRemove(slot, oldPzxid));
    this.detach(slot);
    if (zxid > oldPzxid) {
      this.touch(parentSlot);
      this.pzxid[parentSlot] = zxid;
    }
    this.quotaAfterRemove(path, bytes, undo);
    this.settle();
  }

  /** setData: new data (copied), version+1 (wrapping like a Java int), mzxid and mtime. `path` saves decoding it. */
  setData(slot: number, data: Buffer | null, zxid: number, time: number, undo: Undo | null, path?: string): void {
    const bytesDiff = (data === null ? 0 : data.length) - Math.max(0, this.dataLen[slot]!);
    if (this.quotaPaths.size > 0) {
      const prefix = this.maxQuotaPrefix(path ?? this.path(slot));
      if (prefix !== null) this.bumpQuota(prefix, bytesDiff, 0, undo);
    }
    if (undo !== null) {
      const path = this.path(slot);
      const d = this.data(slot);
      const v = this.version[slot]!;
      const mz = this.mzxid[slot]!;
      const mt = this.mtime[slot]!;
      undo.push(() => {
        const s = this.lookup(path);
        this.replaceData(s, d);
        this.touch(s);
        this.version[s] = v;
        this.mzxid[s] = mz;
        this.mtime[s] = mt;
        this.settle();
      });
    }
    this.replaceData(slot, data);
    this.touch(slot);
    this.version[slot] = (this.version[slot]! + 1) | 0;
    this.mzxid[slot] = zxid;
    this.mtime[slot] = time;
    this.settle();
  }

  /** setACL: new list, aversion+1. Not allowed inside multi, so no undo. Takes one reference to `aclId`. */
  setAcl(slot: number, aclId: number): void {
    this.touch(slot);
    this.acls.release(this.aclId[slot]!);
    this.aclId[slot] = aclId;
    this.aversion[slot] = (this.aversion[slot]! + 1) | 0;
  }

  /** A copy of a node's persistent state. */
  record(slot: number): NodeRecord {
    return {
      path: this.path(slot),
      data: this.data(slot),
      acl: this.acl(slot),
      czxid: this.czxid[slot]!,
      mzxid: this.mzxid[slot]!,
      pzxid: this.pzxid[slot]!,
      ctime: this.ctime[slot]!,
      mtime: this.mtime[slot]!,
      version: this.version[slot]!,
      cversion: this.cversion[slot]!,
      aversion: this.aversion[slot]!,
      kind: this.kind[slot]! as Kind,
      owner: this.owner(slot),
      cseq: this.cseq[slot]!,
    };
  }

  /**
   * Re-creates a node exactly as recorded under `parentSlot` (-1 only for the
   * root), before sibling `before` (-1: last). `aclId`, when given, is an interned
   * list to take a reference to instead of interning rec.acl (faster for snapshots).
   */
  restore(rec: NodeRecord, parentSlot: number, before = NONE, aclId = NONE): number {
    if (aclId === NONE) aclId = this.acls.intern(rec.acl);
    else this.acls.retain(aclId);
    const slot = this.attach(rec.path, parentSlot, rec.data, aclId, rec.kind, rec.owner, before, rec.cseq ?? 0);
    this.czxid[slot] = rec.czxid;
    this.mzxid[slot] = rec.mzxid;
    this.pzxid[slot] = rec.pzxid;
    this.ctime[slot] = rec.ctime;
    this.mtime[slot] = rec.mtime;
    this.version[slot] = rec.version;
    this.cversion[slot] = rec.cversion;
    this.aversion[slot] = rec.aversion;
    this.settle();
    return slot;
  }

  /**
   * Rebuilds the quota trie from the limit nodes and recomputes every quota's
   * zookeeper_stats from the tree, as ZooKeeper's setupQuota does after loading.
   */
  setupQuotas(): void {
    this.quotaPaths.clear();
    const top = this.lookup(QUOTA_ROOT);
    if (top < 0) return;
    const end = '/' + LIMIT_NODE;
    for (const s of this.subtree(top)) {
      if (this.numChildren[s] !== 0) continue;
      const path = this.path(s);
      if (!path.endsWith(end)) continue;
      const real = path.slice(QUOTA_ROOT.length, path.indexOf(end));
      this.recomputeQuota(real, null);
      this.quotaTrieAdd(real, null);
    }
    this.settle();
  }

  // ---------------------------------------------------------------- snapshot copy-on-write

  /** Slots allocated so far (every live slot is below this). */
  slotLimit(): number {
    return this.highWater;
  }

  /**
   * Starts copy-on-write for a snapshot of the current state: until endCow(), the first
   * change to any slot below the current high-water mark whose done flag is 0 first calls
   * sink.preimage(slot) (and sets the flag). The caller sets flags of slots it writes itself.
   */
  beginCow(sink: SnapshotSink): { limit: number; done: Uint8Array } {
    if (this.cowSink !== null) throw new Error('a snapshot is already being written');
    this.cowSink = sink;
    this.cowLimit = this.highWater;
    this.cowDone = new Uint8Array(this.highWater);
    return { limit: this.cowLimit, done: this.cowDone };
  }

  endCow(sink: SnapshotSink): void {
    if (this.cowSink !== sink) return;
    this.cowSink = null;
    this.cowLimit = 0;
    this.cowDone = new Uint8Array(0);
  }

  /** Must precede every change to a snapshot-visible field of `slot` (one compare when no snapshot runs). */
  private touch(slot: number): void {
    if (slot < this.cowLimit && this.cowDone[slot] === 0) {
      this.cowDone[slot] = 1;
      this.cowSink!.preimage(slot);
    }
  }

  // ---------------------------------------------------------------- snapshot loading
  // A loader (snapshot-loader.ts) fills an empty tree: beginLoad(), then per record
  // loadEntry() + the numeric columns written directly + loadKind() + loadLink(), and
  // finally loadLinkPending-style retries and finishLoad(). Records may come in any order.

  /** Prepares this fresh tree for loading: slot 0 is kept for the root, whenever it arrives. */
  beginLoad(): void {
    if (this.highWater !== 0 || this.count !== 0) throw new Error('beginLoad: the tree is not empty');
    this.highWater = 1;
    this.loadUnsorted = new Set();
  }

  /**
   * Stores a node's path bytes src[pathStart, +pathLen) and data bytes src[dataStart, +dataLen)
   * (dataLen -1: null) in a new slot and indexes the path. `srcView` is a DataView over src.
   * Returns the slot, or -1 when the path is already present. Numeric columns are left for the
   * caller; nothing is linked yet. Afterwards loadHigh says whether the path had a non-ASCII byte.
   * One pass over the path bytes copies them, hashes them and hashes the parent prefix.
   */
  loadEntry(src: Buffer, srcView: DataView, pathStart: number, pathLen: number, dataStart: number, dataLen: number): number {
    const dl = dataLen < 0 ? 0 : dataLen;
    const arena = this.arena;
    arena.alloc(pathLen + dl);
    const slab = arena.slab;
    const off = arena.offset;
    const b = arena.buf(slab);
    let h = 0x811c9dc5;
    let ph = h;
    let cut = 0;
    let high = 0;
    for (let i = 0; i < pathLen; i++) {
      const c = src[pathStart + i]!;
      b[off + i] = c;
      if (c === 0x2f) {
        ph = h;
        cut = i;
      }
      h = Math.imul(h ^ c, 0x01000193);
      high |= c;
    }
    h >>>= 0;
    if (dl > 0) {
      if (dl <= 128) {
        const dv = arena.view(slab);
        const to = off + pathLen;
        let i = 0;
        for (; i + 4 <= dl; i += 4) dv.setInt32(to + i, srcView.getInt32(dataStart + i));
        for (; i < dl; i++) b[to + i] = src[dataStart + i]!;
      } else {
        src.copy(b, off + pathLen, dataStart, dataStart + dl);
      }
    }
    this.loadHigh = high >= 0x80;
    if (this.findBytesHashed(b, off, pathLen, h) !== NONE) {
      arena.free(slab, pathLen + dl);
      return NONE;
    }
    const slot = pathLen === 1 && b[off] === 0x2f ? ROOT : this.allocSlot();
    this.hashInsert(slot, h);
    this.blobSlab[slot] = slab;
    this.blobOff[slot] = off;
    this.pathLen[slot] = pathLen;
    this.dataLen[slot] = dataLen;
    this.firstChild[slot] = this.lastChild[slot] = NONE;
    this.parent[slot] = this.prevSibling[slot] = this.nextSibling[slot] = NONE;
    this.numChildren[slot] = 0;
    this.count++;
    this.dataSize += (high >= 0x80 ? utf16Length(b, off, off + pathLen) : pathLen) + dl;
    this.loadSlot = slot;
    this.loadCut = cut;
    this.loadParentHash = ph >>> 0;
    return slot;
  }

  /** Registers a loaded node's ACL (one reference taken), kind and owner. */
  loadKind(slot: number, aclId: number, kind: Kind, owner: number): void {
    this.acls.retain(aclId);
    this.aclId[slot] = aclId;
    this.kind[slot] = kind;
    if (kind === Kind.Ephemeral || kind === Kind.TTL) this.owners.set(slot, owner);
    if (kind !== Kind.Persistent) this.registerKind(slot, kind === Kind.Ephemeral ? this.path(slot) : '', kind, owner);
  }

  /**
   * Links a loaded node (czxid and cseq set) under its parent, found by path. Returns 1 when
   * linked (or the root), 0 when the parent is not loaded (yet), -1 when a sibling has the
   * same (czxid, cseq) key, which no valid snapshot has.
   */
  loadLink(slot: number): number {
    if (slot === ROOT) return 1;
    const b = this.arena.buf(this.blobSlab[slot]!);
    const off = this.blobOff[slot]!;
    let cut: number;
    let ph: number;
    if (slot === this.loadSlot) {
      cut = this.loadCut; // computed by loadEntry
      ph = this.loadParentHash;
    } else {
      cut = this.pathLen[slot]! - 1;
      while (cut > 0 && b[off + cut] !== 0x2f) cut--;
      ph = hashBytes(b, off, cut);
    }
    let p: number;
    if (cut === 0) p = this.blobSlab[ROOT] === NONE ? NONE : ROOT;
    else p = this.findBytesHashed(b, off, cut, ph);
    if (p === NONE) return 0;
    const last = this.lastChild[p]!;
    if (last !== NONE) {
      const c = this.orderCompare(slot, last);
      if (c === 0) return -1;
      if (c < 0) this.loadUnsorted!.add(p);
    }
    this.linkChild(p, slot, NONE);
    return 1;
  }

  /** Ends loading: puts every child list that arrived out of order into (czxid, cseq) order. False on a duplicate key. */
  finishLoad(): boolean {
    const unsorted = this.loadUnsorted;
    this.loadUnsorted = null;
    if (unsorted === null) return true;
    const cmp = (a: number, b: number): number => this.orderCompare(a, b);
    for (const p of unsorted) {
      const kids: number[] = [];
      for (let c = this.firstChild[p]!; c !== NONE; c = this.nextSibling[c]!) kids.push(c);
      kids.sort(cmp);
      let prev = NONE;
      for (const c of kids) {
        if (prev !== NONE && cmp(prev, c) === 0) return false;
        this.prevSibling[c] = prev;
        if (prev === NONE) this.firstChild[p] = c;
        else this.nextSibling[prev] = c;
        prev = c;
      }
      this.nextSibling[prev] = NONE;
      this.lastChild[p] = prev;
    }
    return true;
  }

  private orderCompare(a: number, b: number): number {
    const d = this.czxid[a]! - this.czxid[b]!;
    return d !== 0 ? d : this.cseq[a]! - this.cseq[b]!;
  }

  /** Slot whose path bytes equal src[start, +n) (hash h), or -1. */
  private findBytesHashed(src: Buffer, start: number, n: number, h: number): number {
    let s = this.buckets[h & (this.buckets.length - 1)]!;
    const hh = h | 0;
    while (s !== NONE) {
      if (this.pathHash[s] === hh && this.pathLen[s] === n) {
        const b = this.arena.buf(this.blobSlab[s]!);
        const o = this.blobOff[s]!;
        let i = 0;
        while (i < n && b[o + i] === src[start + i]) i++;
        if (i === n) return s;
      }
      s = this.hashNext[s]!;
    }
    return NONE;
  }

  // ---------------------------------------------------------------- quota internals
  // ZooKeeper's DataTree keeps, for each path under quota, the node count and data
  // bytes of its subtree in /zookeeper/quota<path>/zookeeper_stats. Those rewrites
  // change only the data: no version, mzxid, mtime or watch.

  /** DataTree.createNode's quota part: limit node → trie, stats node → recompute, then count the new node. */
  private quotaAfterCreate(path: string, bytes: number, undo: Undo | null): void {
    const cut = path.lastIndexOf('/');
    const parentName = path.slice(0, cut);
    if (parentName.startsWith(QUOTA_ROOT)) {
      const child = path.slice(cut + 1);
      if (child === LIMIT_NODE) this.quotaTrieAdd(parentName.slice(QUOTA_ROOT.length), undo);
      if (child === STAT_NODE) this.recomputeQuota(parentName.slice(QUOTA_ROOT.length), undo);
    }
    const prefix = this.maxQuotaPrefix(path);
    if (prefix !== null) this.bumpQuota(prefix, bytes, 1, undo);
  }

  /** DataTree.deleteNode's quota part: a limit node leaves the trie, then the node is uncounted. */
  private quotaAfterRemove(path: string, bytes: number, undo: Undo | null): void {
    const cut = path.lastIndexOf('/');
    const parentName = path.slice(0, cut);
    if (parentName.startsWith('/zookeeper') && path.slice(cut + 1) === LIMIT_NODE) this.quotaTrieDelete(parentName.slice(QUOTA_ROOT.length), undo);
    const prefix = this.maxQuotaPrefix(path);
    if (prefix !== null) this.bumpQuota(prefix, -bytes, -1, undo);
  }

  /** PathTrie.findMaxPrefix + getMaxPrefixWithQuota: the deepest quota path containing `path`, or null. */
  private maxQuotaPrefix(path: string): string | null {
    if (this.quotaPaths.size === 0) return null;
    const parts = path.split('/').filter((p) => p.trim() !== '');
    for (let k = parts.length; k > 0; k--) {
      const key = '/' + parts.slice(0, k).join('/');
      if (this.quotaPaths.has(key)) return key;
    }
    return null;
  }

  private quotaTrieAdd(path: string, undo: Undo | null): void {
    const key = quotaKey(path);
    if (key === null || this.quotaPaths.has(key)) return;
    this.quotaPaths.add(key);
    undo?.push(() => this.quotaPaths.delete(key));
  }

  private quotaTrieDelete(path: string, undo: Undo | null): void {
    const key = quotaKey(path);
    if (key === null || !this.quotaPaths.delete(key)) return;
    undo?.push(() => this.quotaPaths.add(key));
  }

  /** DataTree.updateQuotaStat: adds to the count and bytes in the prefix's stats node, if it exists. */
  private bumpQuota(prefix: string, bytesDiff: number, countDiff: number, undo: Undo | null): void {
    const slot = this.lookup(QUOTA_ROOT + prefix + '/' + STAT_NODE);
    if (slot < 0) return;
    const stats = parseStats(this.dataView(slot)?.toString('utf8') ?? '');
    stats.set('count', (stats.get('count') ?? -1) + countDiff);
    stats.set('bytes', (stats.get('bytes') ?? -1) + bytesDiff);
    this.rewriteData(slot, Buffer.from(formatStats(stats), 'utf8'), undo);
  }

  /** DataTree.updateQuotaForPath: the stats node of `path` gets the count and bytes of its whole subtree. */
  private recomputeQuota(path: string, undo: Undo | null): void {
    const statSlot = this.lookup(QUOTA_ROOT + path + '/' + STAT_NODE);
    if (statSlot < 0) return;
    const top = this.lookup(path);
    let count = 0;
    let bytes = 0;
    if (top >= 0) {
      for (const s of this.subtree(top)) {
        count++;
        bytes += Math.max(0, this.dataLen[s]!);
      }
    }
    this.rewriteData(statSlot, Buffer.from(`count=${count},bytes=${bytes}`, 'utf8'), undo);
  }

  /** Replaces a node's data and nothing else (quota stats). */
  private rewriteData(slot: number, data: Buffer, undo: Undo | null): void {
    const old = this.dataView(slot);
    if (old !== null && old.equals(data)) return;
    if (undo !== null) {
      const path = this.path(slot);
      const before = this.data(slot);
      undo.push(() => this.replaceData(this.lookup(path), before));
    }
    this.replaceData(slot, data);
  }

  /** `top` and all its descendants, parents first. */
  private subtree(top: number): number[] {
    const out = [top];
    for (let i = 0; i < out.length; i++) {
      for (let c = this.firstChild[out[i]!]!; c !== NONE; c = this.nextSibling[c]!) out.push(c);
    }
    return out;
  }

  // ---------------------------------------------------------------- internals

  /**
   * The inverse of removing `slot`: puts the node back at the same place among its
   * siblings and in its session's ephemeral order, so a rolled-back multi leaves the
   * state (and the snapshot bytes) exactly as before. Places are remembered by path,
   * because undoing later steps may have re-created their nodes in other slots.
   */
  private undoRemove(slot: number, oldPzxid: number): () => void {
    const rec = this.record(slot);
    const parentPath = this.path(this.parent[slot]!);
    const next = this.nextSibling[slot]!;
    const nextPath = next === NONE ? null : this.path(next);
    const ephOrder = rec.kind === Kind.Ephemeral ? [...this.ephemeralSet(rec.owner)] : null;
    return () => {
      const parentSlot = this.lookup(parentPath);
      this.restore(rec, parentSlot, nextPath === null ? NONE : this.lookup(nextPath));
      this.touch(parentSlot);
      this.pzxid[parentSlot] = oldPzxid;
      if (ephOrder !== null) {
        const set = this.ephemeralSet(rec.owner);
        set.clear();
        for (const p of ephOrder) set.add(p);
      }
    };
  }

  /** UTF-8 encodes a path into the scratch buffer; returns its byte length. */
  private encodeKey(path: string): number {
    if (path.length * 3 > this.scratch.length) {
      const need = Buffer.byteLength(path, 'utf8');
      if (need > this.scratch.length) this.scratch = Buffer.allocUnsafeSlow(need * 2);
    }
    return this.scratch.write(path, 0, 'utf8');
  }

  /** Do the first n scratch bytes equal the slot's path bytes? */
  private keyEquals(slot: number, n: number): boolean {
    const b = this.arena.buf(this.blobSlab[slot]!);
    const start = this.blobOff[slot]!;
    if (n > 64) return this.scratch.compare(b, start, start + n, 0, n) === 0;
    const k = this.scratch;
    for (let i = 0; i < n; i++) if (b[start + i] !== k[i]) return false;
    return true;
  }

  /** Writes a new arena entry for `slot`: the n path bytes now in scratch, then the data. */
  private writeEntry(slot: number, n: number, data: Buffer | null): void {
    this.arena.alloc(n + (data === null ? 0 : data.length));
    const b = this.arena.buf(this.arena.slab);
    const off = this.arena.offset;
    copyBytes(this.scratch, 0, b, off, n);
    if (data !== null) copyBytes(data, 0, b, off + n, data.length);
    this.blobSlab[slot] = this.arena.slab;
    this.blobOff[slot] = off;
    this.pathLen[slot] = n;
    this.dataLen[slot] = data === null ? -1 : data.length;
  }

  private entryLength(slot: number): number {
    return this.pathLen[slot]! + Math.max(0, this.dataLen[slot]!);
  }

  /** Moves the live entries out of half-empty slabs (see ByteArena). */
  private settle(): void {
    for (let v = this.arena.nextVictim(); v !== NONE; v = this.arena.nextVictim()) {
      const from = this.arena.buf(v);
      for (let s = 0; s < this.highWater; s++) {
        if (this.blobSlab[s] !== v) continue;
        const len = this.entryLength(s);
        this.arena.alloc(len);
        copyBytes(from, this.blobOff[s]!, this.arena.buf(this.arena.slab), this.arena.offset, len);
        this.blobSlab[s] = this.arena.slab;
        this.blobOff[s] = this.arena.offset;
      }
      this.arena.drop(v);
      this.compactions++;
    }
  }

  private replaceData(slot: number, data: Buffer | null): void {
    this.touch(slot);
    const oldSlab = this.blobSlab[slot]!;
    const oldLen = this.entryLength(slot);
    this.dataSize += (data === null ? 0 : data.length) - Math.max(0, this.dataLen[slot]!);
    const n = this.pathLen[slot]!;
    copyBytes(this.arena.buf(oldSlab), this.blobOff[slot]!, this.scratch, 0, n); // n <= scratch size: the path was encoded there before
    this.writeEntry(slot, n, data);
    this.arena.free(oldSlab, oldLen);
  }

  /** Allocates a slot, stores its bytes, links it under its parent and into the hash, registers its kind. Stat fields start at 0. */
  private attach(path: string, parentSlot: number, data: Buffer | null, aclId: number, kind: Kind, owner: number, before: number, cseq: number): number {
    const slot = this.allocSlot();
    const n = this.encodeKey(path);
    this.hashInsert(slot, hashBytes(this.scratch, 0, n));
    this.writeEntry(slot, n, data);
    this.aclId[slot] = aclId;
    this.kind[slot] = kind;
    if (kind === Kind.Ephemeral || kind === Kind.TTL) this.owners.set(slot, owner);
    this.czxid[slot] = this.mzxid[slot] = this.pzxid[slot] = this.ctime[slot] = this.mtime[slot] = 0;
    this.version[slot] = this.cversion[slot] = this.aversion[slot] = this.numChildren[slot] = 0;
    this.cseq[slot] = cseq;
    this.firstChild[slot] = this.lastChild[slot] = NONE;
    this.linkChild(parentSlot, slot, before);
    this.count++;
    this.dataSize += path.length + (data === null ? 0 : data.length);
    this.registerKind(slot, path, kind, owner);
    return slot;
  }

  private detach(slot: number): void {
    this.touch(slot);
    const pathView = this.pathView(slot);
    this.unregisterKind(slot);
    this.dataSize -= utf16Length(pathView, 0, pathView.length) + Math.max(0, this.dataLen[slot]!);
    this.count--;
    this.hashRemove(slot, hashBytes(pathView, 0, pathView.length));
    this.unlinkChild(slot);
    this.acls.release(this.aclId[slot]!);
    this.owners.delete(slot);
    this.arena.free(this.blobSlab[slot]!, this.entryLength(slot));
    this.blobSlab[slot] = NONE; // so compaction sees the old entry as dead
    this.nextSibling[slot] = this.freeHead;
    this.freeHead = slot;
  }

  private registerKind(slot: number, path: string, kind: Kind, owner: number): void {
    if (kind === Kind.Ephemeral) {
      this.ephemeralSet(owner).add(path);
      this.ephemeralCount++;
    } else if (kind === Kind.Container) {
      this.containers.add(slot);
    } else if (kind === Kind.TTL) {
      this.ttls.add(slot);
    }
  }

  private unregisterKind(slot: number): void {
    const kind = this.kind[slot];
    if (kind === Kind.Ephemeral) {
      this.ephemerals.get(this.owner(slot))?.delete(this.path(slot));
      this.ephemeralCount--;
    } else if (kind === Kind.Container) {
      this.containers.delete(slot);
    } else if (kind === Kind.TTL) {
      this.ttls.delete(slot);
    }
  }

  private allocSlot(): number {
    if (this.freeHead !== NONE) {
      const s = this.freeHead;
      this.freeHead = this.nextSibling[s]!;
      if (s < this.cowLimit) this.cowDone[s] = 1; // free when the snapshot began, or already written: not in it
      return s;
    }
    if (this.highWater === this.capacity) this.grow();
    return this.highWater++;
  }

  private grow(): void {
    const n = this.capacity * 2;
    this.czxid = growF64(this.czxid, n);
    this.mzxid = growF64(this.mzxid, n);
    this.pzxid = growF64(this.pzxid, n);
    this.ctime = growF64(this.ctime, n);
    this.mtime = growF64(this.mtime, n);
    this.version = growI32(this.version, n);
    this.cversion = growI32(this.cversion, n);
    this.aversion = growI32(this.aversion, n);
    this.aclId = growI32(this.aclId, n);
    this.numChildren = growI32(this.numChildren, n);
    this.parent = growI32(this.parent, n);
    this.firstChild = growI32(this.firstChild, n);
    this.lastChild = growI32(this.lastChild, n);
    this.nextSibling = growI32(this.nextSibling, n);
    this.prevSibling = growI32(this.prevSibling, n);
    this.hashNext = growI32(this.hashNext, n);
    this.pathHash = growI32(this.pathHash, n);
    this.blobSlab = growI32(this.blobSlab, n);
    this.blobSlab.fill(NONE, this.capacity);
    this.blobOff = growI32(this.blobOff, n);
    this.pathLen = growI32(this.pathLen, n);
    this.dataLen = growI32(this.dataLen, n);
    const k = new Uint8Array(n);
    k.set(this.kind);
    this.kind = k;
    this.cseq = growI32(this.cseq, n);
    this.capacity = n;
  }

  /** Inserts `slot` into the parent's child list before `before` (-1: at the end, i.e. creation order). The root has parent -1. */
  private linkChild(parentSlot: number, slot: number, before: number): void {
    this.parent[slot] = parentSlot;
    if (parentSlot === NONE) {
      this.prevSibling[slot] = this.nextSibling[slot] = NONE;
      return;
    }
    const prev = before === NONE ? this.lastChild[parentSlot]! : this.prevSibling[before]!;
    this.prevSibling[slot] = prev;
    this.nextSibling[slot] = before;
    if (prev === NONE) this.firstChild[parentSlot] = slot;
    else this.nextSibling[prev] = slot;
    if (before === NONE) this.lastChild[parentSlot] = slot;
    else this.prevSibling[before] = slot;
    this.numChildren[parentSlot]!++;
  }

  private unlinkChild(slot: number): void {
    const p = this.parent[slot]!;
    if (p === NONE) return;
    const prev = this.prevSibling[slot]!;
    const next = this.nextSibling[slot]!;
    if (prev === NONE) this.firstChild[p] = next;
    else this.nextSibling[prev] = next;
    if (next === NONE) this.lastChild[p] = prev;
    else this.prevSibling[next] = prev;
    this.numChildren[p]!--;
  }

  private hashInsert(slot: number, hash: number): void {
    if (this.count >= this.buckets.length) this.rehash(this.buckets.length * 2);
    const b = hash & (this.buckets.length - 1);
    this.hashNext[slot] = this.buckets[b]!;
    this.buckets[b] = slot;
    this.pathHash[slot] = hash;
  }

  private hashRemove(slot: number, hash: number): void {
    const b = hash & (this.buckets.length - 1);
    let s = this.buckets[b]!;
    if (s === slot) {
      this.buckets[b] = this.hashNext[slot]!;
      return;
    }
    while (s !== NONE) {
      const next = this.hashNext[s]!;
      if (next === slot) {
        this.hashNext[s] = this.hashNext[slot]!;
        return;
      }
      s = next;
    }
  }

  /** Re-buckets every live slot (called before the slot being inserted has its entry). */
  private rehash(size: number): void {
    const buckets = new Int32Array(size).fill(NONE);
    const mask = size - 1;
    for (let s = 0; s < this.highWater; s++) {
      if (this.blobSlab[s] === NONE) continue;
      const b = this.pathHash[s]! & mask;
      this.hashNext[s] = buckets[b]!;
      buckets[b] = s;
    }
    this.buckets = buckets;
  }
}
