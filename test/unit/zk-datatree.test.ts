import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataTree, Kind, ROOT, type Undo } from '../../src/zk/datatree.js';
import { OPEN_ACL_UNSAFE } from '../../src/zk/acl.js';
import { rng } from '../support/prng.js';


interface ModelNode {
  data: Buffer | null;
  children: string[]; // names in creation order
}

/** A plain-object model of the tree to compare the column store against. */
class Model {
  readonly nodes = new Map<string, ModelNode>([['/', { data: null, children: [] }]]);
  parent(p: string): string {
    const i = p.lastIndexOf('/');
    return i === 0 ? '/' : p.slice(0, i);
  }
  name(p: string): string {
    return p.slice(p.lastIndexOf('/') + 1);
  }
}

function fresh(): { t: DataTree; m: Model } {
  const t = new DataTree(16);
  t.restore({ path: '/', data: null, acl: OPEN_ACL_UNSAFE, czxid: 0, mzxid: 0, pzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, kind: Kind.Persistent, owner: 0 }, -1);
  return { t, m: new Model() };
}

function randomData(rand: () => number, tag: number): Buffer | null {
  const r = rand();
  if (r < 0.1) return null;
  // mostly small, sometimes a few KB, rarely bigger than the dedicated-slab threshold
  const n = r < 0.6 ? Math.floor(rand() * 200) : r < 0.97 ? Math.floor(rand() * 8000) : 300_000 + Math.floor(rand() * 100_000);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 97) b[i] = (tag + i) & 0xff;
  return b;
}

function verify(t: DataTree, m: Model): void {
  assert.equal(t.count, m.nodes.size);
  let size = 0;
  for (const [p, n] of m.nodes) {
    const s = t.lookup(p);
    assert.ok(s >= 0, `lookup ${p}`);
    assert.equal(t.path(s), p);
    assert.deepEqual(t.data(s), n.data, `data of ${p}`);
    assert.deepEqual(t.childNames(s), n.children, `children of ${p}`);
    size += p.length + (n.data?.length ?? 0);
  }
  assert.equal(t.dataSize, size);
  assert.equal(t.lookup('/no/such/node'), -1);
  // the arena holds at most ~2x the live bytes plus two slabs of slack
  const live = [...m.nodes].reduce((a, [p, n]) => a + Buffer.byteLength(p) + (n.data?.length ?? 0), 0);
  assert.ok(t.arenaBytes() <= 2 * live + 2 * (1 << 20), `arena ${t.arenaBytes()} for ${live} live bytes`);
}

function randomStep(t: DataTree, m: Model, rand: () => number, i: number, undo: Undo | null): void {
  const paths = [...m.nodes.keys()];
  const pick = paths[Math.floor(rand() * paths.length)]!;
  const op = rand();
  const zxid = i + 1;
  if (op < 0.45) {
    const name = ['a', 'b', 'é', 'node', 'x'][Math.floor(rand() * 5)]! + String(Math.floor(rand() * 50));
    const path = pick === '/' ? `/${name}` : `${pick}/${name}`;
    if (m.nodes.has(path)) return;
    const data = randomData(rand, i);
    t.create(path, t.lookup(pick), data, t.acls.intern(OPEN_ACL_UNSAFE), Kind.Persistent, 0, zxid, zxid, undo);
    m.nodes.set(path, { data, children: [] });
    m.nodes.get(pick)!.children.push(m.name(path));
  } else if (op < 0.75) {
    if (pick === '/' || m.nodes.get(pick)!.children.length > 0) return;
    t.remove(t.lookup(pick), zxid, undo);
    m.nodes.delete(pick);
    const siblings = m.nodes.get(m.parent(pick))!.children;
    siblings.splice(siblings.indexOf(m.name(pick)), 1);
  } else {
    const data = randomData(rand, i);
    t.setData(t.lookup(pick), data, zxid, zxid, undo);
    m.nodes.get(pick)!.data = data;
  }
}

test('the column store matches a plain model through heavy churn (arena compaction, dedicated slabs, rehash)', () => {
  const { t, m } = fresh();
  const rand = rng(3);
  for (let i = 0; i < 12_000; i++) {
    randomStep(t, m, rand, i, null);
    if (i % 1500 === 0) verify(t, m);
  }
  verify(t, m);
  assert.ok(t.compactions > 5, `${t.compactions} compactions`);
  // delete everything, leaves first: the arena shrinks back to (at most) the current slab
  const byDepth = [...m.nodes.keys()].filter((p) => p !== '/').sort((a, b) => b.split('/').length - a.split('/').length);
  for (const p of byDepth) t.remove(t.lookup(p), 1e6, null);
  assert.equal(t.count, 1);
  assert.ok(t.arenaBytes() <= 1 << 20, `arena ${t.arenaBytes()} after deleting everything`);
});

test('undo restores the exact state even when compaction moved entries in between', () => {
  const { t, m } = fresh();
  const rand = rng(11);
  for (let i = 0; i < 3000; i++) randomStep(t, m, rand, i, null);
  const snapshot = (): string =>
    JSON.stringify(
      [...t.preorder()].map((s) => [t.path(s), t.data(s)?.toString('base64') ?? null, t.stat(s), t.childNames(s)]),
    );
  const compactionsBefore = t.compactions;
  for (let round = 0; round < 20; round++) {
    const before = snapshot();
    const copy = new Map([...m.nodes].map(([p, n]) => [p, { data: n.data, children: [...n.children] }]));
    const undo: Undo = [];
    for (let i = 0; i < 60; i++) randomStep(t, m, rand, 10_000 + round * 100 + i, undo);
    for (let j = undo.length - 1; j >= 0; j--) undo[j]!();
    assert.equal(snapshot(), before, `round ${round}`);
    assert.ok(round < 19 || t.compactions > compactionsBefore, 'compaction ran during the multi-style rounds');
    m.nodes.clear();
    for (const [p, n] of copy) m.nodes.set(p, n);
  }
  verify(t, m);
});

test('stat bookkeeping: C, pzxid, numChildren and the reported cversion', () => {
  const { t } = fresh();
  const acl = () => t.acls.intern(OPEN_ACL_UNSAFE);
  const a = t.create('/a', ROOT, null, acl(), Kind.Persistent, 0, 5, 50, null);
  t.create('/a/x', a, Buffer.from('1'), acl(), Kind.Ephemeral, 77, 6, 60, null);
  t.create('/a/y', a, null, acl(), Kind.Container, 0, 7, 70, null);
  assert.deepEqual([t.cversion[a], t.pzxid[a], t.numChildren[a]], [2, 7, 2]);
  t.remove(t.lookup('/a/x'), 8, null);
  assert.deepEqual([t.cversion[a], t.pzxid[a], t.numChildren[a], t.stat(a).cversion], [2, 8, 1, 3]);
  t.remove(t.lookup('/a/y'), 3, null); // an older zxid never moves pzxid back
  assert.equal(t.pzxid[a], 8);
  assert.equal(t.ephemeralCount, 0);
  assert.equal(t.containers.size, 0);
  assert.equal(t.descendantCount(ROOT), 1);
});
