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
import type { ZkDatabase } from '../zk/database.js';
import type { ApplyResult, Identity } from '../zk/types.js';
import type { WriteAheadLog } from '../storage/wal.js';

export type AppliedCallback = (result: ApplyResult, cmd: Command) => void;

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
  private readonly writer = new Writer(1024);
  private stopped = false;
  /** Commands proposed but not yet applied. */
  outstanding = 0;

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
    const cmd: Command = {
      zxid: this.nextZxid(),
      time: this.clock(),
      sessionId,
      cxid,
      op,
      identities: identities as Identity[],
      body,
    };
    this.writer.reset();
    Command.encode(this.writer, cmd);
    const payload = this.writer.toBuffer();
    this.wal.append({ index: cmd.zxid, term: this.epoch, payload });
    // The body view points into the socket's read buffer; re-point it at the logged copy so
    // the apply step does not depend on that buffer staying intact.
    cmd.body = bodyView(payload, body);
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
    this.wal.flush().then(
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

/** The body's bytes sit at the end of the encoded command: buffer length + bytes. */
function bodyView(payload: Buffer, body: Buffer | null): Buffer | null {
  if (body === null) return null;
  return payload.subarray(payload.length - body.length);
}
