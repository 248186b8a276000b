// WatchManager: the rows of protocol notes §10.2 (what fires what), §10.5 (setWatches
// catch-up), dedupe, one-shot vs persistent vs recursive, check/remove by WatcherType,
// connection cleanup and the reporting counts. A naive reference model cross-checks
// random histories.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EventType, WatcherType, Perms, type EventTypeCode } from '../../src/jute/constants.js';
import type { ACL } from '../../src/jute/records.js';
import { WatchManager, type Notification, type WatchMode } from '../../src/zk/watches.js';
import type { Trigger } from '../../src/zk/types.js';

const OPEN: readonly ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const { NodeCreated, NodeDeleted, NodeDataChanged, NodeChildrenChanged } = EventType;

const trig = (path: string, type: EventTypeCode, acl: readonly ACL[] = OPEN): Trigger => ({ path, type, acl });
const fire = (w: WatchManager, path: string, type: EventTypeCode): Notification[] => w.trigger(trig(path, type));

/** One §10.2 row: a watch of `mode` on `at`, a change of `type` at `path`. */
interface FireRow {
  mode: WatchMode;
  at: string;
  type: EventTypeCode;
  path: string;
  fires: boolean;
  /** After firing: is the watch still registered? */
  stays: boolean;
}

const NAME: Record<number, string> = {
  [NodeCreated]: 'NodeCreated',
  [NodeDeleted]: 'NodeDeleted',
  [NodeDataChanged]: 'NodeDataChanged',
  [NodeChildrenChanged]: 'NodeChildrenChanged',
};

const FIRE_TABLE: FireRow[] = [
  // One-shot data / exist watches: NodeCreated, NodeDataChanged, NodeDeleted at the path.
  { mode: 'data', at: '/a', type: NodeCreated, path: '/a', fires: true, stays: false },
  { mode: 'data', at: '/a', type: NodeDataChanged, path: '/a', fires: true, stays: false },
  { mode: 'data', at: '/a', type: NodeDeleted, path: '/a', fires: true, stays: false },
  { mode: 'data', at: '/a', type: NodeChildrenChanged, path: '/a', fires: false, stays: true },
  { mode: 'exist', at: '/a', type: NodeCreated, path: '/a', fires: true, stays: false },
  { mode: 'exist', at: '/a', type: NodeDataChanged, path: '/a', fires: true, stays: false },
  { mode: 'exist', at: '/a', type: NodeDeleted, path: '/a', fires: true, stays: false },
  { mode: 'exist', at: '/a', type: NodeChildrenChanged, path: '/a', fires: false, stays: true },
  // One-shot child watches: NodeChildrenChanged and NodeDeleted at the path only.
  { mode: 'child', at: '/a', type: NodeChildrenChanged, path: '/a', fires: true, stays: false },
  { mode: 'child', at: '/a', type: NodeDeleted, path: '/a', fires: true, stays: false },
  { mode: 'child', at: '/a', type: NodeCreated, path: '/a', fires: false, stays: true },
  { mode: 'child', at: '/a', type: NodeDataChanged, path: '/a', fires: false, stays: true },
  // Nothing fires for another path, not even a child's change for a plain data/child watch.
  { mode: 'data', at: '/a', type: NodeDataChanged, path: '/a/b', fires: false, stays: true },
  { mode: 'child', at: '/a', type: NodeCreated, path: '/a/b', fires: false, stays: true },
  { mode: 'data', at: '/a', type: NodeDataChanged, path: '/ab', fires: false, stays: true },
  // Persistent: all four types at the exact path, and it stays.
  { mode: 'persistent', at: '/a', type: NodeCreated, path: '/a', fires: true, stays: true },
  { mode: 'persistent', at: '/a', type: NodeDataChanged, path: '/a', fires: true, stays: true },
  { mode: 'persistent', at: '/a', type: NodeDeleted, path: '/a', fires: true, stays: true },
  { mode: 'persistent', at: '/a', type: NodeChildrenChanged, path: '/a', fires: true, stays: true },
  { mode: 'persistent', at: '/a', type: NodeCreated, path: '/a/b', fires: false, stays: true },
  { mode: 'persistent', at: '/a', type: NodeDataChanged, path: '/a/b', fires: false, stays: true },
  // Recursive: created/changed/deleted at the path and every descendant, never children-changed.
  { mode: 'recursive', at: '/a', type: NodeCreated, path: '/a', fires: true, stays: true },
  { mode: 'recursive', at: '/a', type: NodeDataChanged, path: '/a', fires: true, stays: true },
  { mode: 'recursive', at: '/a', type: NodeDeleted, path: '/a', fires: true, stays: true },
  { mode: 'recursive', at: '/a', type: NodeChildrenChanged, path: '/a', fires: false, stays: true },
  { mode: 'recursive', at: '/a', type: NodeCreated, path: '/a/b', fires: true, stays: true },
  { mode: 'recursive', at: '/a', type: NodeDataChanged, path: '/a/b/c', fires: true, stays: true },
  { mode: 'recursive', at: '/a', type: NodeDeleted, path: '/a/b/c/d', fires: true, stays: true },
  { mode: 'recursive', at: '/a', type: NodeChildrenChanged, path: '/a/b', fires: false, stays: true },
  { mode: 'recursive', at: '/', type: NodeCreated, path: '/x/y', fires: true, stays: true },
  { mode: 'recursive', at: '/', type: NodeDataChanged, path: '/', fires: true, stays: true },
  { mode: 'recursive', at: '/', type: NodeChildrenChanged, path: '/', fires: false, stays: true },
  // A sibling sharing a name prefix is not a descendant; an ancestor is not a descendant.
  { mode: 'recursive', at: '/a', type: NodeCreated, path: '/ab', fires: false, stays: true },
  { mode: 'recursive', at: '/a/b', type: NodeDataChanged, path: '/a', fires: false, stays: true },
];

/** The WatcherType that covers each mode (for `stays` checks). */
const TYPE_OF: Record<WatchMode, number> = {
  data: WatcherType.Data,
  exist: WatcherType.Data,
  child: WatcherType.Children,
  persistent: WatcherType.Persistent,
  recursive: WatcherType.PersistentRecursive,
};

describe('§10.2 what fires what', () => {
  for (const r of FIRE_TABLE) {
    const name = `${r.mode} watch on ${r.at}, ${NAME[r.type]} at ${r.path} → ${r.fires ? 'fires' : 'nothing'}, ${
      r.stays ? 'stays' : 'removed'
    }`;
    test(name, () => {
      const w = new WatchManager();
      w.add(7, r.at, r.mode);
      const got = fire(w, r.path, r.type);
      assert.deepEqual(got, r.fires ? [{ connId: 7, type: r.type, path: r.path }] : []);
      assert.equal(w.has(7, r.at, TYPE_OF[r.mode]), r.stays);
      assert.equal(w.watchCount(), r.stays ? 1 : 0);
      // A one-shot watch fires exactly once.
      if (!r.stays) assert.deepEqual(fire(w, r.path, r.type), []);
    });
  }

  test('the delete of a node: data and child watches on it, child watch on its parent (two triggers)', () => {
    const w = new WatchManager();
    w.add(1, '/p/n', 'data');
    w.add(2, '/p/n', 'child');
    w.add(3, '/p', 'child');
    w.add(4, '/p', 'data');
    assert.deepEqual(fire(w, '/p/n', NodeDeleted), [
      { connId: 1, type: NodeDeleted, path: '/p/n' },
      { connId: 2, type: NodeDeleted, path: '/p/n' },
    ]);
    assert.deepEqual(fire(w, '/p', NodeChildrenChanged), [{ connId: 3, type: NodeChildrenChanged, path: '/p' }]);
    assert.equal(w.has(4, '/p', WatcherType.Data), true, 'data watch on the parent is untouched');
    assert.equal(w.watchCount(), 1);
  });

  test('the create of a node: exist watch on it, child watch on the parent', () => {
    const w = new WatchManager();
    w.add(1, '/p/n', 'exist');
    w.add(2, '/p', 'child');
    assert.deepEqual(fire(w, '/p/n', NodeCreated), [{ connId: 1, type: NodeCreated, path: '/p/n' }]);
    assert.deepEqual(fire(w, '/p', NodeChildrenChanged), [{ connId: 2, type: NodeChildrenChanged, path: '/p' }]);
    assert.equal(w.watchCount(), 0);
  });

  test('event types that are not node events match nothing', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'persistent');
    for (const t of [EventType.None, EventType.DataWatchRemoved, EventType.ChildWatchRemoved, EventType.PersistentWatchRemoved]) {
      assert.deepEqual(fire(w, '/a', t), []);
    }
    assert.equal(w.watchCount(), 1);
  });
});

describe('one event per connection per trigger', () => {
  test('exists + getData on the same node → one NodeDataChanged, both consumed', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'exist');
    w.add(1, '/a', 'data');
    assert.equal(w.watchCount(), 1, 'data and exist share one table');
    assert.deepEqual(fire(w, '/a', NodeDataChanged), [{ connId: 1, type: NodeDataChanged, path: '/a' }]);
    assert.equal(w.watchCount(), 0);
  });

  test('data + child + persistent + recursive on the node and a recursive ancestor → one NodeDeleted', () => {
    const w = new WatchManager();
    w.add(1, '/a/b', 'data');
    w.add(1, '/a/b', 'child');
    w.add(1, '/a/b', 'persistent');
    w.add(1, '/a/b', 'recursive');
    w.add(1, '/a', 'recursive');
    w.add(1, '/', 'recursive');
    assert.deepEqual(fire(w, '/a/b', NodeDeleted), [{ connId: 1, type: NodeDeleted, path: '/a/b' }]);
    assert.equal(w.has(1, '/a/b', WatcherType.Data), false);
    assert.equal(w.has(1, '/a/b', WatcherType.Children), false);
    assert.equal(w.has(1, '/a/b', WatcherType.Persistent), true);
    assert.equal(w.has(1, '/a/b', WatcherType.PersistentRecursive), true);
  });

  test('several connections each get their own event; order: exact path in registration order, then ancestors nearest first', () => {
    const w = new WatchManager();
    w.add(5, '/', 'recursive');
    w.add(3, '/a/b/c', 'data');
    w.add(4, '/a', 'recursive');
    w.add(1, '/a/b/c', 'persistent');
    w.add(2, '/a/b', 'recursive');
    w.add(3, '/a', 'recursive'); // already reached at the exact path
    const got = fire(w, '/a/b/c', NodeDataChanged).map((n) => n.connId);
    assert.deepEqual(got, [3, 1, 2, 4, 5]);
  });

  test('adding the same watch twice is idempotent', () => {
    const w = new WatchManager();
    for (let i = 0; i < 3; i++) {
      w.add(1, '/a', 'data');
      w.add(1, '/a', 'recursive');
    }
    assert.equal(w.watchCount(), 2);
    assert.equal(fire(w, '/a/x', NodeCreated).length, 1);
    assert.equal(fire(w, '/a', NodeDataChanged).length, 1);
    assert.equal(w.watchCount(), 1);
  });
});

describe('persistent and one-shot on the same path', () => {
  test('a one-shot watch added next to a persistent one does not downgrade it', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'persistent');
    w.add(1, '/a', 'data');
    assert.equal(fire(w, '/a', NodeDataChanged).length, 1);
    assert.equal(fire(w, '/a', NodeDataChanged).length, 1, 'persistent still there');
    assert.equal(w.has(1, '/a', WatcherType.Data), false);
    assert.equal(w.has(1, '/a', WatcherType.Persistent), true);
  });

  test('a persistent watch survives the delete of its node and fires on re-create', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'persistent');
    assert.equal(fire(w, '/a', NodeDeleted).length, 1);
    assert.deepEqual(fire(w, '/a', NodeCreated), [{ connId: 1, type: NodeCreated, path: '/a' }]);
  });

  test('recursive plus child watch on the same path: NodeChildrenChanged comes from the child watch only', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'recursive');
    w.add(1, '/a', 'child');
    assert.equal(fire(w, '/a', NodeChildrenChanged).length, 1);
    assert.equal(fire(w, '/a', NodeChildrenChanged).length, 0);
    assert.equal(fire(w, '/a/x', NodeCreated).length, 1);
  });
});

describe('ACL filter (canRead)', () => {
  test('drops events for connections without READ, still consumes their one-shot watches', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'data');
    w.add(2, '/a', 'data');
    w.add(3, '/', 'recursive');
    const secret: readonly ACL[] = [{ perms: Perms.READ, id: { scheme: 'digest', id: 'bob:x' } }];
    const seen: [number, readonly ACL[]][] = [];
    const got = w.trigger(trig('/a', NodeDataChanged, secret), (connId, acl) => {
      seen.push([connId, acl]);
      return connId === 2;
    });
    assert.deepEqual(got, [{ connId: 2, type: NodeDataChanged, path: '/a' }]);
    assert.deepEqual(
      seen.map(([c]) => c),
      [1, 2, 3],
    );
    assert.ok(seen.every(([, acl]) => acl === secret), 'the trigger ACL is passed through');
    assert.equal(w.has(1, '/a', WatcherType.Data), false, 'filtered one-shot is consumed');
    assert.equal(w.has(3, '/', WatcherType.PersistentRecursive), true);
  });

  test('without canRead every matching connection is notified', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'data');
    w.add(2, '/a', 'exist');
    assert.equal(fire(w, '/a', NodeDeleted).length, 2);
  });
});

describe('checkWatches / removeWatches by WatcherType', () => {
  // Each row: the watches a connection holds on /a, the WatcherType asked, whether it
  // matches, and what stays after remove.
  const ROWS: { holds: WatchMode[]; type: number; match: boolean; left: WatchMode[] }[] = [
    { holds: ['data'], type: WatcherType.Data, match: true, left: [] },
    { holds: ['exist'], type: WatcherType.Data, match: true, left: [] },
    { holds: ['data'], type: WatcherType.Children, match: false, left: ['data'] },
    { holds: ['child'], type: WatcherType.Children, match: true, left: [] },
    { holds: ['child'], type: WatcherType.Data, match: false, left: ['child'] },
    { holds: ['data', 'child'], type: WatcherType.Data, match: true, left: ['child'] },
    { holds: ['data', 'child'], type: WatcherType.Children, match: true, left: ['data'] },
    { holds: ['data', 'child'], type: WatcherType.Any, match: true, left: [] },
    { holds: ['persistent'], type: WatcherType.Any, match: true, left: [] },
    { holds: ['recursive'], type: WatcherType.Any, match: true, left: [] },
    { holds: ['persistent'], type: WatcherType.Data, match: false, left: ['persistent'] },
    { holds: ['persistent'], type: WatcherType.Children, match: false, left: ['persistent'] },
    { holds: ['recursive'], type: WatcherType.Data, match: false, left: ['recursive'] },
    { holds: ['persistent'], type: WatcherType.Persistent, match: true, left: [] },
    { holds: ['recursive'], type: WatcherType.Persistent, match: false, left: ['recursive'] },
    { holds: ['recursive'], type: WatcherType.PersistentRecursive, match: true, left: [] },
    { holds: ['persistent'], type: WatcherType.PersistentRecursive, match: false, left: ['persistent'] },
    { holds: ['persistent', 'recursive', 'data'], type: WatcherType.Persistent, match: true, left: ['recursive', 'data'] },
    { holds: [], type: WatcherType.Any, match: false, left: [] },
    { holds: ['data'], type: 0, match: false, left: ['data'] },
    { holds: ['data'], type: 99, match: false, left: ['data'] },
  ];
  const held = (w: WatchManager): WatchMode[] =>
    (['data', 'child', 'persistent', 'recursive'] as const).filter((m) => w.has(1, '/a', TYPE_OF[m]));

  for (const r of ROWS) {
    test(`holds [${r.holds}] type ${r.type} → ${r.match ? 'match' : 'NoWatcher'}`, () => {
      const w = new WatchManager();
      for (const m of r.holds) w.add(1, '/a', m);
      const before = held(w);
      assert.equal(w.has(1, '/a', r.type), r.match);
      assert.deepEqual(held(w), before, 'check does not remove');
      assert.equal(w.remove(1, '/a', r.type), r.match);
      assert.deepEqual(held(w).sort(), r.left.map((m) => (m === 'exist' ? 'data' : m)).sort());
      assert.equal(w.remove(1, '/a', r.type), false, 'second remove finds nothing');
    });
  }

  test('check/remove look only at the exact path and connection', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'recursive');
    assert.equal(w.has(1, '/a/b', WatcherType.Any), false);
    assert.equal(w.has(2, '/a', WatcherType.Any), false);
    assert.equal(w.remove(2, '/a', WatcherType.Any), false);
    assert.equal(w.has(1, '/a', WatcherType.Any), true);
  });

  test('removing a recursive watch stops ancestor delivery', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'recursive');
    assert.equal(fire(w, '/a/b', NodeCreated).length, 1);
    assert.equal(w.remove(1, '/a', WatcherType.PersistentRecursive), true);
    assert.equal(fire(w, '/a/b', NodeCreated).length, 0);
    assert.equal(w.pathCount(), 0);
  });
});

describe('removeConnection', () => {
  test('drops every watch of the connection and nothing else', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'data');
    w.add(1, '/a', 'child');
    w.add(1, '/b', 'recursive');
    w.add(1, '/c', 'persistent');
    w.add(2, '/a', 'data');
    w.add(2, '/b/x', 'exist');
    w.removeConnection(1);
    assert.equal(w.watchCount(), 2);
    assert.equal(w.connectionCount(), 1);
    assert.deepEqual([...w.byPath().keys()].sort(), ['/a', '/b/x']);
    assert.deepEqual(fire(w, '/b/x', NodeCreated), [{ connId: 2, type: NodeCreated, path: '/b/x' }]);
    assert.deepEqual(fire(w, '/c', NodeDataChanged), []);
    assert.deepEqual(fire(w, '/a', NodeDataChanged), [{ connId: 2, type: NodeDataChanged, path: '/a' }]);
    w.removeConnection(1); // unknown now: no-op
    w.removeConnection(2);
    assert.equal(w.watchCount(), 0);
    assert.equal(w.pathCount(), 0);
    assert.equal(w.connectionCount(), 0);
  });
});

describe('counts and reports', () => {
  test('watchCount, pathCount, connectionCount, byConnection, byPath', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'data');
    w.add(1, '/a', 'exist');
    w.add(1, '/a', 'child');
    w.add(1, '/b', 'persistent');
    w.add(2, '/a', 'data');
    w.add(3, '/c', 'child');
    assert.equal(w.watchCount(), 5);
    assert.equal(w.pathCount(), 3);
    assert.equal(w.connectionCount(), 3);
    assert.deepEqual(w.byConnection(), new Map([
      [1, ['/a', '/b']],
      [2, ['/a']],
      [3, ['/c']],
    ]));
    assert.deepEqual(w.byPath(), new Map([
      ['/a', [1, 2]],
      ['/b', [1]],
      ['/c', [3]],
    ]));
    // ZooKeeper 3.8's wchs/wchc/wchp view: the data table only (child-only watchers are invisible).
    assert.equal(w.watchCount('data'), 3);
    assert.equal(w.pathCount('data'), 2);
    assert.equal(w.connectionCount('data'), 2);
    assert.deepEqual(w.byConnection('data'), new Map([
      [1, ['/a', '/b']],
      [2, ['/a']],
    ]));
    assert.deepEqual(w.byPath('data'), new Map([
      ['/a', [1, 2]],
      ['/b', [1]],
    ]));
  });

  test('reports are copies', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'data');
    w.byConnection().get(1)!.push('/zzz');
    w.byPath().get('/a')!.push(99);
    assert.deepEqual(w.byConnection(), new Map([[1, ['/a']]]));
    assert.deepEqual(w.byPath(), new Map([['/a', [1]]]));
  });
});

describe('§10.5 setWatches catch-up', () => {
  // Node table for the lookups: /m was modified at zxid 20 (children at 30), /old at 5 (children at 5).
  const NODES = new Map([
    ['/m', { mzxid: 20, pzxid: 30 }],
    ['/old', { mzxid: 5, pzxid: 5 }],
  ]);
  const lookup = (p: string) => NODES.get(p);
  const REL = 10;

  const ROWS: {
    list: 'dataWatches' | 'existWatches' | 'childWatches' | 'persistentWatches' | 'persistentRecursiveWatches';
    path: string;
    event: EventTypeCode | undefined;
    registers: number | undefined;
    why: string;
  }[] = [
    { list: 'dataWatches', path: '/gone', event: NodeDeleted, registers: undefined, why: 'node missing' },
    { list: 'dataWatches', path: '/m', event: NodeDataChanged, registers: undefined, why: 'mzxid 20 > 10' },
    { list: 'dataWatches', path: '/old', event: undefined, registers: WatcherType.Data, why: 'mzxid 5 <= 10' },
    { list: 'existWatches', path: '/gone', event: undefined, registers: WatcherType.Data, why: 'node missing' },
    { list: 'existWatches', path: '/m', event: NodeCreated, registers: undefined, why: 'node present' },
    { list: 'existWatches', path: '/old', event: NodeCreated, registers: undefined, why: 'present, regardless of zxids' },
    { list: 'childWatches', path: '/gone', event: NodeDeleted, registers: undefined, why: 'node missing' },
    { list: 'childWatches', path: '/m', event: NodeChildrenChanged, registers: undefined, why: 'pzxid 30 > 10' },
    { list: 'childWatches', path: '/old', event: undefined, registers: WatcherType.Children, why: 'pzxid 5 <= 10' },
    { list: 'persistentWatches', path: '/gone', event: undefined, registers: WatcherType.Persistent, why: 'no catch-up' },
    { list: 'persistentWatches', path: '/m', event: undefined, registers: WatcherType.Persistent, why: 'no catch-up' },
    { list: 'persistentRecursiveWatches', path: '/gone', event: undefined, registers: WatcherType.PersistentRecursive, why: 'no catch-up' },
    { list: 'persistentRecursiveWatches', path: '/m', event: undefined, registers: WatcherType.PersistentRecursive, why: 'no catch-up' },
  ];

  for (const r of ROWS) {
    test(`${r.list} ${r.path} (${r.why}) → ${r.event !== undefined ? NAME[r.event] : 're-register'}`, () => {
      const w = new WatchManager();
      const lists = { dataWatches: [], existWatches: [], childWatches: [], persistentWatches: [], persistentRecursiveWatches: [] } as Record<
        string,
        string[]
      >;
      lists[r.list] = [r.path];
      const got = w.setWatches(9, REL, lists as never, lookup);
      assert.deepEqual(got, r.event === undefined ? [] : [{ connId: 9, type: r.event, path: r.path }]);
      assert.equal(w.watchCount(), r.registers === undefined ? 0 : 1);
      if (r.registers !== undefined) assert.equal(w.has(9, r.path, r.registers), true);
    });
  }

  test('mzxid/pzxid equal to relativeZxid re-register (only strictly newer fires)', () => {
    const w = new WatchManager();
    const got = w.setWatches(1, 20, { dataWatches: ['/m'], existWatches: [], childWatches: [] }, lookup);
    assert.deepEqual(got, []);
    assert.equal(w.has(1, '/m', WatcherType.Data), true);
    assert.deepEqual(w.setWatches(1, 30, { dataWatches: [], existWatches: [], childWatches: ['/m'] }, lookup), []);
    assert.equal(w.has(1, '/m', WatcherType.Children), true);
  });

  test('events come in list order data, exist, child; not deduplicated; setWatches (v1) lists without persistent ones', () => {
    const w = new WatchManager();
    const got = w.setWatches(
      4,
      REL,
      { dataWatches: ['/gone', '/m', '/old'], existWatches: ['/m', '/x'], childWatches: ['/gone', '/m'] },
      lookup,
    );
    assert.deepEqual(got, [
      { connId: 4, type: NodeDeleted, path: '/gone' },
      { connId: 4, type: NodeDataChanged, path: '/m' },
      { connId: 4, type: NodeCreated, path: '/m' },
      { connId: 4, type: NodeDeleted, path: '/gone' },
      { connId: 4, type: NodeChildrenChanged, path: '/m' },
    ]);
    assert.deepEqual(w.byConnection(), new Map([[4, ['/old', '/x']]]));
  });

  test('re-registered watches then fire like fresh ones', () => {
    const w = new WatchManager();
    w.setWatches(1, REL, { dataWatches: ['/old'], existWatches: [], childWatches: [], persistentRecursiveWatches: ['/'] }, lookup);
    assert.deepEqual(fire(w, '/old', NodeDataChanged), [{ connId: 1, type: NodeDataChanged, path: '/old' }]);
    assert.deepEqual(fire(w, '/old', NodeDataChanged), [{ connId: 1, type: NodeDataChanged, path: '/old' }], 'via the recursive watch');
    assert.equal(w.has(1, '/old', WatcherType.Data), false);
  });
});

describe('model check', () => {
  // A deliberately simple reference: a list of (conn, path, mode) triples, scanned in full.
  class Model {
    watches: { conn: number; path: string; bit: string }[] = [];
    add(conn: number, path: string, mode: WatchMode): void {
      const bit = mode === 'exist' ? 'data' : mode;
      if (!this.watches.some((x) => x.conn === conn && x.path === path && x.bit === bit)) this.watches.push({ conn, path, bit });
    }
    trigger(path: string, type: EventTypeCode): Set<number> {
      const isAncestor = (a: string, p: string) => a !== p && (a === '/' ? p.startsWith('/') : p.startsWith(a + '/'));
      const fires = (x: { path: string; bit: string }): boolean => {
        if (x.path === path) {
          if (x.bit === 'persistent') return true;
          if (x.bit === 'recursive') return type !== NodeChildrenChanged;
          if (x.bit === 'data') return type !== NodeChildrenChanged;
          return type === NodeChildrenChanged || type === NodeDeleted;
        }
        return x.bit === 'recursive' && type !== NodeChildrenChanged && isAncestor(x.path, path);
      };
      const hit = new Set<number>();
      this.watches = this.watches.filter((x) => {
        if (!fires(x)) return true;
        hit.add(x.conn);
        return x.bit === 'persistent' || x.bit === 'recursive';
      });
      return hit;
    }
    removeConn(conn: number): void {
      this.watches = this.watches.filter((x) => x.conn !== conn);
    }
  }

  test('random histories agree with a naive model', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const paths = ['/', '/a', '/a/b', '/a/b/c', '/a/c', '/b', '/ab', '/b/a'];
    const modes: WatchMode[] = ['data', 'exist', 'child', 'persistent', 'recursive'];
    const types: EventTypeCode[] = [NodeCreated, NodeDeleted, NodeDataChanged, NodeChildrenChanged];
    const w = new WatchManager();
    const m = new Model();
    for (let step = 0; step < 20000; step++) {
      const r = rand(100);
      if (r < 50) {
        const conn = rand(6);
        const path = paths[rand(paths.length)]!;
        const mode = modes[rand(modes.length)]!;
        w.add(conn, path, mode);
        m.add(conn, path, mode);
      } else if (r < 97) {
        const path = paths[rand(paths.length)]!;
        const type = types[rand(types.length)]!;
        const got = w.trigger(trig(path, type));
        const want = m.trigger(path, type);
        assert.equal(got.length, want.size, `step ${step}: one event per connection`);
        assert.deepEqual(new Set(got.map((n) => n.connId)), want, `step ${step}: ${NAME[type]} ${path}`);
        assert.ok(got.every((n) => n.path === path && n.type === type));
      } else {
        const conn = rand(6);
        w.removeConnection(conn);
        m.removeConn(conn);
      }
      assert.equal(w.watchCount(), m.watches.length, `step ${step}: count`);
    }
  });
});

describe('performance shape', () => {
  test('many connections and paths: triggers touch only what matches, removeConnection is cheap', () => {
    const w = new WatchManager();
    const CONNS = 2000;
    const PATHS = 50;
    for (let c = 0; c < CONNS; c++) {
      for (let p = 0; p < PATHS; p++) w.add(c, `/app/n${p}`, p % 2 === 0 ? 'data' : 'child');
    }
    assert.equal(w.watchCount(), CONNS * PATHS);
    const t0 = performance.now();
    // Deep paths with no recursive watch anywhere: one map miss each.
    for (let i = 0; i < 200000; i++) w.trigger(trig('/x/y/z/w/v/u', NodeDataChanged));
    const missMs = performance.now() - t0;
    assert.ok(missMs < 1000, `200k non-matching triggers took ${missMs.toFixed(0)} ms`);
    const n = fire(w, '/app/n0', NodeDataChanged);
    assert.equal(n.length, CONNS);
    assert.equal(w.watchCount(), CONNS * PATHS - CONNS, 'the fired one-shot watches are gone');
    const t1 = performance.now();
    for (let c = 0; c < CONNS; c++) w.removeConnection(c);
    const removeMs = performance.now() - t1;
    assert.ok(removeMs < 1000, `removing ${CONNS} connections took ${removeMs.toFixed(0)} ms`);
    assert.equal(w.watchCount(), 0);
    assert.equal(w.pathCount(), 0);
  });

  test('a recursive watch does not make triggers scan all watches', () => {
    const w = new WatchManager();
    for (let i = 0; i < 100000; i++) w.add(i % 100, `/data/n${i}`, 'data');
    w.add(1, '/data/n5', 'recursive');
    const t0 = performance.now();
    for (let i = 0; i < 100000; i++) w.trigger(trig(`/other/deep/path/${i}`, NodeCreated));
    const ms = performance.now() - t0;
    assert.ok(ms < 1500, `100k triggers with a recursive watch present took ${ms.toFixed(0)} ms`);
    assert.deepEqual(fire(w, '/data/n5/child', NodeCreated), [{ connId: 1, type: NodeCreated, path: '/data/n5/child' }]);
  });
});
