// The single write path: propose → append to the WAL → one fdatasync per batch → apply in zxid order → reply.
//
// Group commit: everything proposed while an fsync is running is written and made
// durable by the next single write+fdatasync, so N concurrent writers share one
// fsync instead of paying N. The first proposal of an idle period waits only until
// the end of the current event-loop turn (setImmediate), so every request decoded
// from the same socket reads joins its batch.
//
// When Raft replicates this log, `propose` will hand the command to the Raft core
// instead, and `onCommitted` will be driven by its committed entries: the apply and
// reply half below stays as it is.

import { Command } from '../zk/command.js';
import { Writer } from '../jute/codec.js';
import { Id } from '../jute/records.js';
import type { ZkDatabase } from '../zk/database.js';
import type { ApplyResult, Identity } from '../zk/types.js';
import type { WriteAheadLog } from '../storage/wal.js';

export type AppliedCallback = (result: ApplyResult, cmd: Command) => void;

/**
 * A small group commit is written inline (WalOptions.inlineSyncBytes: one disk write on the
 * event loop, no thread-pool round trip) only after this long with a single session proposing
 * writes. With several writers the async write lets their next requests be read and batched
 * meanwhile, which matters more than the round trip. Readers do not count: a read arriving
 * during an inline write waits for it (~0.1 ms), which costs less than two thread-pool hops on
 * the write that, say, a crowd of watchers is waiting for.
 */
const SOLO_WRITER_MS = 5;

interface Pending {
  cmd: Command;
  done: AppliedCallback | undefined;
}

export interface PipelineHooks {
  /** Called after each batch is applied, with the commands in it (snapshots, metrics). */
  afterBatch?: (applied: number, fsyncMs: number) => void;
  /** An fsync failed: the data may not be durable, so the server must stop (as ZooKeeper does). */
  onFatal: (err: Error) => void;
  /** Runs an applied command's side effects (watch dispatch) for commands with no local caller. */
  onApplied?: (result: ApplyResult, cmd: Command) => void;
}

export class CommitPipeline {
  private queued: Pending[] = [];
  private flushing = false;
  private scheduled = false;
  private lastProposedZxid: number;
  private stopped = false;
  /** Reused argument of encodeCommandInto (appendWith calls it synchronously). */
  private readonly encodeCtx: { cmd: Command | undefined; ids: Buffer } = { cmd: undefined, ids: NO_IDENTITIES };
  /** Commands proposed but not yet applied. */
  outstanding = 0;
  /** The session that proposed last, and when a different one proposed before it (SOLO_WRITER_MS). */
  private lastProposer = -1;
  private proposerSwitchAt = 0;

  constructor(
    private readonly db: ZkDatabase,
    private readonly wal: WriteAheadLog,
    private readonly epoch: number,
    private readonly hooks: PipelineHooks,
    private readonly clock: () => number = Date.now,
  ) {
    this.lastProposedZxid = db.lastZxid;
  }

  get lastZxid(): number {
    return this.lastProposedZxid;
  }

  private nextZxid(): number {
    const epochBase = this.epoch * 4294967296;
    const next = this.lastProposedZxid < epochBase ? epochBase + 1 : this.lastProposedZxid + 1;
    if (next - epochBase >= 4294967296) throw new Error('zxid counter exhausted for this epoch');
    this.lastProposedZxid = next;
    return next;
  }

  /**
   * Logs a command and calls `done` once it is durable and applied.
   * `body` is the request record as the client sent it; it is copied into the log.
   */
  propose(op: number, sessionId: number, cxid: number, identities: readonly Identity[], body: Buffer | null, done?: AppliedCallback): number {
    if (this.stopped) throw new Error('server is shutting down');
    if (sessionId !== this.lastProposer) {
      this.lastProposer = sessionId;
      this.proposerSwitchAt = performance.now();
    }
    const cmd: Command = {
      zxid: this.nextZxid(),
      time: this.clock(),
      sessionId,
      cxid,
      op,
      identities: identities as Identity[],
      body,
    };
    // Encoded straight into the log's batch buffer (see encodeCommandInto). The body stays a
    // view of the request frame: frames are never reused or overwritten (each socket read is a
    // fresh buffer, FrameReader only concatenates into new ones), and the apply step copies
    // whatever it keeps.
    const ids = encodedIdentities(cmd.identities);
    const ctx = this.encodeCtx;
    ctx.cmd = cmd;
    ctx.ids = ids;
    try {
      this.wal.appendWith(cmd.zxid, this.epoch, commandBytes(ids, body), encodeCommandInto, ctx);
    } finally {
      ctx.cmd = undefined;
    }
    this.queued.push({ cmd, done });
    this.outstanding++;
    this.schedule();
    return cmd.zxid;
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.flushing || this.queued.length === 0) return;
    const batch = this.queued;
    this.queued = [];
    this.flushing = true;
    const t0 = performance.now();
    this.wal.flush(performance.now() - this.proposerSwitchAt > SOLO_WRITER_MS).then(
      () => {
        const fsyncMs = performance.now() - t0;
        this.flushing = false;
        this.applyBatch(batch);
        this.hooks.afterBatch?.(batch.length, fsyncMs);
        if (this.queued.length > 0) this.flush();
      },
      (err: Error) => {
        this.stopped = true;
        this.hooks.onFatal(err);
      },
    );
  }

  private applyBatch(batch: Pending[]): void {
    for (const p of batch) {
      const result = this.db.apply(p.cmd);
      this.outstanding--;
      this.hooks.onApplied?.(result, p.cmd);
      p.done?.(result, p.cmd);
    }
  }

  /** Resolves when nothing is queued or in flight (used at shutdown). */
  async drain(): Promise<void> {
    while (this.queued.length > 0 || this.flushing || this.scheduled) {
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  stop(): void {
    this.stopped = true;
  }
}

// ---- Command encoding, specialised ---------------------------------------------------------
// Byte for byte what Command.encode (the generic record codec, zk/command.ts) writes, checked by
// test/unit/pipeline-encode.test.ts. The identities vector is encoded with the Id record's own
// codec and cached per identities array (a connection's list only changes on addauth).

const TWO_32 = 4294967296;
/** zxid, time, sessionId (longs), cxid, op (ints). */
const COMMAND_FIXED_BYTES = 8 + 8 + 8 + 4 + 4;

interface IdentityCache {
  items: readonly Identity[];
  bytes: Buffer;
}
const identityCache = new WeakMap<readonly Identity[], IdentityCache>();
const NO_IDENTITIES = Buffer.from([0, 0, 0, 0]); // vector of length 0

/** The `identities` vector as Command.encode writes it. */
export function encodedIdentities(ids: readonly Identity[]): Buffer {
  if (ids.length === 0) return NO_IDENTITIES;
  const c = identityCache.get(ids);
  if (c !== undefined && c.items.length === ids.length) {
    let same = true;
    for (let i = 0; i < ids.length; i++) {
      if (c.items[i] !== ids[i]) {
        same = false;
        break;
      }
    }
    if (same) return c.bytes;
  }
  const w = new Writer(64);
  w.int(ids.length);
  for (const id of ids) Id.encode(w, id);
  const bytes = w.toBuffer();
  identityCache.set(ids, { items: ids.slice(), bytes });
  return bytes;
}

/** Encoded size of a command with these encoded identities and this body. */
export function commandBytes(ids: Buffer, body: Buffer | null): number {
  return COMMAND_FIXED_BYTES + ids.length + 4 + (body === null ? 0 : body.length);
}

function putLong(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  buf.writeInt32BE(hi | 0, at);
  buf.writeUInt32BE((v - hi * TWO_32) >>> 0, at + 4);
}

/** Writes the command (identities already encoded) at buf[at, at + commandBytes(...)). */
export function encodeCommandInto(buf: Buffer, at: number, ctx: { cmd: Command | undefined; ids: Buffer }): void {
  const cmd = ctx.cmd!;
  const ids = ctx.ids;
  putLong(buf, at, cmd.zxid);
  putLong(buf, at + 8, cmd.time);
  putLong(buf, at + 16, cmd.sessionId);
  buf.writeInt32BE(cmd.cxid | 0, at + 24);
  buf.writeInt32BE(cmd.op | 0, at + 28);
  let p = at + COMMAND_FIXED_BYTES;
  buf.set(ids, p);
  p += ids.length;
  const body = cmd.body;
  if (body === null) {
    buf.writeInt32BE(-1, p);
  } else {
    buf.writeInt32BE(body.length, p);
    buf.set(body, p + 4);
  }
}
