// WatchManager: the server's per-connection watch registry (pure: no I/O, no clock).
//
// ZooKeeper keeps watches per *connection* and per path. Data and exist watches share one
// table (the client demultiplexes), child watches have their own, and addWatch adds
// persistent or persistent-recursive entries. Each (connection, path) pair therefore holds a
// small set of flags, one bit per kind, so one connection can hold a one-shot data watch and
// a persistent watch on the same path at the same time (ZooKeeper 3.9 behaviour; 3.8 kept a
// single mode per pair, which let a later getData watch downgrade a persistent one).
//
// Cost model:
//   * add / has / remove               O(1)
//   * trigger                          O(watchers at the path) + O(depth) ancestor look-ups,
//                                      and the ancestor walk is skipped entirely while no
//                                      recursive watch exists anywhere
//   * removeConnection                 O(watches of that connection)
//   * the reporting helpers (4lw)      O(all watches), like ZooKeeper's
//
// Delivery order of the notifications a trigger returns: connections watching the exact path
// first, in the order they registered there, then connections reached through a recursive
// watch on an ancestor, nearest ancestor first. The order is a function of the call history
// only, so replays are deterministic.

import { EventType, WatcherType, type EventTypeCode } from '../jute/constants.js';
import type { ACL } from '../jute/records.js';
import type { Trigger } from './types.js';

/** WatchMode is the kind of watch a request registers; 'data' and 'exist' share one server table. */
export type WatchMode = 'data' | 'exist' | 'child' | 'persistent' | 'recursive';

/** Notification is one WatcherEvent to write to one connection (state is always SyncConnected). */
export interface Notification {
  connId: number;
  type: EventTypeCode;
  path: string;
}

/** WatchTable selects which watches the reporting helpers count. */
export type WatchTable =
  /** Every registration: data/exist, child, persistent and recursive. */
  | 'all'
  /**
   * ZooKeeper 3.8's data table only (data/exist, persistent, recursive). The 4lw words
   * wchs/wchc/wchp and the admin `watches*` commands of 3.8 report just this table, so a
   * connection holding only child watches does not appear in them.
   */
  | 'data';

/** The lists of a SetWatches / SetWatches2 request. */
export interface SetWatchesLists {
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
  persistentWatches?: string[];
  persistentRecursiveWatches?: string[];
}

/** What setWatches needs to know about a node; undefined when the node does not exist. */
export type NodeZxids = { mzxid: number; pzxid: number } | undefined;

// One bit per watch kind held by a (connection, path) pair.
const DATA = 1; // getData / exists (one-shot; one shared table)
const CHILD = 2; // getChildren (one-shot)
const PERSISTENT = 4; // addWatch mode 0
const RECURSIVE = 8; // addWatch mode 1
const ALL = DATA | CHILD | PERSISTENT | RECURSIVE;
const DATA_TABLE = DATA | PERSISTENT | RECURSIVE;

const MODE_BIT: Readonly<Record<WatchMode, number>> = {
  data: DATA,
  exist: DATA,
  child: CHILD,
  persistent: PERSISTENT,
  recursive: RECURSIVE,
};

/**
 * Which bits a checkWatches / removeWatches WatcherType selects. Any also covers persistent
 * and recursive watches (on 3.6-3.8 removeWatches(Any) is the only way to remove them);
 * Persistent and PersistentRecursive are the 3.9 additions.
 */
const WATCHER_TYPE_BITS: ReadonlyMap<number, number> = new Map([
  [WatcherType.Children, CHILD],
  [WatcherType.Data, DATA],
  [WatcherType.Any, ALL],
  [WatcherType.Persistent, PERSISTENT],
  [WatcherType.PersistentRecursive, RECURSIVE],
]);

/** How each event type matches the flags: bits that fire, one-shot bits consumed, ancestors walked. */
interface FireRule {
  fires: number;
  consumes: number;
  ancestors: boolean;
}

const FIRE_RULES: ReadonlyMap<number, FireRule> = new Map([
  [EventType.NodeCreated, { fires: DATA | PERSISTENT | RECURSIVE, consumes: DATA, ancestors: true }],
  [EventType.NodeDataChanged, { fires: DATA | PERSISTENT | RECURSIVE, consumes: DATA, ancestors: true }],
  [EventType.NodeDeleted, { fires: ALL, consumes: DATA | CHILD, ancestors: true }],
  // Recursive watches never see NodeChildrenChanged, neither at the path nor above it.
  [EventType.NodeChildrenChanged, { fires: CHILD | PERSISTENT, consumes: CHILD, ancestors: false }],
]);

function bitCount(flags: number): number {
  return (flags & 1) + ((flags >> 1) & 1) + ((flags >> 2) & 1) + ((flags >> 3) & 1);
}

/** WatchManager is the server's registry of watches, keyed by connection id and path. */
export class WatchManager {
  /** path → connection → flags. Entries with flags 0 are never stored. */
  readonly #byPath = new Map<string, Map<number, number>>();
  /** connection → paths where it holds any flag (the index that makes removeConnection cheap). */
  readonly #byConn = new Map<number, Set<string>>();
  /** path → connections holding a recursive watch there; looked up for each ancestor of a change. */
  readonly #recursive = new Map<string, Set<number>>();
  /** Number of set bits over all entries. */
  #count = 0;

  /** add registers a watch; registering the same (connection, path, mode) twice is a no-op. */
  add(connId: number, path: string, mode: WatchMode): void {
    const bit = MODE_BIT[mode];
    if (bit === undefined) throw new RangeError(`unknown watch mode ${String(mode)}`);
    let atPath = this.#byPath.get(path);
    if (atPath === undefined) {
      atPath = new Map();
      this.#byPath.set(path, atPath);
    }
    const old = atPath.get(connId) ?? 0;
    if ((old & bit) !== 0) return;
    atPath.set(connId, old | bit);
    this.#count++;
    if (old === 0) {
      let paths = this.#byConn.get(connId);
      if (paths === undefined) {
        paths = new Set();
        this.#byConn.set(connId, paths);
      }
      paths.add(path);
    }
    if (bit === RECURSIVE) {
      let conns = this.#recursive.get(path);
      if (conns === undefined) {
        conns = new Set();
        this.#recursive.set(path, conns);
      }
      conns.add(connId);
    }
  }

  /**
   * trigger fires one change. It returns at most one notification per connection, removes
   * the one-shot watches that matched (also for connections whose event `canRead` drops:
   * ZooKeeper consumes the watch before its ACL filter), and leaves persistent and
   * recursive watches in place. Event types other than the four node events match nothing.
   */
  trigger(t: Trigger, canRead?: (connId: number, acl: readonly ACL[]) => boolean): Notification[] {
    const rule = FIRE_RULES.get(t.type);
    if (rule === undefined) return [];
    const hit: number[] = [];
    const atPath = this.#byPath.get(t.path);
    if (atPath !== undefined) this.#fireAtPath(t.path, atPath, rule, hit);
    if (rule.ancestors && this.#recursive.size > 0) this.#fireAncestors(t.path, hit);
    const out: Notification[] = [];
    for (const connId of hit) {
      if (canRead !== undefined && !canRead(connId, t.acl)) continue;
      out.push({ connId, type: t.type, path: t.path });
    }
    return out;
  }

  #fireAtPath(path: string, atPath: Map<number, number>, rule: FireRule, hit: number[]): void {
    for (const [connId, flags] of atPath) {
      if ((flags & rule.fires) === 0) continue;
      hit.push(connId);
      const consumed = flags & rule.consumes;
      if (consumed !== 0) this.#clearBits(path, atPath, connId, flags, consumed);
    }
    if (atPath.size === 0) this.#byPath.delete(path);
  }

  /** Adds connections with a recursive watch on a proper ancestor of `path` (deduplicated). */
  #fireAncestors(path: string, hit: number[]): void {
    if (path === '/') return;
    let seen: Set<number> | undefined;
    for (let i = path.lastIndexOf('/'); i >= 0; i = path.lastIndexOf('/', i - 1)) {
      const conns = this.#recursive.get(i === 0 ? '/' : path.slice(0, i));
      if (conns !== undefined) {
        seen ??= new Set(hit);
        for (const connId of conns) {
          if (seen.has(connId)) continue;
          seen.add(connId);
          hit.push(connId);
        }
      }
      if (i === 0) break;
    }
  }

  /** Clears `bits` (a subset of `flags`) of one entry and keeps every index in step. Leaves empty path maps to the caller. */
  #clearBits(path: string, atPath: Map<number, number>, connId: number, flags: number, bits: number): void {
    const left = flags & ~bits;
    this.#count -= bitCount(bits);
    if (left === 0) {
      atPath.delete(connId);
      const paths = this.#byConn.get(connId);
      if (paths !== undefined) {
        paths.delete(path);
        if (paths.size === 0) this.#byConn.delete(connId);
      }
    } else {
      atPath.set(connId, left);
    }
    if ((bits & RECURSIVE) !== 0) {
      const conns = this.#recursive.get(path);
      if (conns !== undefined) {
        conns.delete(connId);
        if (conns.size === 0) this.#recursive.delete(path);
      }
    }
  }

  /** removeConnection drops every watch of a connection (called when its socket closes). */
  removeConnection(connId: number): void {
    const paths = this.#byConn.get(connId);
    if (paths === undefined) return;
    this.#byConn.delete(connId);
    for (const path of paths) {
      const atPath = this.#byPath.get(path);
      const flags = atPath?.get(connId);
      if (atPath === undefined || flags === undefined) continue;
      atPath.delete(connId);
      if (atPath.size === 0) this.#byPath.delete(path);
      this.#count -= bitCount(flags);
      if ((flags & RECURSIVE) !== 0) {
        const conns = this.#recursive.get(path);
        conns?.delete(connId);
        if (conns !== undefined && conns.size === 0) this.#recursive.delete(path);
      }
    }
  }

  /**
   * has answers checkWatches (17): does the connection hold a watch of `watcherType`
   * (WatcherType 1 Children, 2 Data, 3 Any, 4 Persistent, 5 PersistentRecursive) on exactly
   * `path`? False (→ NoWatcher) when nothing matches or the type is unknown.
   */
  has(connId: number, path: string, watcherType: number): boolean {
    const bits = WATCHER_TYPE_BITS.get(watcherType);
    if (bits === undefined) return false;
    const flags = this.#byPath.get(path)?.get(connId) ?? 0;
    return (flags & bits) !== 0;
  }

  /** remove answers removeWatches (18): like `has`, and removes what matched. */
  remove(connId: number, path: string, watcherType: number): boolean {
    const bits = WATCHER_TYPE_BITS.get(watcherType);
    if (bits === undefined) return false;
    const atPath = this.#byPath.get(path);
    const flags = atPath?.get(connId) ?? 0;
    if (atPath === undefined || (flags & bits) === 0) return false;
    this.#clearBits(path, atPath, connId, flags, flags & bits);
    if (atPath.size === 0) this.#byPath.delete(path);
    return true;
  }

  /**
   * setWatches re-arms a reconnecting client's watches (setWatches 101 / setWatches2 105).
   * Per path, in list order data, exist, child (ZooKeeper's order): a change the client
   * missed since `relativeZxid` is reported at once and that watch is *not* registered
   * (it has fired); otherwise the watch is registered. Persistent and recursive watches are
   * always registered, with no catch-up events. The synthesized events are not ACL-filtered
   * and not deduplicated (a path in two lists may produce two events), as in ZooKeeper.
   */
  setWatches(
    connId: number,
    relativeZxid: number,
    w: SetWatchesLists,
    lookup: (path: string) => NodeZxids,
  ): Notification[] {
    const out: Notification[] = [];
    const emit = (type: EventTypeCode, path: string): void => {
      out.push({ connId, type, path });
    };
    for (const path of w.dataWatches) {
      const node = lookup(path);
      if (node === undefined) emit(EventType.NodeDeleted, path);
      else if (node.mzxid > relativeZxid) emit(EventType.NodeDataChanged, path);
      else this.add(connId, path, 'data');
    }
    for (const path of w.existWatches) {
      if (lookup(path) !== undefined) emit(EventType.NodeCreated, path);
      else this.add(connId, path, 'exist');
    }
    for (const path of w.childWatches) {
      const node = lookup(path);
      if (node === undefined) emit(EventType.NodeDeleted, path);
      else if (node.pzxid > relativeZxid) emit(EventType.NodeChildrenChanged, path);
      else this.add(connId, path, 'child');
    }
    for (const path of w.persistentWatches ?? []) this.add(connId, path, 'persistent');
    for (const path of w.persistentRecursiveWatches ?? []) this.add(connId, path, 'recursive');
    return out;
  }

  /**
   * watchCount is the number of registrations: one per (connection, path, kind), where a
   * data and an exist watch on the same path are one kind. With 'data', the number of
   * (connection, path) pairs in ZooKeeper 3.8's data table (what `wchs` prints as "Total watches").
   */
  watchCount(table: WatchTable = 'all'): number {
    if (table === 'all') return this.#count;
    let n = 0;
    for (const atPath of this.#byPath.values()) {
      for (const flags of atPath.values()) if ((flags & DATA_TABLE) !== 0) n++;
    }
    return n;
  }

  /** pathCount is the number of distinct paths carrying at least one watch of `table`. */
  pathCount(table: WatchTable = 'all'): number {
    if (table === 'all') return this.#byPath.size;
    return this.byPath(table).size;
  }

  /** connectionCount is the number of connections holding at least one watch of `table`. */
  connectionCount(table: WatchTable = 'all'): number {
    if (table === 'all') return this.#byConn.size;
    return this.byConnection(table).size;
  }

  /** byConnection maps each watching connection to its watched paths (for wchc); fresh copies. */
  byConnection(table: WatchTable = 'all'): Map<number, string[]> {
    const mask = table === 'all' ? ALL : DATA_TABLE;
    const out = new Map<number, string[]>();
    for (const [connId, paths] of this.#byConn) {
      const list: string[] = [];
      for (const path of paths) {
        if (((this.#byPath.get(path)?.get(connId) ?? 0) & mask) !== 0) list.push(path);
      }
      if (list.length > 0) out.set(connId, list);
    }
    return out;
  }

  /** byPath maps each watched path to the connections watching it (for wchp); fresh copies. */
  byPath(table: WatchTable = 'all'): Map<string, number[]> {
    const mask = table === 'all' ? ALL : DATA_TABLE;
    const out = new Map<string, number[]>();
    for (const [path, atPath] of this.#byPath) {
      const list: number[] = [];
      for (const [connId, flags] of atPath) if ((flags & mask) !== 0) list.push(connId);
      if (list.length > 0) out.set(path, list);
    }
    return out;
  }
}
