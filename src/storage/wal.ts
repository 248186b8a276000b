// Write-ahead log: the durable record of every command (and later every Raft entry).
//
// ---- On-disk format (version 1) ----------------------------------------------------------
//
// A log is a directory of segment files named `log.<first index as 16 lowercase hex digits>`
// (so name order == index order). Each segment is
//
//   header (32 bytes)
//     0  magic        8  'KRLWAL01'
//     8  version      u32  1
//    12  reserved     u32  0
//    16  firstIndex   u64  index of the first record (== the one in the file name)
//    24  reserved     u32  0
//    28  headerCrc    u32  crc32 of bytes 0..28
//   records, back to back, all integers big-endian:
//     0  length  u32  bytes after the crc field = 16 + payload length (so never 0)
//     4  crc     u32  crc32 (node:zlib, IEEE) of the `length` bytes that follow: index, term, payload
//     8  index   u64  strictly increasing within and across segments (gaps allowed: zxids)
//    16  term    u64
//    24  payload
//   optionally followed by zero bytes (preallocation). A zero `length` field where a record
//   would start (or fewer than 24 bytes left, all zero) is the end-of-log marker; everything
//   after it must be zero.
//
// ---- Durability ------------------------------------------------------------------------
//
// append() only encodes the record into an in-memory batch (one copy of the payload, no
// per-record buffers). flush() resolves once every record appended before the call has been
// written with ONE positional write/writev per segment touched (records plus, when needed,
// the next preallocated zero blocks) and made durable with fdatasync, all async so the event
// loop keeps serving during the sync (group commit: appends that arrive while an
// fdatasync runs are written together by the next write+fdatasync; concurrent flush()
// calls share it). A new segment is created (O_EXCL) with its header and first records in
// one write, fdatasync'd, and the directory fsync'd before anything in it is acknowledged;
// the previous segment was already durable, so segments become durable in order.
// If a write or fdatasync fails (or truncateAfter fails half-way) the log is poisoned: after a
// failed fsync the kernel may have dropped the dirty pages, so retrying could silently
// acknowledge lost data. Every pending and later call fails; restart and let recovery read
// what really reached the disk. read() returns only records durable when it starts, as copies.
// There is no inter-process lock: one process per log directory is the caller's job.
//
// ---- Torn writes versus corruption ---------------------------------------------------------
//
// open() reads every segment and checks every record. A bad record (too few bytes left for
// a record, impossible length, record running past the end of the file, CRC mismatch, or a
// zero length field followed by non-zero bytes) at offset P is a TORN TAIL only if
//   (a) it is in the LAST segment, and
//   (b) no valid record follows it: scanning every byte offset after P finds no position
//       holding a plausible length whose CRC matches and whose index is greater than the
//       last good index.
// A crash (kill -9 or power loss) can only damage the write that was in flight, which is
// at the end of the last segment and was never acknowledged (flush() had not resolved), so
// it is cut off: the file is truncated at P and fsync'd, and onWarn reports it. Anything else
// — a bad record in an earlier segment, or one followed by a valid record, or a CRC-valid
// record whose index does not increase — means acknowledged data may be damaged, and open()
// throws CorruptionError naming the file, the offset, the problem and the remedy, rather
// than silently dropping acknowledged records.
// The rule errs on the side of stopping: after a POWER LOSS the kernel may have persisted
// a later page of the final unacknowledged batch but not an earlier one; that looks like
// damage followed by a valid record and stops startup, although nothing acknowledged was
// lost (so `kraal repair --truncate file@offset` is then safe). The same holds if a payload
// of the damaged final record itself happens to contain a complete, CRC-valid record image.
// A segment whose header is damaged is treated the same way (a torn creation of the last
// segment is removed). Stale bytes never linger after the end of the log: truncateAfter and
// tail repair ftruncate the file, so whatever follows the end is zeros or a torn write.
//
// ---- Preallocation -------------------------------------------------------------------------
//
// With `preallocate` (default true = 'zeros') the tail segment is extended with real zero
// blocks, 256 KiB at a time (up to segmentBytes), inside the flush that needs the space, so
// most fdatasyncs overwrite already-allocated blocks and need no metadata update. When a
// segment is rolled its zero tail is cut off again. Measured with bench/wal-fsync.mjs on this
// machine's ext4 (1 KiB records, 3-4 s runs, noisy shared disk, several runs):
//   zeros, 256 KiB steps   1 writer p50 0.21-0.28 ms ~3.5k flushes/s; 32 writers ~75-90k records/s, p99.9 3-5 ms
//   zeros, 4 MiB steps     same p50, but the step's 4 MiB zero write lands in one flush: p99.9 ~12 ms
//   zeros, 16 MiB steps    p99.9 ~58 ms
//   sparse (ftruncate)     1 writer p50 0.18-0.29 ms; 32 writers p50 0.35-0.49 ms, ~57-80k records/s
//   none (file grows)      1 writer p50 0.28-0.35 ms ~2.7k flushes/s; 32 writers p50 0.41-0.66 ms
// so small zero steps: best median and throughput, tail close to the others.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { CorruptionError } from './errors.js';
import * as io from './fsutil.js';

export { CorruptionError };

export interface LogRecord {
  index: number;
  term: number;
  payload: Buffer;
}

export interface WalOptions {
  /** Roll to a new segment when the next record would make the current one larger. Default 64 MiB. */
  segmentBytes?: number;
  /** Default true; false skips fdatasync/fsync (tests and benchmarks only: nothing is durable). */
  fsync?: boolean;
  /**
   * Extend the tail segment ahead of the writes: 'zeros' writes zero blocks (real allocation),
   * 'sparse' only ftruncates (size, no blocks), true = the default mode, false = grow as written.
   */
  preallocate?: boolean | 'zeros' | 'sparse';
  /** Recovery and maintenance warnings (torn tail truncated, stray files, ...). */
  onWarn?: (msg: string) => void;
  /**
   * How a flush is made durable (only when fsync is on; see also setSyncMode):
   * 'dsync' (where the platform has O_DSYNC, else 'fdatasync' is used): the batch is written through a second
   * descriptor of the tail segment opened with O_DSYNC, so the one positional write returns only
   * once the data (and the metadata needed to read it back) is on stable storage: ONE thread-pool
   * round trip per group commit instead of two (write, then fdatasync).
   * 'fdatasync' (default): write, then fdatasync.
   */
  syncMode?: 'dsync' | 'fdatasync';
  /**
   * Latency mode for light load (dsync mode only; 0 = off, the default): a flush() that finds the
   * log idle and at most this many bytes pending writes them with one synchronous O_DSYNC write on
   * the calling thread. A lone writer then pays one disk write and no thread-pool round trips
   * (two wake-ups of an idle thread cost about as much as the write on a virtualised machine);
   * under load batches are larger or a flush is already running, so group commit stays async.
   */
  inlineSyncBytes?: number;
}

export interface WalStats {
  segments: number;
  /** Bytes the segment files take (including preallocated zeros). */
  bytes: number;
  /** Bytes of headers and durable records. */
  dataBytes: number;
  /** Duration of the last fdatasync (ms). */
  lastFsyncMs: number;
  /** Number of write+fdatasync cycles of log segments (directory fsyncs not counted). */
  fsyncCount: number;
}

export const WAL_MAGIC = 'KRLWAL01';
export const WAL_FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 32;
export const RECORD_OVERHEAD = 24;
/** Largest payload accepted (the length field could hold more; this bounds allocations on read). */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

const MAGIC = Buffer.from(WAL_MAGIC, 'latin1');
const REC_HEAD = 8; // length + crc
const REC_FIXED = 16; // index + term (counted in length)
const MAX_LEN = REC_FIXED + MAX_PAYLOAD_BYTES;
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const PREALLOC_STEP = 256 * 1024;
const DEFAULT_PREALLOC: 'zeros' | 'sparse' = 'zeros';
const SPARSE_STEP = 64 * 1024;
const READ_CHUNK = 1024 * 1024;
const SEGMENT_RE = /^log\.([0-9a-f]{16})$/;
const BATCH_INITIAL = 64 * 1024;
const BATCH_KEEP_MAX = 8 * 1024 * 1024;

export function segmentFileName(firstIndex: number): string {
  return `log.${io.hex16(firstIndex)}`;
}

function encodeHeader(buf: Buffer, firstIndex: number): void {
  MAGIC.copy(buf, 0);
  buf.writeUInt32BE(WAL_FORMAT_VERSION, 8);
  buf.writeUInt32BE(0, 12);
  io.writeU64(buf, firstIndex, 16);
  buf.writeUInt32BE(0, 24);
  buf.writeUInt32BE(crc32(buf.subarray(0, 28)), 28);
}

/** Why the header is unusable, or null if it is fine. */
function headerProblem(buf: Buffer, off: number, avail: number, expectFirst: number): string | null {
  if (avail < SEGMENT_HEADER_BYTES) return `file is ${avail} bytes, shorter than the ${SEGMENT_HEADER_BYTES}-byte segment header`;
  const h = buf.subarray(off, off + SEGMENT_HEADER_BYTES);
  if (!h.subarray(0, 8).equals(MAGIC)) return `bad magic ${JSON.stringify(h.subarray(0, 8).toString('latin1'))} (expected ${WAL_MAGIC})`;
  const stored = h.readUInt32BE(28);
  const actual = crc32(h.subarray(0, 28));
  if (stored !== actual) return `segment header CRC mismatch (stored ${hexCrc(stored)}, computed ${hexCrc(actual)})`;
  const version = h.readUInt32BE(8);
  if (version !== WAL_FORMAT_VERSION) {
    return `unsupported WAL format version ${version} (this build reads version ${WAL_FORMAT_VERSION}; was it written by a newer Kraal?)`;
  }
  const first = io.readU64(h, 16);
  if (first !== expectFirst) return `header says first index ${first} but the file name says ${expectFirst}`;
  return null;
}

function hexCrc(v: number): string {
  return '0x' + v.toString(16).padStart(8, '0');
}

function walCorruption(file: string, offset: number, what: string): CorruptionError {
  return new CorruptionError(
    `WAL corruption in ${file} at offset ${offset}: ${what}. ` +
      `Kraal will not start on this log because records at or after this point may have been acknowledged to clients. ` +
      `Restore this member from a backup or from the other ensemble members (wipe its data directory and let it resync); ` +
      `or, if you accept losing everything from this offset on (this record, the rest of this file and all later segment files), ` +
      `run: kraal repair --truncate ${file}@${offset}`,
    file,
    offset,
  );
}

/** O_DSYNC where the platform has it (Linux, macOS, BSDs; not Windows). */
const O_DSYNC: number | undefined = (fs.constants as Record<string, number | undefined>).O_DSYNC;

function copyPayload(buf: Buffer, at: number, payload: Uint8Array): void {
  buf.set(payload, at);
}

/** One segment file. Everything here describes durable state. */
class Segment {
  readonly name: string;
  readonly path: string;
  /** Open (read-write) only for the tail segment. */
  fd = -1;
  /** End of the durable data (header + records). */
  end = SEGMENT_HEADER_BYTES;
  /** Size of the file (>= end when preallocated). */
  allocated = 0;
  lastIndex = -1;
  lastTerm = -1;
  /** Sparse index: (record index, file offset) at least every SPARSE_STEP bytes, first record always. */
  readonly sIdx: number[] = [];
  readonly sOff: number[] = [];

  constructor(
    dir: string,
    readonly firstIndex: number,
  ) {
    this.name = segmentFileName(firstIndex);
    this.path = path.join(dir, this.name);
  }

  note(index: number, off: number): void {
    const n = this.sOff.length;
    if (n === 0 || off - this.sOff[n - 1]! >= SPARSE_STEP) {
      this.sIdx.push(index);
      this.sOff.push(off);
    }
  }

  /** Offset of a record with index <= fromIndex from which a scan reaches fromIndex. */
  seek(fromIndex: number): number {
    let lo = 0;
    let hi = this.sIdx.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sIdx[mid]! <= fromIndex) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best >= 0 ? this.sOff[best]! : SEGMENT_HEADER_BYTES;
  }

  dropAfter(index: number): void {
    while (this.sIdx.length > 0 && this.sIdx[this.sIdx.length - 1]! > index) {
      this.sIdx.pop();
      this.sOff.pop();
    }
  }
}

/** Records appended but not yet written, all for one segment. */
class Batch {
  seg!: Segment;
  /** The batch creates seg's file; buf starts with the segment header. */
  fresh = false;
  buf: Buffer = Buffer.allocUnsafe(BATCH_INITIAL);
  len = 0;
  readonly idx: number[] = [];
  readonly term: number[] = [];
  /** Offset of each record inside buf. */
  readonly at: number[] = [];

  reset(seg: Segment, fresh: boolean): this {
    this.seg = seg;
    this.fresh = fresh;
    this.len = 0;
    this.idx.length = 0;
    this.term.length = 0;
    this.at.length = 0;
    if (this.buf.length > BATCH_KEEP_MAX) this.buf = Buffer.allocUnsafe(BATCH_INITIAL);
    if (fresh) {
      encodeHeader(this.buf, seg.firstIndex);
      this.len = SEGMENT_HEADER_BYTES;
    }
    return this;
  }

  reserve(n: number): number {
    const need = this.len + n;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const nb = Buffer.allocUnsafe(size);
      this.buf.copy(nb, 0, 0, this.len);
      this.buf = nb;
    }
    const at = this.len;
    this.len = need;
    return at;
  }
}

/** Sequential reader over a file region with a reusable buffer (used by recovery, sync). */
class SyncReader {
  buf: Buffer = Buffer.allocUnsafe(READ_CHUNK);
  private start = 0;
  private len = 0;

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {}

  /** Makes [pos, pos+n) available (n <= size-pos) and returns its offset in this.buf. */
  get(pos: number, n: number): number {
    if (pos >= this.start && pos + n <= this.start + this.len) return pos - this.start;
    const want = Math.min(Math.max(n, READ_CHUNK), this.size - pos);
    if (want > this.buf.length) this.buf = Buffer.allocUnsafe(want);
    io.readExactlySync(this.fd, this.buf, 0, want, pos);
    this.start = pos;
    this.len = want;
    return 0;
  }
}

/** Async twin of SyncReader (used by read() and truncateAfter()). */
class AsyncReader {
  buf: Buffer = Buffer.allocUnsafe(READ_CHUNK);
  private start = 0;
  private len = 0;

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {}

  async get(pos: number, n: number): Promise<number> {
    if (pos >= this.start && pos + n <= this.start + this.len) return pos - this.start;
    const want = Math.min(Math.max(n, READ_CHUNK), this.size - pos);
    if (want > this.buf.length) this.buf = Buffer.allocUnsafe(want);
    await io.readExactly(this.fd, this.buf, 0, want, pos);
    this.start = pos;
    this.len = want;
    return 0;
  }
}

/** True if [from, size) of the file holds only zero bytes. */
function zeroRangeSync(fd: number, from: number, size: number): boolean {
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  for (let pos = from; pos < size; ) {
    const n = Math.min(READ_CHUNK, size - pos);
    io.readExactlySync(fd, buf, 0, n, pos);
    if (!io.isAllZero(buf.subarray(0, n))) return false;
    pos += n;
  }
  return true;
}

/**
 * Looks for a complete, CRC-valid record with index > afterIndex starting anywhere in
 * [from, size). Used to decide whether a bad record is a torn tail (nothing valid after it).
 */
export function findValidRecordSync(
  fd: number,
  from: number,
  size: number,
  afterIndex: number,
): { offset: number; index: number } | undefined {
  const chunk = Buffer.allocUnsafe(READ_CHUNK);
  let extra = Buffer.allocUnsafe(0);
  let base = from;
  while (base + REC_HEAD + REC_FIXED <= size) {
    const n = Math.min(READ_CHUNK, size - base);
    io.readExactlySync(fd, chunk, 0, n, base);
    const view = chunk.subarray(0, n);
    // A record needs a non-zero length field, so an all-zero chunk cannot hold a record
    // start whose length lies entirely inside it; straddling starts are covered by the overlap.
    if (!io.isAllZero(view)) {
      for (let i = 0; i + 4 <= n; i++) {
        if (view[i]! > 0x10) continue; // length >= 0x11000000 > MAX_LEN: fast skip
        const len = view.readUInt32BE(i);
        if (len < REC_FIXED || len > MAX_LEN) continue;
        const p = base + i;
        if (p + REC_HEAD + len > size) continue;
        let rec: Buffer;
        if (i + REC_HEAD + len <= n) rec = view.subarray(i, i + REC_HEAD + len);
        else {
          if (extra.length < REC_HEAD + len) extra = Buffer.allocUnsafe(REC_HEAD + len);
          io.readExactlySync(fd, extra, 0, REC_HEAD + len, p);
          rec = extra.subarray(0, REC_HEAD + len);
        }
        if (rec.readUInt32BE(4) !== crc32(rec.subarray(REC_HEAD))) continue;
        const index = io.readU64(rec, 8);
        if (index < 0 || index <= afterIndex || io.readU64(rec, 16) < 0) continue;
        return { offset: p, index };
      }
    }
    if (base + n >= size) break;
    base += Math.max(1, n - 3);
  }
  return undefined;
}

interface Waiter {
  target: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class WriteAheadLog {
  readonly dir: string;
  onFsync?: (ms: number, records: number) => void;

  private readonly segmentBytes: number;
  private readonly doFsync: boolean;
  private readonly prealloc: 'zeros' | 'sparse' | 'none';
  private readonly warn: (msg: string) => void;

  /** Durable segments in index order; the last one is the tail and has its fd open. */
  private segments: Segment[] = [];
  /** Batches not yet written (at most one per segment, in order). */
  private batches: Batch[] = [];
  private pool: Batch[] = [];

  // Projected state: durable + pending.
  private tail: Segment | undefined;
  private tailEnd = 0;
  private tailNonEmpty = false;
  private firstIdx = -1;
  private lastIdx = -1;
  private lastTrm = -1;

  private appendSeq = 0;
  private settledSeq = 0;
  private waiters: Waiter[] = [];
  private running = false;
  private lock: Promise<void> = Promise.resolve();
  private truncating = 0;
  private truncGen = 0;
  private failure: Error | undefined;
  private closed = false;

  private fsyncs = 0;
  private lastFsync = 0;
  private dsync: boolean;
  /** O_DSYNC write descriptor of the tail segment (dsync mode), opened when first needed. */
  private dsyncSeg: Segment | undefined;
  /** seg.fd of dsyncSeg when dsyncFd was opened: a re-opened segment gets a new one. */
  private dsyncFor = -1;
  private dsyncFd = -1;
  private readonly inlineSyncBytes: number;
  /** Operations running under exclusive() (the inline path may run only when none is). */
  private exclusiveActive = 0;
  inlineSyncs = 0;

  private constructor(dir: string, opts: WalOptions) {
    this.dir = path.resolve(dir);
    this.segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!(this.segmentBytes >= 4096)) throw new RangeError(`WAL segmentBytes must be >= 4096, got ${opts.segmentBytes}`);
    this.doFsync = opts.fsync ?? true;
    const p = opts.preallocate ?? true;
    this.prealloc = p === true ? DEFAULT_PREALLOC : p === false ? 'none' : p;
    this.dsync = false;
    this.setSyncMode(opts.syncMode ?? 'fdatasync');
    this.inlineSyncBytes = opts.inlineSyncBytes ?? 0;
    this.warn = opts.onWarn ?? ((m) => process.emitWarning(m, 'KraalWalWarning'));
  }

  /**
   * Opens (creating if needed) the log in `dir`: reads and checks every segment, cuts a torn
   * tail off the last one (with a warning) and throws CorruptionError for damage anywhere else.
   */
  static async open(dir: string, opts: WalOptions = {}): Promise<WriteAheadLog> {
    const wal = new WriteAheadLog(dir, opts);
    wal.recover();
    return wal;
  }

  get firstIndex(): number | undefined {
    return this.firstIdx < 0 ? undefined : this.firstIdx;
  }

  /** Index of the last appended record (durable or not). */
  get lastIndex(): number | undefined {
    return this.lastIdx < 0 ? undefined : this.lastIdx;
  }

  /** Term of the last appended record (durable or not). */
  get lastTerm(): number | undefined {
    return this.lastIdx < 0 ? undefined : this.lastTrm;
  }

  /** Index of the last durable record. */
  get durableIndex(): number | undefined {
    const last = this.segments[this.segments.length - 1];
    return last === undefined || last.lastIndex < 0 ? undefined : last.lastIndex;
  }

  // ---- recovery (sync I/O is fine here) --------------------------------------------------

  private recover(): void {
    io.mkdirDurableSync(this.dir, this.doFsync);
    const names: string[] = [];
    for (const n of fs.readdirSync(this.dir)) {
      if (SEGMENT_RE.test(n)) names.push(n);
      else if (n.startsWith('log.')) this.warn(`WAL ${this.dir}: ignoring ${n} (not a segment file name)`);
    }
    names.sort();
    let prevLast = -1;
    for (let i = 0; i < names.length; i++) {
      const seg = this.recoverSegment(names[i]!, i === names.length - 1, prevLast);
      if (seg !== undefined) {
        this.segments.push(seg);
        prevLast = seg.lastIndex;
      }
    }
    const tail = this.segments[this.segments.length - 1];
    if (tail !== undefined && tail.fd < 0) {
      // The last file was a torn segment creation and was removed: reopen the one before it.
      tail.fd = fs.openSync(tail.path, 'r+');
      tail.allocated = fs.fstatSync(tail.fd).size;
    }
    this.recomputeProjection();
  }

  private recoverSegment(name: string, isLast: boolean, prevLast: number): Segment | undefined {
    const firstIndex = parseInt(SEGMENT_RE.exec(name)![1]!, 16);
    const file = path.join(this.dir, name);
    if (!Number.isSafeInteger(firstIndex)) throw walCorruption(file, 0, 'first index in the file name is out of range');
    if (firstIndex <= prevLast) {
      throw walCorruption(file, 0, `segment starts at index ${firstIndex} but the previous segment already reached index ${prevLast}`);
    }
    const fd = fs.openSync(file, isLast ? 'r+' : 'r');
    let fdTaken = false;
    try {
      let size = fs.fstatSync(fd).size;
      const rd = new SyncReader(fd, size);
      const hlen = Math.min(size, SEGMENT_HEADER_BYTES);
      const hp = headerProblem(rd.buf, hlen > 0 ? rd.get(0, hlen) : 0, size, firstIndex);
      if (hp !== null) {
        const after = findValidRecordSync(fd, 1, size, prevLast);
        if (isLast && after === undefined) {
          this.warn(
            `WAL ${file}: removed a torn segment creation (${hp}; no valid record in its ${size} bytes). ` +
              `It was never acknowledged: a new segment is acknowledged only after its header and first records are durable.`,
          );
          fdTaken = true; // closed right here, not again in finally (the number may be reused by then)
          fs.closeSync(fd);
          fs.unlinkSync(file);
          if (this.doFsync) io.fsyncDirSync(this.dir);
          return undefined;
        }
        throw walCorruption(
          file,
          0,
          hp + (after ? `; a valid record (index ${after.index}) follows at offset ${after.offset}` : '; this is not the last segment'),
        );
      }
      const seg = new Segment(this.dir, firstIndex);
      let pos = SEGMENT_HEADER_BYTES;
      let last = prevLast;
      let bad: string | null = null;
      while (pos < size) {
        if (size - pos < REC_HEAD + REC_FIXED) {
          // Fewer bytes than the smallest record: fine only if they are zeros (preallocation).
          if (zeroRangeSync(fd, pos, size)) break;
          bad = `only ${size - pos} byte(s) left, too few for a record`;
          break;
        }
        let o = rd.get(pos, REC_HEAD);
        const len = rd.buf.readUInt32BE(o);
        if (len === 0) {
          if (zeroRangeSync(fd, pos, size)) break; // end-of-log marker, zeros after it
          bad = 'zero length field (end-of-log marker) followed by non-zero bytes';
          break;
        }
        if (len < REC_FIXED || len > MAX_LEN) {
          bad = `impossible record length ${len}`;
          break;
        }
        if (pos + REC_HEAD + len > size) {
          bad = `record of ${REC_HEAD + len} bytes runs past the end of the file (${size} bytes)`;
          break;
        }
        o = rd.get(pos, REC_HEAD + len);
        const b = rd.buf;
        const stored = b.readUInt32BE(o + 4);
        const actual = crc32(b.subarray(o + REC_HEAD, o + REC_HEAD + len));
        if (stored !== actual) {
          bad = `record CRC mismatch (stored ${hexCrc(stored)}, computed ${hexCrc(actual)}, length field ${len})`;
          break;
        }
        const index = io.readU64(b, o + 8);
        const term = io.readU64(b, o + 16);
        if (index < 0 || term < 0) throw walCorruption(file, pos, 'CRC-valid record with an index or term beyond 2^53');
        if (seg.lastIndex < 0 && index !== firstIndex) {
          throw walCorruption(file, pos, `first record has index ${index} but the segment header says ${firstIndex}`);
        }
        if (index <= last) throw walCorruption(file, pos, `record index ${index} is not greater than the previous index ${last}`);
        seg.note(index, pos);
        seg.lastIndex = index;
        seg.lastTerm = term;
        last = index;
        pos += REC_HEAD + len;
      }
      if (bad !== null) {
        if (!isLast) throw walCorruption(file, pos, `${bad}, in a segment that is not the last one`);
        const after = findValidRecordSync(fd, pos + 1, size, last);
        if (after !== undefined) {
          throw walCorruption(
            file,
            pos,
            `${bad}; a valid record (index ${after.index}) follows at offset ${after.offset}, so this is damage, not a torn final write`,
          );
        }
        this.warn(
          `WAL ${file}: truncated a torn final write at offset ${pos} (${bad}; ${size - pos} byte(s) discarded, nothing valid after it). ` +
            `The log now ends at index ${last < 0 ? 'none' : last}; the discarded bytes were never acknowledged (flush resolves only after fdatasync).`,
        );
        fs.ftruncateSync(fd, pos);
        if (this.doFsync) fs.fsyncSync(fd);
        size = pos;
      }
      seg.end = pos;
      seg.allocated = size;
      if (seg.lastIndex < 0) {
        if (!isLast) throw walCorruption(file, pos, 'segment holds no records but later segments exist');
        this.warn(`WAL ${file}: removed a segment that holds no records (a torn segment creation; never acknowledged)`);
        fdTaken = true; // closed here
        fs.closeSync(fd);
        fs.unlinkSync(file);
        if (this.doFsync) io.fsyncDirSync(this.dir);
        return undefined;
      }
      if (isLast) {
        seg.fd = fd;
        fdTaken = true;
      }
      return seg;
    } finally {
      if (!fdTaken) fs.closeSync(fd);
    }
  }

  private recomputeProjection(): void {
    const last = this.segments[this.segments.length - 1];
    const lb = this.batches[this.batches.length - 1];
    if (lb !== undefined) {
      this.tail = lb.seg;
      this.tailEnd = (lb.fresh ? 0 : lb.seg.end) + lb.len;
      this.tailNonEmpty = true;
      this.lastIdx = lb.idx[lb.idx.length - 1]!;
      this.lastTrm = lb.term[lb.term.length - 1]!;
    } else if (last !== undefined) {
      this.tail = last;
      this.tailEnd = last.end;
      this.tailNonEmpty = last.lastIndex >= 0;
      this.lastIdx = last.lastIndex;
      this.lastTrm = last.lastTerm;
    } else {
      this.tail = undefined;
      this.tailEnd = 0;
      this.tailNonEmpty = false;
      this.lastIdx = -1;
      this.lastTrm = -1;
    }
    const first = this.segments[0];
    this.firstIdx = first !== undefined ? first.firstIndex : this.batches[0] !== undefined ? this.batches[0].idx[0]! : -1;
  }

  // ---- appending --------------------------------------------------------------------------

  private checkUsable(what: string): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new Error(`WAL ${this.dir}: ${what} after close()`);
  }

  /**
   * Switches how later flushes are made durable (WalOptions.syncMode); safe at any time, a
   * flush cycle already running finishes the way it started.
   */
  setSyncMode(mode: 'dsync' | 'fdatasync'): void {
    if (mode !== 'dsync' && mode !== 'fdatasync') throw new RangeError(`WAL syncMode must be 'dsync' or 'fdatasync', got ${String(mode)}`);
    this.dsync = this.doFsync && mode === 'dsync' && O_DSYNC !== undefined;
  }

  /** Buffers a record in memory (not durable until a later flush() resolves). index must be > lastIndex. */
  append(rec: LogRecord): void {
    const { payload } = rec;
    if (!(payload instanceof Uint8Array)) throw new TypeError('WAL append: payload must be a Buffer');
    this.appendWith(rec.index, rec.term, payload.length, copyPayload, payload);
  }

  /**
   * Same as append(), but the caller writes the payload straight into the log's batch buffer:
   * `fill(buf, at, ctx)` must write exactly `payloadLen` bytes at buf[at, at + payloadLen)
   * (and must not call back into the log). Saves encoding the payload into a buffer of its own
   * and copying it. If fill throws, nothing is appended.
   */
  appendWith<C>(index: number, term: number, payloadLen: number, fill: (buf: Buffer, at: number, ctx: C) => void, ctx: C): void {
    this.checkUsable('append');
    if (this.truncating > 0) throw new Error(`WAL ${this.dir}: append while truncateAfter() is in progress; await it first`);
    if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`WAL append: index ${index} is not a non-negative safe integer`);
    if (index <= this.lastIdx) throw new RangeError(`WAL append: index ${index} must be greater than the last index ${this.lastIdx}`);
    if (!Number.isSafeInteger(term) || term < 0) throw new RangeError(`WAL append: term ${term} is not a non-negative safe integer`);
    if (!Number.isSafeInteger(payloadLen) || payloadLen < 0) throw new RangeError(`WAL append: payload length ${payloadLen} is not valid`);
    if (payloadLen > MAX_PAYLOAD_BYTES) throw new RangeError(`WAL append: payload of ${payloadLen} bytes exceeds ${MAX_PAYLOAD_BYTES}`);

    const recBytes = RECORD_OVERHEAD + payloadLen;
    let b = this.batches[this.batches.length - 1];
    let fresh: Batch | undefined;
    if (this.tail === undefined || (this.tailNonEmpty && this.tailEnd + recBytes > this.segmentBytes)) {
      const seg = new Segment(this.dir, index);
      b = fresh = this.newBatch(seg, true);
    } else if (b === undefined || b.seg !== this.tail) {
      b = this.newBatch(this.tail, false);
    }
    const at = b.reserve(recBytes);
    const buf = b.buf;
    try {
      fill(buf, at + RECORD_OVERHEAD, ctx);
    } catch (e) {
      // undo: the record was never appended
      b.len = at;
      if (b.idx.length === 0) {
        // a batch created for this record: drop it again
        this.batches.pop();
        if (this.pool.length < 4) this.pool.push(b);
      }
      throw e;
    }
    if (fresh !== undefined) {
      this.tail = fresh.seg;
      this.tailEnd = SEGMENT_HEADER_BYTES;
    }
    buf.writeUInt32BE(REC_FIXED + payloadLen, at);
    io.writeU64(buf, index, at + 8);
    io.writeU64(buf, term, at + 16);
    buf.writeUInt32BE(crc32(buf.subarray(at + REC_HEAD, at + recBytes)), at + 4);
    b.idx.push(index);
    b.term.push(term);
    b.at.push(at);

    this.tailEnd += recBytes;
    this.tailNonEmpty = true;
    if (this.firstIdx < 0) this.firstIdx = index;
    this.lastIdx = index;
    this.lastTrm = term;
    this.appendSeq++;
  }

  private newBatch(seg: Segment, fresh: boolean): Batch {
    const b = (this.pool.pop() ?? new Batch()).reset(seg, fresh);
    this.batches.push(b);
    return b;
  }

  /**
   * Resolves once every record appended before this call is durable (written and
   * fdatasync'd). Calls made while an fdatasync runs share the next one. allowInline = false
   * keeps this flush off the inline path (the caller knows other work could use the wait).
   */
  flush(allowInline = true): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const target = this.appendSeq;
    if (this.settledSeq >= target) return Promise.resolve();
    if (this.inlineSyncBytes > 0 && allowInline) {
      try {
        if (this.tryInlineSync()) return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ target, resolve, reject });
      if (!this.running) {
        this.running = true;
        void this.flushLoop();
      }
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.waiters.length > 0 && this.failure === undefined) {
        await this.exclusive(() => this.cycle());
        let k = 0;
        while (k < this.waiters.length && this.waiters[k]!.target <= this.settledSeq) k++;
        const done = this.waiters.splice(0, k);
        for (const w of done) w.resolve();
      }
    } catch (e) {
      this.poison(e);
    } finally {
      this.running = false;
    }
  }

  /**
   * The light-load path of flush() (see WalOptions.inlineSyncBytes): one small batch continuing
   * the tail segment inside its preallocated space, written synchronously through the O_DSYNC
   * descriptor. Returns false (nothing done) when any condition does not hold.
   */
  private tryInlineSync(): boolean {
    if (this.running || this.exclusiveActive > 0 || !this.dsync || this.batches.length !== 1) return false;
    const b = this.batches[0]!;
    const seg = b.seg;
    if (b.fresh || b.len > this.inlineSyncBytes || b.idx.length === 0) return false;
    if (this.dsyncSeg !== seg || this.dsyncFor !== seg.fd || this.dsyncFd < 0) return false;
    const base = seg.end;
    const dataEnd = base + b.len;
    if (dataEnd > seg.allocated) return false;
    const t0 = performance.now();
    try {
      let off = 0;
      while (off < b.len) off += fs.writeSync(this.dsyncFd, b.buf, off, b.len - off, base + off);
    } catch (e) {
      this.batches = [];
      this.poison(e);
      throw this.failure;
    }
    const ms = performance.now() - t0;
    this.batches = [];
    const n = b.idx.length;
    for (let k = 0; k < n; k++) seg.note(b.idx[k]!, base + b.at[k]!);
    seg.end = dataEnd;
    seg.lastIndex = b.idx[n - 1]!;
    seg.lastTerm = b.term[n - 1]!;
    if (this.pool.length < 4) this.pool.push(b);
    this.settledSeq = this.appendSeq;
    this.fsyncs++;
    this.inlineSyncs++;
    this.lastFsync = ms;
    if (this.onFsync !== undefined) {
      try {
        this.onFsync(ms, n);
      } catch {
        /* a metrics hook must not break the log */
      }
    }
    return true;
  }

  private poison(e: unknown): void {
    if (this.failure === undefined) {
      const msg = e instanceof Error ? e.message : String(e);
      this.failure = new Error(
        `WAL ${this.dir}: write or fdatasync failed (${msg}); the log no longer accepts writes. ` +
          `Restart the server: recovery will keep exactly what reached the disk.`,
        { cause: e },
      );
    }
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(this.failure);
  }

  /** Runs fn with the log's I/O to itself (write cycles, truncation, purge, close). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.exclusiveActive++;
    const run = this.lock.then(fn).finally(() => this.exclusiveActive--);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** One group-commit cycle: writes every pending batch and fdatasyncs. */
  private async cycle(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const upTo = this.appendSeq;
    const batches = this.batches;
    if (batches.length > 0) {
      this.batches = [];
      try {
        for (const b of batches) if (b.idx.length > 0) await this.writeBatch(b);
      } catch (e) {
        this.poison(e);
        throw e;
      }
      for (const b of batches) if (this.pool.length < 4) this.pool.push(b);
    }
    this.settledSeq = upTo;
  }

  private async writeBatch(b: Batch): Promise<void> {
    const seg = b.seg;
    const base = b.fresh ? 0 : seg.end;
    const dataEnd = base + b.len;
    if (b.fresh) {
      seg.fd = await io.open(seg.path, 'wx+');
      seg.allocated = 0;
      try {
        await this.writeAndSync(b, seg, base, dataEnd);
        if (this.doFsync) await io.fsyncDir(this.dir);
      } catch (e) {
        await io.close(seg.fd).catch(() => undefined);
        seg.fd = -1;
        throw e;
      }
      const prev = this.segments[this.segments.length - 1];
      this.segments.push(seg);
      if (prev !== undefined && prev.fd >= 0) {
        // Retire the previous tail: drop its preallocated zeros (not needed for correctness,
        // so not fsync'd: recovery accepts a zero tail) and close it.
        try {
          if (prev.allocated > prev.end) await io.ftruncate(prev.fd, prev.end);
          prev.allocated = prev.end;
        } catch (e) {
          this.warn(`WAL ${prev.path}: could not trim preallocated space: ${String(e)}`);
        }
        await io.close(prev.fd);
        prev.fd = -1;
      }
    } else {
      await this.writeAndSync(b, seg, base, dataEnd);
    }
    const n = b.idx.length;
    for (let k = 0; k < n; k++) seg.note(b.idx[k]!, base + b.at[k]!);
    seg.end = dataEnd;
    seg.lastIndex = b.idx[n - 1]!;
    seg.lastTerm = b.term[n - 1]!;
  }

  /**
   * One positional write of the batch (plus zero blocks when preallocating), made durable:
   * through the O_DSYNC descriptor (dsync mode: durable when the write returns), or then fdatasync.
   */
  private async writeAndSync(b: Batch, seg: Segment, base: number, dataEnd: number): Promise<void> {
    const t0 = performance.now();
    const dsync = this.dsync;
    const fd = dsync ? await this.dsyncFdOf(seg) : seg.fd;
    if (this.prealloc !== 'none' && dataEnd > seg.allocated) {
      const cap = Math.max(this.segmentBytes, dataEnd);
      const step = this.prealloc === 'zeros' ? PREALLOC_STEP : cap;
      const target = Math.min(cap, (Math.floor(dataEnd / step) + 1) * step);
      if (this.prealloc === 'zeros' && target > dataEnd) {
        // records and the next zero blocks in one gather write
        const bufs = [b.buf.subarray(0, b.len)];
        for (let p = dataEnd; p < target; p += io.ZEROS.length) bufs.push(io.ZEROS.subarray(0, Math.min(io.ZEROS.length, target - p)));
        await io.writevAll(fd, bufs, base);
      } else {
        await io.writeAll(fd, b.buf, 0, b.len, base);
        // (dsync mode: the size change of a sparse extension is not synced; it is not needed to read the data back)
        if (target > dataEnd) await io.ftruncate(seg.fd, target);
      }
      seg.allocated = Math.max(target, dataEnd);
    } else {
      await io.writeAll(fd, b.buf, 0, b.len, base);
      if (dataEnd > seg.allocated) seg.allocated = dataEnd;
    }
    let ms: number;
    if (dsync) {
      ms = performance.now() - t0; // the write was the sync
    } else {
      const t1 = performance.now();
      if (this.doFsync) await io.fdatasync(seg.fd);
      ms = performance.now() - t1;
    }
    const n = b.idx.length;
    this.fsyncs++;
    this.lastFsync = ms;
    if (this.onFsync !== undefined) {
      try {
        this.onFsync(ms, n);
      } catch {
        /* a metrics hook must not break the log */
      }
    }
  }

  /** The O_DSYNC write descriptor of seg (opening it, and closing the previous segment's). */
  private async dsyncFdOf(seg: Segment): Promise<number> {
    if (this.dsyncSeg === seg && this.dsyncFor === seg.fd && this.dsyncFd >= 0) return this.dsyncFd;
    await this.closeDsync();
    const fd = await io.open(seg.path, fs.constants.O_WRONLY | O_DSYNC!);
    this.dsyncSeg = seg;
    this.dsyncFor = seg.fd;
    this.dsyncFd = fd;
    return fd;
  }

  private async closeDsync(): Promise<void> {
    const fd = this.dsyncFd;
    this.dsyncFd = -1;
    this.dsyncSeg = undefined;
    this.dsyncFor = -1;
    if (fd >= 0) await io.close(fd).catch(() => undefined);
  }

  // ---- reading ------------------------------------------------------------------------------

  /**
   * Durable records with index >= fromIndex, in order (a record not yet flushed when
   * iteration starts is not returned). Payloads are fresh copies. Throws if truncateAfter()
   * runs during the iteration or a segment being read is purged.
   */
  async *read(fromIndex: number): AsyncGenerator<LogRecord> {
    const gen = this.truncGen;
    const segs = this.segments.filter((s) => s.lastIndex >= fromIndex).map((s) => ({ seg: s, end: s.end }));
    for (const { seg, end } of segs) {
      let fd: number;
      try {
        fd = await io.open(seg.path, 'r');
      } catch (e) {
        if (io.isErrno(e, 'ENOENT')) throw new Error(`WAL read: segment ${seg.path} was removed (purged or truncated) during the read`);
        throw e;
      }
      try {
        const rd = new AsyncReader(fd, end);
        let pos = seg.seek(fromIndex);
        while (pos < end) {
          let o = await rd.get(pos, REC_HEAD);
          const len = rd.buf.readUInt32BE(o);
          if (len < REC_FIXED || len > MAX_LEN || pos + REC_HEAD + len > end) {
            throw walCorruption(seg.path, pos, `impossible record length ${len} in data that was valid when written`);
          }
          o = await rd.get(pos, REC_HEAD + len);
          const b = rd.buf;
          const stored = b.readUInt32BE(o + 4);
          const actual = crc32(b.subarray(o + REC_HEAD, o + REC_HEAD + len));
          if (stored !== actual) {
            throw walCorruption(seg.path, pos, `record CRC mismatch on read (stored ${hexCrc(stored)}, computed ${hexCrc(actual)})`);
          }
          const index = io.readU64(b, o + 8);
          const term = io.readU64(b, o + 16);
          pos += REC_HEAD + len;
          if (index >= fromIndex) {
            const payload = Buffer.from(b.subarray(o + REC_HEAD + REC_FIXED, o + REC_HEAD + len));
            if (this.truncGen !== gen) throw new Error('WAL read: the log was truncated during the read');
            yield { index, term, payload };
          }
        }
      } finally {
        await io.close(fd);
      }
    }
    if (this.truncGen !== gen) throw new Error('WAL read: the log was truncated during the read');
  }

  // ---- truncation and purge -----------------------------------------------------------------

  /** Drops every record (pending or durable) with index > `index`; durable once resolved. */
  async truncateAfter(index: number): Promise<void> {
    this.checkUsable('truncateAfter');
    if (!Number.isSafeInteger(index)) throw new RangeError(`WAL truncateAfter: ${index} is not a safe integer`);
    this.truncating++;
    try {
      await this.exclusive(async () => {
        if (this.failure !== undefined) throw this.failure;
        if (index >= this.lastIdx) return;
        // 1. Pending records: drop them from their batches (they were never written).
        for (let i = this.batches.length - 1; i >= 0; i--) {
          const b = this.batches[i]!;
          let k = b.idx.length;
          while (k > 0 && b.idx[k - 1]! > index) k--;
          if (k === b.idx.length) break;
          if (k === 0) {
            this.batches.pop();
            if (this.pool.length < 4) this.pool.push(b);
            continue;
          }
          b.len = b.at[k]!;
          b.idx.length = k;
          b.term.length = k;
          b.at.length = k;
          break;
        }
        // 2. Durable records: remove whole segments from the end (fsyncing the directory after
        // each, so a crash leaves a prefix of the old log), then cut the one that straddles.
        try {
          while (this.segments.length > 0) {
            const seg = this.segments[this.segments.length - 1]!;
            if (seg.lastIndex <= index) break;
            if (seg.firstIndex > index) {
              if (seg.fd >= 0) {
                await io.close(seg.fd);
                seg.fd = -1;
              }
              await fs.promises.unlink(seg.path);
              this.segments.pop();
              if (this.doFsync) await io.fsyncDir(this.dir);
              continue;
            }
            const cut = await this.locate(seg, index);
            if (seg.fd < 0) {
              seg.fd = await io.open(seg.path, 'r+');
              seg.allocated = await io.fstatSize(seg.fd);
            }
            await io.ftruncate(seg.fd, cut.offset);
            if (this.doFsync) await io.fsync(seg.fd);
            seg.end = cut.offset;
            seg.allocated = cut.offset;
            seg.lastIndex = cut.lastIndex;
            seg.lastTerm = cut.lastTerm;
            seg.dropAfter(index);
            break;
          }
          const last = this.segments[this.segments.length - 1];
          if (last !== undefined && last.fd < 0) {
            last.fd = await io.open(last.path, 'r+');
            last.allocated = await io.fstatSize(last.fd);
          }
        } catch (e) {
          // The on-disk log is now somewhere between before and after; refuse further writes
          // (a restart recovers whatever is durable).
          this.poison(e);
          throw e;
        }
        this.truncGen++;
        this.recomputeProjection();
      });
    } finally {
      this.truncating--;
    }
  }

  /** Offset of the first record > index in seg, and the last record <= index. */
  private async locate(seg: Segment, index: number): Promise<{ offset: number; lastIndex: number; lastTerm: number }> {
    const fd = await io.open(seg.path, 'r');
    try {
      const rd = new AsyncReader(fd, seg.end);
      let pos = seg.seek(index);
      let lastIndex = -1;
      let lastTerm = -1;
      while (pos < seg.end) {
        let o = await rd.get(pos, REC_HEAD);
        const len = rd.buf.readUInt32BE(o);
        if (len < REC_FIXED || len > MAX_LEN || pos + REC_HEAD + len > seg.end) {
          throw walCorruption(seg.path, pos, `impossible record length ${len} in data that was valid when written`);
        }
        o = await rd.get(pos, REC_HEAD + len);
        const b = rd.buf;
        if (b.readUInt32BE(o + 4) !== crc32(b.subarray(o + REC_HEAD, o + REC_HEAD + len))) {
          throw walCorruption(seg.path, pos, 'record CRC mismatch while truncating');
        }
        const idx = io.readU64(b, o + 8);
        if (idx > index) break;
        lastIndex = idx;
        lastTerm = io.readU64(b, o + 16);
        pos += REC_HEAD + len;
      }
      return { offset: pos, lastIndex, lastTerm };
    } finally {
      await io.close(fd);
    }
  }

  /**
   * Deletes whole segments whose every record is < index, oldest first; the tail segment
   * is never removed (so lastIndex/lastTerm survive a restart). Returns the number of files removed.
   */
  async purgeBefore(index: number): Promise<number> {
    this.checkUsable('purgeBefore');
    return this.exclusive(async () => {
      let removed = 0;
      while (this.segments.length > 1 && this.segments[0]!.lastIndex < index) {
        const seg = this.segments[0]!;
        await fs.promises.unlink(seg.path);
        this.segments.shift();
        removed++;
      }
      if (removed > 0) {
        if (this.doFsync) await io.fsyncDir(this.dir);
        this.firstIdx = this.segments[0]!.firstIndex;
      }
      return removed;
    });
  }

  // ---- misc ----------------------------------------------------------------------------------

  stats(): WalStats {
    let bytes = 0;
    let dataBytes = 0;
    for (const s of this.segments) {
      bytes += Math.max(s.allocated, s.end);
      dataBytes += s.end;
    }
    return { segments: this.segments.length, bytes, dataBytes, lastFsyncMs: this.lastFsync, fsyncCount: this.fsyncs };
  }

  /** Flushes what was appended, then closes the files. Further calls throw. */
  async close(): Promise<void> {
    if (this.closed) return;
    let err: unknown;
    if (this.failure === undefined) {
      try {
        await this.flush();
      } catch (e) {
        err = e;
      }
    }
    this.closed = true;
    await this.exclusive(async () => {
      await this.closeDsync();
      for (const s of this.segments) {
        if (s.fd >= 0) {
          await io.close(s.fd);
          s.fd = -1;
        }
      }
    });
    if (err !== undefined) throw err;
  }
}

/**
 * Operator repair (`kraal repair --truncate <file>@<offset>`): discards everything from
 * `offset` in the segment `file` on, and every later segment in the same directory. Run only
 * on a stopped server. Returns the files changed.
 */
export function repairTruncate(file: string, offset: number): { truncated?: string; removed: string[] } {
  const dir = path.dirname(path.resolve(file));
  const name = path.basename(file);
  if (!SEGMENT_RE.test(name)) throw new Error(`${file} is not a WAL segment (expected log.<16 hex digits>)`);
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`bad offset ${offset}`);
  const removed: string[] = [];
  const later = fs
    .readdirSync(dir)
    .filter((n) => SEGMENT_RE.test(n) && n > name)
    .sort()
    .reverse();
  for (const n of later) {
    fs.unlinkSync(path.join(dir, n));
    io.fsyncDirSync(dir);
    removed.push(path.join(dir, n));
  }
  const full = path.join(dir, name);
  if (offset <= SEGMENT_HEADER_BYTES) {
    fs.unlinkSync(full);
    io.fsyncDirSync(dir);
    removed.push(full);
    return { removed };
  }
  const fd = fs.openSync(full, 'r+');
  try {
    fs.ftruncateSync(fd, offset);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { truncated: full, removed };
}
