// Distributed FIFO queue (Curator SimpleDistributedQueue / kazoo Queue): items are persistent
// sequential nodes; a consumer takes the lowest by reading then deleting it; a lost race (NoNode)
// moves on to the next item.
//
// Delivery: put() is exactly once (protected names find a create whose reply was lost). take() is
// exactly once without connection loss; if the connection drops while the delete is in flight and
// the item is then found gone, it is returned (it was taken by us, or concurrently by another
// consumer): at-least-once, never lost.

import { CreateMode, Err } from '../jute/constants.js';
import type { ZooKeeperClient } from '../client/client.js';
import type { DataInput } from '../client/types.js';
import { codeOf, createProtected, isConnectionLoss, retry, sequenceOf, sessionEnd, waitConnected, watchSignal } from './util.js';

const ENTRY = /entry-\d{10}$/;

export class DistributedQueue {
  constructor(
    readonly client: ZooKeeperClient,
    readonly dir: string,
  ) {}

  /** Appends an item; resolves with its node path. */
  put(data: DataInput): Promise<string> {
    return createProtected(this.client, this.dir, 'entry-', data, CreateMode.PERSISTENT_SEQUENTIAL);
  }

  async size(): Promise<number> {
    try {
      return (await retry(this.client, () => this.client.getChildren(this.dir))).filter((c) => ENTRY.test(c)).length;
    } catch (e) {
      if (codeOf(e) === Err.NoNode) return 0;
      throw e;
    }
  }

  /** Takes the head item, or null when the queue is empty. */
  async poll(): Promise<Buffer | null> {
    const r = await this.tryTake(undefined);
    return r.taken ? r.data : null;
  }

  /** Waits for an item; null after timeoutMs. */
  async take(timeoutMs?: number): Promise<Buffer | null> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      const sig = watchSignal();
      const r = await this.tryTake(sig.cb);
      if (r.taken) return r.data;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      const end = sessionEnd(this.client);
      const t = left === Infinity ? undefined : setTimeout(sig.wake, left);
      try {
        await Promise.race([sig.fired, end.promise]);
      } finally {
        if (t !== undefined) clearTimeout(t);
        end.dispose();
      }
    }
  }

  private async tryTake(watch: ((e: any) => void) | undefined): Promise<{ taken: true; data: Buffer | null } | { taken: false }> {
    let children: string[];
    try {
      children = await retry(this.client, () => this.client.getChildren(this.dir, watch));
    } catch (e) {
      if (codeOf(e) !== Err.NoNode) throw e;
      await retry(this.client, () => this.client.mkdirp(this.dir));
      return { taken: false };
    }
    const sorted = children.filter((c) => ENTRY.test(c)).sort((a, b) => sequenceOf(a) - sequenceOf(b));
    for (const c of sorted) {
      const p = `${this.dir}/${c}`;
      let data: Buffer | null;
      try {
        data = (await retry(this.client, () => this.client.getData(p))).data;
      } catch (e) {
        if (codeOf(e) === Err.NoNode) continue;
        throw e;
      }
      try {
        await this.client.delete(p);
        return { taken: true, data };
      } catch (e) {
        if (codeOf(e) === Err.NoNode) continue;
        if (!isConnectionLoss(e)) throw e;
        await waitConnected(this.client);
        if ((await retry(this.client, () => this.client.exists(p))) === null) return { taken: true, data };
        // Still there: our delete did not happen; try it again from the top.
        return this.tryTake(watch);
      }
    }
    return { taken: false };
  }
}
