// Raft hard state: {term, vote, commit}, which must be durable before a vote or an
// AppendEntries reply is sent. One small file, `hardstate`, replaced atomically
// (write `hardstate.tmp`, fsync, rename, fsync the directory):
//
//   0  magic    8   'KRLHST01'
//   8  version  u32 1
//  12  reserved u32 0
//  16  term     u64
//  24  vote     u64 server id voted for in `term`, 2^53-1 (VOTE_NONE_RAW) for none
//  32  commit   u64
//  40  crc      u32 crc32 of bytes 0..40
//
// A file that fails its checks is never ignored: forgetting a vote could let this member
// vote twice in one term, so load() throws CorruptionError instead.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { CorruptionError } from './errors.js';
import * as io from './fsutil.js';

export interface HardState {
  term: number;
  /** Server id voted for in `term`, or null. */
  vote: number | null;
  commit: number;
}

const MAGIC = Buffer.from('KRLHST01', 'latin1');
const VERSION = 1;
const BYTES = 44;
const VOTE_NONE_RAW = Number.MAX_SAFE_INTEGER;
export const HARDSTATE_FILE = 'hardstate';

export class HardStateStore {
  readonly dir: string;
  readonly file: string;
  private readonly doFsync: boolean;
  private readonly warn: (msg: string) => void;
  private chain: Promise<void> = Promise.resolve();

  constructor(dir: string, opts: { fsync?: boolean; onWarn?: (msg: string) => void } = {}) {
    this.dir = path.resolve(dir);
    this.file = path.join(this.dir, HARDSTATE_FILE);
    this.doFsync = opts.fsync ?? true;
    this.warn = opts.onWarn ?? ((m) => process.emitWarning(m, 'KraalHardStateWarning'));
  }

  /** The saved state, or {term: 0, vote: null, commit: 0} if none was ever saved. */
  async load(): Promise<HardState> {
    await this.chain; // never race a save of this process
    const tmp = this.file + '.tmp';
    if (await fs.promises.rm(tmp).then(() => true, () => false)) {
      this.warn(`${tmp}: removed, left over from an interrupted save (the save was never acknowledged)`);
    }
    let buf: Buffer;
    try {
      buf = await fs.promises.readFile(this.file);
    } catch (e) {
      if (io.isErrno(e, 'ENOENT')) return { term: 0, vote: null, commit: 0 };
      throw e;
    }
    const bad = (what: string, offset: number) =>
      new CorruptionError(
        `Raft hard state ${this.file} is damaged at offset ${offset}: ${what}. ` +
          `It holds this member's current term and vote; guessing them could let it vote twice in a term. ` +
          `Restore the file from a backup, or remove this member's data directory and re-add it to the ensemble as a new member.`,
        this.file,
        offset,
      );
    if (buf.length !== BYTES) throw bad(`file is ${buf.length} bytes, expected ${BYTES}`, Math.min(buf.length, BYTES));
    if (!buf.subarray(0, 8).equals(MAGIC)) throw bad('bad magic', 0);
    const stored = buf.readUInt32BE(40);
    const actual = crc32(buf.subarray(0, 40));
    if (stored !== actual) throw bad(`CRC mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`, 40);
    const version = buf.readUInt32BE(8);
    if (version !== VERSION) throw bad(`unsupported version ${version}`, 8);
    const term = io.readU64(buf, 16);
    const voteRaw = io.readU64(buf, 24);
    const commit = io.readU64(buf, 32);
    if (term < 0 || voteRaw < 0 || commit < 0) throw bad('field out of range', 16);
    return { term, vote: voteRaw === VOTE_NONE_RAW ? null : voteRaw, commit };
  }

  /** Durably replaces the state (resolves after rename + directory fsync). Saves run one at a time, in call order. */
  save(hs: HardState): Promise<void> {
    for (const [k, v] of [
      ['term', hs.term],
      ['commit', hs.commit],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 0) return Promise.reject(new RangeError(`hard state ${k} ${v} is not a non-negative safe integer`));
    }
    if (hs.vote !== null && (!Number.isSafeInteger(hs.vote) || hs.vote < 0 || hs.vote === VOTE_NONE_RAW)) {
      return Promise.reject(new RangeError(`hard state vote ${hs.vote} is not a valid server id`));
    }
    const buf = Buffer.alloc(BYTES);
    MAGIC.copy(buf, 0);
    buf.writeUInt32BE(VERSION, 8);
    io.writeU64(buf, hs.term, 16);
    io.writeU64(buf, hs.vote ?? VOTE_NONE_RAW, 24);
    io.writeU64(buf, hs.commit, 32);
    buf.writeUInt32BE(crc32(buf.subarray(0, 40)), 40);
    const run = this.chain.then(() => this.replace(buf));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async replace(buf: Buffer): Promise<void> {
    await io.mkdirDurable(this.dir, this.doFsync);
    const tmp = this.file + '.tmp';
    const fd = await io.open(tmp, 'w');
    try {
      await io.writeAll(fd, buf, 0, buf.length, 0);
      if (this.doFsync) await io.fsync(fd);
    } finally {
      await io.close(fd);
    }
    await fs.promises.rename(tmp, this.file);
    if (this.doFsync) await io.fsyncDir(this.dir);
  }
}
