// Transport: Raft messages between peers over TCP (or TLS).
//
// Connections are one-way, as etcd's streams: each node dials every peer it has messages for and
// only WRITES on that connection; it only READS on the connections peers dialed to it. So there is
// never a question of which of two crossing connections to keep.
//
// Wire: frames `u32 length (big-endian) | body`, length ≤ maxFrameBytes. The first frame in each
// direction is a Hello record (below); after it the dialer sends Message records (messages.ts, the
// one definition of the wire format) and the acceptor sends nothing. The dialer says who it is and
// whom it wants; the acceptor checks magic, version, cluster id and that it is the wanted node, and
// answers with its own Hello (error field empty = accepted; otherwise the reason, then it closes).
// The dialer checks the answer the same way. Anything malformed (oversized or empty frame, bad
// record, trailing bytes, a local message type, a message claiming another sender) is logged and
// closes that one connection; the process and other connections carry on.
//
// Sending never blocks and never throws: messages are encoded at once into a bounded per-peer
// queue (count and bytes). When it is full the oldest (default) or the newest message is dropped
// and counted — Raft retransmits what matters. A connection that drops or cannot be made is
// reported through onUnreachable and retried with exponential backoff and jitter; a successful
// handshake resets the backoff. Messages queued while a connection drops are kept for the next
// attempt (a restarting peer gets them); a failed attempt discards the queue (counted as dropped),
// so a peer that stays down never receives a backlog of stale messages when it returns.
//
// TLS: give `tls` {key, cert, ca} and both sides authenticate (the listener requires and verifies
// client certificates against `ca`; the dialer verifies the server's certificate and, unless
// `servername` says otherwise, its name against the peer's host).

import * as net from 'node:net';
import * as tls from 'node:tls';
import { Reader, Writer } from '../jute/codec.js';
import { record } from '../jute/schema.js';
import { isLocalMessage, Message, MessageType } from './messages.js';

export const TRANSPORT_MAGIC = 0x4b524654; // 'KRFT'
export const TRANSPORT_VERSION = 1;

/** The handshake record, first frame in each direction. */
export const Hello = record('RaftHello', [
  ['magic', 'int'],
  ['version', 'int'],
  ['clusterId', 'ustring'],
  ['from', 'long'],
  ['to', 'long'],
  ['error', 'ustring'],
] as const);

export interface PeerAddress {
  host: string;
  port: number;
}

export interface TransportLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface TlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  ca: string | Buffer | (string | Buffer)[];
  /** Name to verify in peer certificates (default: the peer's host). */
  servername?: string;
}

export interface BackoffOptions {
  /** First retry delay (ms). Default 50. */
  initialMs?: number;
  /** Cap (ms). Default 2000. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /** Fraction of the delay randomized away: delay · (1 − jitter · random()). Default 0.5. */
  jitter?: number;
}

export interface TransportOptions {
  id: number;
  clusterId: string;
  /** Where to listen for peers (port 0: any free port, see `port`). */
  listen: PeerAddress;
  peers?: Iterable<[number, PeerAddress]>;
  /** A valid message from a peer (to = our id, from = the authenticated peer). */
  onMessage: (m: Message) => void;
  /** A peer's connection dropped, could not be made, or a message to it was dropped. */
  onUnreachable?: (id: number) => void;
  tls?: TlsOptions;
  /** Max messages queued per peer. Default 4096. */
  maxQueue?: number;
  /** Max bytes queued per peer. Default 64 MiB. */
  maxQueueBytes?: number;
  /** Which message goes when a queue is full. Default 'oldest'. */
  dropPolicy?: 'oldest' | 'newest';
  /** Largest frame accepted or sent (bytes). Default 64 MiB. */
  maxFrameBytes?: number;
  backoff?: BackoffOptions;
  /** Uniform in [0, 1) (backoff jitter). Default Math.random. */
  random?: () => number;
  /** A connection must complete its handshake within this time (ms). Default 5000. */
  handshakeTimeoutMs?: number;
  logger?: TransportLogger;
}

export interface PeerStats {
  id: number;
  state: PeerState;
  queued: number;
  queuedBytes: number;
  sent: number;
  bytesSent: number;
  dropped: number;
  connects: number;
  failures: number;
}

export interface TransportStats {
  peers: PeerStats[];
  inbound: number;
  received: number;
  /** Connections closed for a malformed frame, message or handshake. */
  badFrames: number;
  /** Valid frames for another node (dropped). */
  misrouted: number;
}

export type PeerState = 'idle' | 'connecting' | 'open' | 'backoff' | 'closed';

/** Backoff delay before retry number `attempt` (0-based), jittered. Pure: exported for tests. */
export function backoffDelay(attempt: number, b: BackoffOptions, random: () => number): number {
  const initial = b.initialMs ?? 50;
  const max = b.maxMs ?? 2000;
  const factor = b.factor ?? 2;
  const jitter = b.jitter ?? 0.5;
  const base = Math.min(max, initial * Math.pow(factor, Math.min(attempt, 60)));
  return Math.max(1, Math.round(base * (1 - jitter * random())));
}

const LEN = 4;

/** Splits a byte stream into frames; throws FrameError for an impossible length. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private total = 0;
  constructor(private readonly maxFrameBytes: number) {}

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.total += b.length;
  }

  /** The next complete frame body (its own buffer), or undefined if more bytes are needed. */
  next(): Buffer | undefined {
    if (this.total < LEN) return undefined;
    const head = this.peek(LEN);
    const len = head.readUInt32BE(0);
    if (len === 0 || len > this.maxFrameBytes) throw new FrameError(`frame length ${len} outside [1, ${this.maxFrameBytes}]`);
    if (this.total < LEN + len) return undefined;
    this.take(LEN);
    return this.take(len);
  }

  /** Everything buffered, removed (handing the rest of a stream to another decoder). */
  drain(): Buffer {
    const all = Buffer.concat(this.chunks, this.total);
    this.chunks = [];
    this.total = 0;
    return all;
  }

  get buffered(): number {
    return this.total;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first;
    return Buffer.concat(this.chunks, Math.min(this.total, Math.max(n, 64)));
  }

  /** Removes n bytes from the front into a fresh buffer (views into it stay valid). */
  private take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.total -= n;
    return out;
  }
}

export class FrameError extends Error {
  override name = 'FrameError';
}

const MAX_TYPE = Math.max(...Object.values(MessageType));

/** Decodes and checks one message frame; throws FrameError with the reason. */
export function decodeMessageFrame(body: Buffer): Message {
  const r = new Reader(body);
  let m: Message;
  try {
    m = Message.decode(r);
  } catch (e) {
    throw new FrameError(`undecodable message: ${(e as Error).message}`);
  }
  if (r.remaining() !== 0) throw new FrameError(`${r.remaining()} trailing byte(s) after the message`);
  if (!Number.isInteger(m.type) || m.type < 0 || m.type > MAX_TYPE) throw new FrameError(`unknown message type ${m.type}`);
  if (isLocalMessage(m.type)) throw new FrameError(`local message type ${m.type} on the wire`);
  for (const [k, v] of [
    ['to', m.to],
    ['from', m.from],
    ['term', m.term],
    ['index', m.index],
    ['logTerm', m.logTerm],
    ['commit', m.commit],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new FrameError(`field ${k} = ${v} out of range`);
  }
  return m;
}

function encodeFrame<T>(w: Writer, codec: { encode(w: Writer, v: T): void }, v: T): Buffer {
  w.reset();
  const at = w.beginFrame();
  codec.encode(w, v);
  w.endFrame(at);
  return w.toBuffer();
}

function describeErr(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ? `${err.code} ${err.message}` : String(err?.message ?? e);
}

const NOOP_LOGGER: TransportLogger = { info: () => undefined, warn: () => undefined };

/** Outbound side for one peer: queue + connection + backoff. */
class Peer {
  state: PeerState = 'idle';
  private q: Buffer[] = [];
  private head = 0;
  queuedBytes = 0;
  sent = 0;
  bytesSent = 0;
  dropped = 0;
  connects = 0;
  failures = 0;
  private attempt = 0;
  private socket: net.Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private blocked = false;
  private flushScheduled = false;
  private loggedDown = false;

  constructor(
    readonly id: number,
    public addr: PeerAddress,
    private readonly t: Transport,
  ) {}

  get queued(): number {
    return this.q.length - this.head;
  }

  enqueue(frame: Buffer): void {
    if (this.state === 'closed') return;
    const o = this.t.o;
    const full = () => this.queued >= o.maxQueue || this.queuedBytes + frame.length > o.maxQueueBytes;
    if (full()) {
      if (o.dropPolicy === 'newest') {
        this.dropped++;
        this.t.unreachable(this.id);
        return;
      }
      while (this.queued > 0 && full()) {
        const old = this.q[this.head]!;
        this.q[this.head++] = EMPTY_FRAME;
        this.queuedBytes -= old.length;
        this.dropped++;
      }
      this.t.unreachable(this.id);
    }
    this.q.push(frame);
    this.queuedBytes += frame.length;
    if (this.state === 'idle') this.connect();
    else if (this.state === 'open') this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.blocked) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const s = this.socket;
    if (s === undefined || this.state !== 'open' || this.blocked) return;
    if (this.queued === 0) return;
    s.cork();
    while (this.queued > 0) {
      const f = this.q[this.head]!;
      this.q[this.head++] = EMPTY_FRAME;
      this.queuedBytes -= f.length;
      this.sent++;
      this.bytesSent += f.length;
      if (!s.write(f)) {
        this.blocked = true;
        s.once('drain', () => {
          this.blocked = false;
          this.flush();
        });
        break;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.q.length) {
      this.q = this.q.slice(this.head);
      this.head = 0;
    }
    process.nextTick(() => s.uncork());
  }

  connect(): void {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const { host, port } = this.addr;
    const o = this.t.o;
    let s: net.Socket;
    if (o.tls !== undefined) {
      s = tls.connect({
        host,
        port,
        key: o.tls.key,
        cert: o.tls.cert,
        ca: o.tls.ca,
        servername: o.tls.servername ?? (net.isIP(host) ? undefined : host),
      });
    } else {
      s = net.connect({ host, port });
    }
    this.socket = s;
    s.setNoDelay(true);
    const dec = new FrameDecoder(Math.min(o.maxFrameBytes, 64 * 1024));
    let handshaken = false;
    let reason = '';
    const hsTimer = setTimeout(() => {
      reason = 'handshake timed out';
      s.destroy();
    }, o.handshakeTimeoutMs);
    const ready = o.tls !== undefined ? 'secureConnect' : 'connect';
    s.once(ready, () => {
      s.write(encodeFrame(this.t.w, Hello, { magic: TRANSPORT_MAGIC, version: TRANSPORT_VERSION, clusterId: o.clusterId, from: o.id, to: this.id, error: '' }));
    });
    s.on('data', (chunk: Buffer) => {
      if (this.socket !== s) return;
      if (handshaken) {
        reason = 'peer sent data after the handshake';
        s.destroy();
        return;
      }
      try {
        dec.push(chunk);
        const body = dec.next();
        if (body === undefined) return;
        const h = Hello.decode(new Reader(body));
        const problem =
          h.magic !== TRANSPORT_MAGIC
            ? 'not a Kraal raft peer (bad magic)'
            : h.version !== TRANSPORT_VERSION
              ? `protocol version ${h.version}, ours ${TRANSPORT_VERSION}`
              : h.error !== ''
                ? `refused by the peer: ${h.error}`
                : h.clusterId !== o.clusterId
                  ? `cluster id ${JSON.stringify(h.clusterId)}, ours ${JSON.stringify(o.clusterId)}`
                  : h.from !== this.id
                    ? `the node at ${host}:${port} is ${h.from}, expected ${this.id}`
                    : h.to !== o.id
                      ? `the peer answered node ${h.to}, we are ${o.id}`
                      : undefined;
        if (problem !== undefined) {
          reason = problem;
          this.t.log.warn(`raft transport ${o.id}: connection to peer ${this.id} at ${host}:${port} refused: ${problem}`);
          this.loggedDown = true;
          s.destroy();
          return;
        }
        if (dec.buffered > 0) throw new FrameError('peer sent data after the handshake');
        handshaken = true;
        clearTimeout(hsTimer);
        this.state = 'open';
        this.attempt = 0;
        this.connects++;
        if (this.loggedDown) this.t.log.info(`raft transport ${o.id}: connected to peer ${this.id} at ${host}:${port}`);
        this.loggedDown = false;
        this.scheduleFlush();
      } catch (e) {
        reason = `bad handshake answer: ${(e as Error).message}`;
        this.t.log.warn(`raft transport ${o.id}: connection to peer ${this.id}: ${reason}`);
        s.destroy();
      }
    });
    s.on('error', (e) => {
      reason = describeErr(e);
    });
    s.on('close', () => {
      clearTimeout(hsTimer);
      if (this.socket !== s) return;
      this.socket = undefined;
      this.blocked = false;
      if (this.state === 'closed') return;
      this.failures++;
      if (!handshaken) this.discardQueue();
      if (!this.loggedDown) {
        this.t.log.warn(`raft transport ${o.id}: peer ${this.id} at ${host}:${port} ${handshaken ? 'disconnected' : 'unreachable'}${reason ? `: ${reason}` : ''}; retrying with backoff`);
        this.loggedDown = true;
      }
      this.t.unreachable(this.id);
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    this.state = 'backoff';
    const delay = backoffDelay(this.attempt++, this.t.o.backoff, this.t.o.random);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.state === 'backoff') this.connect();
    }, delay);
  }

  /**
   * A connection attempt failed: what was queued for it goes (counted as dropped). So a peer that
   * is down holds at most one backoff interval's worth of messages, not a backlog of stale ones;
   * the core re-sends what matters once the peer answers again (reportUnreachable → probe).
   */
  private discardQueue(): void {
    this.dropped += this.queued;
    this.q = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  /** Drops the connection (e.g. the address changed); reconnects when there is something to send. */
  reset(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.socket;
    this.socket = undefined;
    this.state = 'idle';
    this.attempt = 0;
    s?.destroy();
    if (this.queued > 0) this.connect();
  }

  close(): void {
    this.state = 'closed';
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.socket?.destroy();
    this.socket = undefined;
    this.q = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  stats(): PeerStats {
    return {
      id: this.id,
      state: this.state,
      queued: this.queued,
      queuedBytes: this.queuedBytes,
      sent: this.sent,
      bytesSent: this.bytesSent,
      dropped: this.dropped,
      connects: this.connects,
      failures: this.failures,
    };
  }
}

const EMPTY_FRAME = Buffer.alloc(0);

type Resolved = Required<Omit<TransportOptions, 'peers' | 'onUnreachable' | 'tls' | 'logger'>> & {
  tls: TlsOptions | undefined;
  onUnreachable: (id: number) => void;
};

export class Transport {
  /** @internal */ readonly o: Resolved;
  /** @internal */ readonly log: TransportLogger;
  /** @internal */ readonly w = new Writer(4096);
  private readonly server: net.Server;
  private readonly peers = new Map<number, Peer>();
  private readonly inbound = new Set<net.Socket>();
  /** Authenticated inbound connection per peer id (a newer one replaces an older one). */
  private readonly inboundByPeer = new Map<number, net.Socket>();
  private received = 0;
  private badFrames = 0;
  private misrouted = 0;
  private closed = false;

  private constructor(opts: TransportOptions) {
    if (!(opts.id > 0)) throw new RangeError('raft transport: id must be positive');
    this.o = {
      id: opts.id,
      clusterId: opts.clusterId,
      listen: opts.listen,
      onMessage: opts.onMessage,
      onUnreachable: opts.onUnreachable ?? (() => undefined),
      tls: opts.tls,
      maxQueue: opts.maxQueue ?? 4096,
      maxQueueBytes: opts.maxQueueBytes ?? 64 * 1024 * 1024,
      dropPolicy: opts.dropPolicy ?? 'oldest',
      maxFrameBytes: opts.maxFrameBytes ?? 64 * 1024 * 1024,
      backoff: opts.backoff ?? {},
      random: opts.random ?? Math.random,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 5000,
    };
    this.log = opts.logger ?? NOOP_LOGGER;
    for (const [id, addr] of opts.peers ?? []) if (id !== opts.id) this.peers.set(id, new Peer(id, addr, this));
    const onConn = (s: net.Socket) => this.accept(s);
    if (opts.tls !== undefined) {
      this.server = tls.createServer({ key: opts.tls.key, cert: opts.tls.cert, ca: opts.tls.ca, requestCert: true, rejectUnauthorized: true }, onConn);
      this.server.on('tlsClientError', (e) => this.log.warn(`raft transport ${this.o.id}: TLS handshake with a peer failed: ${describeErr(e)}`));
    } else {
      this.server = net.createServer(onConn);
    }
    this.server.on('error', (e) => this.log.warn(`raft transport ${this.o.id}: listener error: ${describeErr(e)}`));
  }

  /** Creates the transport and starts listening. */
  static async start(opts: TransportOptions): Promise<Transport> {
    const t = new Transport(opts);
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error) => reject(e);
      t.server.once('error', onErr);
      t.server.listen(opts.listen.port, opts.listen.host, () => {
        t.server.off('error', onErr);
        resolve();
      });
    });
    return t;
  }

  get id(): number {
    return this.o.id;
  }

  /** The port actually listened on. */
  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Queues m for m.to (never blocks, never throws for network reasons). */
  send(m: Message): void {
    if (this.closed) return;
    const p = this.peers.get(m.to);
    if (p === undefined) {
      this.misrouted++;
      return;
    }
    const frame = encodeFrame(this.w, Message, m);
    if (frame.length - LEN > this.o.maxFrameBytes) {
      this.log.warn(`raft transport ${this.o.id}: message to ${m.to} of ${frame.length} bytes exceeds maxFrameBytes ${this.o.maxFrameBytes}; dropped`);
      p.dropped++;
      this.unreachable(m.to);
      return;
    }
    p.enqueue(frame);
  }

  sendAll(ms: readonly Message[]): void {
    for (const m of ms) this.send(m);
  }

  addPeer(id: number, addr: PeerAddress): void {
    if (id === this.o.id || this.closed) return;
    const p = this.peers.get(id);
    if (p === undefined) this.peers.set(id, new Peer(id, addr, this));
    else if (p.addr.host !== addr.host || p.addr.port !== addr.port) {
      p.addr = addr;
      p.reset();
    }
  }

  removePeer(id: number): void {
    const p = this.peers.get(id);
    if (p === undefined) return;
    p.close();
    this.peers.delete(id);
    this.inboundByPeer.get(id)?.destroy();
  }

  /** @internal */
  unreachable(id: number): void {
    try {
      this.o.onUnreachable(id);
    } catch (e) {
      this.log.warn(`raft transport ${this.o.id}: onUnreachable threw: ${describeErr(e)}`);
    }
  }

  private accept(s: net.Socket): void {
    if (this.closed) {
      s.destroy();
      return;
    }
    this.inbound.add(s);
    s.setNoDelay(true);
    const remote = `${s.remoteAddress}:${s.remotePort}`;
    let peer = 0;
    const dec = new FrameDecoder(this.o.maxFrameBytes);
    const hsDec = new FrameDecoder(Math.min(this.o.maxFrameBytes, 64 * 1024));
    const bad = (why: string) => {
      this.badFrames++;
      this.log.warn(`raft transport ${this.o.id}: closing connection from ${peer ? `peer ${peer}` : 'unidentified peer'} at ${remote}: ${why}`);
      s.destroy();
    };
    const hsTimer = setTimeout(() => bad('no handshake within the timeout'), this.o.handshakeTimeoutMs);
    s.on('data', (chunk: Buffer) => {
      if (s.destroyed) return;
      try {
        if (peer === 0) {
          hsDec.push(chunk);
          const body = hsDec.next();
          if (body === undefined) return;
          let h;
          try {
            const r = new Reader(body);
            h = Hello.decode(r);
            if (r.remaining() !== 0) throw new Error('trailing bytes');
          } catch (e) {
            throw new FrameError(`bad handshake: ${(e as Error).message}`);
          }
          const problem =
            h.magic !== TRANSPORT_MAGIC
              ? 'not a Kraal raft peer (bad magic)'
              : h.version !== TRANSPORT_VERSION
                ? `protocol version ${h.version}, ours ${TRANSPORT_VERSION}`
                : h.clusterId !== this.o.clusterId
                  ? `cluster id ${JSON.stringify(h.clusterId)} does not match ours ${JSON.stringify(this.o.clusterId)}`
                  : h.to !== this.o.id
                    ? `it wants node ${h.to}, we are ${this.o.id}`
                    : !Number.isSafeInteger(h.from) || h.from <= 0 || h.from === this.o.id
                      ? `bad sender id ${h.from}`
                      : undefined;
          const reply = { magic: TRANSPORT_MAGIC, version: TRANSPORT_VERSION, clusterId: this.o.clusterId, from: this.o.id, to: h.from, error: problem ?? '' };
          if (problem !== undefined) {
            this.badFrames++;
            this.log.warn(`raft transport ${this.o.id}: refusing connection from ${remote} (says it is node ${h.from}): ${problem}`);
            s.end(encodeFrame(new Writer(), Hello, reply));
            setTimeout(() => s.destroy(), 1000).unref();
            peer = -1;
            return;
          }
          peer = h.from;
          clearTimeout(hsTimer);
          this.inboundByPeer.get(peer)?.destroy(); // a reconnect replaces a half-dead predecessor
          this.inboundByPeer.set(peer, s);
          s.write(encodeFrame(new Writer(), Hello, reply));
          const rest = hsDec.drain();
          if (rest.length > 0) dec.push(rest);
        } else if (peer < 0) {
          return; // refused, closing
        } else {
          dec.push(chunk);
        }
        for (;;) {
          const body = dec.next();
          if (body === undefined) break;
          const m = decodeMessageFrame(body);
          if (m.from !== peer) throw new FrameError(`message claims to be from ${m.from} on the connection of peer ${peer}`);
          if (m.to !== this.o.id) {
            this.misrouted++;
            continue;
          }
          this.received++;
          try {
            this.o.onMessage(m);
          } catch (e) {
            this.log.warn(`raft transport ${this.o.id}: onMessage threw for a message from ${peer}: ${describeErr(e)}`);
          }
          if (s.destroyed) return;
        }
      } catch (e) {
        bad(e instanceof FrameError ? e.message : `unexpected: ${describeErr(e)}`);
      }
    });
    s.on('error', () => undefined); // 'close' follows
    s.on('close', () => {
      clearTimeout(hsTimer);
      this.inbound.delete(s);
      if (peer > 0 && this.inboundByPeer.get(peer) === s) this.inboundByPeer.delete(peer);
    });
  }

  stats(): TransportStats {
    return {
      peers: [...this.peers.values()].map((p) => p.stats()),
      inbound: this.inbound.size,
      received: this.received,
      badFrames: this.badFrames,
      misrouted: this.misrouted,
    };
  }

  /** Stops listening and closes every connection (queued messages are discarded). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.peers.values()) p.close();
    for (const s of this.inbound) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
