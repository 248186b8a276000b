// ZkDatabase: the pure ZooKeeper state machine.
//
// apply(cmd) validates and executes one logged command against the tree exactly
// as ZooKeeper's PrepRequestProcessor + DataTree would (same checks, same order,
// same error codes: protocol notes §6, §7, §9, §11, §12); read() answers the read
// requests as FinalRequestProcessor does. Nothing here touches sockets, files or
// clocks: time and identities travel inside the command, so every replica that
// applies the same commands ends in the same state.

import { JuteError, Reader } from '../jute/codec.js';
import { Err, EventType, MAX_TTL, Op, Perms } from '../jute/constants.js';
import type { ACL, CheckVersionRequest, CreateTTLRequest, DeleteRequest, PathRequest, PathWatchRequest, SetACLRequest, SetDataRequest, Stat } from '../jute/records.js';
import { OPS, type MultiOp, type MultiRequest, type MultiResult } from '../jute/requests.js';
import type { Codec } from '../jute/schema.js';
import { checkPerm, DEFAULT_ACL_SCHEMES, fixupAcl, maskDigests, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from './acl.js';
import { CreateSessionBody, ErrorBody, type Command } from './command.js';
import { DataTree, Kind, ROOT, type NodeRecord, type Undo } from './datatree.js';
import { SPECIAL_PATHS, sequenceSuffix, validatePath } from './paths.js';
import { writeSnapshot, type SnapshotContents } from './snapshot-format.js';
import { readSnapshot, SnapshotLoader, type SnapshotLoaderOptions } from './snapshot-loader.js';
import { SnapshotCursor } from './snapshot-stream.js';
import type { ApplyResult, Identity, ReadResult, SessionInfo, Trigger, WatchKind } from './types.js';

export interface ZkDatabaseOptions {
  /** zookeeper.extendedTypesEnabled: allows TTL nodes (otherwise creating one is Unimplemented). */
  extendedTypesEnabled?: boolean;
  /**
   * ACL schemes with a registered auth provider besides world, digest and ip
   * (e.g. ['sasl'] when a SASL provider is configured). Others are InvalidACL.
   */
  extraAclSchemes?: readonly string[];
  /** zoo.cfg skipACL=yes: every permission check passes. */
  skipAcl?: boolean;
}

/** A failed check inside an operation. Not an Error: no stack trace to capture on a hot path. */
class OpFailure {
  constructor(readonly code: number) {}
}

function fail(code: number): never {
  throw new OpFailure(code);
}

/** Everything a write needs besides its request record. */
interface WriteCtx {
  zxid: number;
  time: number;
  sessionId: number;
  ids: readonly Identity[];
  triggers: Trigger[];
  /** Non-null inside multi: inverse actions for rollback. */
  undo: Undo | null;
}

const EMPTY_BODY = Buffer.alloc(0);

const CREATE_OPS: ReadonlySet<number> = new Set([Op.create, Op.create2, Op.createContainer, Op.createTTL]);
const SEQUENTIAL_MODES: ReadonlySet<number> = new Set([2, 3, 6]);
const TTL_MODES: ReadonlySet<number> = new Set([5, 6]);
const EPHEMERAL_MODES: ReadonlySet<number> = new Set([1, 3]);

/** Java's String.trim(): strips every char <= U+0020 at both ends. */
function javaTrim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 0x20) a++;
  while (b > a && s.charCodeAt(b - 1) <= 0x20) b--;
  return s.slice(a, b);
}

function decode<T>(codec: Codec<T>, body: Buffer | null): T {
  return codec.decode(new Reader(body ?? EMPTY_BODY));
}

/** The parent path of a path containing '/', with '/' standing for ZooKeeper's "" root alias. */
function parentPath(path: string, lastSlash: number): string {
  return lastSlash === 0 ? '/' : path.slice(0, lastSlash);
}

export class ZkDatabase {
  /** zxid of the last applied command; 0 when fresh. */
  lastZxid = 0;
  private tree: DataTree;
  private readonly sessionTable = new Map<number, SessionInfo>();
  private readonly extendedTypes: boolean;
  private readonly aclSchemes: ReadonlySet<string>;
  private readonly skipAcl: boolean;

  constructor(opts: ZkDatabaseOptions = {}) {
    this.extendedTypes = opts.extendedTypesEnabled ?? false;
    this.aclSchemes = new Set([...DEFAULT_ACL_SCHEMES, ...(opts.extraAclSchemes ?? [])]);
    this.skipAcl = opts.skipAcl ?? false;
    this.tree = ZkDatabase.initialTree();
  }

  /** §7: '/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config'; all zxids 0, children not counted in C. */
  private static initialTree(): DataTree {
    const t = new DataTree();
    const base = { data: Buffer.alloc(0), czxid: 0, mzxid: 0, pzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, kind: Kind.Persistent, owner: 0 };
    // cseq, the creation-order tie break among equal czxids, follows creation order here too.
    const node = (path: string, acl: readonly ACL[], cseq: number, aversion = 0): NodeRecord => ({ ...base, path, acl, aversion, cseq });
    t.restore(node('/', OPEN_ACL_UNSAFE, 0), -1);
    const zk = t.restore(node('/zookeeper', OPEN_ACL_UNSAFE, 1), ROOT);
    t.restore(node('/zookeeper/quota', OPEN_ACL_UNSAFE, 2), zk);
    t.restore(node('/zookeeper/config', READ_ACL_UNSAFE, 3, -1), zk);
    return t;
  }

  // ================================================================ apply

  /** Applies one logged command. `cmd.zxid` must exceed lastZxid; every command consumes its zxid, even a failing one. */
  apply(cmd: Command): ApplyResult {
    if (!(cmd.zxid > this.lastZxid)) throw new Error(`apply: zxid ${cmd.zxid} is not after the last applied zxid ${this.lastZxid}`);
    this.lastZxid = cmd.zxid;
    try {
      return this.dispatch(cmd);
    } catch (e) {
      if (e instanceof OpFailure) return { err: e.code, triggers: [] };
      if (e instanceof JuteError) return { err: Err.MarshallingError, triggers: [] };
      throw e;
    }
  }

  private dispatch(cmd: Command): ApplyResult {
    switch (cmd.op) {
      case Op.createSession:
        return this.createSession(cmd);
      case Op.closeSession:
        return this.closeSession(cmd);
      case Op.error:
        return { err: decode(ErrorBody, cmd.body).err, triggers: [] };
      case Op.reconfig:
        return { err: Err.ReconfigDisabled, triggers: [] }; // checked before anything else, as in ZooKeeper
    }
    const spec = OPS.get(cmd.op);
    if (spec === undefined || !spec.write) fail(Err.Unimplemented); // includes a stand-alone check (13): never a valid write
    const internal = cmd.op === Op.deleteContainer && cmd.sessionId === 0; // the container/TTL reaper
    if (!internal && !this.sessionTable.has(cmd.sessionId)) fail(Err.SessionExpired);
    const req = decode(spec.request, cmd.body);
    const ctx: WriteCtx = { zxid: cmd.zxid, time: cmd.time, sessionId: cmd.sessionId, ids: cmd.identities, triggers: [], undo: null };
    if (cmd.op === Op.multi) return this.multi(req as MultiRequest, ctx);
    const response = this.execWrite(cmd.op, req, ctx);
    return { err: Err.OK, response, triggers: ctx.triggers };
  }

  /** One write (stand-alone or a multi sub-op). Throws OpFailure; mutates only after every check passed. */
  private execWrite(op: number, req: any, ctx: WriteCtx): unknown {
    if (CREATE_OPS.has(op)) return this.create(op, req as CreateTTLRequest, ctx);
    switch (op) {
      case Op.delete:
        return this.delete(req as DeleteRequest, ctx);
      case Op.deleteContainer:
        return this.deleteContainer(req as PathRequest, ctx);
      case Op.setData:
        return this.setData(req as SetDataRequest, ctx);
      case Op.setACL:
        return this.setAcl(req as SetACLRequest, ctx);
      case Op.check:
        return this.check(req as CheckVersionRequest, ctx);
    }
    return fail(Err.Unimplemented);
  }

  // ---------------------------------------------------------------- sessions

  private createSession(cmd: Command): ApplyResult {
    const body = decode(CreateSessionBody, cmd.body);
    const existing = this.sessionTable.get(cmd.sessionId);
    if (existing !== undefined) {
      existing.timeout = body.timeOut; // a re-proposed create only refreshes the timeout
    } else {
      this.sessionTable.set(cmd.sessionId, {
        sessionId: cmd.sessionId,
        timeout: body.timeOut,
        passwd: Buffer.from(body.passwd ?? EMPTY_BODY), // a copy: the body is a view into the log buffer
        ephemerals: this.tree.ephemeralSet(cmd.sessionId),
      });
    }
    return { err: Err.OK, response: undefined, triggers: [] };
  }

  /** Deletes the session's ephemerals (all at this zxid, each firing its watches) and forgets it. Closing an unknown session is a no-op. */
  private closeSession(cmd: Command): ApplyResult {
    const session = this.sessionTable.get(cmd.sessionId);
    const ctx: WriteCtx = { zxid: cmd.zxid, time: cmd.time, sessionId: cmd.sessionId, ids: cmd.identities, triggers: [], undo: null };
    if (session !== undefined) {
      for (const path of [...session.ephemerals]) {
        const slot = this.tree.lookup(path);
        if (slot >= 0) this.removeNode(slot, ctx);
      }
      this.sessionTable.delete(cmd.sessionId);
      this.tree.forgetSession(cmd.sessionId);
    }
    return { err: Err.OK, response: {}, triggers: ctx.triggers };
  }

  // ---------------------------------------------------------------- create

  /** §6.2 checks 1–2: the mode flags and the TTL (−1 for ops other than createTTL). */
  private checkCreateMode(op: number, flags: number, ttl: number): void {
    if (!(flags >= 0 && flags <= 6)) fail(Err.BadArguments);
    const ttlMode = TTL_MODES.has(flags);
    if (ttlMode && !this.extendedTypes) fail(Err.Unimplemented);
    if (ttlMode) {
      if (ttl <= 0 || ttl > MAX_TTL) fail(Err.BadArguments);
    } else if (ttl >= 0 || op === Op.createTTL) {
      // createTTL with a non-TTL mode: ZooKeeper rejects ttl >= 0 and crashes on ttl -1; we reject both.
      fail(Err.BadArguments);
    }
  }

  private nodeKind(op: number, flags: number): Kind {
    if (op === Op.createContainer) return Kind.Container; // the opcode decides, whatever the flags
    if (op === Op.createTTL) return Kind.TTL;
    return EPHEMERAL_MODES.has(flags) ? Kind.Ephemeral : Kind.Persistent; // flags 4 with op 1/15: a plain node
  }

  private create(op: number, req: CreateTTLRequest, ctx: WriteCtx): unknown {
    const ttl = op === Op.createTTL ? req.ttl : -1;
    this.checkCreateMode(op, req.flags, ttl);
    const path = req.path;
    const lastSlash = path.lastIndexOf('/');
    if (lastSlash < 0 || path.includes('\0')) fail(Err.BadArguments);
    const acl = fixupAcl(req.acl, ctx.ids, this.aclSchemes) ?? fail(Err.InvalidACL);
    const parent = this.tree.lookup(parentPath(path, lastSlash));
    if (parent < 0) fail(Err.NoNode);
    this.requirePerm(parent, ctx.ids, Perms.CREATE);
    // The suffix is the parent's create counter C, appended before the full path check (so '/sq/' works).
    const full = SEQUENTIAL_MODES.has(req.flags) ? path + sequenceSuffix(this.tree.cversion[parent]!) : path;
    if (!validatePath(full)) fail(Err.BadArguments);
    if (this.tree.lookup(full) >= 0) fail(Err.NodeExists);
    if (this.tree.isEphemeral(parent)) fail(Err.NoChildrenForEphemerals); // containers and TTL nodes may have children
    const kind = this.nodeKind(op, req.flags);
    const owner = kind === Kind.Ephemeral ? ctx.sessionId : kind === Kind.TTL ? ttl : 0;
    const slot = this.tree.create(full, parent, req.data, this.tree.acls.intern(acl), kind, owner, ctx.zxid, ctx.time, ctx.undo); // copies the data
    ctx.triggers.push(
      { path: full, type: EventType.NodeCreated, acl: this.tree.acl(slot) },
      { path: this.tree.path(parent), type: EventType.NodeChildrenChanged, acl: this.tree.acl(parent) },
    );
    return op === Op.create ? { path: full } : { path: full, stat: this.tree.stat(slot) };
  }

  // ---------------------------------------------------------------- delete

  /** ZooKeeper's getParentPathAndValidate: a '/', no NUL, and not one of the undeletable paths. */
  private deletablePath(path: string): number {
    const lastSlash = path.lastIndexOf('/');
    if (lastSlash < 0 || path.includes('\0') || SPECIAL_PATHS.has(path)) fail(Err.BadArguments);
    return lastSlash;
  }

  private delete(req: DeleteRequest, ctx: WriteCtx): unknown {
    const path = req.path;
    const parent = this.tree.lookup(parentPath(path, this.deletablePath(path)));
    if (parent < 0) fail(Err.NoNode);
    this.requirePerm(parent, ctx.ids, Perms.DELETE); // before the node lookup: NoAuth beats NoNode
    const slot = this.tree.lookup(path);
    if (slot < 0) fail(Err.NoNode);
    this.requireVersion(req.version, this.tree.version[slot]!);
    if (this.tree.numChildren[slot]! > 0) fail(Err.NotEmpty); // version first, then emptiness
    this.removeNode(slot, ctx);
    return {};
  }

  /** The reaper's delete: no ACL or version check; refuses non-empty nodes and ordinary ephemerals. */
  private deleteContainer(req: PathRequest, ctx: WriteCtx): unknown {
    this.deletablePath(req.path);
    const slot = this.tree.lookup(req.path);
    if (slot < 0) fail(Err.NoNode);
    if (this.tree.numChildren[slot]! > 0) fail(Err.NotEmpty);
    if (this.tree.isEphemeral(slot)) fail(Err.BadVersion);
    this.removeNode(slot, ctx);
    return {};
  }

  private removeNode(slot: number, ctx: WriteCtx): void {
    const parent = this.tree.parent[slot]!;
    const path = this.tree.path(slot);
    const acl = this.tree.acl(slot);
    this.tree.remove(slot, ctx.zxid, ctx.undo, path);
    ctx.triggers.push(
      { path, type: EventType.NodeDeleted, acl },
      { path: this.tree.path(parent), type: EventType.NodeChildrenChanged, acl: this.tree.acl(parent) },
    );
  }

  // ---------------------------------------------------------------- setData, setACL, check

  private setData(req: SetDataRequest, ctx: WriteCtx): unknown {
    const slot = this.existingNode(req.path);
    this.requirePerm(slot, ctx.ids, Perms.WRITE); // the ACL before the version
    this.requireVersion(req.version, this.tree.version[slot]!);
    this.tree.setData(slot, req.data, ctx.zxid, ctx.time, ctx.undo, req.path); // copies the data
    ctx.triggers.push({ path: req.path, type: EventType.NodeDataChanged, acl: this.tree.acl(slot) });
    return { stat: this.tree.stat(slot) };
  }

  private setAcl(req: SetACLRequest, ctx: WriteCtx): unknown {
    if (!validatePath(req.path)) fail(Err.BadArguments);
    const acl = fixupAcl(req.acl, ctx.ids, this.aclSchemes) ?? fail(Err.InvalidACL); // before NoNode
    const slot = this.tree.lookup(req.path);
    if (slot < 0) fail(Err.NoNode);
    this.requirePerm(slot, ctx.ids, Perms.ADMIN);
    this.requireVersion(req.version, this.tree.aversion[slot]!);
    this.tree.setAcl(slot, this.tree.acls.intern(acl));
    return { stat: this.tree.stat(slot) }; // setACL fires no watches
  }

  private check(req: CheckVersionRequest, ctx: WriteCtx): unknown {
    const slot = this.existingNode(req.path);
    this.requirePerm(slot, ctx.ids, Perms.READ);
    this.requireVersion(req.version, this.tree.version[slot]!);
    return {};
  }

  /** Full path validation then lookup: BadArguments, then NoNode. */
  private existingNode(path: string): number {
    if (!validatePath(path)) fail(Err.BadArguments);
    const slot = this.tree.lookup(path);
    if (slot < 0) fail(Err.NoNode);
    return slot;
  }

  private requireVersion(expected: number, actual: number): void {
    if (expected !== -1 && expected !== actual) fail(Err.BadVersion);
  }

  private requirePerm(slot: number, ids: readonly Identity[], perm: number): void {
    if (!this.allowed(slot, ids, perm)) fail(Err.NoAuth);
  }

  private allowed(slot: number, ids: readonly Identity[], perm: number): boolean {
    return this.skipAcl || checkPerm(this.tree.acl(slot), ids, perm);
  }

  // ---------------------------------------------------------------- multi

  /** §11.3: sub-ops see earlier effects; the first failure rolls everything back and reports [0…, code, −2…]. */
  private multi(req: MultiRequest, ctx: WriteCtx): ApplyResult {
    if (req.invalid) fail(Err.MarshallingError); // a read op in a write multi
    const undo: Undo = [];
    const sub: WriteCtx = { ...ctx, undo };
    const results: MultiResult[] = [];
    let i = 0;
    try {
      for (; i < req.ops.length; i++) results.push(this.multiStep(req.ops[i]!, sub));
    } catch (e) {
      for (let j = undo.length - 1; j >= 0; j--) undo[j]!();
      if (!(e instanceof OpFailure)) throw e;
      return { err: Err.OK, response: failedMulti(req.ops.length, i, e.code), triggers: [] };
    }
    return { err: Err.OK, response: results, triggers: sub.triggers };
  }

  private multiStep(op: MultiOp, ctx: WriteCtx): MultiResult {
    const res = this.execWrite(op.op, op.req, ctx);
    // create2, createContainer and createTTL all answer as create2 (type 15, with a stat): 3.8.2+ behaviour.
    const type = op.op === Op.createContainer || op.op === Op.createTTL ? Op.create2 : op.op;
    return { op: type, err: Err.OK, res };
  }

  // ================================================================ reads

  /** Executes a read request (already decoded) for a caller with `identities`; consumes no zxid. */
  read(op: number, req: any, identities: readonly Identity[], sessionId: number): ReadResult {
    try {
      return this.execRead(op, req, identities, sessionId);
    } catch (e) {
      if (e instanceof OpFailure) return { err: e.code };
      throw e;
    }
  }

  private execRead(op: number, req: any, ids: readonly Identity[], sessionId: number): ReadResult {
    switch (op) {
      case Op.exists:
        return this.exists(req as PathWatchRequest);
      case Op.getData:
        return this.getData(req as PathWatchRequest, ids);
      case Op.getChildren:
      case Op.getChildren2:
        return this.getChildren(op, req as PathWatchRequest, ids);
      case Op.getACL:
        return this.getAcl(req as PathRequest, ids);
      case Op.getAllChildrenNumber:
        return this.getAllChildrenNumber(req as PathRequest, ids);
      case Op.getEphemerals:
        return this.getEphemerals(req as { prefixPath: string | null }, sessionId);
      case Op.multiRead:
        return this.multiRead(req as MultiRequest, ids);
    }
    return { err: Err.Unimplemented };
  }

  /** Reads do not validate paths: an invalid path is simply not in the tree (NoNode). */
  private readableNode(path: string, ids: readonly Identity[], perm: number): number {
    const slot = this.tree.lookup(path);
    if (slot < 0) fail(Err.NoNode);
    this.requirePerm(slot, ids, perm);
    return slot;
  }

  private exists(req: PathWatchRequest): ReadResult {
    if (req.path.includes('\0')) fail(Err.BadArguments);
    const slot = this.tree.lookup(req.path);
    // ZooKeeper 3.8.4+ requires READ here when the node exists; 3.8.0 (our reference server) checks nothing.
    if (slot < 0) return withWatch({ err: Err.NoNode }, req, 'exist'); // the existence watch is set even on NoNode
    return withWatch({ err: Err.OK, response: { stat: this.tree.stat(slot) } }, req, 'data');
  }

  private getData(req: PathWatchRequest, ids: readonly Identity[]): ReadResult {
    const slot = this.readableNode(req.path, ids, Perms.READ);
    return withWatch({ err: Err.OK, response: { data: this.tree.data(slot), stat: this.tree.stat(slot) } }, req, 'data');
  }

  private getChildren(op: number, req: PathWatchRequest, ids: readonly Identity[]): ReadResult {
    const slot = this.readableNode(req.path, ids, Perms.READ);
    const children = this.tree.childNames(slot);
    const response = op === Op.getChildren2 ? { children, stat: this.tree.stat(slot) } : { children };
    return withWatch({ err: Err.OK, response }, req, 'child');
  }

  private getAcl(req: PathRequest, ids: readonly Identity[]): ReadResult {
    const slot = this.readableNode(req.path, ids, Perms.READ | Perms.ADMIN); // either bit suffices
    const acl = this.tree.acl(slot);
    const shown = this.allowed(slot, ids, Perms.ADMIN) ? acl : maskDigests(acl);
    return { err: Err.OK, response: { acl: shown, stat: this.tree.stat(slot) } };
  }

  private getAllChildrenNumber(req: PathRequest, ids: readonly Identity[]): ReadResult {
    const slot = this.readableNode(req.path, ids, Perms.READ);
    // ZooKeeper counts keys of its node table: '/' → all but the root; '' (the root's alias) → every '/...' key.
    const total = req.path === '/' ? this.tree.count - 1 : req.path === '' ? this.tree.count : this.tree.descendantCount(slot);
    return { err: Err.OK, response: { totalNumber: total } };
  }

  private getEphemerals(req: { prefixPath: string | null }, sessionId: number): ReadResult {
    const all = this.sessionTable.get(sessionId)?.ephemerals ?? new Set<string>();
    const prefix = req.prefixPath;
    const trimmed = prefix === null ? '' : javaTrim(prefix);
    const list = trimmed === '' || trimmed === '/' ? [...all] : [...all].filter((p) => p.startsWith(prefix!)); // plain string prefix
    return { err: Err.OK, response: { ephemerals: list } };
  }

  /** §11.4: sub-ops run independently; a failure is an error result for that op only. */
  private multiRead(req: MultiRequest, ids: readonly Identity[]): ReadResult {
    if (req.invalid) return { err: Err.MarshallingError };
    const results: MultiResult[] = [];
    const watches: { path: string; kind: WatchKind }[] = [];
    for (const { op, req: sub } of req.ops) {
      const r = this.read(op, sub, ids, 0); // only getData and getChildren get here (req.invalid otherwise)
      if (r.err !== Err.OK) {
        results.push({ op: Op.error, err: r.err });
        continue;
      }
      results.push({ op, err: Err.OK, res: r.response });
      if (r.watch !== undefined) watches.push(r.watch);
    }
    return { err: Err.OK, response: results, watches };
  }

  // ================================================================ inspection

  getSession(id: number): SessionInfo | undefined {
    return this.sessionTable.get(id);
  }

  /** Live sessions; treat the objects as read-only. */
  sessions(): IterableIterator<SessionInfo> {
    return this.sessionTable.values();
  }

  /** The client-visible Stat of a node, or undefined. */
  stat(path: string): Stat | undefined {
    const slot = this.tree.lookup(path);
    return slot < 0 ? undefined : this.tree.stat(slot);
  }

  /** The node's (shared, frozen) ACL list, or undefined. */
  acl(path: string): readonly ACL[] | undefined {
    const slot = this.tree.lookup(path);
    return slot < 0 ? undefined : this.tree.acl(slot);
  }

  /** The node's data (a copy; null stays null), or undefined when there is no such node. */
  data(path: string): Buffer | null | undefined {
    const slot = this.tree.lookup(path);
    return slot < 0 ? undefined : this.tree.data(slot);
  }

  /** ZooKeeper's node count: the root is indexed twice ('' and '/'), so a fresh tree reports 5. */
  nodeCount(): number {
    return this.tree.count + 1;
  }

  /** Σ (path length + data length) over all nodes, as ZooKeeper's approximate data size (44 when fresh). */
  approximateDataSize(): number {
    return this.tree.dataSize;
  }

  ephemeralCount(): number {
    return this.tree.ephemeralCount;
  }

  /**
   * Paths the container/TTL reaper should delete (§9.3, §9.4), at most `limit`:
   * empty containers that once had a child (or, when maxNeverUsedIntervalMs != 0,
   * never-used ones older than that since mtime), and childless TTL nodes whose
   * mtime is more than their TTL ago.
   */
  reapCandidates(now: number, maxNeverUsedIntervalMs: number, limit: number): string[] {
    const t = this.tree;
    const out: string[] = [];
    for (const s of t.containers) {
      if (out.length >= limit) return out;
      if (t.numChildren[s]! > 0) continue;
      if (t.cversion[s]! > 0 || (maxNeverUsedIntervalMs !== 0 && now - t.mtime[s]! > maxNeverUsedIntervalMs)) out.push(t.path(s));
    }
    for (const s of t.ttls) {
      if (out.length >= limit) return out;
      if (t.numChildren[s] === 0 && now - t.mtime[s]! > t.owner(s)) out.push(t.path(s));
    }
    return out;
  }

  // ================================================================ snapshots

  /**
   * The whole state at lastZxid as snapshot chunks (concatenate them to get the snapshot),
   * synchronously and in canonical order: for tests and small trees. The server streams
   * with beginSnapshot(); both load back to the same state.
   */
  serialize(): Buffer[] {
    return writeSnapshot(this.tree, this.sessionTable, this.lastZxid);
  }

  /**
   * Starts a point-in-time snapshot of the state at lastZxid, produced slice by slice with
   * cursor.next() while apply() goes on (copy-on-write, see snapshot-stream.ts). One at a
   * time; call cursor.abort() if it is not read to the end.
   */
  beginSnapshot(): SnapshotCursor {
    return new SnapshotCursor(this.tree, this.sessionTable, this.lastZxid);
  }

  /** Inverse of Buffer.concat(serialize()); throws a SnapshotError on malformed input. */
  static deserialize(data: Buffer, opts?: ZkDatabaseOptions): ZkDatabase {
    return ZkDatabase.fromContents(readSnapshot(data), opts);
  }

  /**
   * An incremental loader: push() the snapshot body in chunks of any size (each may be
   * reused by the caller afterwards), then finish() returns the database. Memory beyond the
   * tree itself stays bounded by the largest record.
   */
  static loader(opts?: ZkDatabaseOptions, loaderOpts?: SnapshotLoaderOptions): DatabaseLoader {
    const inner = new SnapshotLoader(loaderOpts);
    return {
      push: (chunk) => inner.push(chunk),
      finish: () => ZkDatabase.fromContents(inner.finish(), opts),
    };
  }

  private static fromContents(snap: SnapshotContents, opts?: ZkDatabaseOptions): ZkDatabase {
    const db = new ZkDatabase(opts);
    db.tree = snap.tree;
    db.tree.setupQuotas(); // the quota trie is derived state, and ZooKeeper recomputes the stats on load
    for (const s of snap.sessions) db.sessionTable.set(s.sessionId, s);
    db.lastZxid = snap.lastZxid;
    return db;
  }
}

/** Feeds a snapshot body to a new ZkDatabase. */
export interface DatabaseLoader {
  push(chunk: Buffer): void;
  finish(): ZkDatabase;
}

function withWatch(r: ReadResult, req: PathWatchRequest, kind: WatchKind): ReadResult {
  if (req.watch) r.watch = { path: req.path, kind };
  return r;
}

/** Every result of a failed multi is an error result: 0 before the failing op, its code, then RuntimeInconsistency. */
function failedMulti(n: number, failedAt: number, code: number): MultiResult[] {
  const out: MultiResult[] = [];
  for (let i = 0; i < n; i++) out.push({ op: Op.error, err: i < failedAt ? Err.OK : i === failedAt ? code : Err.RuntimeInconsistency });
  return out;
}
