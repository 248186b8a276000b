// Streaming snapshot writer: a consistent point-in-time snapshot of a ZkDatabase,
// produced a slice at a time while the database keeps applying commands.
//
// Copy-on-write at slot granularity. When the cursor is created (between two
// applies, at lastZxid Z) it records the tree's slot high-water mark and a "done"
// flag per slot, and copies the small tables: the ACL lists in use, the sessions
// with their ephemeral paths, lastZxid and the counts. The header and ACL table are
// encoded at once. Then:
//   * next() walks the slots in order and encodes every slot below the mark that is
//     live and not done, marking it done;
//   * before the tree changes a snapshot-visible field of a slot below the mark that
//     is not done (setData, setACL, delete, a parent's C counter or pzxid, a quota
//     stats rewrite, multi rollback…), DataTree.touch() hands the slot to preimage(),
//     which encodes its state as of Z into a side buffer, drained by the next next();
//   * a slot allocated after Z (fresh, or a freed slot reused) is marked done when
//     allocated, so it is skipped: every record holds the state at Z, exactly once.
// Records therefore come in no particular order; the format lets the loader rebuild
// child order from (czxid, cseq). The pre-image buffer grows only with the number of
// distinct old nodes changed while the snapshot runs (~150 B each for 100 B data).
//
// next() is pure (no I/O): it returns a view into a reused buffer, valid until the
// next call, so the writer must finish with it (write it) before asking again.

import type { ACL } from '../jute/records.js';
import type { DataTree, SnapshotSink } from './datatree.js';
import { encodeAclList, encodeHeader, encodeNode, nodeRecordBytes, SNAP_TRAILER } from './snapshot-format.js';
import type { SessionInfo } from './types.js';

const PRE_BYTES = 64 * 1024;
export const DEFAULT_SLICE_BYTES = 256 * 1024;

interface SessionCopy {
  sessionId: number;
  timeout: number;
  passwd: Buffer;
  ephemerals: string[];
}

const enum Phase {
  Nodes,
  Sessions,
  Trailer,
  End,
}

export class SnapshotCursor implements SnapshotSink {
  /** The zxid the snapshot is taken at. */
  readonly zxid: number;
  /** Nodes in the snapshot. */
  readonly nodeCount: number;
  /** Bytes handed out so far. */
  bytes = 0;
  /** Pre-images written because a node changed before the walk reached it. */
  preimages = 0;

  private readonly tree: DataTree;
  private readonly limit: number;
  private readonly done: Uint8Array;
  private readonly aclIndex: Int32Array;
  private readonly sessions: SessionCopy[];
  private phase = Phase.Nodes;
  private slot = 0;
  private emitted = 0;
  private sessPos = 0;
  private ephPos = -1; // -1: the session's head is next
  /** Encoded bytes waiting to go out before anything else: header and ACL table, then pre-images. */
  private preFull: Buffer[] = [];
  private pre = Buffer.allocUnsafeSlow(PRE_BYTES);
  private prePos = 0;
  private out = Buffer.allocUnsafeSlow(0);
  private failure: Error | null = null;
  /** The slice size asked for by the current next() call. */
  private lim = 0;

  constructor(tree: DataTree, sessions: ReadonlyMap<number, SessionInfo>, lastZxid: number) {
    this.tree = tree;
    this.zxid = lastZxid;
    this.nodeCount = tree.count;
    const { index, lists } = tree.acls.snapshotTable();
    this.aclIndex = index;
    this.sessions = [];
    for (const s of sessions.values()) this.sessions.push({ sessionId: s.sessionId, timeout: s.timeout, passwd: s.passwd, ephemerals: [...s.ephemerals] });
    this.preBytes(encodeHeader(lastZxid, lists.length, this.nodeCount, this.sessions.length));
    for (const l of lists) this.preBytes(encodeAclList(l as ACL[]));
    const cow = tree.beginCow(this);
    this.limit = cow.limit;
    this.done = cow.done;
  }

  /** Called by the tree before slot changes: its state at Z goes into the side buffer. */
  preimage(slot: number): void {
    try {
      const n = nodeRecordBytes(this.tree, slot);
      this.preRoom(n);
      this.prePos = encodeNode(this.pre, this.prePos, this.tree, slot, this.aclOf(slot));
      this.emitted++;
      this.preimages++;
    } catch (e) {
      // Runs inside apply(): a snapshot bug must fail the snapshot (next() throws), never the write.
      this.failure ??= e instanceof Error ? e : new Error(String(e));
      this.tree.endCow(this);
    }
  }

  /** Bytes of pre-images (and header) waiting to be handed out. */
  pendingBytes(): number {
    let n = this.prePos;
    for (const b of this.preFull) n += b.length;
    return n;
  }

  /**
   * The next slice of the snapshot, about maxBytes (more only for a single record that is
   * larger), or null once everything was handed out. The buffer is reused by the next call.
   */
  next(maxBytes = DEFAULT_SLICE_BYTES): Buffer | null {
    if (this.failure !== null) {
      this.abort();
      throw this.failure;
    }
    if (this.phase === Phase.End) return null;
    if (this.out.length < maxBytes) this.out = Buffer.allocUnsafeSlow(maxBytes);
    this.lim = maxBytes;
    let pos = this.drainPre(0);
    if (pos < 0) return this.give(-pos); // the side buffer filled the slice
    if (this.phase === Phase.Nodes) pos = this.walk(pos);
    if (this.phase === Phase.Sessions) pos = this.writeSessions(pos);
    if (this.phase === Phase.Trailer && (pos === 0 || pos + SNAP_TRAILER.length <= this.lim)) {
      if (this.out.length < pos + SNAP_TRAILER.length) this.out = Buffer.allocUnsafeSlow(SNAP_TRAILER.length);
      SNAP_TRAILER.copy(this.out, pos);
      pos += SNAP_TRAILER.length;
      this.phase = Phase.End;
    }
    return this.give(pos);
  }

  /** Stops the snapshot early (write failed, shutdown): the tree stops copying on write. */
  abort(): void {
    this.tree.endCow(this);
    this.phase = Phase.End;
    this.preFull = [];
    this.prePos = 0;
  }

  get finished(): boolean {
    return this.phase === Phase.End;
  }

  private give(pos: number): Buffer {
    this.bytes += pos;
    return this.out.subarray(0, pos);
  }

  private aclOf(slot: number): number {
    const id = this.tree.aclId[slot]!;
    const i = id < this.aclIndex.length ? this.aclIndex[id]! : -1;
    if (i < 0) throw new Error(`snapshot: node in slot ${slot} has ACL id ${id}, not in the table copied at the start`);
    return i;
  }

  private preBytes(b: Buffer): void {
    this.preRoom(b.length);
    b.copy(this.pre, this.prePos);
    this.prePos += b.length;
  }

  private preRoom(n: number): void {
    if (this.prePos + n <= this.pre.length) return;
    if (this.prePos > 0) this.preFull.push(this.pre.subarray(0, this.prePos));
    this.pre = Buffer.allocUnsafeSlow(Math.max(n, PRE_BYTES));
    this.prePos = 0;
  }

  /** Copies waiting bytes to out[pos…]; returns the new position, or −position when out is full and bytes still wait. */
  private drainPre(pos: number): number {
    while (this.preFull.length > 0) {
      const b = this.preFull[0]!;
      if (pos + b.length > this.lim) {
        if (pos > 0) return -pos;
        if (this.out.length < b.length) this.out = Buffer.allocUnsafeSlow(b.length);
      }
      b.copy(this.out, pos);
      pos += b.length;
      this.preFull.shift();
    }
    if (this.prePos > 0) {
      if (pos + this.prePos > this.lim) {
        if (pos > 0) return -pos;
        if (this.out.length < this.prePos) this.out = Buffer.allocUnsafeSlow(this.prePos);
      }
      this.pre.copy(this.out, pos, 0, this.prePos);
      pos += this.prePos;
      this.prePos = 0; // the side buffer is reused
      if (this.pre.length > PRE_BYTES) this.pre = Buffer.allocUnsafeSlow(PRE_BYTES);
    }
    return pos;
  }

  /** Encodes slots in order until the slice is full or the walk is over. */
  private walk(pos: number): number {
    const tree = this.tree;
    const done = this.done;
    const limit = this.limit;
    const blobSlab = tree.blobSlab;
    let s = this.slot;
    const lim = this.lim;
    let out = this.out;
    for (; s < limit; s++) {
      if (done[s] !== 0 || blobSlab[s] === -1) continue;
      const n = nodeRecordBytes(tree, s);
      if (pos + n > lim) {
        if (pos > 0) break;
        if (out.length < n) out = this.out = Buffer.allocUnsafeSlow(n);
      }
      pos = encodeNode(out, pos, tree, s, this.aclOf(s));
      done[s] = 1;
      this.emitted++;
    }
    this.slot = s;
    if (s === limit) {
      tree.endCow(this); // every old slot is written: changes need no pre-images any more
      if (this.emitted !== this.nodeCount) throw new Error(`snapshot: wrote ${this.emitted} node records, expected ${this.nodeCount}`);
      // pre-images written during this walk? none: touch() only runs inside apply, never in next()
      this.phase = Phase.Sessions;
    }
    return pos;
  }

  private writeSessions(pos: number): number {
    let out = this.out;
    while (this.sessPos < this.sessions.length) {
      const s = this.sessions[this.sessPos]!;
      if (this.ephPos < 0) {
        const n = 8 + 4 + 4 + s.passwd.length + 4;
        if (pos + n > this.lim) {
          if (pos > 0) return pos;
          if (out.length < n) out = this.out = Buffer.allocUnsafeSlow(n);
        }
        out.writeInt32BE(Math.floor(s.sessionId / 4294967296), pos);
        out.writeUInt32BE(s.sessionId >>> 0, pos + 4);
        out.writeInt32BE(s.timeout, pos + 8);
        out.writeInt32BE(s.passwd.length, pos + 12);
        s.passwd.copy(out, pos + 16);
        out.writeInt32BE(s.ephemerals.length, pos + 16 + s.passwd.length);
        pos += n;
        this.ephPos = 0;
      }
      while (this.ephPos < s.ephemerals.length) {
        const p = s.ephemerals[this.ephPos]!;
        const len = Buffer.byteLength(p, 'utf8');
        if (pos + 4 + len > this.lim) {
          if (pos > 0) return pos;
          if (out.length < 4 + len) out = this.out = Buffer.allocUnsafeSlow(4 + len);
        }
        out.writeInt32BE(len, pos);
        out.write(p, pos + 4, 'utf8');
        pos += 4 + len;
        this.ephPos++;
      }
      this.sessPos++;
      this.ephPos = -1;
    }
    this.phase = Phase.Trailer;
    return pos;
  }
}
