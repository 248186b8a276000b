// The ZooKeeper client: a promise API over one session that survives connection loss.
//
// Session handling (see docs/CLIENT.md-style notes in src/client/index.ts):
//  * hosts are tried in random order; a lost connection moves to the next host and re-attaches
//    the same session (ConnectRequest with its id and password) within the session timeout;
//  * after a re-attach, auth packets are re-sent first (xid -4), then every watch is re-armed with
//    setWatches2 (xid -8, relativeZxid = last zxid seen) so that events that happened while
//    disconnected are delivered, then the requests that waited are sent in order;
//  * requests in flight when a connection drops fail with ConnectionLoss (their outcome is unknown);
//    requests issued while disconnected wait, in order, for at most `disconnectedRequestTimeout`
//    (default: the negotiated session timeout) and then fail with ConnectionLoss;
//  * a ConnectResponse with timeout 0 means the session expired: state EXPIRED is final, every
//    pending request fails with SessionExpired, watchers hear Expired, persistent watch iterators
//    throw SessionExpired;
//  * pings are sent after a third of the session timeout without traffic; a connection with no
//    inbound data for two thirds of it is considered dead;
//  * at most `maxOutstanding` requests are on the wire; the rest wait in the client (FIFO).

import { EventEmitter } from 'node:events';
import { Reader } from '../jute/codec.js';
import { AddWatchMode, CreateMode, Err, EventType, Op, WatcherType, Xid } from '../jute/constants.js';
import { AuthPacket, ReplyHeader, RequestHeader, SetWatches2, WatcherEvent } from '../jute/records.js';
import { OPS, type MultiResult as WireMultiResult } from '../jute/requests.js';
import { parseConnectString, shuffled, validatePath, type HostPort } from './connect-string.js';
import { Connection, type Handshake } from './connection.js';
import { AsyncQueue, Deque } from './deque.js';
import { CLOSED_CODE, ZooKeeperError, zkError } from './errors.js';
import {
  OPEN_ACL_UNSAFE,
  type ACL,
  type ACLResult,
  type ChildrenResult,
  type ClientInfo,
  type ClientOptions,
  type ConnectionState,
  type CreateOptions,
  type CreateResult,
  type DataInput,
  type DataResult,
  type MultiOp,
  type MultiReadOp,
  type MultiReadResult,
  type MultiResult,
  type Stat,
  type StateChange,
  type WatchCallback,
  type WatchedEvent,
  type WatcherKind,
} from './types.js';
import { PersistentWatch, WatchRegistry, makeEvent, safeCall } from './watches.js';

interface Pending {
  xid: number;
  op: number;
  req: any;
  /** The caller's path (for errors); undefined for path-less ops. */
  path: string | undefined;
  resolve: (v: any) => void;
  reject: (e: unknown) => void;
  /** One-shot watch callback, or the PersistentWatch of an addWatch. */
  watch: WatchCallback | PersistentWatch | undefined;
  /** Op-specific result shape (e.g. create: 0 = path, 1 = path + stat). */
  flag: number;
  /** When it started waiting while disconnected (0 = not waiting for a connection). */
  queuedAt: number;
}

interface AuthWaiter {
  resolve: (() => void) | undefined;
  reject: ((e: unknown) => void) | undefined;
}

const TERMINAL: ReadonlySet<ConnectionState> = new Set(['EXPIRED', 'AUTH_FAILED', 'CLOSED']);
const noop = () => {};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const WATCHER_TYPE: Record<WatcherKind, number> = {
  children: WatcherType.Children,
  data: WatcherType.Data,
  any: WatcherType.Any,
  persistent: WatcherType.Persistent,
  persistentRecursive: WatcherType.PersistentRecursive,
};

function toData(d: DataInput | undefined): Buffer | null {
  if (d === undefined || d === null) return null;
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (Buffer.isBuffer(d)) return d;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

export function sessionIdHex(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16).padStart(16, '0');
}

export class ZooKeeperClient extends EventEmitter {
  /** Current connection state. */
  state: ConnectionState = 'CONNECTING';
  /** Negotiated session timeout (ms); the requested one until the first connect. */
  sessionTimeout: number;
  /** Highest zxid seen in a reply (sent when re-attaching and in setWatches2). */
  lastZxid = 0;
  readonly chroot: string;
  /**
   * Test hooks: `suspendHeartbeat` stops pings and dead-connection detection (to force expiry);
   * `reconnectDelayMs` waits that long before re-attaching after a connection loss.
   */
  readonly testHooks = { suspendHeartbeat: false, reconnectDelayMs: 0 };

  private _sessionId: bigint;
  private passwd: Buffer;
  private readonly hosts: HostPort[];
  private hostIdx = 0;
  private readonly opts: Required<Pick<ClientOptions, 'maxOutstanding' | 'canBeReadOnly'>> & ClientOptions;
  private conn: Connection | undefined;
  private readonly inflight = new Deque<Pending>(256);
  private readonly waiting = new Deque<Pending>(64);
  private readonly authWaiters = new Deque<AuthWaiter>();
  private readonly authInfo: { scheme: string; auth: Buffer }[] = [];
  private readonly watches = new WatchRegistry();
  private readonly stateQueues = new Set<AsyncQueue<StateChange>>();
  private xid = 0;
  private timer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  private firstConnect: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  private closing = false;
  private terminalError: ZooKeeperError | undefined;
  private readonly header = { xid: 0, type: 0 };
  private readonly onFrameFn = (buf: Buffer, start: number, end: number) => this.onFrame(buf, start, end);

  constructor(connectString: string, options: ClientOptions = {}) {
    super();
    const cs = parseConnectString(connectString);
    this.chroot = cs.chroot;
    this.hosts = options.shuffleHosts === false ? cs.hosts : shuffled(cs.hosts);
    this.opts = { maxOutstanding: 1024, canBeReadOnly: false, ...options };
    this.sessionTimeout = options.sessionTimeout ?? 30000;
    this._sessionId = options.sessionId ?? 0n;
    this.passwd = options.sessionPassword ?? Buffer.alloc(16);
    for (const a of options.auth ?? []) this.authInfo.push({ scheme: a.scheme, auth: Buffer.from(a.auth) });
  }

  /** Creates a client and waits until its session is established. */
  static async connect(connectString: string, options: ClientOptions = {}): Promise<ZooKeeperClient> {
    const c = new ZooKeeperClient(connectString, options);
    await c.connect();
    return c;
  }

  // ------------------------------------------------------------------ session

  get sessionId(): bigint {
    return this._sessionId;
  }

  get sessionIdHex(): string {
    return sessionIdHex(this._sessionId);
  }

  get sessionPassword(): Buffer {
    return Buffer.from(this.passwd);
  }

  /** The server this client is connected to (host:port), if any. */
  get connectedServer(): string | undefined {
    return this.conn?.server;
  }

  get isConnected(): boolean {
    return this.state === 'CONNECTED' || this.state === 'CONNECTED_READ_ONLY';
  }

  /** Starts connecting (once) and resolves when the session is established. */
  connect(): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    if (TERMINAL.has(this.state)) return Promise.reject(this.terminalError ?? zkError(CLOSED_CODE, 'connect'));
    const p = new Promise<void>((resolve, reject) => {
      const prev = this.firstConnect;
      this.firstConnect = {
        resolve: () => {
          prev?.resolve();
          resolve();
        },
        reject: (e) => {
          prev?.reject(e);
          reject(e);
        },
      };
    });
    if (this.connecting === undefined) {
      const limit = this.opts.connectTimeout ?? this.sessionTimeout;
      const t = setTimeout(() => {
        if (!this.isConnected && !TERMINAL.has(this.state)) {
          this.terminate('CLOSED', Err.ConnectionLoss, `no server of ${this.hosts.map((h) => `${h.host}:${h.port}`).join(',')} accepted a session within ${limit} ms`);
        }
      }, limit);
      t.unref?.();
      this.startConnecting();
    }
    return p;
  }

  /** State changes as an async iterator (ends after a final state: EXPIRED, AUTH_FAILED, CLOSED). */
  states(opts: { includeCurrent?: boolean } = {}): AsyncIterableIterator<StateChange> {
    const q: AsyncQueue<StateChange> = new AsyncQueue(() => this.stateQueues.delete(q));
    if (opts.includeCurrent) q.push(this.stateChange(this.state));
    if (TERMINAL.has(this.state)) q.end();
    else this.stateQueues.add(q);
    return q;
  }

  /** Waits until the state satisfies `pred` (or rejects after ms). */
  async waitForState(pred: (s: ConnectionState) => boolean, ms = this.sessionTimeout * 2): Promise<ConnectionState> {
    if (pred(this.state)) return this.state;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off('state', on);
        reject(new Error(`state still ${this.state} after ${ms} ms`));
      }, ms);
      const on = (c: StateChange) => {
        if (pred(c.state)) {
          clearTimeout(t);
          this.off('state', on);
          resolve(c.state);
        }
      };
      this.on('state', on);
    });
  }

  /** Ends the session (closeSession) and the client. Idempotent. */
  async close(): Promise<void> {
    if (TERMINAL.has(this.state) || this.closing) {
      if (this.closing) await this.waitForState((s) => TERMINAL.has(s), 10000).catch(noop);
      return;
    }
    if (this.isConnected) {
      const p = this.call(Op.closeSession, {}, undefined);
      this.closing = true;
      const limit = Math.min(this.sessionTimeout, 5000);
      await Promise.race([p.catch(noop), sleep(limit)]);
    }
    this.closing = true;
    this.terminate('CLOSED', CLOSED_CODE);
  }

  private stateChange(state: ConnectionState): StateChange {
    const c: StateChange = { state, sessionId: this.sessionIdHex };
    const server = this.conn?.server;
    if (server !== undefined) c.server = server;
    return c;
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    const c = this.stateChange(state);
    for (const q of this.stateQueues) q.push(c);
    this.emit('state', c);
    this.emit(state.toLowerCase(), c);
  }

  private startConnecting(): void {
    if (this.connecting !== undefined || TERMINAL.has(this.state)) return;
    this.connecting = this.connectLoop().finally(() => (this.connecting = undefined));
  }

  private async connectLoop(): Promise<void> {
    let failures = 0;
    const n = this.hosts.length;
    if (this.testHooks.reconnectDelayMs > 0 && this._sessionId !== 0n) await sleep(this.testHooks.reconnectDelayMs);
    while (!TERMINAL.has(this.state)) {
      const hp = this.hosts[this.hostIdx]!;
      this.hostIdx = (this.hostIdx + 1) % n;
      const perHost = Math.max(50, Math.floor(this.sessionTimeout / n));
      let conn: Connection | undefined;
      try {
        conn = await Connection.open(hp, this.opts.tls, perHost);
        if (TERMINAL.has(this.state)) {
          conn.destroy();
          return;
        }
        const hs = await conn.handshake(
          { lastZxidSeen: this.lastZxid, timeOut: this.opts.sessionTimeout ?? 30000, sessionId: this._sessionId, passwd: this.passwd, readOnly: this.opts.canBeReadOnly },
          perHost,
        );
        if (TERMINAL.has(this.state)) {
          conn.destroy();
          return;
        }
        if (hs.timeOut <= 0) {
          conn.destroy();
          this.terminate('EXPIRED', Err.SessionExpired);
          return;
        }
        this.established(conn, hs);
        return;
      } catch {
        conn?.destroy();
        failures++;
        if (failures % n === 0) {
          // Every host failed once: back off a little (bounded so a short session survives).
          await sleep(Math.floor(Math.random() * Math.min(1000, this.sessionTimeout / 10)) + 5);
        }
      }
    }
  }

  private established(conn: Connection, hs: Handshake): void {
    const fresh = this._sessionId !== hs.sessionId;
    this.conn = conn;
    this._sessionId = hs.sessionId;
    this.passwd = hs.passwd;
    this.sessionTimeout = hs.timeOut;
    conn.attach(this.onFrameFn, (err) => this.onConnectionClosed(conn, err));
    const w = conn.writer;
    // 1. authentication, 2. watches, 3. waiting requests: in this order on the wire.
    for (const a of this.authInfo) {
      this.header.xid = Xid.auth;
      this.header.type = Op.auth;
      const at = w.beginFrame();
      RequestHeader.encode(w, this.header);
      AuthPacket.encode(w, { type: 0, scheme: a.scheme, auth: a.auth });
      w.endFrame(at);
      this.authWaiters.push({ resolve: undefined, reject: undefined });
    }
    if (!fresh && !this.watches.empty) {
      for (const pk of this.watches.setWatchesPackets()) {
        this.header.xid = Xid.setWatches;
        this.header.type = Op.setWatches2;
        const at = w.beginFrame();
        RequestHeader.encode(w, this.header);
        SetWatches2.encode(w, { relativeZxid: this.lastZxid, ...pk });
        w.endFrame(at);
      }
    }
    this.state = hs.readOnly ? 'CONNECTED_READ_ONLY' : 'CONNECTED';
    for (const p of this.waiting.drain()) {
      p.queuedAt = 0;
      this.waiting.push(p);
    }
    this.drainWaiting();
    conn.flush();
    this.startTimer();
    // Announce (after the queue is on the wire so listeners' requests go behind it).
    this.state = 'CONNECTING';
    this.setState(hs.readOnly ? 'CONNECTED_READ_ONLY' : 'CONNECTED');
    const fc = this.firstConnect;
    this.firstConnect = undefined;
    fc?.resolve();
    conn.resume();
  }

  private onConnectionClosed(conn: Connection, err: Error | undefined): void {
    if (conn !== this.conn) return;
    this.conn = undefined;
    this.stopTimer();
    const loss = (p: Pending) => p.reject(zkError(Err.ConnectionLoss, p.op, p.path));
    for (let p = this.inflight.shift(); p !== undefined; p = this.inflight.shift()) loss(p);
    for (let a = this.authWaiters.shift(); a !== undefined; a = this.authWaiters.shift()) a.reject?.(zkError(Err.ConnectionLoss, 'auth'));
    if (TERMINAL.has(this.state)) return;
    if (this.closing) {
      this.terminate('CLOSED', CLOSED_CODE);
      return;
    }
    void err;
    const now = Date.now();
    for (const p of this.waiting.drain()) {
      p.queuedAt = now;
      this.waiting.push(p);
    }
    this.setState('DISCONNECTED');
    this.startTimer();
    this.startConnecting();
  }

  /** Final state: fail everything, tell every watcher, end the iterators. */
  private terminate(state: 'EXPIRED' | 'AUTH_FAILED' | 'CLOSED', code: number, message?: string): void {
    if (TERMINAL.has(this.state)) return;
    const err = zkError(code, state === 'CLOSED' ? 'close' : 'session');
    if (message !== undefined) err.message += `: ${message}`;
    this.terminalError = err;
    this.stopTimer();
    const conn = this.conn;
    this.conn = undefined;
    conn?.destroy();
    this.state = state;
    const fail = (p: Pending) => p.reject(zkError(code, p.op, p.path));
    for (let p = this.inflight.shift(); p !== undefined; p = this.inflight.shift()) fail(p);
    for (let p = this.waiting.shift(); p !== undefined; p = this.waiting.shift()) fail(p);
    for (let a = this.authWaiters.shift(); a !== undefined; a = this.authWaiters.shift()) a.reject?.(zkError(code, 'auth'));
    const evState = state === 'EXPIRED' ? 'Expired' : state === 'AUTH_FAILED' ? 'AuthFailed' : 'Closed';
    this.watches.terminate(evState, state === 'CLOSED' ? undefined : err);
    const c = this.stateChange(state);
    for (const q of this.stateQueues) {
      q.push(c);
      q.end();
    }
    this.stateQueues.clear();
    this.emit('state', c);
    this.emit(state.toLowerCase(), c);
    const fc = this.firstConnect;
    this.firstConnect = undefined;
    fc?.reject(err);
  }

  private startTimer(): void {
    this.stopTimer();
    const period = Math.max(5, Math.min(1000, Math.floor(this.sessionTimeout / 12)));
    this.timer = setInterval(() => this.onTick(), period);
    this.timer.unref?.();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private onTick(): void {
    const now = Date.now();
    const conn = this.conn;
    if (conn !== undefined && this.isConnected) {
      if (this.testHooks.suspendHeartbeat) return;
      const t = this.sessionTimeout;
      if (now - conn.lastRecv > (t * 2) / 3) {
        conn.destroy(new Error(`no data from ${conn.server} for ${now - conn.lastRecv} ms`));
        return;
      }
      if (now - conn.lastSend >= Math.min(t / 3, 10000)) {
        const w = conn.writer;
        this.header.xid = Xid.ping;
        this.header.type = Op.ping;
        const at = w.beginFrame();
        RequestHeader.encode(w, this.header);
        w.endFrame(at);
        conn.flush();
      }
      return;
    }
    // Disconnected: requests that waited too long fail with ConnectionLoss.
    const limit = this.opts.disconnectedRequestTimeout ?? this.sessionTimeout;
    for (let p = this.waiting.peek(); p !== undefined && p.queuedAt > 0 && now - p.queuedAt >= limit; p = this.waiting.peek()) {
      this.waiting.shift();
      p.reject(zkError(Err.ConnectionLoss, p.op, p.path));
    }
  }

  // ------------------------------------------------------------------ requests

  private call(op: number, req: unknown, path: string | undefined, flag = 0, watch?: WatchCallback | PersistentWatch): Promise<any> {
    if (this.closing || TERMINAL.has(this.state)) {
      return Promise.reject(zkError(this.terminalError?.code ?? CLOSED_CODE, op, path));
    }
    const p: Pending = { xid: 0, op, req, path, resolve: noop, reject: noop, watch, flag, queuedAt: 0 };
    const promise = new Promise<any>((resolve, reject) => {
      p.resolve = resolve;
      p.reject = reject;
    });
    if (this.conn !== undefined && this.isConnected && this.waiting.length === 0 && this.inflight.length < this.opts.maxOutstanding) {
      this.send(p, this.conn);
    } else {
      if (!this.isConnected) p.queuedAt = Date.now();
      this.waiting.push(p);
      if (this.conn === undefined && this.connecting === undefined && this.state === 'CONNECTING') this.connect().catch(noop);
    }
    return promise;
  }

  private send(p: Pending, conn: Connection): void {
    const w = conn.writer;
    const start = w.pos;
    let xid = this.xid + 1;
    if (xid > 0x7fffffff) xid = 1;
    try {
      this.header.xid = xid;
      this.header.type = p.op;
      const at = w.beginFrame();
      RequestHeader.encode(w, this.header);
      OPS.get(p.op)!.request.encode(w, p.req);
      w.endFrame(at);
    } catch (e) {
      w.pos = start;
      p.reject(zkError(Err.MarshallingError, p.op, p.path));
      return;
    }
    this.xid = xid;
    p.xid = xid;
    this.inflight.push(p);
    conn.scheduleFlush();
  }

  private drainWaiting(): void {
    const conn = this.conn;
    if (conn === undefined || !this.isConnected) return;
    const max = this.opts.maxOutstanding;
    while (this.waiting.length > 0 && this.inflight.length < max) this.send(this.waiting.shift()!, conn);
  }

  private onFrame(buf: Buffer, start: number, end: number): void {
    const r = new Reader(buf, start, end);
    let h;
    try {
      h = ReplyHeader.decode(r);
    } catch (e) {
      this.conn?.destroy(e as Error);
      return;
    }
    const xid = h.xid;
    if (xid < 0) {
      if (xid === Xid.notification) {
        const ev = WatcherEvent.decode(r);
        this.watches.dispatch(ev.type, ev.path, this.fromServer(ev.path));
      } else if (xid === Xid.auth) {
        const a = this.authWaiters.shift();
        if (h.err !== 0) {
          a?.reject?.(zkError(h.err, 'auth'));
          this.terminate('AUTH_FAILED', Err.AuthFailed);
        } else a?.resolve?.();
      }
      // ping (-2) and setWatches (-8) replies carry nothing to act on.
      return;
    }
    const p = this.inflight.shift();
    if (p === undefined || p.xid !== xid) {
      if (p !== undefined) p.reject(zkError(Err.ConnectionLoss, p.op, p.path));
      this.conn?.destroy(new Error(`xid out of order: got ${xid}, expected ${p?.xid}`));
      return;
    }
    if (h.zxid > 0) this.lastZxid = h.zxid;
    if (h.err !== 0) {
      if (p.op === Op.exists && h.err === Err.NoNode) {
        if (p.watch !== undefined) this.watches.add(this.watches.exist, p.req.path, p.watch as WatchCallback);
        p.resolve(null);
      } else p.reject(zkError(h.err, p.op, p.path));
    } else {
      try {
        this.complete(p, OPS.get(p.op)!.response.decode(r));
      } catch (e) {
        p.reject(e instanceof ZooKeeperError ? e : zkError(Err.MarshallingError, p.op, p.path));
      }
    }
    if (this.waiting.length > 0) this.drainWaiting();
  }

  private complete(p: Pending, body: any): void {
    switch (p.op) {
      case Op.create:
        p.resolve(this.fromServer(body.path));
        return;
      case Op.create2:
      case Op.createTTL:
      case Op.createContainer:
        p.resolve(p.flag === 1 ? { path: this.fromServer(body.path), stat: body.stat } : this.fromServer(body.path));
        return;
      case Op.exists:
        if (p.watch !== undefined) this.watches.add(this.watches.data, p.req.path, p.watch as WatchCallback);
        p.resolve(body.stat);
        return;
      case Op.getData:
        if (p.watch !== undefined) this.watches.add(this.watches.data, p.req.path, p.watch as WatchCallback);
        p.resolve({ data: body.data === null ? null : Buffer.from(body.data), stat: body.stat });
        return;
      case Op.getChildren:
        if (p.watch !== undefined) this.watches.add(this.watches.child, p.req.path, p.watch as WatchCallback);
        p.resolve(body.children);
        return;
      case Op.getChildren2:
        if (p.watch !== undefined) this.watches.add(this.watches.child, p.req.path, p.watch as WatchCallback);
        p.resolve({ children: body.children, stat: body.stat });
        return;
      case Op.setData:
      case Op.setACL:
        p.resolve(body.stat);
        return;
      case Op.getACL:
        p.resolve({ acl: body.acl, stat: body.stat });
        return;
      case Op.sync:
        p.resolve(this.fromServer(body.path));
        return;
      case Op.multi:
        this.completeMulti(p, body as WireMultiResult[]);
        return;
      case Op.multiRead:
        p.resolve((body as WireMultiResult[]).map((x): MultiReadResult => {
          if (x.op === Op.getData) return { type: 'getData', data: x.res.data === null ? null : Buffer.from(x.res.data), stat: x.res.stat };
          if (x.op === Op.getChildren) return { type: 'getChildren', children: x.res.children };
          return { type: 'error', code: x.err, codeName: zkError(x.err, 'multiRead').codeName };
        }));
        return;
      case Op.getEphemerals:
        p.resolve((body.ephemerals as string[]).map((s) => this.fromServer(s)));
        return;
      case Op.getAllChildrenNumber:
        p.resolve(body.totalNumber);
        return;
      case Op.whoAmI:
        p.resolve(body.clientInfo);
        return;
      case Op.addWatch: {
        const w = p.watch as PersistentWatch;
        if (!w.closed) this.watches.addPersistent(w, p.req.path);
        p.resolve(w);
        return;
      }
      case Op.reconfig:
        p.resolve({ data: body.data === null ? null : Buffer.from(body.data), stat: body.stat });
        return;
      default:
        p.resolve(undefined);
    }
  }

  private completeMulti(p: Pending, res: WireMultiResult[]): void {
    const out: MultiResult[] = res.map((x) => {
      switch (x.op) {
        case Op.create:
          return { type: 'create', path: this.fromServer(x.res.path) };
        case Op.create2:
          return { type: 'create', path: this.fromServer(x.res.path), stat: x.res.stat };
        case Op.delete:
          return { type: 'delete' };
        case Op.setData:
          return { type: 'setData', stat: x.res.stat };
        case Op.check:
          return { type: 'check' };
        default:
          return { type: 'error', code: x.err, codeName: zkError(x.err, 'multi').codeName };
      }
    });
    const bad = out.findIndex((x) => x.type === 'error' && x.code !== 0);
    if (bad >= 0) {
      const e = out[bad] as { code: number };
      const ops = p.req.ops as { req: { path: string } }[];
      p.reject(new ZooKeeperError(e.code, 'multi', this.fromServer(ops[bad]?.req.path ?? ''), out));
    } else p.resolve(out);
  }

  private toServer(path: string, sequential = false): string {
    validatePath(path, sequential);
    if (this.chroot === '') return path;
    return path === '/' ? this.chroot : this.chroot + path;
  }

  private fromServer(path: string): string {
    const c = this.chroot;
    if (c === '' || !path.startsWith(c)) return path;
    if (path.length === c.length) return '/';
    return path.charCodeAt(c.length) === 47 ? path.slice(c.length) : path;
  }

  /** Path validation errors become rejected promises with BadArguments. */
  private sp(path: string, op: number, sequential = false): string | Promise<never> {
    try {
      return this.toServer(path, sequential);
    } catch (e) {
      const err = zkError(Err.BadArguments, op, path);
      err.message += `: ${(e as Error).message}`;
      return Promise.reject(err);
    }
  }

  // ------------------------------------------------------------------ operations

  /** Creates a node; resolves with its path (with the sequence suffix for sequential modes). */
  create(path: string, data?: DataInput, options: CreateOptions = {}): Promise<string> {
    return this.doCreate(path, data, options, 0);
  }

  /** Creates a node; resolves with its path and Stat (create2). */
  create2(path: string, data?: DataInput, options: CreateOptions = {}): Promise<CreateResult> {
    return this.doCreate(path, data, options, 1);
  }

  private doCreate(path: string, data: DataInput | undefined, o: CreateOptions, flag: number): Promise<any> {
    const mode = o.mode ?? CreateMode.PERSISTENT;
    const seq = mode === CreateMode.PERSISTENT_SEQUENTIAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
    const sp = this.sp(path, Op.create, seq);
    if (typeof sp !== 'string') return sp;
    const acl = o.acl ?? OPEN_ACL_UNSAFE;
    if (mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL) {
      return this.call(Op.createTTL, { path: sp, data: toData(data), acl, flags: mode, ttl: o.ttl ?? 0 }, path, flag);
    }
    if (o.ttl !== undefined && o.ttl > 0) {
      return Promise.reject(Object.assign(zkError(Err.BadArguments, Op.create, path), { message: 'ttl given for a non-TTL create mode' }));
    }
    const op = mode === CreateMode.CONTAINER ? Op.createContainer : flag === 1 ? Op.create2 : Op.create;
    return this.call(op, { path: sp, data: toData(data), acl, flags: mode }, path, flag);
  }

  delete(path: string, version = -1): Promise<void> {
    const sp = this.sp(path, Op.delete);
    if (typeof sp !== 'string') return sp;
    return this.call(Op.delete, { path: sp, version }, path);
  }

  /** Stat of the node, or null when it does not exist. `watch` fires on create/change/delete. */
  exists(path: string, watch?: WatchCallback): Promise<Stat | null> {
    const sp = this.sp(path, Op.exists);
    if (typeof sp !== 'string') return sp;
    return this.call(Op.exists, { path: sp, watch: watch !== undefined }, path, 0, watch);
  }

  getData(path: string, watch?: WatchCallback): Promise<DataResult> {
    const sp = this.sp(path, Op.getData);
    if (typeof sp !== 'string') return sp;
    return this.call(Op.getData, { path: sp, watch: watch !== undefined }, path, 0, watch);
  }

  setData(path: string, data: DataInput, version = -1): Promise<Stat> {
    const sp = this.sp(path, Op.setData);
    if (typeof sp !== 'string') return sp;
    return this.call(Op.setData, { path: sp, data: toData(data), version }, path);
  }

  getChildren(path: string, watch?: WatchCallback): Promise<string[]> {
    const sp = this.sp(path, Op.getChildren);
    if (typeof sp !== 'string') return sp;
    return this.call(Op.getChildren, { path: sp, watch: watch !== undefined }, path, 0, watch);
  }

  /** Children and the node's Stat (getChildren2). */
  getChildren2(path: string, watch?: WatchCallback): Promise<ChildrenResult> {
    const sp = this.sp(path, Op.getChildren2);
    if (typeof sp !== 'string') return sp;
    return this.call(Op.getChildren2, { path: sp, watch: watch !== undefined }, path, 0, watch);
  }

  getACL(path: string): Promise<ACLResult> {
    const sp = this.sp(path, Op.getACL);
    if (typeof sp !== 'string') return sp;
    return this.call(Op.getACL, { path: sp }, path);
  }

  setACL(path: string, acl: ACL[], version = -1): Promise<Stat> {
    const sp = this.sp(path, Op.setACL);
    if (typeof sp !== 'string') return sp;
    return this.call(Op.setACL, { path: sp, acl, version }, path);
  }

  /** Waits until the server this client talks to has caught up with the leader (for the path). */
  sync(path = '/'): Promise<string> {
    const sp = this.sp(path, Op.sync);
    if (typeof sp !== 'string') return sp;
    return this.call(Op.sync, { path: sp }, path);
  }

  /** Atomic transaction. Rejects with the first failing op's code; `err.results` has every result. */
  multi(ops: MultiOp[]): Promise<MultiResult[]> {
    const wire: { op: number; req: unknown }[] = [];
    for (const o of ops) {
      const seq = o.type === 'create' && (o.mode === CreateMode.PERSISTENT_SEQUENTIAL || o.mode === CreateMode.EPHEMERAL_SEQUENTIAL || o.mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL);
      const sp = this.sp(o.path, Op.multi, seq);
      if (typeof sp !== 'string') return sp;
      switch (o.type) {
        case 'create': {
          const mode = o.mode ?? CreateMode.PERSISTENT;
          const base = { path: sp, data: toData(o.data), acl: o.acl ?? OPEN_ACL_UNSAFE, flags: mode };
          if (mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL) wire.push({ op: Op.createTTL, req: { ...base, ttl: o.ttl ?? 0 } });
          else if (mode === CreateMode.CONTAINER) wire.push({ op: Op.createContainer, req: base });
          else wire.push({ op: Op.create, req: base });
          break;
        }
        case 'delete':
          wire.push({ op: Op.delete, req: { path: sp, version: o.version ?? -1 } });
          break;
        case 'setData':
          wire.push({ op: Op.setData, req: { path: sp, data: toData(o.data), version: o.version ?? -1 } });
          break;
        case 'check':
          wire.push({ op: Op.check, req: { path: sp, version: o.version } });
          break;
        default:
          return Promise.reject(zkError(Err.BadArguments, Op.multi));
      }
    }
    return this.call(Op.multi, { ops: wire, invalid: false }, undefined);
  }

  /** Independent reads in one round trip; failures are per-op results. */
  multiRead(ops: MultiReadOp[]): Promise<MultiReadResult[]> {
    const wire: { op: number; req: unknown }[] = [];
    for (const o of ops) {
      const sp = this.sp(o.path, Op.multiRead);
      if (typeof sp !== 'string') return sp;
      wire.push({ op: o.type === 'getData' ? Op.getData : Op.getChildren, req: { path: sp, watch: false } });
    }
    return this.call(Op.multiRead, { ops: wire, invalid: false }, undefined);
  }

  /** The calling session's ephemeral nodes whose path starts with `prefix`. */
  getEphemerals(prefix = '/'): Promise<string[]> {
    const sp = prefix === '/' ? (this.chroot === '' ? '/' : this.chroot) : this.chroot + prefix;
    return this.call(Op.getEphemerals, { prefixPath: sp }, prefix);
  }

  /** Number of all descendants of the node. */
  getAllChildrenNumber(path: string): Promise<number> {
    const sp = this.sp(path, Op.getAllChildrenNumber);
    if (typeof sp !== 'string') return sp;
    return this.call(Op.getAllChildrenNumber, { path: sp }, path);
  }

  /** The identities attached to this connection. */
  whoAmI(): Promise<ClientInfo[]> {
    return this.call(Op.whoAmI, {}, undefined);
  }

  /** Adds an identity (e.g. 'digest', 'user:pw'); re-sent on every reconnect. */
  addAuth(scheme: string, auth: string | Buffer): Promise<void> {
    if (this.closing || TERMINAL.has(this.state)) return Promise.reject(zkError(this.terminalError?.code ?? CLOSED_CODE, 'auth'));
    const a = { scheme, auth: Buffer.from(auth) };
    this.authInfo.push(a);
    const conn = this.conn;
    if (conn === undefined || !this.isConnected) return Promise.resolve(); // sent at (re)connection
    return new Promise<void>((resolve, reject) => {
      const w = conn.writer;
      this.header.xid = Xid.auth;
      this.header.type = Op.auth;
      const at = w.beginFrame();
      RequestHeader.encode(w, this.header);
      AuthPacket.encode(w, { type: 0, scheme: a.scheme, auth: a.auth });
      w.endFrame(at);
      this.authWaiters.push({ resolve, reject });
      conn.scheduleFlush();
    });
  }

  /**
   * A persistent watch (mode 'persistent') or a persistent recursive watch ('recursive') as an
   * async iterator of events. It survives reconnects (re-armed with setWatches2) and ends with a
   * SessionExpired error when the session expires, or normally after close().
   */
  async addWatch(path: string, mode: 'persistent' | 'recursive' = 'persistent', callback?: WatchCallback): Promise<PersistentWatch> {
    const sp = this.sp(path, Op.addWatch);
    if (typeof sp !== 'string') return sp;
    const w = new PersistentWatch(path, mode === 'recursive', (pw) => this.closePersistent(pw, sp), callback);
    return this.call(Op.addWatch, { path: sp, mode: mode === 'recursive' ? AddWatchMode.PersistentRecursive : AddWatchMode.Persistent }, path, 0, w);
  }

  private closePersistent(w: PersistentWatch, serverPath: string): void {
    if (!this.watches.removePersistent(w, serverPath)) return;
    if (!this.watches.hasAny(serverPath) && this.isConnected && !this.closing) {
      // ZooKeeper 3.8 removes persistent watches only with WatcherType Any.
      this.call(Op.removeWatches, { path: serverPath, type: WatcherType.Any }, w.path).catch(noop);
    }
  }

  /** Does the server hold a watch of this kind for this connection? (checkWatches) */
  checkWatches(path: string, kind: WatcherKind = 'any'): Promise<void> {
    const sp = this.sp(path, Op.checkWatches);
    if (typeof sp !== 'string') return sp;
    return this.call(Op.checkWatches, { path: sp, type: WATCHER_TYPE[kind] }, path);
  }

  /**
   * Removes watches of a kind from a path, on the server and locally; the local watchers get a
   * DataWatchRemoved / ChildWatchRemoved / PersistentWatchRemoved event. With `local: true` the
   * local watchers are removed even when the server cannot be reached or holds none.
   */
  async removeWatches(path: string, kind: WatcherKind = 'any', opts: { local?: boolean } = {}): Promise<void> {
    const sp = this.sp(path, Op.removeWatches);
    if (typeof sp !== 'string') return sp;
    try {
      await this.call(Op.removeWatches, { path: sp, type: WATCHER_TYPE[kind] }, path);
    } catch (e) {
      if (!opts.local) throw e;
    }
    const dataGone = kind === 'data' || kind === 'any';
    const childGone = kind === 'children' || kind === 'any';
    if (dataGone) {
      const ev = makeEvent(EventType.DataWatchRemoved, path);
      const s = new Set([...this.watches.takeLocal(this.watches.data, sp), ...this.watches.takeLocal(this.watches.exist, sp)]);
      for (const cb of s) safeCall(cb, ev);
    }
    if (childGone) {
      const ev = makeEvent(EventType.ChildWatchRemoved, path);
      for (const cb of this.watches.takeLocal(this.watches.child, sp)) safeCall(cb, ev);
    }
    const ev = makeEvent(EventType.PersistentWatchRemoved, path);
    for (const [t, match] of [
      [this.watches.persistent, kind === 'any' || kind === 'persistent'],
      [this.watches.recursive, kind === 'any' || kind === 'persistentRecursive'],
    ] as const) {
      if (!match) continue;
      const s = t.get(sp);
      if (s === undefined) continue;
      t.delete(sp);
      for (const w of s) {
        if (w.callback !== undefined) safeCall(w.callback, ev);
        w.push(ev);
        w.end();
      }
    }
  }

  /** Dynamic reconfiguration (needs reconfigEnabled and super/ADMIN on /zookeeper/config). */
  reconfig(joining: string | null, leaving: string | null, newMembers: string | null, fromConfig = -1): Promise<DataResult> {
    return this.call(Op.reconfig, { joiningServers: joining, leavingServers: leaving, newMembers, curConfigId: fromConfig }, '/zookeeper/config');
  }

  // ------------------------------------------------------------------ promise-style one-shot watches

  /** getData plus a promise of the next event on the node (resolves with a None event if the session ends). */
  async watchData(path: string): Promise<DataResult & { changed: Promise<WatchedEvent> }> {
    let fire!: (e: WatchedEvent) => void;
    const changed = new Promise<WatchedEvent>((r) => (fire = r));
    const res = await this.getData(path, (e) => fire(e));
    return { ...res, changed };
  }

  /** exists plus a promise of the next create/change/delete of the node. */
  async watchExists(path: string): Promise<{ stat: Stat | null; changed: Promise<WatchedEvent> }> {
    let fire!: (e: WatchedEvent) => void;
    const changed = new Promise<WatchedEvent>((r) => (fire = r));
    const stat = await this.exists(path, (e) => fire(e));
    return { stat, changed };
  }

  /** getChildren2 plus a promise of the next change of the children (or deletion). */
  async watchChildren(path: string): Promise<ChildrenResult & { changed: Promise<WatchedEvent> }> {
    let fire!: (e: WatchedEvent) => void;
    const changed = new Promise<WatchedEvent>((r) => (fire = r));
    const res = await this.getChildren2(path, (e) => fire(e));
    return { ...res, changed };
  }

  // ------------------------------------------------------------------ helpers

  /** Creates the node and any missing parents (persistent, open ACL); existing nodes are fine. */
  async mkdirp(path: string, data?: DataInput): Promise<void> {
    if (path === '/') return;
    const parts = path.split('/').filter((s) => s !== '');
    let cur = '';
    for (let i = 0; i < parts.length; i++) {
      cur += '/' + parts[i];
      try {
        await this.create(cur, i === parts.length - 1 ? data : null);
      } catch (e) {
        if (!(e instanceof ZooKeeperError) || e.code !== Err.NodeExists) throw e;
      }
    }
  }

  /** Number of requests on the wire and waiting in the client. */
  get outstanding(): { inflight: number; waiting: number } {
    return { inflight: this.inflight.length, waiting: this.waiting.length };
  }

  /** Test hook: drops the TCP connection as a network failure would (the session stays). */
  dropConnection(): void {
    this.conn?.destroy(new Error('dropped by dropConnection()'));
  }
}
