// Leader election as a latch (Curator LeaderLatch, kazoo Election): every participant owns an
// ephemeral sequential node; the lowest one leads; the others watch their predecessor.
//
// Leadership is given up as soon as the connection is lost (the session may be expiring: Curator's
// "standard" policy) and taken back after the session is re-attached if the node is still the
// lowest. Session expiry ends the latch: leadership false, 'closed' emitted, the next participant
// is elected by the server deleting the node.

import { EventEmitter } from 'node:events';
import type { ZooKeeperClient } from '../client/client.js';
import { AsyncQueue } from '../client/deque.js';
import type { StateChange } from '../client/types.js';
import { createProtected, deleteQuietly, isConnectionLoss, sequenceOf } from './util.js';

const LATCH_NODE = /latch-\d{10}$/;

/** Events: 'isLeader', 'notLeader', 'closed'. */
export class LeaderLatch extends EventEmitter {
  private node: string | undefined;
  private leader = false;
  private running = false;
  private checking = false;
  private recheck = false;
  private readonly queues = new Set<AsyncQueue<boolean>>();
  private readonly onState = (c: StateChange) => this.stateChanged(c);

  constructor(
    readonly client: ZooKeeperClient,
    readonly dir: string,
    /** Stored as the node's data, readable with participants(). */
    readonly id = '',
  ) {
    super();
  }

  get isLeader(): boolean {
    return this.leader;
  }

  get nodePath(): string | undefined {
    return this.node;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error('latch already started');
    this.running = true;
    this.client.on('state', this.onState);
    this.node = await createProtected(this.client, this.dir, 'latch-', this.id);
    await this.check();
  }

  /** Leadership changes (true = became leader) as an async iterator; ends when the latch closes. */
  leadership(): AsyncIterableIterator<boolean> {
    const q: AsyncQueue<boolean> = new AsyncQueue(() => this.queues.delete(q));
    if (!this.running) q.end();
    else this.queues.add(q);
    return q;
  }

  /** Resolves when this participant leads; false after timeoutMs or if the latch closes first. */
  waitForLeadership(timeoutMs = 2 ** 31 - 1): Promise<boolean> {
    if (this.leader) return Promise.resolve(true);
    if (!this.running) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(t);
        this.off('isLeader', yes);
        this.off('closed', no);
        resolve(v);
      };
      const yes = () => done(true);
      const no = () => done(false);
      const t = setTimeout(no, timeoutMs);
      this.on('isLeader', yes);
      this.on('closed', no);
    });
  }

  /** Participants' ids in election order (the leader first). */
  async participants(): Promise<string[]> {
    const children = (await this.client.getChildren(this.dir)).filter((c) => LATCH_NODE.test(c)).sort((a, b) => sequenceOf(a) - sequenceOf(b));
    const out: string[] = [];
    for (const c of children) {
      try {
        const { data } = await this.client.getData(`${this.dir}/${c}`);
        out.push(data?.toString('utf8') ?? '');
      } catch {
        /* left meanwhile */
      }
    }
    return out;
  }

  /** Leaves the election (deletes the node; the next participant becomes leader). */
  async close(): Promise<void> {
    if (!this.running) return;
    const n = this.node;
    this.finish();
    if (n !== undefined && this.client.isConnected) await deleteQuietly(this.client, n).catch(() => undefined);
  }

  private finish(): void {
    this.running = false;
    this.node = undefined;
    this.client.off('state', this.onState);
    this.setLeader(false);
    for (const q of this.queues) q.end();
    this.queues.clear();
    this.emit('closed');
  }

  private setLeader(v: boolean): void {
    if (this.leader === v) return;
    this.leader = v;
    for (const q of this.queues) q.push(v);
    this.emit(v ? 'isLeader' : 'notLeader');
  }

  private stateChanged(c: StateChange): void {
    if (!this.running) return;
    if (c.state === 'DISCONNECTED') this.setLeader(false);
    else if (c.state === 'CONNECTED' || c.state === 'CONNECTED_READ_ONLY') void this.check();
    else if (c.state === 'EXPIRED' || c.state === 'CLOSED' || c.state === 'AUTH_FAILED') this.finish();
  }

  private async check(): Promise<void> {
    if (this.checking) {
      this.recheck = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.recheck = false;
        await this.checkOnce();
      } while (this.recheck && this.running);
    } catch (e) {
      // Connection loss: the reconnect triggers a new check. Anything else ends in expiry/close.
      if (!isConnectionLoss(e) && this.running && this.client.isConnected) this.recheck = true;
    } finally {
      this.checking = false;
    }
    if (this.recheck && this.running && this.client.isConnected) void this.check();
  }

  private async checkOnce(): Promise<void> {
    if (!this.running || !this.client.isConnected) return;
    const children = await this.client.getChildren(this.dir);
    const sorted = children.filter((c) => LATCH_NODE.test(c)).sort((a, b) => sequenceOf(a) - sequenceOf(b));
    const name = this.node?.slice(this.dir.length + 1);
    const idx = name === undefined ? -1 : sorted.indexOf(name);
    if (idx < 0) {
      // Our node was deleted by someone else while the session lives: join again.
      this.setLeader(false);
      this.node = await createProtected(this.client, this.dir, 'latch-', this.id);
      this.recheck = true;
      return;
    }
    if (idx === 0) {
      this.setLeader(true);
      return;
    }
    this.setLeader(false);
    const stat = await this.client.exists(`${this.dir}/${sorted[idx - 1]}`, () => void this.check());
    if (stat === null) this.recheck = true;
  }
}
