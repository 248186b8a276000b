// Barriers (kazoo Barrier / DoubleBarrier, Curator DistributedBarrier / DistributedDoubleBarrier).

import { randomUUID } from 'node:crypto';
import { CreateMode, Err } from '../jute/constants.js';
import type { ZooKeeperClient } from '../client/client.js';
import { codeOf, deleteQuietly, retry, sessionEnd, waitConnected, watchSignal, isConnectionLoss } from './util.js';

async function waitSig(client: ZooKeeperClient, fired: Promise<unknown>, wake: () => void, deadline: number): Promise<boolean> {
  const left = deadline - Date.now();
  if (left <= 0) return false;
  const end = sessionEnd(client);
  const t = left === Infinity ? undefined : setTimeout(wake, left);
  try {
    const ev = await Promise.race([fired, end.promise]);
    return ev !== undefined || Date.now() < deadline;
  } finally {
    if (t !== undefined) clearTimeout(t);
    end.dispose();
  }
}

/** A barrier node: while it exists, wait() blocks. */
export class Barrier {
  constructor(
    readonly client: ZooKeeperClient,
    readonly path: string,
  ) {}

  /** Raises the barrier (creates the node and its parents). */
  async set(): Promise<void> {
    await retry(this.client, () => this.client.mkdirp(this.path));
  }

  /** Lifts the barrier: every waiter proceeds. */
  async remove(): Promise<void> {
    await deleteQuietly(this.client, this.path);
  }

  /** Resolves true once the barrier is gone, false after timeoutMs. */
  async wait(timeoutMs?: number): Promise<boolean> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      const sig = watchSignal();
      const stat = await retry(this.client, () => this.client.exists(this.path, sig.cb));
      if (stat === null) return true;
      if (!(await waitSig(this.client, sig.fired, sig.wake, deadline))) return false;
    }
  }
}

/**
 * Double barrier: enter() blocks until `count` participants have entered; leave() blocks until all
 * of them have left. Participants are ephemeral nodes, so a participant whose session expires
 * counts as having left.
 */
export class DoubleBarrier {
  readonly node: string;
  private readonly ready: string;

  constructor(
    readonly client: ZooKeeperClient,
    readonly path: string,
    readonly count: number,
    id: string = randomUUID(),
  ) {
    this.node = `${path}/${id}`;
    this.ready = `${path}/ready`;
  }

  async enter(timeoutMs?: number): Promise<boolean> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    await retry(this.client, () => this.client.mkdirp(this.path));
    // Ephemeral, named by a unique id: NodeExists after a connection loss means our create worked.
    await retry(this.client, async () => {
      try {
        await this.client.create(this.node, null, { mode: CreateMode.EPHEMERAL });
      } catch (e) {
        if (codeOf(e) !== Err.NodeExists) throw e;
      }
    });
    for (;;) {
      const sig = watchSignal();
      const stat = await retry(this.client, () => this.client.exists(this.ready, sig.cb));
      if (stat !== null) return true;
      const children = (await retry(this.client, () => this.client.getChildren(this.path))).filter((c) => c !== 'ready');
      if (children.length >= this.count) {
        await retry(this.client, async () => {
          try {
            await this.client.create(this.ready);
          } catch (e) {
            if (codeOf(e) !== Err.NodeExists) throw e;
          }
        });
        return true;
      }
      if (!(await waitSig(this.client, sig.fired, sig.wake, deadline))) {
        await deleteQuietly(this.client, this.node).catch(() => undefined);
        return false;
      }
    }
  }

  async leave(timeoutMs?: number): Promise<boolean> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    const me = this.node.slice(this.path.length + 1);
    for (;;) {
      const children = (await retry(this.client, () => this.client.getChildren(this.path))).filter((c) => c !== 'ready').sort();
      if (children.length === 0) {
        await deleteQuietly(this.client, this.ready);
        return true;
      }
      const present = children.includes(me);
      if (children.length === 1 && present) {
        await deleteQuietly(this.client, this.node);
        await deleteQuietly(this.client, this.ready);
        return true;
      }
      let watchOn: string;
      if (present && children[0] === me) watchOn = children[children.length - 1]!; // lowest waits for the highest
      else {
        if (present) await deleteQuietly(this.client, this.node);
        watchOn = children[0] === me ? children[1]! : children[0]!;
      }
      const sig = watchSignal();
      let stat;
      try {
        stat = await this.client.exists(`${this.path}/${watchOn}`, sig.cb);
      } catch (e) {
        if (!isConnectionLoss(e)) throw e;
        await waitConnected(this.client);
        continue;
      }
      if (stat === null) continue;
      if (!(await waitSig(this.client, sig.fired, sig.wake, deadline))) return false;
    }
  }
}
