// Jute binary encoding: the primitives every ZooKeeper record is made of.
//
// Every read is bounds-checked and throws JuteError instead of reading past the
// end or allocating an absurd length, so a hostile frame can never crash the
// process: the caller turns JuteError into MarshallingError or a closed socket.
//
// 64-bit "long" fields are carried as JS numbers. Every long the server issues
// (zxids, session ids, times, TTLs) stays below 2^53, so they round-trip exactly;
// a client-sent long outside that range is rounded, which can only make it not
// match anything we issued (e.g. an unknown session id), never alias a real one.

export class JuteError extends Error {
  override name = 'JuteError';
}

const TWO_32 = 4294967296;
/** Strings up to this many UTF-16 units are tried as ASCII first by Writer.ustring. */
const SHORT_STRING = 64;

export class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;
  /** Upper bound for any buffer/ustring/vector length inside this frame. */
  readonly maxLength: number;

  constructor(buf: Buffer, start = 0, end = buf.length, maxLength = end - start) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.maxLength = maxLength;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) {
      throw new JuteError(`record truncated: need ${n} byte(s) at offset ${this.pos}, frame ends at ${this.end}`);
    }
  }

  // The integer reads and writes below are spelled out byte by byte: they are the inner loop of
  // every record codec, and this is measurably cheaper than Buffer's checked read/write methods.

  int(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }

  long(): number {
    this.need(8);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 8;
    const hi = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    const lo = b[p + 4]! * 0x1000000 + ((b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!);
    return hi * TWO_32 + lo;
  }

  /** Reads a long as a bigint, for the rare caller that needs all 64 bits. */
  bigLong(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  byte(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  bool(): boolean {
    this.need(1);
    return this.buf[this.pos++] !== 0;
  }

  private length(kind: string): number {
    const n = this.int();
    if (n < -1 || n > this.maxLength) throw new JuteError(`unreasonable ${kind} length ${n}`);
    return n;
  }

  /** A `buffer`: null for length -1. The result is a view into the frame, not a copy. */
  buffer(): Buffer | null {
    const n = this.length('buffer');
    if (n === -1) return null;
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** A `ustring`: null for length -1. */
  ustringOrNull(): string | null {
    const n = this.length('string');
    if (n === -1) return null;
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** A `ustring` where null is read as the empty string (the Java server does the same for paths). */
  ustring(): string {
    return this.ustringOrNull() ?? '';
  }

  /** Element count of a `vector`: -1 (null) is returned as -1. */
  vectorLength(): number {
    const n = this.length('vector');
    // Each element takes at least one byte, so a count larger than what is left is a lie.
    if (n > this.remaining()) throw new JuteError(`vector of ${n} elements cannot fit in ${this.remaining()} bytes`);
    return n;
  }
}

/** A growable output buffer. Reused across encodes by callers that want to avoid garbage. */
export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  // (Typed-array stores keep the low 8 bits, so these write exactly what writeInt32BE(v | 0)
  // and writeUInt32BE(v >>> 0) would.)
  int(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v | 0;
    this.pos = p + 4;
  }

  long(v: number): void {
    this.ensure(8);
    const hi = Math.floor(v / TWO_32);
    const lo = (v - hi * TWO_32) >>> 0;
    const h = hi | 0;
    const b = this.buf;
    const p = this.pos;
    b[p] = h >>> 24;
    b[p + 1] = h >>> 16;
    b[p + 2] = h >>> 8;
    b[p + 3] = h;
    b[p + 4] = lo >>> 24;
    b[p + 5] = lo >>> 16;
    b[p + 6] = lo >>> 8;
    b[p + 7] = lo;
    this.pos = p + 8;
  }

  bigLong(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
  }

  byte(v: number): void {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  buffer(v: Uint8Array | null): void {
    if (v === null) {
      this.int(-1);
      return;
    }
    this.int(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  ustring(v: string | null): void {
    if (v === null) {
      this.int(-1);
      return;
    }
    const len = v.length;
    const max = len * 3;
    this.ensure(4 + max);
    const b = this.buf;
    const at = this.pos + 4;
    let n = -1;
    if (len <= SHORT_STRING) {
      // short ASCII strings (paths, schemes, ids): a plain loop beats the call into the UTF-8 encoder
      let i = 0;
      for (; i < len; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80) break;
        b[at + i] = c;
      }
      if (i === len) n = len;
    }
    if (n < 0) n = b.write(v, at, max, 'utf8');
    const p = this.pos;
    b[p] = n >>> 24;
    b[p + 1] = n >>> 16;
    b[p + 2] = n >>> 8;
    b[p + 3] = n;
    this.pos = at + n;
  }

  raw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Reserves 4 bytes for a length prefix to be filled in by `endFrame`. */
  beginFrame(): number {
    const at = this.pos;
    this.int(0);
    return at;
  }

  endFrame(at: number): void {
    this.buf.writeInt32BE(this.pos - at - 4, at);
  }

  /** A copy of what was written, safe to keep after the writer is reused. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /** A view of what was written; valid only until the writer is written to again. */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
