// Splits a TCP byte stream into length-prefixed frames.
//
// ZooKeeper's only framing is a 4-byte signed length. A length below zero or above
// jute.maxbuffer is refused by closing the connection (the server never tries to
// allocate or skip such a frame). The very first 4 bytes of a connection may instead
// be a four-letter word such as "ruok", which the caller recognises by value.

export type FrameEvent =
  | { kind: 'frame'; frame: Buffer }
  | { kind: 'fourLetter'; word: string; rest: Buffer }
  | { kind: 'badLength'; length: number };

/** The four-letter words ZooKeeper knows; any other first int is treated as a frame length. */
export const FOUR_LETTER_WORDS = new Set([
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'ruok', 'stmk', 'srvr', 'srst', 'stat', 'wchs', 'wchc',
  'wchp', 'mntr', 'isro', 'hash',
]);

const FOUR_LETTER_BY_INT = new Map<number, string>(
  [...FOUR_LETTER_WORDS].map((w) => [Buffer.from(w, 'latin1').readInt32BE(0), w]),
);

/** Initial size of the buffer a frame split across reads is assembled in (it grows up to the frame's size). */
const ASSEMBLE_INITIAL = 16 * 1024;

/**
 * Splits the byte stream into frames without allocating per frame: after push(), the frames it
 * completed are bufs[i][starts[i], ends[i]) for i < count (views of the chunk itself where the
 * frame lies inside it), followed by at most one terminal `event` (four-letter word or bad
 * length). A frame split across reads is assembled in a buffer of its own, so the bytes of a
 * later frame are never copied and a partial frame never pins a whole read buffer.
 */
export class FrameReader {
  readonly bufs: Buffer[] = [];
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  /** Frames completed by the last push(). */
  count = 0;
  /** Set by push() when it met a four-letter word or a bad length (after its frames; nothing follows). */
  event: Exclude<FrameEvent, { kind: 'frame' }> | undefined;

  /** 1-3 bytes of a length prefix. */
  private pending: Buffer | null = null;
  /** A frame (length prefix included) being assembled across reads: asm[0, asmFill) of asmNeed bytes. */
  private asm: Buffer | null = null;
  private asmFill = 0;
  private asmNeed = 0;
  private first = true;
  private failed = false;

  constructor(private readonly maxFrame: number) {}

  /** Feeds bytes; returns how many frames they complete (see bufs/starts/ends and event). */
  push(chunk: Buffer): number {
    this.count = 0;
    this.event = undefined;
    if (this.failed) return 0;
    let buf = chunk;
    let pos = 0;
    if (this.asm !== null) {
      const take = Math.min(this.asmNeed - this.asmFill, chunk.length);
      if (this.asmFill + take > this.asm.length) {
        const nb = Buffer.allocUnsafe(Math.min(this.asmNeed, Math.max(this.asm.length * 2, this.asmFill + take)));
        this.asm.copy(nb, 0, 0, this.asmFill);
        this.asm = nb;
      }
      chunk.copy(this.asm, this.asmFill, 0, take);
      this.asmFill += take;
      if (this.asmFill < this.asmNeed) return 0;
      const frame = this.asm;
      this.asm = null;
      this.emit(frame, 4, this.asmNeed);
      pos = take;
    } else if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]); // rare: a read ended inside a length prefix
      this.pending = null;
    }
    while (buf.length - pos >= 4) {
      const len = buf.readInt32BE(pos);
      if (this.first) {
        this.first = false;
        const word = FOUR_LETTER_BY_INT.get(len);
        if (word !== undefined) {
          this.event = { kind: 'fourLetter', word, rest: buf.subarray(pos + 4) }; // stmk's mask follows the word
          this.failed = true; // nothing else is read on a four-letter connection
          return this.count;
        }
      }
      if (len < 0 || len > this.maxFrame) {
        this.event = { kind: 'badLength', length: len };
        this.failed = true;
        return this.count;
      }
      if (buf.length - pos - 4 < len) break;
      this.emit(buf, pos + 4, pos + 4 + len);
      pos += 4 + len;
    }
    const rest = buf.length - pos;
    if (rest >= 4) {
      // a frame whose (checked) length is known but whose bytes are not all here yet
      const need = 4 + buf.readInt32BE(pos);
      const a = Buffer.allocUnsafe(Math.min(need, Math.max(ASSEMBLE_INITIAL, rest)));
      buf.copy(a, 0, pos);
      this.asm = a;
      this.asmFill = rest;
      this.asmNeed = need;
    } else if (rest > 0) {
      this.pending = Buffer.from(buf.subarray(pos));
    }
    return this.count;
  }

  /** Drops the references to the last push()'s frames (so they do not pin read buffers). */
  release(): void {
    this.bufs.length = 0;
    this.count = 0;
  }

  /** The events of the last push() as objects (frames as views), for callers that prefer them. */
  events(): FrameEvent[] {
    const out: FrameEvent[] = [];
    for (let i = 0; i < this.count; i++) out.push({ kind: 'frame', frame: this.bufs[i]!.subarray(this.starts[i]!, this.ends[i]!) });
    if (this.event !== undefined) out.push(this.event);
    return out;
  }

  /** Bytes held waiting for the rest of a frame. */
  buffered(): number {
    return this.asm !== null ? this.asmFill : this.pending === null ? 0 : this.pending.length;
  }

  private emit(b: Buffer, start: number, end: number): void {
    const i = this.count++;
    this.bufs[i] = b;
    this.starts[i] = start;
    this.ends[i] = end;
  }
}
