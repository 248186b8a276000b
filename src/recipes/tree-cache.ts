// Tree cache (Curator CuratorCache/TreeCache, kazoo TreeCache): an in-memory mirror of a subtree,
// kept current by one persistent recursive watch on its root.
//
// Every NodeCreated / NodeDataChanged event re-reads that node; NodeDeleted drops the node and its
// descendants. A read result is applied only if no later event touched the node (or deleted an
// ancestor) since the read was issued, so out-of-date replies never overwrite newer state.
// Persistent watches are re-armed after a reconnect without catch-up events, so after every
// re-attach the cache walks the tree again and reconciles (adds, updates, removals are reported
// as events like any other change). Session expiry ends the cache ('closed').

import { EventEmitter } from 'node:events';
import { Err, EventType } from '../jute/constants.js';
import type { ZooKeeperClient } from '../client/client.js';
import { AsyncQueue } from '../client/deque.js';
import type { PersistentWatch } from '../client/watches.js';
import type { Stat, StateChange, WatchedEvent } from '../client/types.js';
import { codeOf, isConnectionLoss } from './util.js';

export interface TreeNode {
  path: string;
  data: Buffer | null;
  stat: Stat;
}

export type TreeCacheEvent =
  | { type: 'added' | 'updated'; path: string; node: TreeNode }
  | { type: 'removed'; path: string; node: TreeNode }
  | { type: 'initialized' }
  | { type: 'resynced' }
  | { type: 'closed'; error?: unknown };

export class TreeCache extends EventEmitter {
  private readonly nodes = new Map<string, TreeNode>();
  private readonly childIndex = new Map<string, Set<string>>();
  private readonly lastEvent = new Map<string, number>();
  private readonly deletedAt = new Map<string, number>();
  private seq = 0;
  private reads = 0;
  private watch: PersistentWatch | undefined;
  private running = false;
  private needResync = false;
  private resyncing: Promise<void> | undefined;
  private readonly queues = new Set<AsyncQueue<TreeCacheEvent>>();
  private readonly onState = (c: StateChange) => this.stateChanged(c);

  constructor(
    readonly client: ZooKeeperClient,
    readonly root: string,
  ) {
    super();
  }

  /** Starts watching and resolves after the initial load ('initialized'). */
  async start(): Promise<void> {
    if (this.running) throw new Error('tree cache already started');
    this.running = true;
    this.client.on('state', this.onState);
    this.watch = await this.client.addWatch(this.root, 'recursive', (e) => this.onEvent(e));
    void this.drainWatch(this.watch);
    await this.walk();
    this.publish({ type: 'initialized' });
  }

  /** The cached node, or undefined. */
  get(path: string): TreeNode | undefined {
    return this.nodes.get(path);
  }

  /** Names of the cached children of a node (sorted). */
  children(path: string): string[] {
    return [...(this.childIndex.get(path) ?? [])].sort();
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Every cached path, sorted. */
  paths(): string[] {
    return [...this.nodes.keys()].sort();
  }

  /** Changes as an async iterator (ends when the cache closes). */
  events(): AsyncIterableIterator<TreeCacheEvent> {
    const q: AsyncQueue<TreeCacheEvent> = new AsyncQueue(() => this.queues.delete(q));
    if (!this.running) q.end();
    else this.queues.add(q);
    return q;
  }

  async close(): Promise<void> {
    if (!this.running) return;
    this.finish();
    await this.watch?.close();
  }

  private finish(error?: unknown): void {
    this.running = false;
    this.client.off('state', this.onState);
    const ev: TreeCacheEvent = error === undefined ? { type: 'closed' } : { type: 'closed', error };
    this.publish(ev);
    for (const q of this.queues) q.end();
    this.queues.clear();
  }

  private publish(ev: TreeCacheEvent): void {
    for (const q of this.queues) q.push(ev);
    this.emit(ev.type, ev);
    this.emit('event', ev);
  }

  private async drainWatch(w: PersistentWatch): Promise<void> {
    try {
      for await (const _ of w) {
        /* events are handled by the callback; this only observes the end */
      }
    } catch (e) {
      if (this.running) this.finish(e);
    }
  }

  private stateChanged(c: StateChange): void {
    if (!this.running) return;
    if (c.state === 'DISCONNECTED') this.needResync = true;
    else if ((c.state === 'CONNECTED' || c.state === 'CONNECTED_READ_ONLY') && this.needResync) {
      this.needResync = false;
      void this.resync();
    } else if (c.state === 'EXPIRED' || c.state === 'CLOSED' || c.state === 'AUTH_FAILED') {
      if (this.running) this.finish();
    }
  }

  private onEvent(e: WatchedEvent): void {
    if (!this.running || e.type === EventType.None) return;
    const s = ++this.seq;
    this.lastEvent.set(e.path, s);
    if (e.type === EventType.NodeDeleted) {
      this.deletedAt.set(e.path, s);
      this.removeSubtree(e.path);
    } else if (e.type === EventType.NodeCreated || e.type === EventType.NodeDataChanged) {
      void this.fetch(e.path, s);
    }
  }

  /** True if nothing happened to the path or its ancestors after `since`. */
  private fresh(path: string, since: number): boolean {
    if ((this.lastEvent.get(path) ?? 0) > since) return false;
    let p = path;
    for (;;) {
      if ((this.deletedAt.get(p) ?? 0) > since) return false;
      if (p === this.root || p === '/') return true;
      const i = p.lastIndexOf('/');
      p = i <= 0 ? '/' : p.slice(0, i);
    }
  }

  private async fetch(path: string, since: number): Promise<void> {
    this.reads++;
    try {
      const { data, stat } = await this.client.getData(path);
      if (this.running && this.fresh(path, since)) this.put({ path, data, stat });
    } catch (e) {
      if (codeOf(e) === Err.NoNode) {
        if (this.running && this.fresh(path, since)) this.removeSubtree(path);
      } else if (isConnectionLoss(e)) this.needResync = true;
    } finally {
      if (--this.reads === 0 && this.resyncing === undefined) {
        // Nothing in flight: the bookkeeping of past events is no longer needed.
        this.lastEvent.clear();
        this.deletedAt.clear();
      }
    }
  }

  private put(n: TreeNode): void {
    const old = this.nodes.get(n.path);
    if (old !== undefined && old.stat.czxid === n.stat.czxid && old.stat.mzxid === n.stat.mzxid && old.stat.pzxid === n.stat.pzxid && old.stat.version === n.stat.version) return;
    this.nodes.set(n.path, n);
    if (old === undefined && n.path !== this.root) {
      const parent = n.path.slice(0, Math.max(1, n.path.lastIndexOf('/')));
      let s = this.childIndex.get(parent);
      if (s === undefined) this.childIndex.set(parent, (s = new Set()));
      s.add(n.path.slice(n.path.lastIndexOf('/') + 1));
    }
    this.publish({ type: old === undefined ? 'added' : 'updated', path: n.path, node: n });
  }

  private removeSubtree(path: string): void {
    const n = this.nodes.get(path);
    if (n === undefined) return;
    for (const c of this.children(path)) this.removeSubtree(path === '/' ? `/${c}` : `${path}/${c}`);
    this.nodes.delete(path);
    this.childIndex.delete(path);
    if (path !== this.root) {
      const parent = path.slice(0, Math.max(1, path.lastIndexOf('/')));
      this.childIndex.get(parent)?.delete(path.slice(path.lastIndexOf('/') + 1));
    }
    this.publish({ type: 'removed', path, node: n });
  }

  private async resync(): Promise<void> {
    if (this.resyncing !== undefined) {
      this.needResync = true;
      return;
    }
    this.resyncing = this.walk().then(
      () => this.publish({ type: 'resynced' }),
      (e) => {
        if (isConnectionLoss(e)) this.needResync = true;
      },
    );
    await this.resyncing;
    this.resyncing = undefined;
    if (this.needResync && this.client.isConnected && this.running) {
      this.needResync = false;
      void this.resync();
    }
  }

  /** Reads the whole subtree and reconciles the cache with it. */
  private async walk(): Promise<void> {
    const since = this.seq;
    const seen = new Set<string>();
    this.reads++;
    try {
      const visit = async (path: string): Promise<void> => {
        let data: Buffer | null, stat: Stat, children: string[];
        try {
          const [d, c] = await Promise.all([this.client.getData(path), this.client.getChildren(path)]);
          data = d.data;
          stat = d.stat;
          children = c;
        } catch (e) {
          if (codeOf(e) === Err.NoNode) return;
          throw e;
        }
        seen.add(path);
        if (this.fresh(path, since)) this.put({ path, data, stat });
        await Promise.all(children.map((c) => visit(path === '/' ? `/${c}` : `${path}/${c}`)));
      };
      await visit(this.root);
      for (const p of [...this.nodes.keys()]) {
        if (!seen.has(p) && this.nodes.has(p) && this.fresh(p, since)) this.removeSubtree(p);
      }
    } finally {
      this.reads--;
    }
  }
}
