// One TCP (or TLS) connection to one server: connect, the ConnectRequest/ConnectResponse handshake,
// length-prefixed framing of replies, and batched writes (everything encoded during one turn of the
// event loop goes out in one socket write).

import net from 'node:net';
import tls from 'node:tls';
import { Reader, Writer } from '../jute/codec.js';
import { ConnectRequest, ConnectResponse } from '../jute/records.js';
import type { HostPort } from './connect-string.js';

/** Offsets of the 64-bit session id inside the two handshake records (after the 4-byte frame length). */
const CONNECT_REQUEST_SESSION_OFFSET = 4 + 4 + 8 + 4; // length, protocolVersion, lastZxidSeen, timeOut
const CONNECT_RESPONSE_SESSION_OFFSET = 4 + 4; // protocolVersion, timeOut (frame body offsets)

export interface Handshake {
  timeOut: number;
  /** Exact 64-bit session id (ZooKeeper's ids exceed 2^53, so the jute number is not enough). */
  sessionId: bigint;
  passwd: Buffer;
  readOnly: boolean;
}

export interface HandshakeParams {
  lastZxidSeen: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  readOnly: boolean;
}

export type FrameHandler = (buf: Buffer, start: number, end: number) => void;

const MAX_FRAME = 64 * 1024 * 1024;

export class Connection {
  readonly writer = new Writer(64 * 1024);
  lastSend = 0;
  lastRecv = 0;
  closed = false;
  private flushScheduled = false;
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private need = 4; // bytes needed before the next parse attempt
  private onFrame: FrameHandler | undefined;
  private onClose: ((err: Error | undefined) => void) | undefined;
  private closeErr: Error | undefined;
  private readonly flushFn = () => this.flush();

  private constructor(
    readonly socket: net.Socket,
    readonly server: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => {
      this.closeErr ??= e;
    });
    socket.on('close', () => this.markClosed());
    this.lastRecv = this.lastSend = Date.now();
  }

  /** Opens a socket; rejects after timeoutMs. */
  static open(hp: HostPort, tlsOpts: boolean | tls.ConnectionOptions | undefined, timeoutMs: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      let socket: net.Socket;
      const onErr = (e: Error) => {
        clearTimeout(t);
        socket.destroy();
        reject(e);
      };
      if (tlsOpts) {
        const o: tls.ConnectionOptions = typeof tlsOpts === 'object' ? { ...tlsOpts } : {};
        o.host = hp.host;
        o.port = hp.port;
        if (o.servername === undefined && net.isIP(hp.host) === 0) o.servername = hp.host;
        socket = tls.connect(o, () => {
          clearTimeout(t);
          socket.off('error', onErr);
          resolve(new Connection(socket, `${hp.host}:${hp.port}`));
        });
      } else {
        socket = net.connect({ host: hp.host, port: hp.port }, () => {
          clearTimeout(t);
          socket.off('error', onErr);
          resolve(new Connection(socket, `${hp.host}:${hp.port}`));
        });
      }
      socket.once('error', onErr);
      const t = setTimeout(() => onErr(new Error(`connect to ${hp.host}:${hp.port} timed out`)), timeoutMs);
    });
  }

  /** Sends the ConnectRequest and waits for the ConnectResponse (rejects on close or timeout). */
  handshake(p: HandshakeParams, timeoutMs: number): Promise<Handshake> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.onFrame = undefined;
        this.onClose = undefined;
        this.destroy();
        reject(new Error(`handshake with ${this.server} timed out`));
      }, timeoutMs);
      this.onClose = (e) => {
        clearTimeout(t);
        reject(e ?? new Error(`${this.server} closed the connection during the handshake`));
      };
      this.onFrame = (buf, start, end) => {
        clearTimeout(t);
        this.onFrame = undefined;
        this.onClose = undefined;
        try {
          const r = ConnectResponse.decode(new Reader(buf, start, end));
          resolve({
            timeOut: r.timeOut,
            sessionId: buf.readBigInt64BE(start + CONNECT_RESPONSE_SESSION_OFFSET),
            passwd: Buffer.from(r.passwd ?? Buffer.alloc(16)),
            readOnly: r.readOnly === true,
          });
        } catch (e) {
          this.destroy();
          reject(e);
        }
      };
      const w = this.writer;
      w.reset();
      const at = w.beginFrame();
      ConnectRequest.encode(w, {
        protocolVersion: 0,
        lastZxidSeen: p.lastZxidSeen,
        timeOut: p.timeOut,
        sessionId: 0,
        passwd: p.passwd,
        readOnly: p.readOnly,
      });
      w.endFrame(at);
      w.buf.writeBigInt64BE(p.sessionId, at + CONNECT_REQUEST_SESSION_OFFSET);
      this.flush();
    });
  }

  /** Routes replies and close notifications to the session layer after the handshake. */
  attach(onFrame: FrameHandler, onClose: (err: Error | undefined) => void): void {
    this.onFrame = onFrame;
    this.onClose = onClose;
    if (this.closed) {
      this.onClose = undefined;
      onClose(this.closeErr);
    }
  }

  /** Call after encoding frames into `writer`: they are written at the end of this turn. */
  scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flushFn);
    }
  }

  flush(): void {
    this.flushScheduled = false;
    const w = this.writer;
    if (w.pos === 0 || this.closed) {
      w.reset();
      return;
    }
    this.socket.write(w.toBuffer());
    w.reset();
    this.lastSend = Date.now();
  }

  /** Closes the socket; the close handler runs synchronously (nothing more is sent or delivered). */
  destroy(err?: Error): void {
    if (err !== undefined) this.closeErr ??= err;
    this.socket.destroy();
    this.markClosed();
  }

  private markClosed(): void {
    this.closed = true;
    this.onFrame = undefined;
    const cb = this.onClose;
    this.onClose = undefined;
    cb?.(this.closeErr);
  }

  private onData(d: Buffer): void {
    this.lastRecv = Date.now();
    if (this.chunkBytes === 0 && d.length >= this.need) {
      this.parse(d);
      return;
    }
    this.chunks.push(d);
    this.chunkBytes += d.length;
    if (this.chunkBytes < this.need) return;
    const all = Buffer.concat(this.chunks, this.chunkBytes);
    this.chunks = [];
    this.chunkBytes = 0;
    this.parse(all);
  }

  private parse(buf: Buffer): void {
    let pos = 0;
    const n = buf.length;
    while (n - pos >= 4) {
      const len = buf.readInt32BE(pos);
      if (len < 0 || len > MAX_FRAME) {
        this.destroy(new Error(`bad frame length ${len} from ${this.server}`));
        return;
      }
      if (n - pos - 4 < len) break;
      const h = this.onFrame;
      if (h === undefined) {
        // Frames after the handshake but before attach(): keep them for later.
        break;
      }
      h(buf, pos + 4, pos + 4 + len);
      pos += 4 + len;
      if (this.closed) return;
    }
    if (pos < n) {
      const rest = buf.subarray(pos);
      this.chunks.push(rest);
      this.chunkBytes = rest.length;
      this.need = rest.length >= 4 ? 4 + rest.readInt32BE(0) : 4;
    } else this.need = 4;
  }

  /** Re-parses bytes that arrived before attach(). */
  resume(): void {
    if (this.chunkBytes > 0 && this.chunkBytes >= this.need) {
      const all = Buffer.concat(this.chunks, this.chunkBytes);
      this.chunks = [];
      this.chunkBytes = 0;
      this.parse(all);
    }
  }
}
