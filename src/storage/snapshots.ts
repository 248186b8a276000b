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
// name and the directory fsync'd, so a final name always holds a complete file. latest()
// still verifies everything (header CRC, size, body CRC) and falls back to the next older
// snapshot if the newest is damaged, as ZooKeeper does; leftover temp files (a crash during
// write) are removed.

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
    if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`snapshot index ${index} is not a non-negative safe integer`);
    if (!Number.isSafeInteger(term) || term < 0) throw new RangeError(`snapshot term ${term} is not a non-negative safe integer`);
    await io.mkdirDurable(this.dir, this.doFsync);
    let length = 0;
    let crc = 0;
    for (const c of chunks) {
      length += c.length;
      crc = crc32(c, crc);
    }
    const header = Buffer.alloc(SNAPSHOT_HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeUInt32BE(SNAPSHOT_FORMAT_VERSION, 8);
    io.writeU64(header, index, 16);
    io.writeU64(header, term, 24);
    io.writeU64(header, length, 32);
    header.writeUInt32BE(crc32(header.subarray(0, 40)), 40);
    const trailer = Buffer.alloc(TRAILER_BYTES);
    trailer.writeUInt32BE(crc, 0);

    const final = snapshotFileName(index);
    const tmpName = `${final}.tmp.${process.pid}.${++this.seq}`;
    const tmp = path.join(this.dir, tmpName);
    this.inFlight.add(tmpName);
    let fd = -1;
    try {
      fd = await io.open(tmp, 'wx');
      await io.writevAll(fd, [header, ...chunks, trailer], 0);
      if (this.doFsync) await io.fsync(fd);
      await io.close(fd);
      fd = -1;
      await fs.promises.rename(tmp, path.join(this.dir, final));
      if (this.doFsync) await io.fsyncDir(this.dir);
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
   * The newest snapshot that checks out (header, size and body CRC). A damaged newer one is
   * reported through onWarn and skipped; temp files left by a crash are removed.
   */
  async latest(): Promise<{ index: number; term: number; data: Buffer } | undefined> {
    await this.removeStaleTemps();
    const all = await this.list();
    for (let i = all.length - 1; i >= 0; i--) {
      const s = all[i]!;
      let buf: Buffer;
      try {
        buf = await fs.promises.readFile(s.file);
      } catch (e) {
        this.warn(`snapshot ${s.file}: cannot be read (${String(e)}); falling back to an older snapshot`);
        continue;
      }
      const problem = this.check(buf, s.index);
      if (problem !== null) {
        this.warn(
          `snapshot ${s.file} is invalid (${problem}); skipping it and falling back to an older snapshot. ` +
            `The file is kept for inspection; it is removed by a later purge once newer snapshots exist.`,
        );
        continue;
      }
      const length = io.readU64(buf, 32);
      return {
        index: s.index,
        term: io.readU64(buf, 24),
        data: buf.subarray(SNAPSHOT_HEADER_BYTES, SNAPSHOT_HEADER_BYTES + length),
      };
    }
    return undefined;
  }

  private check(buf: Buffer, index: number): string | null {
    const hp = headerProblem(buf.subarray(0, SNAPSHOT_HEADER_BYTES), buf.length, index);
    if (hp !== null) return hp;
    const length = io.readU64(buf, 32);
    const stored = buf.readUInt32BE(SNAPSHOT_HEADER_BYTES + length);
    const actual = crc32(buf.subarray(SNAPSHOT_HEADER_BYTES, SNAPSHOT_HEADER_BYTES + length));
    if (stored !== actual) return `body CRC mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`;
    return null;
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
