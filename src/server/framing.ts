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

export class FrameReader {
  private pending: Buffer | null = null;
  private first = true;
  private failed = false;

  constructor(private readonly maxFrame: number) {}

  /** Feeds bytes; returns the events they complete, in order. Stops at the first bad length. */
  push(chunk: Buffer): FrameEvent[] {
    if (this.failed) return [];
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    const out: FrameEvent[] = [];
    let pos = 0;
    while (buf.length - pos >= 4) {
      const len = buf.readInt32BE(pos);
      if (this.first) {
        this.first = false;
        const word = FOUR_LETTER_BY_INT.get(len);
        if (word !== undefined) {
          out.push({ kind: 'fourLetter', word, rest: buf.subarray(pos + 4) }); // stmk's mask follows the word
          this.failed = true; // nothing else is read on a four-letter connection
          return out;
        }
      }
      if (len < 0 || len > this.maxFrame) {
        out.push({ kind: 'badLength', length: len });
        this.failed = true;
        return out;
      }
      if (buf.length - pos - 4 < len) break;
      out.push({ kind: 'frame', frame: buf.subarray(pos + 4, pos + 4 + len) });
      pos += 4 + len;
    }
    if (pos < buf.length) {
      // Keep only the unconsumed tail; copy it if it is a small part of a big chunk,
      // so a long-lived partial frame does not pin the whole chunk in memory.
      const rest = buf.subarray(pos);
      this.pending = rest.length * 4 < buf.length ? Buffer.from(rest) : rest;
    }
    return out;
  }

  /** Bytes held waiting for the rest of a frame. */
  buffered(): number {
    return this.pending === null ? 0 : this.pending.length;
  }
}
