// Counting semaphore (Curator InterProcessSemaphoreV2, kazoo Semaphore): every lease request is an
// ephemeral sequential node; a request holds a lease when fewer than `maxLeases` nodes precede it.
// Because new nodes always sort last, the number of predecessors only shrinks, so at most
// maxLeases requests hold at once. Waiters watch the child list. An expired holder's node is
// deleted by the server, which frees its lease.

import type { ZooKeeperClient } from '../client/client.js';
import { Err } from '../jute/constants.js';
import { ZooKeeperError } from '../client/errors.js';
import { codeOf, createProtected, deleteQuietly, retry, sequenceOf, sessionEnd, watchSignal } from './util.js';

const LEASE_NODE = /lease-\d{10}$/;

export class Lease {
  private released = false;
  constructor(
    readonly semaphore: Semaphore,
    readonly path: string,
  ) {}

  /** False after release() or once the session ended. */
  get isValid(): boolean {
    return !this.released && this.semaphore.client.isConnected;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      await deleteQuietly(this.semaphore.client, this.path);
    } catch (e) {
      const c = codeOf(e);
      if (c !== Err.SessionExpired && c !== -999) throw e;
    }
  }
}

export class Semaphore {
  constructor(
    readonly client: ZooKeeperClient,
    readonly dir: string,
    readonly maxLeases: number,
  ) {
    if (!(maxLeases >= 1)) throw new Error('maxLeases must be >= 1');
  }

  /** Waits for a lease; null after timeoutMs. Rejects with SessionExpired if the session ends. */
  async acquire(timeoutMs?: number): Promise<Lease | null> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    const node = await createProtected(this.client, this.dir, 'lease-');
    const name = node.slice(this.dir.length + 1);
    const end = sessionEnd(this.client);
    try {
      for (;;) {
        const sig = watchSignal();
        const children = await retry(this.client, () => this.client.getChildren(this.dir, sig.cb));
        const sorted = children.filter((c) => LEASE_NODE.test(c)).sort((a, b) => sequenceOf(a) - sequenceOf(b));
        const idx = sorted.indexOf(name);
        if (idx < 0) throw new ZooKeeperError(Err.SessionExpired, 'semaphore', node);
        if (idx < this.maxLeases) return new Lease(this, node);
        const left = deadline - Date.now();
        if (left <= 0) {
          await deleteQuietly(this.client, node).catch(() => undefined);
          return null;
        }
        const timer = left === Infinity ? undefined : setTimeout(sig.wake, left);
        try {
          await Promise.race([sig.fired, end.promise]);
        } finally {
          if (timer !== undefined) clearTimeout(timer);
        }
      }
    } catch (e) {
      if (this.client.isConnected) await deleteQuietly(this.client, node).catch(() => undefined);
      throw e;
    } finally {
      end.dispose();
    }
  }

  /** Current number of lease nodes (holders and waiters). */
  async participants(): Promise<number> {
    return (await this.client.getChildren(this.dir)).filter((c) => LEASE_NODE.test(c)).length;
  }
}
