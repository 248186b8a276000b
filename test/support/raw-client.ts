// A minimal wire-level client for tests: sends exactly the frames a test asks for and
// records everything the server sends back, using the same record table as the server.

import net from 'node:net';
import { Reader, Writer } from '../../src/jute/codec.js';
import { Xid } from '../../src/jute/constants.js';
import { ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader, WatcherEvent, type ReplyHeader as RH } from '../../src/jute/records.js';
import { OPS } from '../../src/jute/requests.js';

export interface Reply {
  header: RH;
  body: any;
  raw: Buffer;
}

export interface Received {
  kind: 'reply' | 'event';
  xid: number;
  reply?: Reply;
  event?: { type: number; state: number; path: string };
}

export class RawClient {
  sessionId = 0;
  passwd: Buffer = Buffer.alloc(16);
  timeout = 0;
  connectResponseSize = 0;
  /** Everything received after the ConnectResponse, in arrival order. */
  readonly received: Received[] = [];
  closed = false;
  private pending: { xid: number; op: number; resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private connectWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private closeWaiters: (() => void)[] = [];
  private nextXid = 1;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d) => this.onData(d));
    socket.on('close', () => {
      this.closed = true;
      for (const p of this.pending) p.reject(new Error('connection closed'));
      this.pending = [];
      this.connectWaiter?.reject(new Error('connection closed before ConnectResponse'));
      for (const w of this.closeWaiters) w();
    });
    socket.on('error', () => {});
  }

  static async open(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  /** Opens a connection and establishes (or resumes) a session. */
  static async connect(
    port: number,
    opts: { timeout?: number; sessionId?: number; passwd?: Buffer; readOnly?: boolean | undefined; lastZxidSeen?: number } = {},
  ): Promise<RawClient> {
    const c = await RawClient.open(port);
    await c.handshake(opts);
    return c;
  }

  handshake(opts: { timeout?: number; sessionId?: number; passwd?: Buffer; readOnly?: boolean | undefined; lastZxidSeen?: number } = {}): Promise<void> {
    const w = new Writer();
    const at = w.beginFrame();
    ConnectRequest.encode(w, {
      protocolVersion: 0,
      lastZxidSeen: opts.lastZxidSeen ?? 0,
      timeOut: opts.timeout ?? 30000,
      sessionId: opts.sessionId ?? 0,
      passwd: opts.passwd ?? Buffer.alloc(16),
      readOnly: 'readOnly' in opts ? opts.readOnly : false,
    });
    w.endFrame(at);
    const p = new Promise<void>((resolve, reject) => (this.connectWaiter = { resolve, reject }));
    this.socket.write(w.toBuffer());
    return p;
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    while (this.buf.length >= 4) {
      const len = this.buf.readInt32BE(0);
      if (this.buf.length < 4 + len) break;
      const frame = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      this.onFrame(Buffer.from(frame));
    }
  }

  private onFrame(frame: Buffer): void {
    if (this.connectWaiter !== undefined) {
      const resp = ConnectResponse.decode(new Reader(frame));
      this.connectResponseSize = frame.length;
      this.sessionId = resp.sessionId;
      this.passwd = resp.passwd ?? Buffer.alloc(16);
      this.timeout = resp.timeOut;
      const w = this.connectWaiter;
      this.connectWaiter = undefined;
      if (resp.timeOut <= 0) w.reject(Object.assign(new Error('session expired'), { code: -112 }));
      else w.resolve();
      return;
    }
    const r = new Reader(frame);
    const header = ReplyHeader.decode(r);
    if (header.xid === Xid.notification) {
      const event = WatcherEvent.decode(r);
      this.received.push({ kind: 'event', xid: -1, event });
      return;
    }
    const idx = this.pending.findIndex((p) => p.xid === header.xid);
    const p = idx >= 0 ? this.pending.splice(idx, 1)[0] : undefined;
    let body: any;
    if (p !== undefined && header.err === 0) {
      const spec = OPS.get(p.op);
      body = spec !== undefined ? spec.response.decode(r) : undefined;
    }
    const reply = { header, body, raw: frame };
    this.received.push({ kind: 'reply', xid: header.xid, reply });
    p?.resolve(reply);
  }

  /** Sends one request; resolves with its reply (header + decoded body when err = 0). */
  request(op: number, req: unknown = {}, xid?: number): Promise<Reply> {
    const x = xid ?? this.nextXid++;
    const w = new Writer();
    const at = w.beginFrame();
    RequestHeader.encode(w, { xid: x, type: op });
    OPS.get(op)?.request.encode(w, req);
    w.endFrame(at);
    const p = new Promise<Reply>((resolve, reject) => this.pending.push({ xid: x, op, resolve, reject }));
    this.socket.write(w.toBuffer());
    return p;
  }

  /** Writes raw bytes (for malformed-input tests). */
  writeRaw(b: Buffer): void {
    this.socket.write(b);
  }

  events(): { type: number; path: string }[] {
    return this.received.filter((r) => r.kind === 'event').map((r) => ({ type: r.event!.type, path: r.event!.path }));
  }

  async waitFor(pred: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error('timed out waiting');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  waitClosed(ms = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('connection not closed')), ms);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Sends a four-letter word and returns everything the server wrote before closing. */
export async function fourLetter(port: number, word: string, host = '127.0.0.1'): Promise<string> {
  const s = net.connect(port, host);
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    s.on('connect', () => s.write(word));
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
