import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkDatabase } from '../../src/zk/database.js';
import { formatStats, parseStats } from '../../src/zk/datatree.js';
import { Harness, multiOps as m, stateBytes } from './zk-support.js';

const LIMITS = 'count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1';
const stats = (h: Harness, p = '/q'): string => h.dataOf(`/zookeeper/quota${p}/zookeeper_stats`)!.toString();

/** What zkCli's setquota does: the quota path nodes, the limits node, then a zeroed stats node. */
function setQuota(h: Harness, path: string): void {
  let q = '/zookeeper/quota';
  for (const part of path.split('/').slice(1)) {
    q += '/' + part;
    if (h.db.stat(q) === undefined) assert.equal(h.create(q).err, 0);
  }
  assert.equal(h.create(`${q}/zookeeper_limits`, LIMITS).err, 0);
  assert.equal(h.create(`${q}/zookeeper_stats`, 'count=0,bytes=0').err, 0);
}

test('StatsTrack text round-trips like ZooKeeper\'s', () => {
  assert.equal(formatStats(parseStats(LIMITS)), LIMITS);
  assert.equal(formatStats(parseStats('count=1,bytes=0')), 'count=1,bytes=0');
  assert.equal(formatStats(parseStats('')), 'count=-1,bytes=-1');
  assert.equal(formatStats(parseStats('bytes=7;zeta=1;alpha=2,count=')), 'count=-1,bytes=7=;alpha=2;zeta=1');
  assert.equal(formatStats(parseStats('garbage,count=x,bytes=3')), 'count=-1,bytes=3'); // ZooKeeper would throw; we skip
});

test('zookeeper_stats follows creates, setData and deletes under the quota path (3.8 DataTree)', () => {
  const h = new Harness();
  h.create('/q', 'xy');
  h.create('/q/pre', 'abc');
  setQuota(h, '/q');
  assert.equal(stats(h), 'count=2,bytes=5'); // creating the stats node recomputes the subtree
  const statNode = h.db.stat('/zookeeper/quota/q/zookeeper_stats')!;
  assert.equal(statNode.version, 0); // rewrites touch only the data
  h.create('/q/a', 'aaaa');
  assert.equal(stats(h), 'count=3,bytes=9');
  h.create('/q/a/b');
  h.setData('/q/a', 'a');
  assert.equal(stats(h), 'count=4,bytes=6');
  const r = h.delete('/q/a/b');
  assert.equal(stats(h), 'count=3,bytes=6');
  assert.deepEqual(r.triggers.map((t) => t.path), ['/q/a/b', '/q/a']); // no event for the stats node
  assert.equal(h.db.stat('/zookeeper/quota/q/zookeeper_stats')!.mzxid, statNode.mzxid);
  h.create('/other', 'zzz'); // outside the quota
  h.create('/qq', 'zzz'); // a string prefix is not a path prefix
  assert.equal(stats(h), 'count=3,bytes=6');
  // the limits node going away stops the bookkeeping
  h.delete('/zookeeper/quota/q/zookeeper_limits');
  h.create('/q/late', '12345');
  assert.equal(stats(h), 'count=3,bytes=6');
});

test('nested quotas count towards the deepest one only', () => {
  const h = new Harness();
  h.create('/a');
  h.create('/a/b');
  setQuota(h, '/a');
  setQuota(h, '/a/b');
  h.create('/a/b/c', '1');
  h.create('/a/d', '22');
  assert.equal(stats(h, '/a/b'), 'count=2,bytes=1');
  assert.equal(stats(h, '/a'), 'count=3,bytes=2');
});

test('a failed multi restores the stats; a snapshot rebuilds the trie and the stats', () => {
  const h = new Harness();
  h.create('/q');
  setQuota(h, '/q');
  h.create('/q/a', 'aaaa');
  const before = stateBytes(h.db);
  const r = h.multi([m.create('/q/x', Buffer.from('123')), m.setData('/q/a', null), m.delete('/q/a'), m.check('/q', 42)]);
  assert.deepEqual((r.response as { err: number }[]).map((x) => x.err), [0, 0, 0, -103]);
  assert.deepEqual(stateBytes(h.db), before);
  assert.equal(stats(h), 'count=2,bytes=4');
  const back = ZkDatabase.deserialize(Buffer.concat(h.db.serialize()));
  assert.deepEqual(Buffer.concat(back.serialize()), Buffer.concat(h.db.serialize()));
  const t = new Harness(undefined, false);
  t.db = back;
  t.zxid = h.zxid;
  t.time = h.time;
  t.session(0x1000);
  t.create('/q/b', 'bb');
  assert.equal(stats(t), 'count=3,bytes=6'); // the trie was rebuilt from the limits node
});
