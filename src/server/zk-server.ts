// The ZooKeeper-compatible server: sockets, sessions and request routing around the
// pure state machine (src/zk) and the single commit pipeline (./pipeline.ts).

import net from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';

import { Reader } from '../jute/codec.js';
import { Err, Op, OpName, Perms, PASSWORD_LEN, Xid, AddWatchMode } from '../jute/constants.js';
import {
  AuthPacket,
  ConnectRequest,
  PathRequest,
  SetWatches2,
  type ClientInfo,
  type ACL,
} from '../jute/records.js';
import { OPS, Empty } from '../jute/requests.js';
import { encodeToBuffer } from '../jute/schema.js';
import { Command, CreateSessionBody } from '../zk/command.js';
import { ZkDatabase } from '../zk/database.js';
import { checkPerm, parseDigestAuth } from '../zk/acl.js';
import { WatchManager, type Notification } from '../zk/watches.js';
import { SessionTracker } from '../zk/sessions.js';
import type { ApplyResult, ReadResult, Trigger } from '../zk/types.js';
import { WriteAheadLog } from '../storage/wal.js';
import { SnapshotStore } from '../storage/snapshots.js';
import type { SnapshotCursor } from '../zk/snapshot-stream.js';
import type { ServerConfig } from './config.js';
import { Connection, newTrafficStats, recordLatency, type TrafficStats } from './connection.js';
import { CommitPipeline } from './pipeline.js';
import { encodeConnectResponse, encodeNotification, encodeReply, encodeReplyView } from './replies.js';
import { ServerMetrics } from './metrics.js';
import { runFourLetterWord } from './fourletter.js';
import { monitorStats } from './monitor-stats.js';

const ZERO_PASSWORD = Buffer.alloc(PASSWORD_LEN);
/** RequestHeader: xid (int) + type (int). */
const REQUEST_HEADER_BYTES = 8;

// Session passwords: one CSPRNG call per 256 sessions instead of one each (randomBytes is a
// synchronous call of a few µs). Each password is a view of a block never written again.
const PASSWORD_BLOCK = 256;
let passwordBlock = Buffer.alloc(0);
let passwordAt = 0;
function newPassword(): Buffer {
  if (passwordAt + PASSWORD_LEN > passwordBlock.length) {
    passwordBlock = randomBytes(PASSWORD_LEN * PASSWORD_BLOCK);
    passwordAt = 0;
  }
  const p = passwordBlock.subarray(passwordAt, passwordAt + PASSWORD_LEN);
  passwordAt += PASSWORD_LEN;
  return p;
}
const EPOCH = 0; // standalone: every zxid is in epoch 0, as in ZooKeeper

export interface ServerCounters extends TrafficStats {
  startedAt: number;
}

export class ZkServer {
  readonly metrics: ServerMetrics;
  readonly watches = new WatchManager();
  readonly tracker: SessionTracker;
  readonly conns = new Map<number, Connection>();
  readonly counters: ServerCounters = { ...newTrafficStats(), startedAt: Date.now() };
  db!: ZkDatabase;
  private wal!: WriteAheadLog;
  private snapshots!: SnapshotStore;
  private pipeline!: CommitPipeline;
  private listener: net.Server | undefined;
  private readonly bySession = new Map<number, Connection>();
  /** Sessions whose closeSession has been proposed but not applied: their requests get SessionExpired. */
  private readonly closing = new Set<number>();
  private readonly perIp = new Map<string, number>();
  private nextConnId = 1;
  private nextSessionId: number;
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryAt = Infinity;
  private reaperTimer: NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private sinceSnapshot = 0;
  private snapshotEvery: number;
  private snapshotting = false;
  private running = false;
  lastSnapshot: { zxid: number; at: number; ms: number } | undefined;
  /** The last notification frame encoded, reused while consecutive notifications are identical. */
  private lastNotification: Buffer | undefined;
  private lastNotificationType = 0;
  private lastNotificationPath = '';
  onFatal: (err: Error) => void = () => {};

  constructor(
    readonly config: ServerConfig,
    readonly log: Logger,
  ) {
    this.tracker = new SessionTracker(config.tickTime);
    // Session ids: our own clock-based base above any id a previous run issued; the
    // top bits stay clear so ids are exact in a JS number (see jute/codec.ts).
    this.nextSessionId = Date.now() * 256;
    this.snapshotEvery = randomizedSnapCount(config.snapCount);
    this.metrics = new ServerMetrics({
      znodes: () => this.db.nodeCount(),
      watches: () => this.watches.watchCount(),
      ephemerals: () => this.db.ephemeralCount(),
      sessions: () => this.tracker.size(),
      connections: () => this.conns.size,
      outstanding: () => this.outstanding(),
      approximateDataSize: () => this.db.approximateDataSize(),
      lastZxid: () => this.db.lastZxid,
      packetsReceived: () => this.counters.packetsReceived,
      packetsSent: () => this.counters.packetsSent,
    });
  }

  // ------------------------------------------------------------ lifecycle

  /** Loads the newest valid snapshot, replays the log after it, and opens the log for appends. */
  async recover(): Promise<void> {
    const t0 = performance.now();
    mkdirSync(this.config.dataDir, { recursive: true });
    mkdirSync(this.config.dataLogDir, { recursive: true });
    const warn = (msg: string) => this.log.warn(msg);
    this.snapshots = new SnapshotStore(this.config.dataDir, { fsync: this.config.forceSync, onWarn: warn });
    const opts = { extendedTypesEnabled: this.config.extendedTypesEnabled };
    // Streamed: the body goes chunk by chunk into the loader, never whole in memory.
    const snap = await this.snapshots.loadLatest((meta) => ZkDatabase.loader(opts, { totalBytes: meta.bodyBytes }));
    this.db = snap === undefined ? new ZkDatabase(opts) : snap.value;
    this.wal = await WriteAheadLog.open(this.config.dataLogDir, { fsync: this.config.forceSync, onWarn: warn, inlineSyncBytes: this.config.walInlineSyncBytes });
    let replayed = 0;
    for await (const rec of this.wal.read(this.db.lastZxid + 1)) {
      const cmd = decodeCommand(rec.payload);
      this.db.apply(cmd);
      replayed++;
    }
    const now = Date.now();
    // Sessions survive a restart with a fresh timeout, as in ZooKeeper.
    for (const s of this.db.sessions()) this.tracker.add(s.sessionId, s.timeout, now);
    this.sinceSnapshot = replayed;
    this.pipeline = new CommitPipeline(this.db, this.wal, EPOCH, {
      onFatal: (err) => this.fatal(err),
      onApplied: (result, cmd) => this.afterApply(result, cmd),
      afterBatch: (n, fsyncMs) => {
        this.metrics.fsyncTime.observe(fsyncMs / 1000);
        this.metrics.fsyncBatch.observe(n);
        monitorStats(this).onBatch(n, fsyncMs);
        this.sinceSnapshot += n;
        if (this.sinceSnapshot >= this.snapshotEvery) void this.takeSnapshot();
      },
    });
    this.log.info(
      { snapshotZxid: snap?.index ?? 0, replayed, lastZxid: hex(this.db.lastZxid), ms: Math.round(performance.now() - t0) },
      'database loaded',
    );
  }

  async listen(): Promise<{ host: string; port: number }> {
    const server = net.createServer({ noDelay: true }, (s) => this.accept(s));
    this.listener = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.config.clientPort, host: this.config.clientPortAddress || undefined, backlog: 1024 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.log.error({ err: e }, 'listener error'));
    // One O_DSYNC write per group commit instead of write + fdatasync (two thread-pool round
    // trips): same durability, ~0.03 ms less per commit and less CPU (see storage/wal.ts).
    this.wal?.setSyncMode('dsync');
    this.running = true;
    this.scheduleReaper();
    this.schedulePurge();
    const addr = server.address() as net.AddressInfo;
    this.log.info({ address: addr.address, port: addr.port }, 'serving clients');
    return { host: addr.address, port: addr.port };
  }

  async close(): Promise<void> {
    if (!this.running && this.listener === undefined) return;
    this.running = false;
    clearTimeout(this.expiryTimer);
    clearInterval(this.reaperTimer);
    clearInterval(this.purgeTimer);
    // Connections first: the listener's close callback waits for every open connection.
    const closed = new Promise<void>((r) => (this.listener ? this.listener.close(() => r()) : r()));
    for (const c of this.conns.values()) c.close();
    await closed;
    this.listener = undefined;
    await this.pipeline?.drain();
    this.pipeline?.stop();
    while (this.snapshotting) await new Promise((r) => setTimeout(r, 5));
    await this.wal?.close();
  }

  private fatal(err: Error): void {
    this.log.fatal({ err }, 'transaction log write failed; stopping: acknowledged writes could otherwise be lost');
    this.running = false;
    for (const c of this.conns.values()) c.close();
    this.onFatal(err);
  }

  outstanding(): number {
    let n = 0;
    for (const c of this.conns.values()) n += c.queued();
    return n;
  }

  // ------------------------------------------------------------ connections

  private accept(socket: net.Socket): void {
    const ip = socket.remoteAddress ?? '';
    const max = this.config.maxClientCnxns;
    const count = this.perIp.get(ip) ?? 0;
    if ((max > 0 && count >= max) || (this.config.maxCnxns > 0 && this.conns.size >= this.config.maxCnxns)) {
      const reason = max > 0 && count >= max ? 'max_client_cnxns' : 'max_cnxns';
      this.log.warn({ ip, count, limit: reason === 'max_client_cnxns' ? max : this.config.maxCnxns }, 'too many connections, closing');
      this.metrics.rejectedConnections.inc({ reason });
      socket.destroy();
      return;
    }
    this.perIp.set(ip, count + 1);
    const conn = new Connection(this.nextConnId++, socket, this.config.juteMaxBuffer);
    this.conns.set(conn.id, conn);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', () => {});
    socket.on('close', () => this.onClose(conn, ip));
  }

  private onClose(conn: Connection, ip: string): void {
    conn.state = 'closed';
    this.conns.delete(conn.id);
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
    this.watches.removeConnection(conn.id);
    if (conn.sessionId !== 0 && this.bySession.get(conn.sessionId) === conn) this.bySession.delete(conn.sessionId);
  }

  private onData(conn: Connection, chunk: Buffer): void {
    const n = conn.feed(chunk);
    const fr = conn.frames;
    // Once per read, not per frame: every frame of a read arrived at the same time, and the
    // session's deadline moves the same way.
    const t0 = n > 0 ? performance.now() : 0;
    if (n > 0 && conn.sessionId !== 0) this.tracker.touch(conn.sessionId, Date.now());
    for (let i = 0; i < n; i++) {
      if (conn.state === 'closed' || conn.closing) break;
      this.counters.packetsReceived++;
      conn.stats.packetsReceived++;
      const buf = fr.bufs[i]!;
      const start = fr.starts[i]!;
      const end = fr.ends[i]!;
      if (conn.state === 'new') this.onConnectRequest(conn, buf.subarray(start, end));
      else if (conn.state === 'connecting') conn.backlog.push(Buffer.from(buf.subarray(start, end)));
      else this.onRequest(conn, buf, start, end, t0);
    }
    fr.release();
    const ev = fr.event;
    if (ev !== undefined) {
      if (conn.state === 'closed' || conn.closing) return;
      if (ev.kind === 'fourLetter') {
        this.fourLetter(conn, ev.word, ev.rest);
        return;
      }
      if (ev.kind === 'badLength') {
        this.log.warn({ conn: conn.id, ip: conn.remoteAddress, length: ev.length, max: this.config.juteMaxBuffer }, 'frame length out of range, closing connection');
        this.metrics.badFrames.inc({ reason: 'length' });
        conn.close();
        return;
      }
    }
  }

  private fourLetter(conn: Connection, word: string, rest: Buffer): void {
    const wl = this.config.fourLetterWhitelist;
    const allowed = wl === '*' || wl.has(word);
    const text = allowed ? runFourLetterWord(this, word, conn, rest) : `${word} is not executed because it is not in the whitelist.\n`;
    conn.socket.end(text);
    conn.state = 'closed';
  }

  // ------------------------------------------------------------ session establishment

  private onConnectRequest(conn: Connection, frame: Buffer): void {
    let req: ConnectRequest;
    try {
      req = ConnectRequest.decode(new Reader(frame, 0, frame.length, this.config.juteMaxBuffer));
    } catch (e) {
      this.log.warn({ conn: conn.id, ip: conn.remoteAddress, err: (e as Error).message }, 'undecodable ConnectRequest, closing');
      this.metrics.badFrames.inc({ reason: 'connect' });
      conn.close();
      return;
    }
    conn.sentReadOnlyByte = req.readOnly !== undefined;
    if (req.lastZxidSeen > this.db.lastZxid) {
      // The client has seen a newer state than ours: it must try another server.
      this.log.info({ conn: conn.id, clientZxid: hex(req.lastZxidSeen), ourZxid: hex(this.db.lastZxid) }, 'client is ahead of this server, closing');
      conn.close();
      return;
    }
    const timeout = Math.min(Math.max(req.timeOut, this.config.minSessionTimeout), this.config.maxSessionTimeout);
    conn.state = 'connecting';
    if (req.sessionId === 0) this.createSession(conn, timeout);
    else this.resumeSession(conn, req.sessionId, req.passwd, timeout);
  }

  private allocateSessionId(): number {
    let id = this.nextSessionId++;
    while (this.db.getSession(id) !== undefined) id = this.nextSessionId++;
    return id;
  }

  private createSession(conn: Connection, timeout: number): void {
    if (!this.running) {
      conn.close();
      return;
    }
    const t0 = performance.now();
    const sessionId = this.allocateSessionId();
    const passwd = newPassword();
    const body = encodeToBuffer(CreateSessionBody, { timeOut: timeout, passwd });
    this.pipeline.propose(Op.createSession, sessionId, 0, [], body, (_result, cmd) => {
      if (conn.state === 'closed') return; // the session lives on until it expires, as in ZooKeeper
      this.noteLatency(conn, Op.createSession, t0, cmd.zxid); // the connect response is a reply ("SESS" in cons), as in ZooKeeper
      this.bindSession(conn, sessionId, timeout, passwd);
    });
  }

  private resumeSession(conn: Connection, sessionId: number, passwd: Buffer | null, timeout: number): void {
    const s = this.db.getSession(sessionId);
    const ok =
      s !== undefined &&
      !this.closing.has(sessionId) &&
      passwd !== null &&
      passwd.length === s.passwd.length &&
      timingSafeEqual(passwd, s.passwd);
    if (!ok) {
      this.log.info({ conn: conn.id, session: hex(sessionId) }, 'session expired or password mismatch on reconnect');
      conn.send(
        encodeConnectResponse({
          protocolVersion: 0,
          timeOut: 0,
          sessionId: 0,
          passwd: ZERO_PASSWORD,
          readOnly: conn.sentReadOnlyByte ? false : undefined,
        }),
      );
      conn.close(false);
      return;
    }
    const other = this.bySession.get(sessionId);
    if (other !== undefined && other !== conn) {
      this.log.info({ session: hex(sessionId), old: other.id, new: conn.id }, 'session moved to a new connection, closing the old one');
      this.bySession.delete(sessionId);
      other.close();
    }
    this.bindSession(conn, sessionId, timeout, s!.passwd);
  }

  private bindSession(conn: Connection, sessionId: number, timeout: number, passwd: Buffer): void {
    conn.sessionId = sessionId;
    conn.timeout = timeout;
    conn.state = 'connected';
    this.bySession.set(sessionId, conn);
    this.tracker.add(sessionId, timeout, Date.now());
    this.scheduleExpiry();
    conn.send(
      encodeConnectResponse({
        protocolVersion: 0,
        timeOut: timeout,
        sessionId,
        passwd,
        readOnly: conn.sentReadOnlyByte ? false : undefined,
      }),
    );
    const backlog = conn.backlog;
    conn.backlog = [];
    for (const f of backlog) {
      if (conn.state !== 'connected') break;
      this.onRequest(conn, f, 0, f.length, performance.now());
    }
  }

  // ------------------------------------------------------------ session expiry

  private scheduleExpiry(): void {
    const next = this.tracker.nextExpiry();
    if (next === undefined || !this.running) return;
    if (this.expiryTimer !== undefined && next >= this.expiryAt) return;
    clearTimeout(this.expiryTimer);
    this.expiryAt = next;
    this.expiryTimer = setTimeout(() => this.expireSessions(), Math.max(0, next - Date.now()));
  }

  private expireSessions(): void {
    this.expiryTimer = undefined;
    this.expiryAt = Infinity;
    if (!this.running) return;
    for (const sid of this.tracker.expire(Date.now())) {
      if (this.closing.has(sid)) continue;
      this.log.info({ session: hex(sid) }, 'session expired');
      this.metrics.sessionsExpired.inc();
      this.closeSession(sid, 0);
      const c = this.bySession.get(sid);
      if (c !== undefined) {
        this.bySession.delete(sid);
        c.close(); // ZooKeeper closes an expired session's socket without a word
      }
    }
    this.scheduleExpiry();
  }

  private closeSession(sessionId: number, cxid: number, done?: (r: ApplyResult, cmd: Command) => void): void {
    this.closing.add(sessionId);
    this.pipeline.propose(Op.closeSession, sessionId, cxid, [], null, done);
  }

  // ------------------------------------------------------------ requests

  /** One request frame: buf[start, end), read at t0 (performance.now()). */
  private onRequest(conn: Connection, buf: Buffer, start: number, end: number, t0: number): void {
    // RequestHeader (xid, type) read in place: no Reader or header object for it
    if (end - start < REQUEST_HEADER_BYTES) {
      this.badRequest(conn, 'header', 'truncated request header');
      return;
    }
    const xid = buf.readInt32BE(start);
    const type = buf.readInt32BE(start + 4);
    const bodyAt = start + REQUEST_HEADER_BYTES;
    conn.stats.lastCxid = xid;
    if (type === Op.ping) {
      if (conn.queued() === 0) this.reply(conn, Xid.ping, Op.ping, t0, 0);
      else conn.runInOrder(() => this.reply(conn, Xid.ping, Op.ping, t0, 0));
      return;
    }
    if (type === Op.auth) {
      this.onAuth(conn, xid, new Reader(buf, bodyAt, end, this.config.juteMaxBuffer));
      return;
    }
    const spec = OPS.get(type);
    if (spec === undefined || type === Op.check) {
      // Unknown opcode (or a stand-alone check, as ZooKeeper 3.8.5+): Unimplemented, then close.
      this.log.warn({ conn: conn.id, ip: conn.remoteAddress, op: type }, 'unknown opcode, closing connection');
      this.metrics.badFrames.inc({ reason: 'opcode' });
      const f = encodeReply(xid, -1, Err.Unimplemented);
      conn.closing = true; // read nothing more from this connection
      conn.runInOrder(() => {
        conn.send(f);
        conn.close(false);
      });
      return;
    }
    if (this.closing.has(conn.sessionId)) {
      conn.runInOrder(() => this.reply(conn, xid, type, t0, Err.SessionExpired));
      return;
    }
    if (spec.write) {
      this.onWrite(conn, xid, type, buf.subarray(bodyAt, end), t0);
      return;
    }
    let req: unknown;
    try {
      req = spec.request.decode(new Reader(buf, bodyAt, end, this.config.juteMaxBuffer));
    } catch (e) {
      this.metrics.badFrames.inc({ reason: 'body' });
      this.log.warn({ conn: conn.id, op: spec.name, err: (e as Error).message }, 'undecodable request body');
      conn.runInOrder(() => this.reply(conn, xid, type, t0, Err.MarshallingError));
      return;
    }
    if (conn.queued() === 0) this.onRead(conn, xid, type, req, t0);
    else conn.runInOrder(() => this.onRead(conn, xid, type, req, t0));
  }

  private badRequest(conn: Connection, reason: string, msg: string): void {
    this.metrics.badFrames.inc({ reason });
    this.log.warn({ conn: conn.id, ip: conn.remoteAddress }, `${msg}, closing connection`);
    conn.close();
  }

  private reply(conn: Connection, xid: number, op: number, t0: number, err: number, body?: unknown): void {
    const spec = OPS.get(op);
    const zxid = this.db.lastZxid;
    const f = encodeReplyView(xid, zxid, err, spec?.response ?? Empty, body);
    conn.sendBytes(f, 0, f.length);
    this.noteLatency(conn, op, t0, zxid);
  }

  private noteLatency(conn: Connection, op: number, t0: number, zxid: number): void {
    const ms = performance.now() - t0;
    this.counters.packetsSent++;
    recordLatency(this.counters, ms);
    const s = conn.stats;
    recordLatency(s, ms);
    s.lastLatency = ms;
    s.lastZxid = zxid;
    const name = OpName[op] ?? String(op);
    s.lastOp = name;
    s.lastResponseTime = Date.now();
    this.metrics.observeLatency(op, name, ms / 1000);
    monitorStats(this).onReply(op, ms);
  }

  private onWrite(conn: Connection, xid: number, op: number, body: Buffer, t0: number): void {
    if (!this.running) {
      conn.close();
      return;
    }
    const slot = conn.reserve();
    const sid = conn.sessionId;
    if (op === Op.closeSession) {
      this.closeSession(sid, xid, (result, cmd) => {
        const f = encodeReplyView(xid, cmd.zxid, 0);
        conn.fillBytes(slot, f, 0, f.length, true);
        this.noteLatency(conn, op, t0, cmd.zxid);
      });
      return;
    }
    this.pipeline.propose(op, sid, xid, conn.identities, body, (result, cmd) => {
      const spec = OPS.get(op)!;
      const f = encodeReplyView(xid, cmd.zxid, result.err, spec.response, result.response);
      conn.fillBytes(slot, f, 0, f.length);
      this.noteLatency(conn, op, t0, cmd.zxid);
    });
  }

  /** Side effects of every applied command, whoever proposed it: watches, session bookkeeping. */
  private afterApply(result: ApplyResult, cmd: Command): void {
    monitorStats(this).onApplied(result, cmd);
    if (result.triggers.length > 0) this.dispatch(result.triggers);
    if (cmd.op === Op.closeSession) {
      this.tracker.remove(cmd.sessionId);
      this.closing.delete(cmd.sessionId);
    } else if (cmd.op === Op.createSession && !this.tracker.deadline(cmd.sessionId)) {
      const s = this.db.getSession(cmd.sessionId);
      if (s !== undefined) this.tracker.add(cmd.sessionId, s.timeout, Date.now());
      this.scheduleExpiry();
    }
  }

  private dispatch(triggers: Trigger[]): void {
    const canRead = (connId: number, acl: readonly ACL[]) => {
      const c = this.conns.get(connId);
      return c !== undefined && (this.config.skipACL || checkPerm(acl, c.identities, Perms.READ));
    };
    for (const t of triggers) {
      const fired = this.watches.trigger(t, canRead);
      monitorStats(this).onWatchesFired(t.type, fired.length);
      for (const n of fired) this.notify(n);
    }
  }

  private notify(n: Notification): void {
    const c = this.conns.get(n.connId);
    if (c === undefined) return;
    // One trigger notifies every watcher with the same (type, path): encode it once.
    let f = this.lastNotification;
    if (f === undefined || this.lastNotificationType !== n.type || this.lastNotificationPath !== n.path) {
      f = this.lastNotification = encodeNotification(n.type, n.path);
      this.lastNotificationType = n.type;
      this.lastNotificationPath = n.path;
    }
    c.send(f);
  }

  private onRead(conn: Connection, xid: number, op: number, req: any, t0: number): void {
    switch (op) {
      case Op.sync:
        this.reply(conn, xid, op, t0, 0, { path: (req as PathRequest).path });
        return;
      case Op.setWatches:
      case Op.setWatches2: {
        const events = this.watches.setWatches(conn.id, req.relativeZxid, req as SetWatches2, (p) => {
          const st = this.db.stat(p);
          return st === undefined ? undefined : { mzxid: st.mzxid, pzxid: st.pzxid };
        });
        for (const e of events) this.notify(e);
        this.reply(conn, Xid.setWatches, op, t0, 0);
        return;
      }
      case Op.addWatch: {
        if (req.mode !== AddWatchMode.Persistent && req.mode !== AddWatchMode.PersistentRecursive) {
          this.reply(conn, xid, op, t0, Err.MarshallingError);
          return;
        }
        this.watches.add(conn.id, req.path, req.mode === AddWatchMode.Persistent ? 'persistent' : 'recursive');
        this.reply(conn, xid, op, t0, 0, { err: 0 });
        return;
      }
      case Op.checkWatches:
      case Op.removeWatches: {
        const found =
          op === Op.checkWatches ? this.watches.has(conn.id, req.path, req.type) : this.watches.remove(conn.id, req.path, req.type);
        this.reply(conn, xid, op, t0, found ? 0 : Err.NoWatcher);
        return;
      }
      case Op.whoAmI:
        this.reply(conn, xid, op, t0, 0, { clientInfo: clientInfo(conn) });
        return;
      case Op.sasl:
        // No SASL mechanisms configured: ZooKeeper answers OK with a null token.
        this.reply(conn, xid, op, t0, 0, { token: null });
        return;
    }
    const ids = this.config.skipACL ? SUPER : conn.identities;
    const res: ReadResult = this.db.read(op, req, ids, conn.sessionId);
    monitorStats(this).onRead(op, req, res);
    if (res.watch !== undefined) this.watches.add(conn.id, res.watch.path, res.watch.kind);
    if (res.watches !== undefined) for (const w of res.watches) this.watches.add(conn.id, w.path, w.kind);
    this.reply(conn, xid, op, t0, res.err, res.response);
  }

  private onAuth(conn: Connection, xid: number, r: Reader): void {
    let pkt: AuthPacket;
    try {
      pkt = AuthPacket.decode(r);
    } catch {
      this.badRequest(conn, 'body', 'undecodable auth packet');
      return;
    }
    const cred = pkt.auth === null ? '' : pkt.auth.toString('utf8');
    let ok = false;
    if (pkt.scheme === 'digest') {
      const id = parseDigestAuth(cred);
      if (id !== null) {
        ok = true;
        addIdentity(conn, { scheme: 'digest', id });
        if (this.config.superDigest !== undefined && id === this.config.superDigest) addIdentity(conn, { scheme: 'super', id: '' });
      }
    } else if (pkt.scheme === 'ip') {
      ok = true;
    }
    // Auth replies bypass the FIFO, as in ZooKeeper (they may overtake earlier replies).
    conn.send(encodeReply(xid, 0, ok ? 0 : Err.AuthFailed));
    if (!ok) {
      this.metrics.authFailures.inc();
      this.log.warn({ conn: conn.id, scheme: pkt.scheme }, 'authentication failed, closing connection');
      conn.close(false);
    }
  }

  // ------------------------------------------------------------ background work

  private scheduleReaper(): void {
    const every = this.config.containerCheckIntervalMs;
    if (every <= 0) return;
    this.reaperTimer = setInterval(() => this.reap(), every);
    this.reaperTimer.unref();
  }

  private reap(): void {
    if (!this.running) return;
    const perRun = Math.max(1, Math.floor((this.config.containerMaxPerMinute * this.config.containerCheckIntervalMs) / 60000));
    const paths = this.db.reapCandidates(Date.now(), this.config.containerMaxNeverUsedIntervalMs, perRun);
    for (const path of paths) {
      this.pipeline.propose(Op.deleteContainer, 0, 0, [], encodeToBuffer(PathRequest, { path }));
    }
  }

  private schedulePurge(): void {
    const hours = this.config.autopurgePurgeInterval;
    if (hours <= 0) return;
    this.purgeTimer = setInterval(() => void this.purge(), hours * 3600_000);
    this.purgeTimer.unref();
  }

  /** Keeps the newest autopurge.snapRetainCount snapshots and the log needed to replay from the oldest kept. */
  async purge(): Promise<void> {
    const { removed, oldestKeptIndex } = await this.snapshots.purge(this.config.autopurgeSnapRetainCount);
    let segments = 0;
    if (oldestKeptIndex !== undefined) segments = await this.wal.purgeBefore(oldestKeptIndex + 1);
    if (removed.length > 0 || segments > 0) this.log.info({ snapshots: removed.length, logSegments: segments }, 'purged old files');
  }

  /**
   * Writes a snapshot of the applied state; the log after it is what replays on top. The
   * state at the current zxid is streamed out a slice (~256 KiB) per write while commands
   * keep being applied (copy-on-write in the database), so the event loop never stalls
   * for long and the snapshot is never whole in memory. One at a time; close() waits for it.
   */
  async takeSnapshot(): Promise<void> {
    if (this.snapshotting) return;
    this.snapshotting = true;
    this.sinceSnapshot = 0;
    this.snapshotEvery = randomizedSnapCount(this.config.snapCount);
    const t0 = performance.now();
    let cursor: SnapshotCursor | undefined;
    try {
      cursor = this.db.beginSnapshot(); // synchronously, at the last applied zxid
      const c = cursor;
      const zxid = c.zxid;
      await this.snapshots.writeStream(zxid, EPOCH, () => c.next());
      const ms = performance.now() - t0;
      this.metrics.snapshotTime.observe(ms / 1000);
      monitorStats(this).onSnapshot(ms);
      this.lastSnapshot = { zxid, at: Date.now(), ms };
      this.log.info({ zxid: hex(zxid), ms: Math.round(ms), bytes: c.bytes, preimages: c.preimages }, 'snapshot written');
      if (this.config.autopurgePurgeInterval > 0) await this.purge();
    } catch (err) {
      this.log.error({ err }, 'snapshot failed; the log still holds everything');
    } finally {
      cursor?.abort(); // no-op when it was read to the end; otherwise stops the copy-on-write
      this.snapshotting = false;
    }
  }

  walStats(): ReturnType<WriteAheadLog['stats']> | undefined {
    return this.wal?.stats();
  }

  sessionConnections(): Map<number, Connection> {
    return this.bySession;
  }
}

const SUPER = [{ scheme: 'super', id: '' }];

/** Added identities keep the order they were added in, ahead of the connection's ip identity (as whoAmI shows them in ZooKeeper). */
function addIdentity(conn: Connection, id: { scheme: string; id: string }): void {
  if (conn.identities.some((x) => x.scheme === id.scheme && x.id === id.id)) return;
  const ip = conn.identities.findIndex((x) => x.scheme === 'ip');
  conn.identities.splice(ip < 0 ? conn.identities.length : ip, 0, id);
}

function clientInfo(conn: Connection): ClientInfo[] {
  return conn.identities.map((i) => ({
    authScheme: i.scheme,
    user: i.scheme === 'digest' ? i.id.slice(0, i.id.indexOf(':')) : i.scheme === 'super' ? '' : i.id,
  }));
}

function decodeCommand(payload: Buffer): Command {
  return Command.decode(new Reader(payload));
}

/** ZooKeeper randomises the snapshot interval in [snapCount/2+1, snapCount] so ensemble members don't snapshot together. */
function randomizedSnapCount(snapCount: number): number {
  const half = Math.floor(snapCount / 2);
  return half + 1 + Math.floor(Math.random() * Math.max(1, snapCount - half));
}

export function hex(n: number): string {
  return '0x' + n.toString(16);
}

