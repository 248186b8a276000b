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
import { FrameReader, type FrameEvent } from './framing.js';
import type { Identity } from '../zk/types.js';

interface Slot {
  frame: Buffer | null;
  run: (() => void) | null;
  closeAfter: boolean;
}

export interface ConnectionStats {
  packetsReceived: number;
  packetsSent: number;
  minLatency: number;
  maxLatency: number;
  totalLatency: number;
  latencyCount: number;
  lastCxid: number;
  lastZxid: number;
  lastOp: string;
  lastResponseTime: number;
  lastLatency: number;
}

export function newConnectionStats(): ConnectionStats {
  return {
    packetsReceived: 0,
    packetsSent: 0,
    minLatency: Number.MAX_SAFE_INTEGER,
    maxLatency: 0,
    totalLatency: 0,
    latencyCount: 0,
    lastCxid: -1,
    lastZxid: -1,
    lastOp: 'NA',
    lastResponseTime: 0,
    lastLatency: 0,
  };
}

/** Once this many replies are owed on one connection we stop reading from it (TCP back-pressure). */
const MAX_QUEUED = 1000;

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

  private readonly frames: FrameReader;
  private slots: Slot[] = [];
  private head = 0;
  private out: Buffer[] = [];
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

  feed(chunk: Buffer): FrameEvent[] {
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
    slot.frame = frame;
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
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
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

  /** Queues a frame for the socket; frames sent in one event-loop turn go out in one writev. */
  send(frame: Buffer): void {
    if (this.state === 'closed') return;
    this.stats.packetsSent++;
    this.out.push(frame);
    if (!this.outScheduled) {
      this.outScheduled = true;
      process.nextTick(() => this.flushOut());
    }
  }

  private flushOut(): void {
    this.outScheduled = false;
    if (this.state === 'closed' || this.out.length === 0) {
      this.out = [];
      return;
    }
    const frames = this.out;
    this.out = [];
    if (frames.length === 1) {
      this.socket.write(frames[0]!);
      return;
    }
    this.socket.cork();
    for (const f of frames) this.socket.write(f);
    this.socket.uncork();
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
    this.out = [];
    if (now) this.socket.destroy();
    else this.socket.end();
  }
}

/** IPv4-mapped IPv6 addresses (::ffff:1.2.3.4) are shown and matched as plain IPv4, as Java does. */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}
