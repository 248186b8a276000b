// A raw ZooKeeper client socket for differential tests: a minimal jute writer, length-prefixed
// frame reader, ConnectRequest, reply headers and a few request builders. Things real clients
// hide (frame sizes, header-only error replies, ordering) stay visible.
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Target } from './servers.js';

export class W {
  private parts: Buffer[] = [];
  int(v: number) { const b = Buffer.alloc(4); b.writeInt32BE(v); this.parts.push(b); return this; }
  long(v: bigint) { const b = Buffer.alloc(8); b.writeBigInt64BE(v); this.parts.push(b); return this; }
  bool(v: boolean) { this.parts.push(Buffer.from([v ? 1 : 0])); return this; }
  buf(v: Buffer | null) { if (v === null) return this.int(-1); this.int(v.length); this.parts.push(v); return this; }
  str(s: string) { return this.buf(Buffer.from(s, 'utf8')); }
  raw(b: Buffer) { this.parts.push(b); return this; }
  bytes() { return Buffer.concat(this.parts); }
  frame() { const body = this.bytes(); const l = Buffer.alloc(4); l.writeInt32BE(body.length); return Buffer.concat([l, body]); }
}

export type Frame = Buffer | 'closed' | 'timeout';

export class Raw {
  private buf = Buffer.alloc(0);
  private frames: Buffer[] = [];
  private closed = false;
  private waiters: (() => void)[] = [];
  constructor(private sock: net.Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4) {
        const n = this.buf.readInt32BE(0);
        if (this.buf.length < 4 + n) break;
        this.frames.push(this.buf.subarray(4, 4 + n));
        this.buf = this.buf.subarray(4 + n);
      }
      this.wake();
    });
    sock.on('close', () => { this.closed = true; this.wake(); });
    sock.on('error', () => { this.closed = true; this.wake(); });
  }
  private wake() { const w = this.waiters; this.waiters = []; w.forEach((f) => f()); }
  static open(t: Target): Promise<Raw> {
    return new Promise((res, rej) => {
      const s = net.connect({ host: t.host, port: t.port }, () => res(new Raw(s)));
      s.once('error', rej);
    });
  }
  write(b: Buffer) { this.sock.write(b); }
  async next(timeoutMs = 3000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.frames.length) return this.frames.shift()!;
      if (this.closed) return 'closed';
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((r) => { const t = setTimeout(r, left); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }
  get pending() { return this.buf.length; }
  close() { this.sock.destroy(); }
}

export function connectReq(timeout: number, readOnly: boolean | undefined, sessionId = 0n, passwd = Buffer.alloc(16)): Buffer {
  const w = new W().int(0).long(0n).int(timeout).long(sessionId).buf(passwd);
  if (readOnly !== undefined) w.bool(readOnly);
  return w.frame();
}

export function replyHeader(f: Frame) {
  if (typeof f === 'string') return f;
  return { length: f.length, xid: f.readInt32BE(0), zxid: f.readBigInt64BE(4), err: f.readInt32BE(12) };
}

export async function session(t: Target): Promise<Raw> {
  const r = await Raw.open(t);
  r.write(connectReq(30000, false));
  const f = await r.next();
  assert.ok(Buffer.isBuffer(f), 'connect response');
  return r;
}

export const req = (xid: number, type: number, body: (w: W) => W = (w) => w) => body(new W().int(xid).int(type)).frame();
export const OPEN_ACL = (w: W) => w.int(1).int(31).str('world').str('anyone');
export const create = (xid: number, path: string, data: Buffer | null, flags = 0) => req(xid, 1, (w) => OPEN_ACL(w.str(path).buf(data)).int(flags));

/** A raw session whose id is known, so that 4lw output can name it. */
export async function labelledSession(t: Target): Promise<{ r: Raw; hex: string }> {
  const r = await Raw.open(t);
  r.write(connectReq(30000, false));
  const f = await r.next();
  assert.ok(Buffer.isBuffer(f), 'connect response');
  const id = f.readBigInt64BE(8);
  return { r, hex: '0x' + BigInt.asUintN(64, id).toString(16) };
}
