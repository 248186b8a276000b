// Snapshot payload: the whole ZkDatabase state as bytes, and back.
//
//   header   'KRLSNAP1' · int version · long lastZxid · int aclCount · int nodeCount · int sessionCount
//   acls     aclCount × vector<ACL>
//   nodes    nodeCount × (ustring path · buffer data · int acl · long czxid · long mzxid · long pzxid
//                        · long ctime · long mtime · int version · int C · int aversion · byte kind · long owner
//                        · int cseq)
//   sessions sessionCount × (long id · int timeout · buffer passwd · vector<ustring> ephemerals)
//   trailer  'KRLSEND1'
//
// Version 2 (this one) lets node records come in ANY order: a streaming snapshot
// (snapshot-stream.ts) writes them in slot order, interleaved with the pre-images of
// slots that changed while it was being written. Each record carries cseq, the
// node's rank among the nodes created by the same zxid, so the loader rebuilds every
// child list in creation order, (czxid, cseq), whatever the record order: two
// replicas loading the same file, or files written in different orders from the
// same state, end up identical. Version 1 (no cseq, nodes in pre-order) still loads.
//
// Every field uses the jute encoding (big-endian ints and longs, length-prefixed
// strings and buffers, -1 for null). Nodes are encoded by a small writer that
// copies path and data bytes straight from the tree's arena: the generic Writer
// took ~5 s for a million znodes, a stall the server cannot afford.
//
// serialize() (writeSnapshot here) is canonical: nodes in pre-order, ACLs numbered
// in node order, so its bytes depend only on the logical state (no slot numbers or
// intern ids); two replicas with the same state write identical bytes, and tests
// compare them. The loader (snapshot-loader.ts) checks every length and
// cross-reference and throws SnapshotError; it never loops beyond its input.
// CRCs and files belong to the storage layer.

import { Writer } from '../jute/codec.js';
import { ACL } from '../jute/records.js';
import { copyBytes, DataTree, Kind } from './datatree.js';
import type { SessionInfo } from './types.js';

export const SNAP_MAGIC = Buffer.from('KRLSNAP1', 'latin1');
export const SNAP_TRAILER = Buffer.from('KRLSEND1', 'latin1');
export const SNAP_VERSION = 2;
/** Header bytes: magic, version, lastZxid, three counts. */
export const SNAP_HEADER_BYTES = 8 + 4 + 8 + 4 + 4 + 4;
const CHUNK_BYTES = 1 << 20;
/** Bytes of a version-2 node record besides its path and data (and their two length fields). */
export const NODE_TAIL_BYTES = 4 + 5 * 8 + 3 * 4 + 1 + 8 + 4;
/** The same for version 1 (no cseq). */
export const NODE_TAIL_BYTES_V1 = NODE_TAIL_BYTES - 4;
/** Bytes of a node record besides its path and data. */
export const NODE_FIXED_BYTES = 8 + NODE_TAIL_BYTES;
const TWO_32 = 4294967296;

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

// ------------------------------------------------------------------ write

function putInt(b: Buffer, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = v >>> 16;
  b[p + 2] = v >>> 8;
  b[p + 3] = v;
}

function putLong(b: Buffer, p: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  putInt(b, p, hi);
  putInt(b, p + 4, v - hi * TWO_32);
}

/** Size of slot s's node record. */
export function nodeRecordBytes(tree: DataTree, s: number): number {
  const d = tree.dataLen[s]!;
  return NODE_FIXED_BYTES + tree.pathLen[s]! + (d > 0 ? d : 0);
}

/** Encodes slot s's node record at b[p] (room checked by the caller); returns the end position. */
export function encodeNode(b: Buffer, p: number, tree: DataTree, s: number, aclIndex: number): number {
  const path = tree.pathView(s);
  const pl = path.length;
  putInt(b, p, pl);
  copyBytes(path, 0, b, p + 4, pl);
  p += 4 + pl;
  const dl = tree.dataLen[s]!;
  putInt(b, p, dl);
  p += 4;
  if (dl > 0) {
    copyBytes(tree.dataView(s)!, 0, b, p, dl);
    p += dl;
  }
  putInt(b, p, aclIndex);
  putLong(b, p + 4, tree.czxid[s]!);
  putLong(b, p + 12, tree.mzxid[s]!);
  putLong(b, p + 20, tree.pzxid[s]!);
  putLong(b, p + 28, tree.ctime[s]!);
  putLong(b, p + 36, tree.mtime[s]!);
  putInt(b, p + 44, tree.version[s]!);
  putInt(b, p + 48, tree.cversion[s]!);
  putInt(b, p + 52, tree.aversion[s]!);
  const kind = tree.kind[s]!;
  b[p + 56] = kind;
  putLong(b, p + 57, kind === Kind.Ephemeral || kind === Kind.TTL ? tree.owner(s) : 0);
  putInt(b, p + 65, tree.cseq[s]!);
  return p + NODE_TAIL_BYTES;
}

/** Header and ACL table (small): encoded with the jute Writer. */
export function encodeHeader(lastZxid: number, aclCount: number, nodeCount: number, sessionCount: number): Buffer {
  const h = new Writer(64);
  h.raw(SNAP_MAGIC);
  h.int(SNAP_VERSION);
  h.long(lastZxid);
  h.int(aclCount);
  h.int(nodeCount);
  h.int(sessionCount);
  return h.toBuffer();
}

export function encodeAclList(acl: readonly ACL[]): Buffer {
  const w = new Writer(64);
  w.int(acl.length);
  for (const a of acl) ACL.encode(w, a);
  return w.toBuffer();
}

/** Appends records to ~1 MiB chunks; a record never straddles two chunks. */
class ChunkWriter {
  readonly chunks: Buffer[] = [];
  buf = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  pos = 0;

  /** Makes room for a record of n bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    this.buf = Buffer.allocUnsafeSlow(Math.max(n, CHUNK_BYTES));
  }

  flush(): void {
    if (this.pos > 0) this.chunks.push(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  /** A record already encoded elsewhere. */
  raw(b: Buffer): void {
    this.reserve(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
}

/** Assigns ACL indices in node order, so the numbering is a function of the tree alone. */
function numberAcls(tree: DataTree, order: Int32Array): { index: Map<number, number>; lists: (readonly ACL[])[] } {
  const index = new Map<number, number>();
  const lists: (readonly ACL[])[] = [];
  for (const s of order) {
    const id = tree.aclId[s]!;
    if (!index.has(id)) {
      index.set(id, lists.length);
      lists.push(tree.acls.get(id));
    }
  }
  return { index, lists };
}

/** One session record: id, timeout, password, ephemeral paths in creation order. */
export function encodeSession(sessionId: number, timeout: number, passwd: Buffer, ephemerals: Iterable<string>, count: number): Buffer {
  const w = new Writer(64);
  w.long(sessionId);
  w.int(timeout);
  w.buffer(passwd);
  w.int(count);
  for (const p of ephemerals) w.ustring(p);
  return w.toBuffer();
}

/**
 * The canonical serialisation (nodes in pre-order, ACLs numbered in node order) as
 * chunks of about 1 MiB, synchronously. For tests and small trees; the server uses
 * the streaming cursor (snapshot-stream.ts), whose output loads to the same state.
 */
export function writeSnapshot(tree: DataTree, sessions: ReadonlyMap<number, SessionInfo>, lastZxid: number): Buffer[] {
  const order = tree.preorder();
  const { index, lists } = numberAcls(tree, order);
  const w = new ChunkWriter();
  w.raw(encodeHeader(lastZxid, lists.length, order.length, sessions.size));
  for (const acl of lists) w.raw(encodeAclList(acl));
  for (const s of order) {
    w.reserve(nodeRecordBytes(tree, s));
    w.pos = encodeNode(w.buf, w.pos, tree, s, index.get(tree.aclId[s]!)!);
  }
  for (const s of sessions.values()) w.raw(encodeSession(s.sessionId, s.timeout, s.passwd, s.ephemerals, s.ephemerals.size));
  w.raw(SNAP_TRAILER);
  w.flush();
  return w.chunks;
}

export interface SnapshotContents {
  tree: DataTree;
  sessions: SessionInfo[];
  lastZxid: number;
}
