// Locks: a mutex (Curator InterProcessMutex / kazoo Lock without re-entrancy) and a read-write lock,
// both on the classic recipe: an ephemeral sequential node per contender, ordered by sequence
// number; a contender waits for the deletion of the node it depends on (no herd effect).
//
// Connection loss: a waiting contender keeps its node (its session lives on) and its watch is
// re-armed on reconnect; a holder keeps the lock while the session is alive but is told
// 'suspended' (the lock may be lost) and then 'reconnected' or 'lost'. Session expiry deletes the
// node, so the next contender acquires the lock; the old holder gets 'lost' and isHeld = false.

import { EventEmitter } from 'node:events';
import { Err } from '../jute/constants.js';
import type { ZooKeeperClient } from '../client/client.js';
import { ZooKeeperError } from '../client/errors.js';
import type { StateChange } from '../client/types.js';
import { codeOf, createProtected, deleteQuietly, retry, sequenceOf, sessionEnd, watchSignal } from './util.js';

type Decision = { acquired: true } | { acquired: false; watch: string };
type Decide = (sorted: string[], index: number) => Decision;

const LOCK_NODE = /(lock|read|write)-\d{10}$/;

/** The common machinery of every lock kind. Events: 'acquired', 'suspended', 'reconnected', 'lost', 'released'. */
export class LockBase extends EventEmitter {
  private node: string | undefined;
  private held = false;
  private readonly onState = (c: StateChange) => this.stateChanged(c);

  constructor(
    readonly client: ZooKeeperClient,
    readonly dir: string,
    private readonly nodeName: string,
    private readonly decide: Decide,
  ) {
    super();
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** The lock node while held or waiting. */
  get nodePath(): string | undefined {
    return this.node;
  }

  /**
   * Waits for the lock. Resolves true once held, false when `timeoutMs` passed first. Rejects with
   * SessionExpired if the session ends meanwhile (its node is then gone).
   */
  async acquire(timeoutMs?: number): Promise<boolean> {
    if (this.node !== undefined) throw new Error('lock already held or being acquired by this instance');
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    const node = await createProtected(this.client, this.dir, this.nodeName);
    this.node = node;
    const name = node.slice(this.dir.length + 1);
    const end = sessionEnd(this.client);
    try {
      for (;;) {
        const children = await retry(this.client, () => this.client.getChildren(this.dir));
        const sorted = children.filter((c) => LOCK_NODE.test(c)).sort((a, b) => sequenceOf(a) - sequenceOf(b));
        const idx = sorted.indexOf(name);
        if (idx < 0) throw new ZooKeeperError(Err.SessionExpired, 'lock', node); // our ephemeral vanished
        const d = this.decide(sorted, idx);
        if (d.acquired) {
          this.held = true;
          this.client.on('state', this.onState);
          this.emit('acquired');
          return true;
        }
        const sig = watchSignal();
        const stat = await retry(this.client, () => this.client.exists(`${this.dir}/${d.watch}`, sig.cb));
        if (stat === null) continue;
        const left = deadline - Date.now();
        if (left <= 0) {
          await this.abandon();
          return false;
        }
        let timer: NodeJS.Timeout | undefined;
        if (left !== Infinity) timer = setTimeout(sig.wake, left);
        try {
          const ev = await Promise.race([sig.fired, end.promise]);
          if (ev === undefined && Date.now() >= deadline) {
            await this.abandon();
            return false;
          }
        } finally {
          if (timer !== undefined) clearTimeout(timer);
        }
      }
    } catch (e) {
      await this.abandon().catch(() => undefined);
      throw e;
    } finally {
      end.dispose();
    }
  }

  private async abandon(): Promise<void> {
    const n = this.node;
    this.node = undefined;
    if (n !== undefined && this.client.isConnected) await deleteQuietly(this.client, n).catch(() => undefined);
  }

  /** Releases the lock (deletes the node; retried across a connection loss). */
  async release(): Promise<void> {
    const n = this.node;
    if (n === undefined) return;
    this.client.off('state', this.onState);
    const wasHeld = this.held;
    this.held = false;
    this.node = undefined;
    try {
      await deleteQuietly(this.client, n);
    } catch (e) {
      // With the session gone the node is gone too.
      const c = codeOf(e);
      if (c !== Err.SessionExpired && c !== -999) throw e;
    }
    if (wasHeld) this.emit('released');
  }

  private stateChanged(c: StateChange): void {
    if (!this.held) return;
    if (c.state === 'DISCONNECTED') this.emit('suspended');
    else if (c.state === 'CONNECTED' || c.state === 'CONNECTED_READ_ONLY') this.emit('reconnected');
    else if (c.state === 'EXPIRED' || c.state === 'CLOSED' || c.state === 'AUTH_FAILED') {
      this.held = false;
      this.node = undefined;
      this.client.off('state', this.onState);
      this.emit('lost');
    }
  }
}

/** Mutual exclusion: the lowest sequence number holds the lock; each waiter watches its predecessor. */
export class Mutex extends LockBase {
  constructor(client: ZooKeeperClient, dir: string) {
    super(client, dir, 'lock-', (sorted, i) => (i === 0 ? { acquired: true } : { acquired: false, watch: sorted[i - 1]! }));
  }
}

/** Read-write lock: readers share, a writer excludes everyone; FIFO by sequence number. */
export class ReadWriteLock {
  readonly readLock: LockBase;
  readonly writeLock: LockBase;

  constructor(client: ZooKeeperClient, dir: string) {
    this.writeLock = new LockBase(client, dir, 'write-', (sorted, i) => (i === 0 ? { acquired: true } : { acquired: false, watch: sorted[i - 1]! }));
    this.readLock = new LockBase(client, dir, 'read-', (sorted, i) => {
      for (let j = i - 1; j >= 0; j--) if (sorted[j]!.includes('write-')) return { acquired: false, watch: sorted[j]! };
      return { acquired: true };
    });
  }
}
