// The write path on the Raft log (issue #5): a command is proposed as a log entry on the leader,
// and every member applies the committed entries, in log order, to its own ZkDatabase.
//
// zxids are assigned when an entry is APPLIED, not when it is proposed: zxid = term << 32 |
// counter, the counter restarting at 1 with the first command of each new term. Every member
// sees the same entries with the same terms in the same order and starts from the same database,
// so every member assigns the same zxid to the same command without any coordination, and the
// epoch is the Raft term, which is what ZooKeeper's epoch is (one per leader election round).
// The leader's empty entry of a new term carries no command and uses no zxid.
//
// An entry's payload: [u8 format][u32 proposing member][u32 incarnation][u32 proposal number]
// [command with zxid 0]. Member, incarnation (random per process start, so proposals of an
// earlier run re-applied after a restart match nothing) and number route the apply result back
// to the connection that asked, on the member that proposed it; every other member applies the
// command for its side effects only (watches).
// A follower forwards its proposals to the leader (ZooKeeper's followers do the same with
// writes); the result comes back when the follower applies the entry. A proposal whose outcome
// the log cannot report (no leader, leadership lost, no entry within the timeout: see
// expireForwarded) fails with the error; it may still commit later, exactly like a ZooKeeper
// request whose connection was lost.

import { randomInt } from 'node:crypto';
import { Command } from '../zk/command.js';
import type { ZkDatabase } from '../zk/database.js';
import type { ApplyResult, Identity } from '../zk/types.js';
import { commandBytes, encodeCommandInto, encodedIdentities } from './pipeline.js';
import type { AppliedCallback } from './pipeline.js';
import { decodeFromBuffer } from '../jute/schema.js';

/** The part of a Raft member the write path uses (RaftNode implements it). */
export interface ReplicatedLog {
  readonly id: number;
  readonly isLeader: boolean;
  /** Leader only: resolves with the entry's index once it is committed and applied here (through onApply). */
  propose(data: Buffer): Promise<number>;
  /** Any member: hands data to the leader, fire and forget (throws when no leader is known). */
  forward(data: Buffer): void;
}

/** A committed log entry as the write path needs it. */
export interface CommittedEntry {
  index: number;
  term: number;
  data: Buffer | null;
}

export interface RaftWritePathHooks {
  /** Side effects of every applied command (watch triggers, session bookkeeping). */
  onApplied?: (result: ApplyResult, cmd: Command) => void;
  /** An entry could not be decoded: the logs differ from what this build writes; stop the member. */
  onFatal: (err: Error) => void;
}

const FORMAT = 1;
const HEADER_BYTES = 1 + 4 + 4 + 4;
const TWO_32 = 4294967296;

interface Waiting {
  done: AppliedCallback | undefined;
  failed: ((err: Error) => void) | undefined;
  /** When a forwarded proposal was sent (0: proposed on the leader, which reports its own outcome). */
  forwardedAt: number;
}

export class ForwardTimeoutError extends Error {
  override name = 'ForwardTimeoutError';
}

export class RaftWritePath {
  private nextProposal = 1;
  private readonly incarnation = randomInt(1, 0xffffffff);
  private readonly waiting = new Map<number, Waiting>();
  /** Reused argument of encodeCommandInto. */
  private readonly encodeCtx: { cmd: Command | undefined; ids: Buffer } = { cmd: undefined, ids: Buffer.alloc(0) };

  constructor(
    public db: ZkDatabase,
    private readonly log: ReplicatedLog,
    private readonly hooks: RaftWritePathHooks,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Proposals not yet applied or failed. */
  get outstanding(): number {
    return this.waiting.size;
  }

  /**
   * Proposes a command (the request body as the client sent it). `done` runs when it is applied
   * here; `failed` when its outcome is unknown (not the leader, leadership lost, timeout).
   */
  propose(op: number, sessionId: number, cxid: number, identities: readonly Identity[], body: Buffer | null, done?: AppliedCallback, failed?: (err: Error) => void): void {
    const proposal = this.nextProposal;
    this.nextProposal = proposal === 0xffffffff ? 1 : proposal + 1;
    const ids = encodedIdentities(identities);
    const size = commandBytes(ids, body);
    const data = Buffer.allocUnsafe(HEADER_BYTES + size);
    data.writeUInt8(FORMAT, 0);
    data.writeUInt32BE(this.log.id, 1);
    data.writeUInt32BE(this.incarnation, 5);
    data.writeUInt32BE(proposal, 9);
    const ctx = this.encodeCtx;
    ctx.cmd = { zxid: 0, time: this.clock(), sessionId, cxid, op, identities: identities as Identity[], body };
    ctx.ids = ids;
    try {
      encodeCommandInto(data, HEADER_BYTES, ctx);
    } finally {
      ctx.cmd = undefined;
    }
    if (this.log.isLeader) {
      this.waiting.set(proposal, { done, failed, forwardedAt: 0 });
      this.log.propose(data).catch((err: Error) => this.fail(proposal, err));
      return;
    }
    this.waiting.set(proposal, { done, failed, forwardedAt: this.clock() });
    try {
      this.log.forward(data);
    } catch (err) {
      this.fail(proposal, err as Error);
    }
  }

  private fail(proposal: number, err: Error): void {
    const w = this.waiting.get(proposal);
    if (w === undefined) return; // applied meanwhile
    this.waiting.delete(proposal);
    w.failed?.(err);
  }

  /** Fails forwarded proposals not applied within timeoutMs (call it now and then, e.g. every tick). */
  expireForwarded(now: number, timeoutMs: number): void {
    for (const [proposal, w] of this.waiting) {
      if (w.forwardedAt !== 0 && now - w.forwardedAt >= timeoutMs) {
        this.fail(proposal, new ForwardTimeoutError(`forwarded write not applied within ${timeoutMs} ms; it may still be`));
      }
    }
  }

  /** The zxid the next command applied in `term` gets. */
  nextZxid(term: number): number {
    const base = term * TWO_32;
    const last = this.db.lastZxid;
    if (last < base) return base + 1;
    if (last - base + 1 >= TWO_32) throw new Error(`zxid counter exhausted in term ${term}`);
    return last + 1;
  }

  /** Applies committed entries in order (RaftNode's onApply). */
  applyEntries(entries: readonly CommittedEntry[]): void {
    for (const e of entries) {
      const data = e.data;
      if (data === null || data.length === 0) continue; // a leader's empty entry
      let cmd: Command;
      let origin: number;
      let incarnation: number;
      let proposal: number;
      try {
        if (data.length < HEADER_BYTES || data.readUInt8(0) !== FORMAT) throw new Error(`unknown entry format ${data.length > 0 ? data.readUInt8(0) : 'empty'}`);
        origin = data.readUInt32BE(1);
        incarnation = data.readUInt32BE(5);
        proposal = data.readUInt32BE(9);
        cmd = decodeFromBuffer(Command, data.subarray(HEADER_BYTES));
      } catch (err) {
        this.hooks.onFatal(new Error(`log entry ${e.index} (term ${e.term}) is not a command this server can apply: ${(err as Error).message}`));
        return;
      }
      cmd.zxid = this.nextZxid(e.term);
      const result = this.db.apply(cmd);
      this.hooks.onApplied?.(result, cmd);
      if (origin !== this.log.id || incarnation !== this.incarnation) continue;
      const w = this.waiting.get(proposal);
      if (w === undefined) continue; // failed earlier (outcome was unknown), or proposed before a restart
      this.waiting.delete(proposal);
      w.done?.(result, cmd);
    }
  }
}
