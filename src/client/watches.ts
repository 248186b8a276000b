// Client-side watch bookkeeping: which callbacks wait on which server path, how a server event
// fans out to them (ZooKeeper's client rules), and the lists re-armed with setWatches2 after a
// reconnect. Keys are server paths (chroot included); events handed to callers are chroot-relative.

import { EventType } from '../jute/constants.js';
import { AsyncQueue } from './deque.js';
import type { WatchCallback, WatchedEvent, EventTypeName } from './types.js';

const TYPE_NAME: Record<number, EventTypeName> = Object.fromEntries(
  Object.entries(EventType).map(([k, v]) => [v, k as EventTypeName]),
) as Record<number, EventTypeName>;

export function makeEvent(type: number, path: string, state: WatchedEvent['state'] = 'SyncConnected'): WatchedEvent {
  return { type, typeName: TYPE_NAME[type] ?? ('None' as EventTypeName), state, path };
}

type Table = Map<string, Set<WatchCallback>>;

/** A persistent (or persistent recursive) watch: an async iterator of events until closed. */
export class PersistentWatch extends AsyncQueue<WatchedEvent> {
  constructor(
    readonly path: string,
    readonly recursive: boolean,
    onClose: (w: PersistentWatch) => void,
    readonly callback?: WatchCallback,
  ) {
    super(() => onClose(this));
  }

  /** Stops the watch (removes it on the server when no other watch uses that path). */
  close(): Promise<void> {
    return this.return().then(() => undefined);
  }

  deliver(ev: WatchedEvent): void {
    if (this.closed) return;
    if (this.callback !== undefined) safeCall(this.callback, ev);
    this.push(ev);
  }
}

export function safeCall(cb: WatchCallback, ev: WatchedEvent): void {
  try {
    cb(ev);
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

export class WatchRegistry {
  readonly data: Table = new Map();
  readonly exist: Table = new Map();
  readonly child: Table = new Map();
  readonly persistent = new Map<string, Set<PersistentWatch>>();
  readonly recursive = new Map<string, Set<PersistentWatch>>();

  add(table: Table, path: string, cb: WatchCallback): void {
    let s = table.get(path);
    if (s === undefined) table.set(path, (s = new Set()));
    s.add(cb);
  }

  addPersistent(w: PersistentWatch, serverPath: string): void {
    const t = w.recursive ? this.recursive : this.persistent;
    let s = t.get(serverPath);
    if (s === undefined) t.set(serverPath, (s = new Set()));
    s.add(w);
  }

  removePersistent(w: PersistentWatch, serverPath: string): boolean {
    const t = w.recursive ? this.recursive : this.persistent;
    const s = t.get(serverPath);
    if (s === undefined) return false;
    s.delete(w);
    if (s.size === 0) t.delete(serverPath);
    return true;
  }

  /** Any watch (of any kind) left on exactly this server path? */
  hasAny(serverPath: string): boolean {
    return (
      this.data.has(serverPath) ||
      this.exist.has(serverPath) ||
      this.child.has(serverPath) ||
      this.persistent.has(serverPath) ||
      this.recursive.has(serverPath)
    );
  }

  get empty(): boolean {
    return this.data.size + this.exist.size + this.child.size + this.persistent.size + this.recursive.size === 0;
  }

  /** Delivers a server notification (type, server path) to everyone it concerns. */
  dispatch(type: number, serverPath: string, clientPath: string): void {
    const ev = makeEvent(type, clientPath);
    const once: Set<WatchCallback> = new Set();
    const take = (t: Table) => {
      const s = t.get(serverPath);
      if (s !== undefined) {
        t.delete(serverPath);
        for (const cb of s) once.add(cb);
      }
    };
    switch (type) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        take(this.data);
        take(this.exist);
        break;
      case EventType.NodeChildrenChanged:
        take(this.child);
        break;
      case EventType.NodeDeleted:
        take(this.data);
        take(this.exist);
        take(this.child);
        break;
      default:
        break;
    }
    const targets: PersistentWatch[] = [];
    const ps = this.persistent.get(serverPath);
    if (ps !== undefined) for (const w of ps) targets.push(w);
    if (type !== EventType.NodeChildrenChanged && this.recursive.size > 0) {
      // The node itself and every ancestor may hold a recursive watch.
      let p = serverPath;
      for (;;) {
        const rs = this.recursive.get(p);
        if (rs !== undefined) for (const w of rs) targets.push(w);
        if (p === '/') break;
        const i = p.lastIndexOf('/');
        p = i <= 0 ? '/' : p.slice(0, i);
      }
    }
    if (once.size === 0 && targets.length === 0) return;
    // Who hears the event is decided now, at its place in the reply stream; the callbacks run as a
    // microtask, i.e. after the continuations of replies that arrived before it and before those
    // of replies that arrive after it.
    queueMicrotask(() => {
      for (const cb of once) safeCall(cb, ev);
      for (const w of targets) w.deliver(ev);
    });
  }

  /** Removes one kind of one-shot watch locally; returns the removed callbacks. */
  takeLocal(table: Table, serverPath: string): Set<WatchCallback> {
    const s = table.get(serverPath) ?? new Set<WatchCallback>();
    table.delete(serverPath);
    return s;
  }

  /** Session over: every one-shot watch hears the final state; persistent iterators end. */
  terminate(state: WatchedEvent['state'], error: unknown): void {
    const ev = makeEvent(EventType.None, '', state);
    const all = new Set<WatchCallback>();
    for (const t of [this.data, this.exist, this.child]) {
      for (const s of t.values()) for (const cb of s) all.add(cb);
      t.clear();
    }
    for (const cb of all) safeCall(cb, ev);
    for (const t of [this.persistent, this.recursive]) {
      for (const s of t.values()) for (const w of s) {
        if (w.callback !== undefined) safeCall(w.callback, ev);
        w.end(error);
      }
      t.clear();
    }
  }

  /** Lists for setWatches2, split so that each packet stays near 128 KB of path text. */
  setWatchesPackets(): { dataWatches: string[]; existWatches: string[]; childWatches: string[]; persistentWatches: string[]; persistentRecursiveWatches: string[] }[] {
    const LIMIT = 128 * 1024;
    const out: ReturnType<WatchRegistry['setWatchesPackets']> = [];
    let cur = { dataWatches: [] as string[], existWatches: [] as string[], childWatches: [] as string[], persistentWatches: [] as string[], persistentRecursiveWatches: [] as string[] };
    let size = 0;
    const lists: [keyof typeof cur, Iterable<string>][] = [
      ['dataWatches', this.data.keys()],
      ['existWatches', this.exist.keys()],
      ['childWatches', this.child.keys()],
      ['persistentWatches', this.persistent.keys()],
      ['persistentRecursiveWatches', this.recursive.keys()],
    ];
    for (const [k, it] of lists) {
      for (const p of it) {
        if (size > 0 && size + p.length > LIMIT) {
          out.push(cur);
          cur = { dataWatches: [], existWatches: [], childWatches: [], persistentWatches: [], persistentRecursiveWatches: [] };
          size = 0;
        }
        cur[k].push(p);
        size += p.length;
      }
    }
    if (size > 0) out.push(cur);
    return out;
  }
}
