// Small file-system helpers shared by the storage layer: promise wrappers over the
// callback fs API working on raw fds (no FileHandle: the WAL mixes sync calls during
// recovery with async ones on the hot path on the same descriptor), "write all of it"
// loops, directory fsync, and 64-bit integer fields.

import * as fs from 'node:fs';
import * as path from 'node:path';

export const TWO_32 = 4294967296;

// ---- 64-bit fields -------------------------------------------------------------------

/** Writes a non-negative safe integer as a big-endian u64. */
export function writeU64(buf: Buffer, v: number, at: number): void {
  const hi = Math.floor(v / TWO_32);
  buf.writeUInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * TWO_32, at + 4);
}

/** Reads a big-endian u64; returns -1 if it does not fit in a safe integer. */
export function readU64(buf: Buffer, at: number): number {
  const hi = buf.readUInt32BE(at);
  if (hi >= 0x200000) return -1;
  return hi * TWO_32 + buf.readUInt32BE(at + 4);
}

export function hex16(v: number): string {
  return v.toString(16).padStart(16, '0');
}

// ---- async fd operations -----------------------------------------------------------------

export function open(file: string, flags: string | number, mode = 0o644): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, flags, mode, (e, fd) => (e ? reject(e) : resolve(fd))));
}

export function close(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (e) => (e ? reject(e) : resolve())));
}

export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())));
}

export function fsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve())));
}

export function ftruncate(fd: number, len: number): Promise<void> {
  return new Promise((resolve, reject) => fs.ftruncate(fd, len, (e) => (e ? reject(e) : resolve())));
}

export function fstatSize(fd: number): Promise<number> {
  return new Promise((resolve, reject) => fs.fstat(fd, (e, st) => (e ? reject(e) : resolve(st.size))));
}

function writeOnce(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, buf, off, len, pos, (e, n) => (e ? reject(e) : resolve(n))));
}

function writevOnce(fd: number, bufs: Buffer[], pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.writev(fd, bufs, pos, (e, n) => (e ? reject(e) : resolve(n))));
}

function readOnce(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, off, len, pos, (e, n) => (e ? reject(e) : resolve(n))));
}

/** Positional write of buf[off, off+len) at pos, looping over short writes. */
export async function writeAll(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<void> {
  while (len > 0) {
    const n = await writeOnce(fd, buf, off, len, pos);
    off += n;
    len -= n;
    pos += n;
  }
}

/** Positional gather-write of all buffers at pos, looping over short writes; at most 512 buffers per call. */
export async function writevAll(fd: number, bufs: readonly Buffer[], pos: number): Promise<number> {
  let i = 0;
  let skip = 0; // bytes of bufs[i] already written
  const start = pos;
  while (i < bufs.length) {
    const group: Buffer[] = [];
    let want = 0;
    for (let j = i; j < bufs.length && group.length < 512; j++) {
      const b = j === i ? bufs[j]!.subarray(skip) : bufs[j]!;
      group.push(b);
      want += b.length;
    }
    let n = want === 0 ? 0 : await writevOnce(fd, group, pos);
    pos += n;
    if (want === 0) {
      i += group.length;
      skip = 0;
      continue;
    }
    // advance (i, skip) by n bytes
    while (n > 0) {
      const rest = bufs[i]!.length - skip;
      if (n >= rest) {
        n -= rest;
        i++;
        skip = 0;
      } else {
        skip += n;
        n = 0;
      }
    }
    while (i < bufs.length && bufs[i]!.length === skip) {
      i++;
      skip = 0;
    }
  }
  return pos - start;
}

/** Reads exactly len bytes at pos (throws on EOF). */
export async function readExactly(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<void> {
  while (len > 0) {
    const n = await readOnce(fd, buf, off, len, pos);
    if (n === 0) throw new Error(`unexpected end of file at offset ${pos}`);
    off += n;
    len -= n;
    pos += n;
  }
}

export function readExactlySync(fd: number, buf: Buffer, off: number, len: number, pos: number): void {
  while (len > 0) {
    const n = fs.readSync(fd, buf, off, len, pos);
    if (n === 0) throw new Error(`unexpected end of file at offset ${pos}`);
    off += n;
    len -= n;
    pos += n;
  }
}

// ---- directories -----------------------------------------------------------------

/** fsync a directory so that entries created, renamed or removed in it are durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = await open(dir, fs.constants.O_RDONLY);
  try {
    await fsync(fd);
  } finally {
    await close(fd);
  }
}

export function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function missingDirs(dir: string): string[] {
  const missing: string[] = [];
  let d = path.resolve(dir);
  for (;;) {
    if (fs.existsSync(d)) break;
    missing.unshift(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  return missing;
}

/** mkdir -p, then fsync the parent of every directory it created (so the new entries survive a crash). */
export function mkdirDurableSync(dir: string, doFsync = true): void {
  const missing = missingDirs(dir);
  if (missing.length === 0) return;
  fs.mkdirSync(dir, { recursive: true });
  if (doFsync) for (const d of missing) fsyncDirSync(path.dirname(d));
}

export async function mkdirDurable(dir: string, doFsync = true): Promise<void> {
  const missing = missingDirs(dir);
  if (missing.length === 0) return;
  await fs.promises.mkdir(dir, { recursive: true });
  if (doFsync) for (const d of missing) await fsyncDir(path.dirname(d));
}

/** A shared all-zero block (never written to). */
export const ZEROS = Buffer.alloc(1 << 20);

export function isAllZero(buf: Buffer): boolean {
  for (let off = 0; off < buf.length; off += ZEROS.length) {
    const n = Math.min(ZEROS.length, buf.length - off);
    if (!buf.subarray(off, off + n).equals(ZEROS.subarray(0, n))) return false;
  }
  return true;
}

export function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === code;
}
