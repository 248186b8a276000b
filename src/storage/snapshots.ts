// Snapshot files: one file per snapshot, `snapshot.<index as 16 lowercase hex digits>`.
//
//   header (48 bytes, integers big-endian)
//     0  magic      8   'KRLSNAP1'
//     8  version    u32 1
//    12  reserved   u32 0
//    16  index      u64 last log index the snapshot covers (== the one in the file name)
//    24  term       u64 term of that index
//    32  length     u64 body length in bytes
//    40  headerCrc  u32 crc32 of bytes 0..40
//    44  reserved   u32 0
//   body (length bytes, opaque: the state machine's serialisation)
//   trailer: crc32 of the body (u32)
//
// A snapshot is written to `snapshot.<hex>.tmp.<pid>.<n>`, fsync'd, renamed to its final
// name and the directory fsync'd, so a final name always holds a complete file. The body is
// streamed (writeStream): chunks are written as they come, the CRC computed on the way, and
// the header, which holds the length, written last at offset 0 before the fsync.
//
// Reading streams too (loadLatest): the body goes to a consumer chunk by chunk through two
// reused 1 MiB buffers, the CRC checked on the way; the consumer's result is used only if
// the CRC matches at the end. Anything wrong (header CRC, size, body CRC) makes it warn and
// fall back to the next older snapshot, as ZooKeeper does; leftover temp files (a crash
// during write) are removed.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import * as io from './fsutil.js';

export const SNAPSHOT_MAGIC = 'KRLSNAP1';
export const SNAPSHOT_FORMAT_VERSION = 1;
export const SNAPSHOT_HEADER_BYTES = 48;
const TRAILER_BYTES = 4;
const MAGIC = Buffer.from(SNAPSHOT_MAGIC, 'latin1');
const NAME_RE = /^snapshot\.([0-9a-f]{16})$/;
const TEMP_RE = /^snapshot\.[0-9a-f]{16}\.tmp\./;

export interface SnapshotStoreOptions {
  /** Default true; false skips fsync (tests only). */
  fsync?: boolean;
  onWarn?: (msg: string) => void;
}

export interface SnapshotInfo {
  index: number;
  file: string;
  bytes: number;
}

/** What writeStream reads the body from: buffers (each may be reused by the source once the next is asked for). */
export type SnapshotSource = AsyncIterable<Buffer> | Iterable<Buffer> | (() => Buffer | null | Promise<Buffer | null>);

/** Consumes a snapshot body chunk by chunk (loadLatest); chunks are reused after push returns. */
export interface SnapshotConsumer<T> {
  push(chunk: Buffer): void;
  finish(): T;
}

export interface SnapshotMeta {
  index: number;
  term: number;
  file: string;
  /** Body length in bytes. */
  bodyBytes: number;
}

const READ_CHUNK = 1 << 20;
/** While streaming a snapshot out, fdatasync every this many bytes so the final fsync (and the WAL's) never meets a huge backlog. */
const SYNC_EVERY = 32 << 20;

function readAt(fd: number, buf: Buffer, len: number, pos: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let off = 0;
    const step = (): void =>
      fs.read(fd, buf, off, len - off, pos + off, (e, n) => {
        if (e) return reject(e);
        if (n === 0) return reject(new Error(`unexpected end of file at offset ${pos + off}`));
        off += n;
        if (off < len) step();
        else resolve();
      });
    step();
  });
}

/** Calls `each` with every chunk of the source, in order. */
async function forEachChunk(source: SnapshotSource, each: (b: Buffer) => Promise<void>): Promise<void> {
  if (typeof source === 'function') {
    for (;;) {
      const b = await source();
      if (b === null) return;
      await each(b);
    }
  }
  if (Symbol.asyncIterator in source) {
    for await (const b of source as AsyncIterable<Buffer>) await each(b);
    return;
  }
  for (const b of source as Iterable<Buffer>) await each(b);
}

export function snapshotFileName(index: number): string {
  return `snapshot.${io.hex16(index)}`;
}

/** Problem with a snapshot header, or null. */
function headerProblem(h: Buffer, fileBytes: number, expectIndex: number): string | null {
  if (h.length < SNAPSHOT_HEADER_BYTES) return `file is ${fileBytes} bytes, shorter than the ${SNAPSHOT_HEADER_BYTES}-byte header`;
  if (!h.subarray(0, 8).equals(MAGIC)) return `bad magic (expected ${SNAPSHOT_MAGIC})`;
  if (h.readUInt32BE(40) !== crc32(h.subarray(0, 40))) return 'header CRC mismatch';
  const version = h.readUInt32BE(8);
  if (version !== SNAPSHOT_FORMAT_VERSION) return `unsupported snapshot format version ${version}`;
  const index = io.readU64(h, 16);
  if (index !== expectIndex) return `header says index ${index} but the file name says ${expectIndex}`;
  const length = io.readU64(h, 32);
  if (length < 0 || SNAPSHOT_HEADER_BYTES + length + TRAILER_BYTES !== fileBytes) {
    return `header says a ${length}-byte body but the file is ${fileBytes} bytes (expected ${SNAPSHOT_HEADER_BYTES + length + TRAILER_BYTES}): incomplete or damaged`;
  }
  return null;
}

export class SnapshotStore {
  readonly dir: string;
  private readonly doFsync: boolean;
  private readonly warn: (msg: string) => void;
  /** Temp files of writes in progress in this process (never removed as stale). */
  private readonly inFlight = new Set<string>();
  private seq = 0;

  constructor(dir: string, opts: SnapshotStoreOptions = {}) {
    this.dir = path.resolve(dir);
    this.doFsync = opts.fsync ?? true;
    this.warn = opts.onWarn ?? ((m) => process.emitWarning(m, 'KraalSnapshotWarning'));
  }

  /** Writes a snapshot atomically: temp file, fsync, rename to snapshot.<index hex>, fsync the directory. */
  async write(index: number, term: number, chunks: Buffer[]): Promise<void> {
    await this.writeStream(index, term, chunks);
  }

  /**
   * Writes a snapshot whose body comes from `source`, one chunk at a time (each is written
   * before the next is asked for, so a source may reuse its buffer), atomically as write().
   * Returns the body length. On failure the temp file is removed and the error rethrown.
   */
  async writeStream(index: number, term: number, source: SnapshotSource): Promise<{ bytes: number }> {
    if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`snapshot index ${index} is not a non-negative safe integer`);
    if (!Number.isSafeInteger(term) || term < 0) throw new RangeError(`snapshot term ${term} is not a non-negative safe integer`);
    await io.mkdirDurable(this.dir, this.doFsync);
    const final = snapshotFileName(index);
    const tmpName = `${final}.tmp.${process.pid}.${++this.seq}`;
    const tmp = path.join(this.dir, tmpName);
    this.inFlight.add(tmpName);
    let fd = -1;
    try {
      fd = await io.open(tmp, 'wx');
      const f = fd;
      let length = 0;
      let crc = 0;
      let unsynced = 0;
      await forEachChunk(source, async (c) => {
        if (c.length === 0) return;
        crc = crc32(c, crc);
        await io.writeAll(f, c, 0, c.length, SNAPSHOT_HEADER_BYTES + length);
        length += c.length;
        unsynced += c.length;
        if (this.doFsync && unsynced >= SYNC_EVERY) {
          unsynced = 0;
          await io.fdatasync(f);
        }
      });
      const trailer = Buffer.alloc(TRAILER_BYTES);
      trailer.writeUInt32BE(crc, 0);
      await io.writeAll(fd, trailer, 0, TRAILER_BYTES, SNAPSHOT_HEADER_BYTES + length);
      const header = Buffer.alloc(SNAPSHOT_HEADER_BYTES);
      MAGIC.copy(header, 0);
      header.writeUInt32BE(SNAPSHOT_FORMAT_VERSION, 8);
      io.writeU64(header, index, 16);
      io.writeU64(header, term, 24);
      io.writeU64(header, length, 32);
      header.writeUInt32BE(crc32(header.subarray(0, 40)), 40);
      await io.writeAll(fd, header, 0, SNAPSHOT_HEADER_BYTES, 0);
      if (this.doFsync) await io.fsync(fd);
      await io.close(fd);
      fd = -1;
      await fs.promises.rename(tmp, path.join(this.dir, final));
      if (this.doFsync) await io.fsyncDir(this.dir);
      return { bytes: length };
    } catch (e) {
      if (fd >= 0) await io.close(fd).catch(() => undefined);
      await fs.promises.unlink(tmp).catch(() => undefined);
      throw e;
    } finally {
      this.inFlight.delete(tmpName);
    }
  }

  /** Snapshot files by index, oldest first (names only; contents are not checked). */
  async list(): Promise<SnapshotInfo[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch (e) {
      if (io.isErrno(e, 'ENOENT')) return [];
      throw e;
    }
    const out: SnapshotInfo[] = [];
    for (const n of names) {
      const m = NAME_RE.exec(n);
      if (m === null) continue;
      const file = path.join(this.dir, n);
      try {
        const st = await fs.promises.stat(file);
        out.push({ index: parseInt(m[1]!, 16), file, bytes: st.size });
      } catch (e) {
        if (!io.isErrno(e, 'ENOENT')) throw e; // removed meanwhile
      }
    }
    out.sort((a, b) => a.index - b.index);
    return out;
  }

  /**
   * The newest snapshot that checks out (header, size and body CRC), read whole into memory.
   * A damaged newer one is reported through onWarn and skipped; temp files left by a crash
   * are removed. Prefer loadLatest(), which never holds the whole body.
   */
  async latest(): Promise<{ index: number; term: number; data: Buffer } | undefined> {
    const r = await this.loadLatest((meta) => {
      const chunks: Buffer[] = [];
      return {
        push: (c) => void chunks.push(Buffer.from(c)),
        finish: () => Buffer.concat(chunks, meta.bodyBytes),
      };
    });
    return r === undefined ? undefined : { index: r.index, term: r.term, data: r.value };
  }

  /**
   * Streams the newest valid snapshot's body into the consumer made by `open`, newest first:
   * the header and size are checked before, the body CRC while reading. The consumer's
   * finish() result is returned only if the CRC matches; if it does not (or the file cannot
   * be read), the half-fed consumer is dropped with a warning and the next older snapshot is
   * tried. An error thrown by the consumer on a body whose CRC matches is not damage but
   * an unreadable format: it is rethrown, naming the file. Undefined when none is valid.
   */
  async loadLatest<T>(open: (meta: SnapshotMeta) => SnapshotConsumer<T>): Promise<(SnapshotMeta & { value: T }) | undefined> {
    await this.removeStaleTemps();
    const all = await this.list();
    const fallback = 'skipping it and falling back to an older snapshot. The file is kept for inspection; it is removed by a later purge once newer snapshots exist.';
    let fatal: Error | null = null;
    for (let i = all.length - 1; i >= 0; i--) {
      const s = all[i]!;
      let fd = -1;
      try {
        fd = await io.open(s.file, 'r');
        const size = await io.fstatSize(fd);
        const h = Buffer.alloc(Math.min(SNAPSHOT_HEADER_BYTES, size));
        await readAt(fd, h, h.length, 0);
        const hp = headerProblem(h, size, s.index);
        if (hp !== null) {
          this.warn(`snapshot ${s.file} is invalid (${hp}); ${fallback}`);
          continue;
        }
        const meta: SnapshotMeta = { index: s.index, term: io.readU64(h, 24), file: s.file, bodyBytes: io.readU64(h, 32) };
        const r = await this.streamBody(fd, meta, open(meta));
        if (r.crcProblem !== null) {
          const also = r.consumerError === null ? '' : ` (reading it had also failed: ${r.consumerError.message})`;
          this.warn(`snapshot ${s.file} is invalid (${r.crcProblem})${also}; ${fallback}`);
          continue;
        }
        if (r.consumerError !== null) {
          r.consumerError.message = `snapshot ${s.file} has an intact CRC but cannot be loaded: ${r.consumerError.message}`;
          fatal = r.consumerError;
          break;
        }
        return { ...meta, value: r.value as T };
      } catch (e) {
        this.warn(`snapshot ${s.file}: cannot be read (${String(e)}); falling back to an older snapshot`);
        continue;
      } finally {
        if (fd >= 0) await io.close(fd).catch(() => undefined);
      }
    }
    if (fatal !== null) throw fatal;
    return undefined;
  }

  /** Reads the body through two alternating buffers (the next read runs while the consumer works). */
  private async streamBody<T>(
    fd: number,
    meta: SnapshotMeta,
    consumer: SnapshotConsumer<T>,
  ): Promise<{ crcProblem: string | null; consumerError: Error | null; value: T | undefined }> {
    const len = meta.bodyBytes;
    const bufs = [Buffer.allocUnsafeSlow(Math.min(READ_CHUNK, Math.max(1, len))), Buffer.allocUnsafeSlow(Math.min(READ_CHUNK, Math.max(1, len)))];
    let crc = 0;
    let consumerError: Error | null = null;
    let done = 0;
    let which = 0;
    const readNext = (): Promise<number> => {
      const n = Math.min(READ_CHUNK, len - done);
      return n === 0 ? Promise.resolve(0) : readAt(fd, bufs[which]!, n, SNAPSHOT_HEADER_BYTES + done).then(() => n);
    };
    let inFlight = readNext();
    while (done < len) {
      const n = await inFlight;
      const chunk = bufs[which]!.subarray(0, n);
      done += n;
      which ^= 1;
      inFlight = readNext(); // into the other buffer
      crc = crc32(chunk, crc);
      if (consumerError === null) {
        try {
          consumer.push(chunk);
        } catch (e) {
          consumerError = e instanceof Error ? e : new Error(String(e));
        }
      }
    }
    await inFlight;
    const t = Buffer.alloc(TRAILER_BYTES);
    await readAt(fd, t, TRAILER_BYTES, SNAPSHOT_HEADER_BYTES + len);
    const stored = t.readUInt32BE(0);
    if (stored !== crc) return { crcProblem: `body CRC mismatch (stored ${stored.toString(16)}, computed ${crc.toString(16)})`, consumerError, value: undefined };
    if (consumerError !== null) return { crcProblem: null, consumerError, value: undefined };
    try {
      return { crcProblem: null, consumerError: null, value: consumer.finish() };
    } catch (e) {
      return { crcProblem: null, consumerError: e instanceof Error ? e : new Error(String(e)), value: undefined };
    }
  }

  /** Cheap validity check for purge: header CRC and file size (the body CRC is not read). */
  private async headerLooksValid(s: SnapshotInfo): Promise<boolean> {
    let fd = -1;
    try {
      fd = await io.open(s.file, 'r');
      const n = Math.min(SNAPSHOT_HEADER_BYTES, s.bytes);
      const h = Buffer.alloc(n);
      await io.readExactly(fd, h, 0, n, 0);
      return headerProblem(h, s.bytes, s.index) === null;
    } catch {
      return false;
    } finally {
      if (fd >= 0) await io.close(fd);
    }
  }

  private async removeStaleTemps(): Promise<void> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch (e) {
      if (io.isErrno(e, 'ENOENT')) return;
      throw e;
    }
    for (const n of names) {
      if (!TEMP_RE.test(n) || this.inFlight.has(n)) continue;
      await fs.promises.unlink(path.join(this.dir, n)).catch(() => undefined);
      this.warn(`snapshot dir ${this.dir}: removed ${n}, left over from an interrupted snapshot write`);
    }
  }

  /**
   * Keeps the newest `retain` (at least 3) snapshots whose header and size check out, plus any
   * damaged ones newer than those; removes the rest. The caller may then purge log records
   * below `oldestKeptIndex` (undefined when no snapshot is kept: purge nothing then).
   */
  async purge(retain: number): Promise<{ removed: string[]; oldestKeptIndex: number | undefined }> {
    const keep = Math.max(3, Math.floor(retain) || 0);
    await this.removeStaleTemps();
    const all = await this.list();
    const removed: string[] = [];
    let good = 0;
    let oldestKeptIndex: number | undefined;
    for (let i = all.length - 1; i >= 0; i--) {
      const s = all[i]!;
      if (good < keep) {
        if (await this.headerLooksValid(s)) {
          good++;
          oldestKeptIndex = s.index;
        }
        continue; // kept (a damaged one newer than the cut is kept too, for inspection)
      }
      try {
        await fs.promises.unlink(s.file);
        removed.push(s.file);
      } catch (e) {
        if (!io.isErrno(e, 'ENOENT')) throw e;
      }
    }
    if (removed.length > 0 && this.doFsync) await io.fsyncDir(this.dir);
    return { removed, oldestKeptIndex };
  }
}
