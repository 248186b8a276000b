// Incremental snapshot loader: feed the snapshot body in chunks of any size with
// push(), then finish(). Extra memory is bounded by the largest single record (a
// record split across chunks is carried over; nothing else is kept), so a 200 MB
// snapshot loads without ever being in memory as a whole.
//
// Node records may arrive in any order (see snapshot-format.ts): each is stored in
// a slot at once (path and data bytes copied straight from the chunk into the
// tree's arena, no strings), linked under its parent if that is loaded already, and
// kept pending otherwise; when the node section ends, pending nodes are linked and
// child lists that arrived out of (czxid, cseq) order are sorted. A snapshot
// written in slot order from a tree built by creates arrives almost sorted, so the
// common path is one hash lookup per node.
//
// Every length, count and cross-reference is checked; malformed input throws
// SnapshotError naming the byte offset, and the loader never waits for more bytes
// than the body can hold (when its size is given).

import { isUtf8 } from 'node:buffer';
import { JuteError, Reader } from '../jute/codec.js';
import { ACL } from '../jute/records.js';
import { DataTree, Kind, ROOT } from './datatree.js';
import {
  NODE_TAIL_BYTES,
  NODE_TAIL_BYTES_V1,
  SNAP_HEADER_BYTES,
  SNAP_MAGIC,
  SNAP_TRAILER,
  SnapshotError,
  type SnapshotContents,
} from './snapshot-format.js';
import type { SessionInfo } from './types.js';

const TWO_32 = 4294967296;
const enum St {
  Header,
  Acls,
  Nodes,
  SessionHead,
  Ephemeral,
  Trailer,
  Done,
}

const SECTION = ['header', 'ACL table', 'nodes', 'sessions', 'sessions', 'trailer', 'end'];

function i32(b: Buffer, p: number): number {
  return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
}

function i64(b: Buffer, p: number): number {
  return i32(b, p) * TWO_32 + (i32(b, p + 4) >>> 0);
}

export interface SnapshotLoaderOptions {
  /** The body's size in bytes when known: counts and lengths are checked against it up front. */
  totalBytes?: number;
}

/** Loads one snapshot body incrementally; see the file comment. */
export class SnapshotLoader {
  private st = St.Header;
  private readonly total: number;
  /** Body bytes before the current window. */
  private base = 0;
  /** Bytes carried over from earlier chunks (copies) and how many more the current unit needs. */
  private carry: Buffer[] = [];
  private carryLen = 0;
  private need = 0;
  /** Set by a unit parser that stopped short: bytes it needs from the position it returned. */
  private short = 0;
  private failed: Error | null = null;

  private version = 0;
  private lastZxid = 0;
  private aclCount = 0;
  private nodeCount = 0;
  private sessionCount = 0;
  private tree: DataTree | null = null;
  private aclIds: number[] = [];
  private nodesLeft = 0;
  private nodeTail = NODE_TAIL_BYTES;
  private pending: number[] = [];
  private v1Seq = 0;

  private readonly sessions: SessionInfo[] = [];
  private readonly seenSessions = new Set<number>();
  private sessionsLeft = 0;
  private cur: SessionInfo | null = null;
  private curPaths: string[] = [];
  private ephLeft = 0;
  private listed = 0;

  constructor(opts: SnapshotLoaderOptions = {}) {
    this.total = opts.totalBytes ?? Infinity;
  }

  /** Body bytes consumed so far. */
  get offset(): number {
    return this.base + this.carryLen;
  }

  /** Parses what it can of `chunk`; keeps a copy of an incomplete last record (the caller may reuse the chunk). */
  push(chunk: Buffer): void {
    if (this.failed !== null) throw this.failed;
    try {
      let from = 0;
      // Complete the record carried over from earlier chunks with just the bytes it needs
      // (its size may only become known in steps: first the lengths, then the whole).
      while (this.carryLen > 0 && from < chunk.length) {
        const take = Math.min(chunk.length - from, this.need - this.carryLen);
        this.carry.push(Buffer.from(chunk.subarray(from, from + take)));
        this.carryLen += take;
        from += take;
        if (this.carryLen < this.need) return;
        const win = Buffer.concat(this.carry, this.carryLen);
        this.carry = [];
        this.carryLen = 0;
        this.run(win, false); // the unit ends with win, or asks for more (carrying win again)
      }
      if (from < chunk.length) this.run(from === 0 ? chunk : chunk.subarray(from), false);
    } catch (e) {
      throw this.fail(e);
    }
  }

  /** Checks that the body ended exactly after the trailer and returns the loaded state. */
  finish(): SnapshotContents {
    if (this.failed !== null) throw this.failed;
    try {
      if (this.carryLen > 0) {
        const win = Buffer.concat(this.carry, this.carryLen);
        this.carry = [];
        this.carryLen = 0;
        this.run(win, true);
      }
      if (this.st !== St.Done) {
        this.err(this.base, `snapshot is truncated: it ends in the ${SECTION[this.st]} section after ${this.base} bytes`);
      }
      if (this.total !== Infinity && this.base !== this.total) this.err(this.base, `${this.total - this.base} trailing bytes after the trailer`);
      return { tree: this.tree!, sessions: this.sessions, lastZxid: this.lastZxid };
    } catch (e) {
      throw this.fail(e);
    }
  }

  private fail(e: unknown): Error {
    this.tree = null; // drop the half-built tree at once
    this.carry = [];
    this.carryLen = 0;
    const err = e instanceof SnapshotError ? e : e instanceof JuteError ? new SnapshotError(`snapshot is malformed: ${e.message}`) : (e as Error);
    this.failed = err;
    return err;
  }

  private err(at: number, what: string): never {
    throw new SnapshotError(what.startsWith('snapshot is') ? what : `snapshot is malformed at byte ${at}: ${what}`);
  }

  private check(ok: boolean, at: number, what: string): void {
    if (!ok) this.err(at, what);
  }

  /** Bytes of the body left after absolute offset `at` (Infinity when the size is unknown). */
  private left(at: number): number {
    return this.total - at;
  }

  /**
   * Parses units from win; an incomplete last unit is carried over (copied: the caller may
   * reuse its chunk) with `need` set to the bytes it needs in all. `final`: no more input.
   */
  private run(win: Buffer, final: boolean): void {
    const end = win.length;
    let p = 0;
    for (;;) {
      this.short = 0;
      p = this.unit(win, p, end);
      if (this.short > 0) {
        this.base += p;
        if (final) return;
        this.need = this.short;
        const rest = win.subarray(p);
        this.carry = [Buffer.from(rest)];
        this.carryLen = rest.length;
        return;
      }
      if (this.st === St.Done) {
        this.base += p;
        if (p < end) this.err(this.base, `${end - p} trailing bytes after the trailer`);
        return;
      }
      if (p === end) {
        this.base += p;
        this.need = 0;
        return;
      }
    }
  }

  private more(p: number, n: number): number {
    this.short = n;
    return p;
  }

  /** Parses one unit (for nodes: as many as are complete) at p; returns the new position (see `short`). */
  private unit(b: Buffer, p: number, end: number): number {
    switch (this.st) {
      case St.Header:
        return this.header(b, p, end);
      case St.Acls:
        return this.aclList(b, p, end);
      case St.Nodes:
        return this.nodes(b, p, end);
      case St.SessionHead:
        return this.sessionHead(b, p, end);
      case St.Ephemeral:
        return this.ephemeral(b, p, end);
      case St.Trailer: {
        if (end - p < SNAP_TRAILER.length) return this.more(p, SNAP_TRAILER.length);
        this.check(b.subarray(p, p + SNAP_TRAILER.length).equals(SNAP_TRAILER), this.base + p, 'missing trailer');
        this.st = St.Done;
        return p + SNAP_TRAILER.length;
      }
    }
    return this.err(this.base + p, `${end - p} trailing bytes after the trailer`);
  }

  private header(b: Buffer, p: number, end: number): number {
    const n = end - p;
    if (n >= 8) this.check(b.subarray(p, p + 8).equals(SNAP_MAGIC), 0, 'not a Kraal snapshot (bad magic)');
    if (n >= 12) {
      const v = i32(b, p + 8);
      this.check(v === 1 || v === 2, 8, `unsupported snapshot version ${v}`);
    }
    if (n < SNAP_HEADER_BYTES) return this.more(p, SNAP_HEADER_BYTES);
    this.version = i32(b, p + 8);
    this.lastZxid = i64(b, p + 12);
    const at = this.base + p + SNAP_HEADER_BYTES;
    const rest = this.left(at);
    this.aclCount = i32(b, p + 20);
    this.nodeCount = i32(b, p + 24);
    this.sessionCount = i32(b, p + 28);
    this.check(this.aclCount >= 0 && this.aclCount * 4 <= rest, 20, `ACL list count ${this.aclCount} does not fit in ${rest} remaining bytes`);
    this.nodeTail = this.version === 1 ? NODE_TAIL_BYTES_V1 : NODE_TAIL_BYTES;
    this.check(this.nodeCount >= 1 && this.nodeCount <= rest / (8 + this.nodeTail + 1), 24, `node count ${this.nodeCount} does not fit in ${rest} remaining bytes`);
    this.check(this.sessionCount >= 0 && this.sessionCount <= rest / 20, 28, `session count ${this.sessionCount} does not fit in ${rest} remaining bytes`);
    // Capacity: the node count (when the size vouches for it) plus headroom, so the next
    // creates do not double every column at once. Untouched typed-array pages cost no RSS.
    const cap = this.total === Infinity ? Math.min(this.nodeCount, 1 << 22) : this.nodeCount + (this.nodeCount >> 3) + 1024;
    this.tree = new DataTree(cap);
    this.tree.beginLoad();
    this.nodesLeft = this.nodeCount;
    this.sessionsLeft = this.sessionCount;
    this.st = this.aclCount > 0 ? St.Acls : St.Nodes;
    return p + SNAP_HEADER_BYTES;
  }

  /** One vector<ACL>: int count, then count × (int perms, ustring scheme, ustring id). */
  private aclList(b: Buffer, p: number, end: number): number {
    const at = this.base + p;
    if (end - p < 4) return this.more(p, 4);
    const len = i32(b, p);
    this.check(len >= 0, at, `ACL list ${this.aclIds.length} is null`);
    this.check(len * 12 <= this.left(at + 4), at, `ACL list ${this.aclIds.length} has ${len} entries, more than the snapshot holds`);
    let q = p + 4;
    for (let i = 0; i < len; i++) {
      for (let f = 0; f < 2; f++) {
        const skip = f === 0 ? 4 : 0; // perms before the scheme
        if (end - q < skip + 4) return this.more(p, q - p + skip + 4);
        const sl = i32(b, q + skip);
        this.check(sl >= -1 && sl <= this.left(this.base + q + skip + 4), this.base + q + skip, `bad string length ${sl} in ACL list ${this.aclIds.length}`);
        q += skip + 4 + (sl > 0 ? sl : 0);
        if (q > end) return this.more(p, q - p);
      }
    }
    const r = new Reader(b, p + 4, q);
    const acl: ACL[] = [];
    for (let i = 0; i < len; i++) acl.push(ACL.decode(r));
    this.aclIds.push(this.tree!.acls.intern(acl));
    if (this.aclIds.length === this.aclCount) this.st = St.Nodes;
    return q;
  }

  /** As many complete node records as the window holds. */
  private nodes(b: Buffer, p: number, end: number): number {
    const tree = this.tree!;
    const tail = this.nodeTail;
    const aclIds = this.aclIds;
    const aclCount = aclIds.length;
    const v1 = this.version === 1;
    const view = new DataView(b.buffer, b.byteOffset, b.length);
    while (this.nodesLeft > 0) {
      if (end - p < 4) return this.more(p, 4);
      const pl = i32(b, p);
      const at = this.base + p;
      this.check(pl >= 1 && pl <= this.left(at + 4), at, `bad path length ${pl}`);
      const dAt = p + 4 + pl;
      if (end - dAt < 4) return this.more(p, dAt + 4 - p);
      const dl = i32(b, dAt);
      this.check(dl >= -1 && dl <= this.left(this.base + dAt + 4), this.base + dAt, `bad data length ${dl}`);
      const t = dAt + 4 + (dl > 0 ? dl : 0);
      if (end - t < tail) return this.more(p, t + tail - p);
      // the path: '/' or '/…' not ending in '/', valid UTF-8
      const ps = p + 4;
      const isRoot = pl === 1 && b[ps] === 0x2f;
      if (!isRoot) {
        if (b[ps] !== 0x2f || pl < 2 || b[ps + pl - 1] === 0x2f) this.err(at, `bad node path ${JSON.stringify(b.toString('utf8', ps, ps + pl))}`);
      }
      const aclIndex = i32(b, t);
      if (!(aclIndex >= 0 && aclIndex < aclCount)) this.err(at, `node ${JSON.stringify(b.toString('utf8', ps, ps + pl))} names ACL ${aclIndex} of ${aclCount}`);
      const kind = b[t + 56]!;
      if (kind > Kind.TTL) this.err(at, `node ${JSON.stringify(b.toString('utf8', ps, ps + pl))} has unknown kind ${(kind << 24) >> 24}`);
      const s = tree.loadEntry(b, view, ps, pl, dAt + 4, dl);
      if (s < 0) this.err(at, `duplicate node ${JSON.stringify(b.toString('utf8', ps, ps + pl))}`);
      if (tree.loadHigh && !isUtf8(b.subarray(ps, ps + pl))) this.err(at, 'node path is not valid UTF-8');
      tree.czxid[s] = i64(b, t + 4);
      tree.mzxid[s] = i64(b, t + 12);
      tree.pzxid[s] = i64(b, t + 20);
      tree.ctime[s] = i64(b, t + 28);
      tree.mtime[s] = i64(b, t + 36);
      tree.version[s] = i32(b, t + 44);
      tree.cversion[s] = i32(b, t + 48);
      tree.aversion[s] = i32(b, t + 52);
      tree.cseq[s] = v1 ? this.v1Seq++ : i32(b, t + 65);
      tree.loadKind(s, aclIds[aclIndex]!, kind as Kind, kind === Kind.Persistent || kind === Kind.Container ? 0 : i64(b, t + 57));
      const linked = tree.loadLink(s);
      if (linked === 0) this.pending.push(s);
      else if (linked < 0) this.err(at, `node ${JSON.stringify(tree.path(s))} has the creation order of a sibling`);
      this.nodesLeft--;
      p = t + tail;
    }
    this.endNodes(this.base + p);
    return p;
  }

  /** All nodes are in: link the ones whose parent came later, restore child order, drop the loader's ACL references. */
  private endNodes(at: number): void {
    const tree = this.tree!;
    this.check(tree.blobSlab[ROOT] !== -1, at, 'the snapshot has no root node');
    // Every node is indexed now, so each pending node's parent can be found (linked or not).
    const pending = this.pending;
    this.pending = [];
    for (const s of pending) {
      const r = tree.loadLink(s);
      if (r === 0) this.err(at, `node ${JSON.stringify(tree.path(s))} has no parent in the snapshot`);
      if (r < 0) this.err(at, `node ${JSON.stringify(tree.path(s))} has the creation order of a sibling`);
    }
    this.check(tree.finishLoad(), at, 'two siblings have the same creation order');
    for (const id of this.aclIds) tree.acls.release(id); // unused lists disappear
    this.aclIds = [];
    this.st = this.sessionCount > 0 ? St.SessionHead : St.Trailer;
    if (this.sessionCount === 0) this.endSessions(at);
  }

  /** long id, int timeout, buffer passwd, int ephemeral count. */
  private sessionHead(b: Buffer, p: number, end: number): number {
    const at = this.base + p;
    if (end - p < 16) return this.more(p, 16);
    const sessionId = i64(b, p);
    const timeout = i32(b, p + 8);
    const pwl = i32(b, p + 12);
    this.check(pwl >= -1 && pwl <= this.left(at + 16), at + 12, `bad password length ${pwl}`);
    const c = p + 16 + (pwl > 0 ? pwl : 0);
    if (end - c < 4) return this.more(p, c + 4 - p);
    const n = i32(b, c);
    this.check(n >= 0 && n * 4 <= this.left(this.base + c + 4), this.base + c, `ephemeral count ${n} does not fit in ${this.left(this.base + c + 4)} remaining bytes`);
    this.check(!this.seenSessions.has(sessionId), at, `session ${sessionId} appears twice`);
    this.seenSessions.add(sessionId);
    const passwd = Buffer.alloc(pwl > 0 ? pwl : 0);
    b.copy(passwd, 0, p + 16, c);
    this.cur = { sessionId, timeout, passwd, ephemerals: this.tree!.ephemeralSet(sessionId) };
    this.curPaths = [];
    this.ephLeft = n;
    if (n === 0) this.endSession(this.base + c + 4);
    else this.st = St.Ephemeral;
    return c + 4;
  }

  private ephemeral(b: Buffer, p: number, end: number): number {
    const at = this.base + p;
    if (end - p < 4) return this.more(p, 4);
    const len = i32(b, p);
    this.check(len >= -1 && len <= this.left(at + 4), at, `bad string length ${len}`);
    const e = p + 4 + (len > 0 ? len : 0);
    if (e > end) return this.more(p, e - p);
    const path = len > 0 ? b.toString('utf8', p + 4, e) : '';
    const tree = this.tree!;
    const sid = this.cur!.sessionId;
    const s = tree.lookup(path);
    this.check(s >= 0 && tree.isEphemeral(s) && tree.owner(s) === sid, at, `session ${sid} lists ${JSON.stringify(path)}, which is not its ephemeral`);
    this.curPaths.push(path);
    if (--this.ephLeft === 0) this.endSession(this.base + e);
    return e;
  }

  private endSession(at: number): void {
    const s = this.cur!;
    const paths = this.curPaths;
    this.check(s.ephemerals.size === paths.length, at, `session ${s.sessionId} lists ${paths.length} ephemerals, the tree has ${s.ephemerals.size}`);
    // Restore the creation order (load order differs): it decides the order of close-session deletions.
    s.ephemerals.clear();
    for (const p of paths) s.ephemerals.add(p);
    this.check(s.ephemerals.size === paths.length, at, `session ${s.sessionId} lists an ephemeral twice`);
    this.listed += paths.length;
    this.sessions.push(s);
    this.cur = null;
    this.curPaths = [];
    this.st = --this.sessionsLeft > 0 ? St.SessionHead : St.Trailer;
    if (this.sessionsLeft === 0) this.endSessions(at);
  }

  private endSessions(at: number): void {
    const tree = this.tree!;
    this.check(this.listed === tree.ephemeralCount, at, `${tree.ephemeralCount - this.listed} ephemeral node(s) belong to no session`);
    this.st = St.Trailer;
  }
}

/** Parses a whole snapshot body held in one buffer; throws SnapshotError on any malformed input. */
export function readSnapshot(data: Buffer): SnapshotContents {
  const l = new SnapshotLoader({ totalBytes: data.length });
  l.push(data);
  return l.finish();
}
