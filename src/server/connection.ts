// One client TCP connection: frame splitting, its identities, and its reply FIFO.
//
// ZooKeeper replies strictly in request order on a connection. Writes wait for the
// log, reads do not, so every request takes a slot in a FIFO: a write's slot is
// filled when its command is applied; a read that arrives behind a pending write is
// parked as a closure and run when it reaches the head (so it sees that write). A
// read with nothing pending ahead runs and replies at once. Watch notifications
// bypass the FIFO: they are sent when the change is applied, which is always before
// the reply of any read that runs later.

import type { Socket } from 'node:net';
import { FrameReader } from './framing.js';
import type { Identity } from '../zk/types.js';

interface Slot {
  frame: Buffer | null;
  run: (() => void) | null;
  closeAfter: boolean;
}

/** Packet and latency counters, kept both per server (srvr/mntr) and per connection (cons). */
export interface TrafficStats {
  packetsReceived: number;
  packetsSent: number;
  minLatency: number;
  maxLatency: number;
  totalLatency: number;
  latencyCount: number;
}

export function newTrafficStats(): TrafficStats {
  return { packetsReceived: 0, packetsSent: 0, minLatency: Number.MAX_SAFE_INTEGER, maxLatency: 0, totalLatency: 0, latencyCount: 0 };
}

export function recordLatency(t: TrafficStats, ms: number): void {
  t.latencyCount++;
  t.totalLatency += ms;
  if (ms < t.minLatency) t.minLatency = ms;
  if (ms > t.maxLatency) t.maxLatency = ms;
}

export interface ConnectionStats extends TrafficStats {
  lastCxid: number;
  lastZxid: number;
  lastOp: string;
  lastResponseTime: number;
  lastLatency: number;
}

export function newConnectionStats(): ConnectionStats {
  return { ...newTrafficStats(), lastCxid: -1, lastZxid: -1, lastOp: 'NA', lastResponseTime: 0, lastLatency: 0 };
}

/** Once this many replies are owed on one connection we stop reading from it (TCP back-pressure). */
const MAX_QUEUED = 1000;

// Outgoing bytes: every frame sent in one event-loop turn is copied into one buffer per
// connection and written with a single socket.write (no per-frame Buffer, no cork/writev
// bookkeeping per frame). A buffer whose write completed synchronously (the usual case: the
// kernel took it all) is free again at once and goes back to a small shared pool.
const OUT_CHUNK = 16 * 1024;
/** Buffers larger than this are not pooled (a huge reply should not pin memory). */
const OUT_KEEP_MAX = 256 * 1024;
const outPool: Buffer[] = [];
const OUT_POOL_MAX = 64;

function takeOut(min: number): Buffer {
  if (min <= OUT_CHUNK) {
    const b = outPool.pop();
    if (b !== undefined) return b;
    return Buffer.allocUnsafeSlow(OUT_CHUNK);
  }
  return Buffer.allocUnsafeSlow(min);
}

function giveOut(b: Buffer): void {
  if (b.length <= OUT_KEEP_MAX && outPool.length < OUT_POOL_MAX) outPool.push(b);
}

function flushTick(c: Connection): void {
  c.flushOut();
}

export class Connection {
  state: 'new' | 'connecting' | 'connected' | 'closed' = 'new';
  sessionId = 0;
  timeout = 0;
  /** Did the ConnectRequest carry the trailing readOnly byte? Then the response carries one too. */
  sentReadOnlyByte = false;
  /** Set once the server has decided to close after replying: later frames are ignored. */
  closing = false;
  readonly identities: Identity[];
  /** Frames that arrived while the session was being created; processed in order afterwards. */
  backlog: Buffer[] = [];
  readonly stats = newConnectionStats();
  readonly established = Date.now();
  readonly remoteAddress: string;
  readonly remotePort: number;

  /** Splits the byte stream; after feed(), its bufs/starts/ends/count/event hold what was completed. */
  readonly frames: FrameReader;
  private slots: Slot[] = [];
  private head = 0;
  /** Bytes waiting to be written at the end of this event-loop turn: outBuf[0, outLen). */
  private outBuf: Buffer | null = null;
  private outLen = 0;
  private outScheduled = false;
  private paused = false;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    maxFrame: number,
  ) {
    this.frames = new FrameReader(maxFrame);
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.identities = [{ scheme: 'ip', id: this.remoteAddress }];
    socket.setNoDelay(true);
  }

  /** Feeds bytes read from the socket; returns the number of frames completed (see `frames`). */
  feed(chunk: Buffer): number {
    return this.frames.push(chunk);
  }

  queued(): number {
    return this.slots.length - this.head;
  }

  /** Reserves a reply slot for a write; returns it so the apply step can fill it. */
  reserve(): Slot {
    const slot: Slot = { frame: null, run: null, closeAfter: false };
    this.slots.push(slot);
    this.checkBackpressure();
    return slot;
  }

  /** Runs a read now if nothing is owed before it, else parks it behind the pending writes. */
  runInOrder(run: () => void): void {
    if (this.queued() === 0) {
      run();
      return;
    }
    this.slots.push({ frame: null, run, closeAfter: false });
    this.checkBackpressure();
  }

  fill(slot: Slot, frame: Buffer, closeAfter = false): void {
    this.fillBytes(slot, frame, 0, frame.length, closeAfter);
  }

  /**
   * Fills a slot with the frame src[start, end). If the slot is at the head of the FIFO the bytes
   * go straight to the socket buffer, else they are copied and wait for the replies ahead of them.
   * `src` may be reused by the caller afterwards.
   */
  fillBytes(slot: Slot, src: Buffer, start: number, end: number, closeAfter = false): void {
    if (this.head < this.slots.length && this.slots[this.head] === slot && this.state !== 'closed') {
      this.head++;
      this.sendBytes(src, start, end);
      if (closeAfter) {
        this.closeAfterFlush();
        return;
      }
      this.pump();
      return;
    }
    slot.frame = Buffer.from(src.subarray(start, end));
    slot.closeAfter = closeAfter;
    this.pump();
  }

  /** Sends everything at the head of the FIFO that is ready. */
  private pump(): void {
    while (this.head < this.slots.length) {
      const s = this.slots[this.head]!;
      if (s.frame !== null) {
        this.head++;
        this.send(s.frame);
        if (s.closeAfter) {
          this.closeAfterFlush();
          return;
        }
      } else if (s.run !== null) {
        this.head++;
        s.run();
      } else {
        break;
      }
    }
    if (this.head === this.slots.length) {
      if (this.head > 0) {
        this.slots.length = 0;
        this.head = 0;
      }
    } else if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
    this.checkBackpressure();
  }

  private checkBackpressure(): void {
    const q = this.queued();
    if (!this.paused && q >= MAX_QUEUED) {
      this.paused = true;
      this.socket.pause();
    } else if (this.paused && q < MAX_QUEUED / 2) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Queues a frame for the socket; frames sent in one event-loop turn go out in one write. */
  send(frame: Buffer): void {
    this.sendBytes(frame, 0, frame.length);
  }

  /** Queues the frame src[start, end) (copied: src may be reused by the caller). */
  sendBytes(src: Buffer, start: number, end: number): void {
    if (this.state === 'closed') return;
    this.stats.packetsSent++;
    const n = end - start;
    let b = this.outBuf;
    if (b === null) {
      b = this.outBuf = takeOut(n);
      this.outLen = 0;
    } else if (this.outLen + n > b.length) {
      let size = b.length * 2;
      while (size < this.outLen + n) size *= 2;
      const nb = Buffer.allocUnsafeSlow(size);
      b.copy(nb, 0, 0, this.outLen);
      b = this.outBuf = nb;
    }
    src.copy(b, this.outLen, start, end);
    this.outLen += n;
    if (!this.outScheduled) {
      this.outScheduled = true;
      process.nextTick(flushTick, this);
    }
  }

  /** Writes what send() queued (normally called at the end of the event-loop turn). */
  flushOut(): void {
    this.outScheduled = false;
    const b = this.outBuf;
    const n = this.outLen;
    if (b === null || n === 0) return;
    this.outBuf = null;
    this.outLen = 0;
    if (this.state === 'closed') {
      giveOut(b);
      return;
    }
    const s = this.socket;
    const before = s.writableLength;
    s.write(b.subarray(0, n));
    // Nothing was queued before and nothing is now: the kernel took the bytes synchronously,
    // so the buffer is free again. Otherwise the stream still holds it until written.
    if (before === 0 && s.writableLength === 0) giveOut(b);
  }

  private closeAfterFlush(): void {
    process.nextTick(() => {
      this.flushOut();
      this.close(false);
    });
  }

  /** Closes the socket. `now` = true drops anything not yet written (expiry, protocol errors). */
  close(now = true): void {
    if (this.state === 'closed') return;
    if (!now) this.flushOut();
    this.state = 'closed';
    if (this.outBuf !== null) giveOut(this.outBuf);
    this.outBuf = null;
    this.outLen = 0;
    if (now) this.socket.destroy();
    else this.socket.end();
  }
}

/** IPv4-mapped IPv6 addresses (::ffff:1.2.3.4) are shown and matched as plain IPv4, as Java does. */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}
