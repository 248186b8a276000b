// Snapshot payload: the whole ZkDatabase state as bytes, and back.
//
//   header   'KRLSNAP1' · int version · long lastZxid · int aclCount · int nodeCount · int sessionCount
//   acls     aclCount × vector<ACL>                       (indices assigned in node order)
//   nodes    nodeCount × (ustring path · buffer data · int acl · long czxid · long mzxid · long pzxid
//                        · long ctime · long mtime · int version · int C · int aversion · byte kind · long owner)
//            in pre-order (parents first, siblings in order), the root first
//   sessions sessionCount × (long id · int timeout · buffer passwd · vector<ustring> ephemerals)
//   trailer  'KRLSEND1'
//
// Every field uses the jute encoding (big-endian ints and longs, length-prefixed
// strings and buffers, -1 for null), read back with the bounds-checked jute Reader.
// Nodes are written by a small chunk writer that reserves a whole record at once and
// copies path and data bytes straight from the tree's arena: the generic Writer
// took ~5 s for a million znodes, a stall the server cannot afford.
//
// The bytes depend only on the logical state (no slot numbers or intern ids), so
// two replicas with the same state write identical snapshots. The reader checks
// every length and cross-reference and throws SnapshotError; it never loops
// beyond its input. CRCs and files belong to the storage layer.

import { JuteError, Reader, Writer } from '../jute/codec.js';
import { ACL } from '../jute/records.js';
import { copyBytes, DataTree, Kind, type NodeRecord } from './datatree.js';
import type { SessionInfo } from './types.js';

const MAGIC = Buffer.from('KRLSNAP1', 'latin1');
const TRAILER = Buffer.from('KRLSEND1', 'latin1');
const VERSION = 1;
const CHUNK_BYTES = 1 << 20;
/** Bytes of a node record besides its path and data. */
const NODE_FIXED_BYTES = 4 + 4 + 4 + 5 * 8 + 3 * 4 + 1 + 8;
const TWO_32 = 4294967296;

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

// ------------------------------------------------------------------ write

/** Appends jute-encoded records to ~1 MiB chunks; a record never straddles two chunks. */
class ChunkWriter {
  readonly chunks: Buffer[] = [];
  private buf = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  private dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  private pos = 0;

  /** Makes room for a record of n bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    this.buf = Buffer.allocUnsafeSlow(Math.max(n, CHUNK_BYTES));
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
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

  int(v: number): void {
    this.dv.setInt32(this.pos, v);
    this.pos += 4;
  }

  long(v: number): void {
    const hi = Math.floor(v / TWO_32);
    this.dv.setInt32(this.pos, hi);
    this.dv.setUint32(this.pos + 4, v - hi * TWO_32);
    this.pos += 8;
  }

  byte(v: number): void {
    this.dv.setInt8(this.pos, v);
    this.pos += 1;
  }

  /** A jute buffer/ustring body: length then bytes; null → -1. */
  bytes(b: Buffer | null): void {
    if (b === null) {
      this.int(-1);
      return;
    }
    this.int(b.length);
    copyBytes(b, 0, this.buf, this.pos, b.length);
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

function writeNode(w: ChunkWriter, tree: DataTree, s: number, aclIndex: number): void {
  const path = tree.pathView(s);
  const data = tree.dataView(s);
  w.reserve(NODE_FIXED_BYTES + path.length + (data === null ? 0 : data.length));
  w.bytes(path);
  w.bytes(data);
  w.int(aclIndex);
  w.long(tree.czxid[s]!);
  w.long(tree.mzxid[s]!);
  w.long(tree.pzxid[s]!);
  w.long(tree.ctime[s]!);
  w.long(tree.mtime[s]!);
  w.int(tree.version[s]!);
  w.int(tree.cversion[s]!);
  w.int(tree.aversion[s]!);
  w.byte(tree.kind[s]!);
  w.long(tree.owner(s));
}

/** Header, ACL table and each session are small: encode them with the jute Writer. */
function encodeWith(fill: (w: Writer) => void): Buffer {
  const w = new Writer();
  fill(w);
  return w.toBuffer();
}

function encodeSession(s: SessionInfo): Buffer {
  return encodeWith((w) => {
    w.long(s.sessionId);
    w.int(s.timeout);
    w.buffer(s.passwd);
    w.int(s.ephemerals.size);
    for (const p of s.ephemerals) w.ustring(p);
  });
}

/** Serialises the state into chunks of about 1 MiB (so no single giant buffer is needed). */
export function writeSnapshot(tree: DataTree, sessions: ReadonlyMap<number, SessionInfo>, lastZxid: number): Buffer[] {
  const order = tree.preorder();
  const { index, lists } = numberAcls(tree, order);
  const w = new ChunkWriter();
  w.raw(
    encodeWith((h) => {
      h.raw(MAGIC);
      h.int(VERSION);
      h.long(lastZxid);
      h.int(lists.length);
      h.int(order.length);
      h.int(sessions.size);
      for (const acl of lists) {
        h.int(acl.length);
        for (const a of acl) ACL.encode(h, a);
      }
    }),
  );
  for (const s of order) writeNode(w, tree, s, index.get(tree.aclId[s]!)!);
  for (const s of sessions.values()) w.raw(encodeSession(s));
  w.raw(TRAILER);
  w.flush();
  return w.chunks;
}

// ------------------------------------------------------------------ read

export interface SnapshotContents {
  tree: DataTree;
  sessions: SessionInfo[];
  lastZxid: number;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new SnapshotError(`snapshot is malformed: ${what}`);
}

/** A count read from the input must be non-negative and small enough to fit in what is left. */
function readCount(r: Reader, what: string, minBytesEach: number): number {
  const n = r.int();
  check(n >= 0 && n * minBytesEach <= r.remaining(), `${what} count ${n} does not fit in ${r.remaining()} remaining bytes`);
  return n;
}

/** Interns every ACL list of the table once; the loader holds one reference to each. */
function readAcls(r: Reader, n: number, tree: DataTree): number[] {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.vectorLength();
    check(len >= 0, `ACL list ${i} is null`);
    const acl: ACL[] = [];
    for (let j = 0; j < len; j++) acl.push(ACL.decode(r));
    ids.push(tree.acls.intern(acl));
  }
  return ids;
}

function readNode(r: Reader, aclCount: number): { rec: NodeRecord; aclIndex: number } {
  const path = r.ustring();
  const data = r.buffer();
  const aclIndex = r.int();
  check(aclIndex >= 0 && aclIndex < aclCount, `node ${JSON.stringify(path)} names ACL ${aclIndex} of ${aclCount}`);
  const rec: NodeRecord = {
    path,
    data,
    acl: [],
    czxid: r.long(),
    mzxid: r.long(),
    pzxid: r.long(),
    ctime: r.long(),
    mtime: r.long(),
    version: r.int(),
    cversion: r.int(),
    aversion: r.int(),
    kind: r.byte() as Kind,
    owner: r.long(),
  };
  check(rec.kind >= Kind.Persistent && rec.kind <= Kind.TTL, `node ${JSON.stringify(path)} has unknown kind ${rec.kind}`);
  return { rec, aclIndex };
}

/**
 * Places pre-ordered nodes: the parent of each node is on the stack of its
 * predecessors' ancestors, so no parent lookup is needed.
 */
function readNodes(r: Reader, tree: DataTree, count: number, aclIds: number[]): void {
  const stackSlots: number[] = [];
  const stackPaths: string[] = [];
  for (let i = 0; i < count; i++) {
    const { rec, aclIndex } = readNode(r, aclIds.length);
    const path = rec.path;
    if (i === 0) {
      check(path === '/', `the first node is ${JSON.stringify(path)}, not the root`);
    } else {
      check(path.length > 1 && path.startsWith('/') && !path.endsWith('/'), `bad node path ${JSON.stringify(path)}`);
      check(tree.lookup(path) < 0, `duplicate node ${JSON.stringify(path)}`);
      const cut = path.lastIndexOf('/');
      const parentPath = cut === 0 ? '/' : path.slice(0, cut);
      while (stackPaths.length > 0 && stackPaths[stackPaths.length - 1] !== parentPath) {
        stackPaths.pop();
        stackSlots.pop();
      }
      check(stackPaths.length > 0, `node ${JSON.stringify(path)} is not in pre-order after its parent`);
    }
    const parent = i === 0 ? -1 : stackSlots[stackSlots.length - 1]!;
    stackSlots.push(tree.restore(rec, parent, -1, aclIds[aclIndex]!));
    stackPaths.push(path);
  }
}

function readSession(r: Reader, tree: DataTree): SessionInfo {
  const sessionId = r.long();
  const timeout = r.int();
  const passwd = Buffer.from(r.buffer() ?? Buffer.alloc(0));
  const n = readCount(r, 'ephemeral', 4);
  const paths: string[] = [];
  for (let i = 0; i < n; i++) paths.push(r.ustring());
  for (const p of paths) {
    const s = tree.lookup(p);
    check(s >= 0 && tree.isEphemeral(s) && tree.owner(s) === sessionId, `session ${sessionId} lists ${JSON.stringify(p)}, which is not its ephemeral`);
  }
  const ephemerals = tree.ephemeralSet(sessionId);
  check(ephemerals.size === paths.length, `session ${sessionId} lists ${paths.length} ephemerals, the tree has ${ephemerals.size}`);
  // Restore the creation order (node order differs): it decides the order of close-session deletions.
  ephemerals.clear();
  for (const p of paths) ephemerals.add(p);
  check(ephemerals.size === paths.length, `session ${sessionId} lists an ephemeral twice`);
  return { sessionId, timeout, passwd, ephemerals };
}

function readSessions(r: Reader, tree: DataTree, count: number): SessionInfo[] {
  const sessions: SessionInfo[] = [];
  const seen = new Set<number>();
  let listed = 0;
  for (let i = 0; i < count; i++) {
    const s = readSession(r, tree);
    check(!seen.has(s.sessionId), `session ${s.sessionId} appears twice`);
    seen.add(s.sessionId);
    listed += s.ephemerals.size;
    sessions.push(s);
  }
  check(listed === tree.ephemeralCount, `${tree.ephemeralCount - listed} ephemeral node(s) belong to no session`);
  return sessions;
}

function readBody(r: Reader): SnapshotContents {
  check(r.remaining() >= MAGIC.length && r.buf.subarray(0, MAGIC.length).equals(MAGIC), 'not a Kraal snapshot (bad magic)');
  r.pos += MAGIC.length;
  const version = r.int();
  check(version === VERSION, `unsupported snapshot version ${version}`);
  const lastZxid = r.long();
  const aclCount = readCount(r, 'ACL list', 4);
  const nodeCount = r.int();
  const sessionCount = r.int();
  check(nodeCount >= 1 && nodeCount <= r.remaining() / (NODE_FIXED_BYTES + 2), `node count ${nodeCount} does not fit in ${r.remaining()} remaining bytes`);
  check(sessionCount >= 0 && sessionCount <= r.remaining() / 20, `session count ${sessionCount} does not fit in ${r.remaining()} remaining bytes`);
  const tree = new DataTree(nodeCount);
  const aclIds = readAcls(r, aclCount, tree);
  readNodes(r, tree, nodeCount, aclIds);
  for (const id of aclIds) tree.acls.release(id); // drop the loader's references (unused lists disappear)
  const sessions = readSessions(r, tree, sessionCount);
  check(r.remaining() === TRAILER.length && r.buf.subarray(r.pos).equals(TRAILER), 'missing trailer or trailing bytes');
  return { tree, sessions, lastZxid };
}

/** Parses a whole snapshot; throws SnapshotError (saying what was wrong and where) on any malformed input. */
export function readSnapshot(data: Buffer): SnapshotContents {
  const r = new Reader(data);
  try {
    return readBody(r);
  } catch (e) {
    if (e instanceof JuteError) throw new SnapshotError(`snapshot is malformed at byte ${r.pos}: ${e.message}`);
    throw e;
  }
}
