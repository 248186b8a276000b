// Distributed counter (Curator DistributedAtomicLong, kazoo Counter): compare-and-set on the node's
// version. The node's data is JSON {"value": n, "recent": [[opId, value], ...]}: the ids of the last
// RECENT updates, so that an update whose reply was lost to a connection loss is recognised on
// re-read instead of being applied twice (exactly once unless more than RECENT other updates
// happened before the client got back). The version check makes a late duplicate impossible: the
// retry and the lost write expect the same version, so at most one of them succeeds.

import { randomUUID } from 'node:crypto';
import { Err } from '../jute/constants.js';
import type { ZooKeeperClient } from '../client/client.js';
import { codeOf, isConnectionLoss, retry, waitConnected } from './util.js';

const RECENT = 64;

interface CounterData {
  value: number;
  recent: [string, number][];
}

function parse(b: Buffer | null): CounterData {
  if (b === null || b.length === 0) return { value: 0, recent: [] };
  const s = b.toString('utf8');
  if (/^-?\d+$/.test(s)) return { value: Number(s), recent: [] };
  const o = JSON.parse(s) as CounterData;
  return { value: Number(o.value) || 0, recent: Array.isArray(o.recent) ? o.recent : [] };
}

export class DistributedCounter {
  constructor(
    readonly client: ZooKeeperClient,
    readonly path: string,
    readonly initial = 0,
  ) {}

  private async ensure(): Promise<void> {
    await retry(this.client, async () => {
      if ((await this.client.exists(this.path)) !== null) return;
      const parent = this.path.slice(0, this.path.lastIndexOf('/'));
      if (parent !== '') await this.client.mkdirp(parent);
      try {
        await this.client.create(this.path, JSON.stringify({ value: this.initial, recent: [] }));
      } catch (e) {
        if (codeOf(e) !== Err.NodeExists) throw e;
      }
    });
  }

  async get(): Promise<number> {
    await this.ensure();
    const { data } = await retry(this.client, () => this.client.getData(this.path));
    return parse(data).value;
  }

  /** Adds delta atomically; resolves with the new value. */
  async add(delta: number): Promise<number> {
    await this.ensure();
    const opId = randomUUID();
    let lost = false;
    for (;;) {
      if (lost) await retry(this.client, () => this.client.sync(this.path)).catch(() => undefined);
      const { data, stat } = await retry(this.client, () => this.client.getData(this.path));
      const cur = parse(data);
      if (lost) {
        // A write whose reply was lost may be applied late (after this re-read): keep looking for
        // it on every later round, a BadVersion may be caused by it.
        const mine = cur.recent.find((r) => r[0] === opId);
        if (mine !== undefined) return mine[1];
      }
      const value = cur.value + delta;
      const recent = [...cur.recent, [opId, value] as [string, number]].slice(-RECENT);
      try {
        await this.client.setData(this.path, JSON.stringify({ value, recent }), stat.version);
        return value;
      } catch (e) {
        if (codeOf(e) === Err.BadVersion) continue;
        if (!isConnectionLoss(e)) throw e;
        lost = true;
        await waitConnected(this.client);
      }
    }
  }

  increment(): Promise<number> {
    return this.add(1);
  }

  decrement(): Promise<number> {
    return this.add(-1);
  }
}
