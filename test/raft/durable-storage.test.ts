// DurableStorage: what a node recovers after restarts and crashes at the interesting points.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { DurableStorage } from '../../src/raft/durable-storage.js';
import { type Entry, EntryType, type HardState, NONE, type Snapshot } from '../../src/raft/messages.js';
import type { Ready } from '../../src/raft/rawnode.js';
import { RawNode } from '../../src/raft/rawnode.js';
import { HardStateStore } from '../../src/storage/hardstate.js';
import { WriteAheadLog } from '../../src/storage/wal.js';
import { encodeEntryPayload } from '../../src/raft/durable-storage.js';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kraal-raft-ds-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const ent = (index: number, term: number, data = `e${index}`): Entry => ({ index, term, type: EntryType.Normal, data: Buffer.from(data) });
const ents = (from: number, to: number, term: number): Entry[] => {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(ent(i, term));
  return out;
};

function ready(p: { hardState?: HardState; entries?: Entry[]; snapshot?: Snapshot }): Ready {
  const rd: Ready = { entries: p.entries ?? [], committedEntries: [], messages: [], readStates: [], mustSync: true };
  if (p.hardState) rd.hardState = p.hardState;
  if (p.snapshot) rd.snapshot = p.snapshot;
  return rd;
}

function logOf(ds: DurableStorage): { index: number; term: number; data: string }[] {
  const m = ds.memory;
  if (m.lastIndex() < m.firstIndex()) return [];
  return m.entries(m.firstIndex(), m.lastIndex() + 1, Infinity).map((e) => ({ index: e.index, term: e.term, data: e.data!.toString() }));
}

const quiet = { onWarn: () => undefined };

describe('DurableStorage', () => {
  test('empty directory: empty log, zero hard state', async () => {
    const ds = await DurableStorage.open({ dir: tmp(), ...quiet });
    assert.deepEqual(ds.memory.hardState, { term: 0, vote: NONE, commit: 0 });
    assert.equal(ds.memory.lastIndex(), 0);
    assert.equal(ds.restoredSnapshot.meta.index, 0);
    await ds.close();
  });

  test('restart recovers term, vote, commit and log (vote NONE <-> null)', async () => {
    const dir = tmp();
    let ds = await DurableStorage.open({ dir, ...quiet });
    await ds.persist(ready({ hardState: { term: 3, vote: 2, commit: 0 }, entries: ents(1, 5, 3) }));
    await ds.persist(ready({ hardState: { term: 3, vote: 2, commit: 4 } })); // commit only: background save
    await ds.close();
    ds = await DurableStorage.open({ dir, ...quiet });
    assert.deepEqual(ds.memory.hardState, { term: 3, vote: 2, commit: 4 });
    assert.deepEqual(logOf(ds).map((e) => `${e.term}/${e.index}/${e.data}`), ['3/1/e1', '3/2/e2', '3/3/e3', '3/4/e4', '3/5/e5']);
    // new term, no vote: stored as null, read back as NONE
    await ds.persist(ready({ hardState: { term: 4, vote: NONE, commit: 4 } }));
    assert.deepEqual(await new HardStateStore(dir).load(), { term: 4, vote: null, commit: 4 });
    await ds.close();
    ds = await DurableStorage.open({ dir, ...quiet });
    assert.deepEqual(ds.memory.hardState, { term: 4, vote: NONE, commit: 4 });
    await ds.close();
  });

  test('conflicting suffix: a follower overwrite is persisted (truncateAfter then append)', async () => {
    const dir = tmp();
    let ds = await DurableStorage.open({ dir, ...quiet });
    await ds.persist(ready({ hardState: { term: 1, vote: 1, commit: 0 }, entries: ents(1, 6, 1) }));
    await ds.persist(ready({ hardState: { term: 2, vote: NONE, commit: 0 }, entries: [ent(3, 2, 'x3'), ent(4, 2, 'x4')] }));
    assert.equal(ds.stats().truncations, 1);
    assert.equal(ds.wal.lastIndex, 4);
    await ds.close();
    ds = await DurableStorage.open({ dir, ...quiet });
    assert.deepEqual(logOf(ds).map((e) => `${e.term}/${e.index}/${e.data}`), ['1/1/e1', '1/2/e2', '2/3/x3', '2/4/x4']);
    await ds.close();
  });

  test('crash between the WAL flush and the hard state save: term raised to the log, no vote', async () => {
    const dir = tmp();
    let ds = await DurableStorage.open({ dir, ...quiet });
    await ds.persist(ready({ hardState: { term: 1, vote: 1, commit: 2 }, entries: ents(1, 2, 1) }));
    await ds.close();
    // The next Ready (term 2, vote 3, entries 3..4) reached the WAL, the process died before the
    // hard state rename: reproduce with the WAL alone.
    const wal = await WriteAheadLog.open(path.join(dir, 'wal'));
    for (const e of ents(3, 4, 2)) wal.append({ index: e.index, term: e.term, payload: encodeEntryPayload(e) });
    await wal.flush();
    await wal.close();
    const warnings: string[] = [];
    ds = await DurableStorage.open({ dir, onWarn: (m) => warnings.push(m) });
    assert.deepEqual(ds.memory.hardState, { term: 2, vote: NONE, commit: 2 });
    assert.equal(ds.memory.lastIndex(), 4);
    assert.ok(warnings.some((w) => /saved term is 1/.test(w)), warnings.join('\n'));
    // The core starts from it as a follower of term 2 with the whole log.
    const rn = new RawNode({ id: 1, storage: ds.memory, electionTick: 10, heartbeatTick: 1, random: () => 0.5, voters: [1, 2, 3] });
    assert.equal(rn.raft.term, 2);
    assert.equal(rn.raft.vote, NONE);
    assert.equal(rn.raft.raftLog.lastIndex(), 4);
    await ds.close();
  });

  test("a Ready's commit index is never saved before that Ready's entries are durable", async () => {
    // Entries 4..6 replace a stale suffix; the same Ready commits 6 and changes the term. If the
    // hard state (saved concurrently with the WAL flush) carried commit 6 and the process died
    // before the flush, a restart would apply the stale entries (simulator seed 553923).
    const dir = tmp();
    const ds = await DurableStorage.open({ dir, ...quiet });
    await ds.persist(ready({ hardState: { term: 1, vote: 1, commit: 3 }, entries: ents(1, 6, 1) }));
    const saves: { commit: number; walFlushedTo: number }[] = [];
    const store = (ds as unknown as { hardStateStore: HardStateStore }).hardStateStore;
    const save = store.save.bind(store);
    let durableTo = ds.wal.lastIndex ?? 0;
    store.save = (hs) => {
      saves.push({ commit: hs.commit, walFlushedTo: durableTo });
      return save(hs);
    };
    const flush = ds.wal.flush.bind(ds.wal);
    ds.wal.flush = async () => {
      const target = ds.wal.lastIndex ?? 0;
      await flush();
      durableTo = target;
    };
    await ds.persist(ready({ hardState: { term: 2, vote: 2, commit: 6 }, entries: [ent(4, 2, 'n4'), ent(5, 2, 'n5'), ent(6, 2, 'n6')] }));
    await ds.close();
    assert.ok(saves.length >= 2, JSON.stringify(saves));
    assert.equal(saves[0]!.commit, 3, 'the term/vote save carries the last commit already covered by durable entries');
    for (const sv of saves) assert.ok(sv.commit <= 3 || sv.walFlushedTo >= 6, `commit ${sv.commit} saved while the WAL was durable only to ${sv.walFlushedTo}`);
    assert.deepEqual(await new HardStateStore(dir).load(), { term: 2, vote: 2, commit: 6 });
  });

  test('commit index ahead of the log after a crash: the core clamps it', async () => {
    const dir = tmp();
    let ds = await DurableStorage.open({ dir, ...quiet });
    await ds.persist(ready({ hardState: { term: 1, vote: 1, commit: 0 }, entries: ents(1, 3, 1) }));
    await ds.close();
    // Hard state says commit 9 (saved in the background) but the WAL lost entries 4..9 (never flushed).
    await new HardStateStore(dir).save({ term: 1, vote: 1, commit: 9 });
    ds = await DurableStorage.open({ dir, ...quiet });
    assert.equal(ds.memory.hardState.commit, 9);
    const rn = new RawNode({ id: 1, storage: ds.memory, electionTick: 10, heartbeatTick: 1, random: () => 0.5, voters: [1, 2, 3] });
    assert.equal(rn.raft.raftLog.committed, 3);
    assert.equal(rn.status().lastIndex, 3);
    const rd = rn.ready();
    assert.deepEqual(rd.committedEntries.map((e) => e.index), [1, 2, 3]);
    await ds.close();
  });

  test('torn WAL tail is cut on restart; the log ends at the last whole record', async () => {
    const dir = tmp();
    let ds = await DurableStorage.open({ dir, ...quiet });
    await ds.persist(ready({ hardState: { term: 1, vote: 1, commit: 0 }, entries: ents(1, 5, 1) }));
    const dataEnd = ds.wal.stats().dataBytes;
    await ds.close();
    const seg = fs.readdirSync(path.join(dir, 'wal')).filter((n) => n.startsWith('log.'))[0]!;
    fs.truncateSync(path.join(dir, 'wal', seg), dataEnd - 3); // the last record loses its last bytes
    const warnings: string[] = [];
    ds = await DurableStorage.open({ dir, onWarn: (m) => warnings.push(m) });
    assert.equal(ds.memory.lastIndex(), 4);
    assert.ok(warnings.some((w) => /torn/.test(w)), warnings.join('\n'));
    await ds.persist(ready({ entries: [ent(5, 1, 'again')] }));
    await ds.close();
    ds = await DurableStorage.open({ dir, ...quiet });
    assert.equal(logOf(ds).at(-1)!.data, 'again');
    await ds.close();
  });

  test('snapshot from the leader: conflicting log dropped, snapshot + later entries recovered', async () => {
    const dir = tmp();
    let ds = await DurableStorage.open({ dir, ...quiet });
    await ds.persist(ready({ hardState: { term: 1, vote: 1, commit: 0 }, entries: ents(1, 12, 1) }));
    const cs = { voters: [1, 2, 3], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
    const snap: Snapshot = { meta: { index: 10, term: 3, confState: cs }, data: Buffer.from('state@10') };
    await ds.persist(ready({ hardState: { term: 3, vote: NONE, commit: 10 }, snapshot: snap, entries: [ent(11, 3, 's11')] }));
    assert.equal(ds.memory.firstIndex(), 11);
    await ds.close();
    ds = await DurableStorage.open({ dir, ...quiet });
    assert.equal(ds.restoredSnapshot.meta.index, 10);
    assert.equal(ds.restoredSnapshot.meta.term, 3);
    assert.deepEqual(ds.restoredSnapshot.meta.confState.voters, [1, 2, 3]);
    assert.equal(ds.restoredSnapshot.data.toString(), 'state@10');
    assert.deepEqual(logOf(ds).map((e) => `${e.term}/${e.index}/${e.data}`), ['3/11/s11']);
    const rn = new RawNode({ id: 1, storage: ds.memory, electionTick: 10, heartbeatTick: 1, random: () => 0.5 });
    assert.equal(rn.raft.raftLog.applied, 10);
    assert.deepEqual([...rn.raft.config.incoming].sort(), [1, 2, 3]);
    await ds.close();
  });

  test('compaction: snapshot written atomically, restart starts from it, old WAL segments purged', async () => {
    const dir = tmp();
    let ds = await DurableStorage.open({ dir, segmentBytes: 4096, ...quiet });
    const cs = { voters: [1], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
    const big = (i: number, t: number): Entry => ({ index: i, term: t, type: EntryType.Normal, data: Buffer.alloc(500, i % 256) });
    let next = 1;
    await ds.persist(ready({ hardState: { term: 1, vote: 1, commit: 0 } }));
    for (let round = 1; round <= 4; round++) {
      const batch: Entry[] = [];
      for (let k = 0; k < 40; k++) batch.push(big(next++, 1));
      await ds.persist(ready({ entries: batch, hardState: { term: 1, vote: 1, commit: next - 1 } }));
      await ds.compact(next - 1, cs, Buffer.from(`state@${next - 1}`), 5);
    }
    const segsAfter = fs.readdirSync(path.join(dir, 'wal')).filter((n) => n.startsWith('log.')).length;
    assert.ok(ds.wal.firstIndex! > 1, `WAL first index ${ds.wal.firstIndex} should have moved (segments: ${segsAfter})`);
    assert.equal(ds.memory.firstIndex(), 160 - 5 + 1);
    assert.ok(!fs.readdirSync(path.join(dir, 'snap')).some((n) => n.includes('.tmp.')));
    await ds.close();
    ds = await DurableStorage.open({ dir, ...quiet });
    assert.equal(ds.restoredSnapshot.meta.index, 160);
    assert.equal(ds.restoredSnapshot.data.toString(), 'state@160');
    assert.equal(ds.memory.lastIndex(), 160);
    await ds.persist(ready({ entries: [big(161, 2)], hardState: { term: 2, vote: 1, commit: 160 } }));
    await ds.close();
    ds = await DurableStorage.open({ dir, ...quiet });
    assert.deepEqual(logOf(ds).map((e) => e.index), [161]);
    await ds.close();
  });

  test('a damaged newest snapshot falls back to an older one plus the log after it', async () => {
    const dir = tmp();
    let ds = await DurableStorage.open({ dir, ...quiet });
    const cs = { voters: [1], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
    await ds.persist(ready({ hardState: { term: 1, vote: 1, commit: 0 }, entries: ents(1, 10, 1) }));
    await ds.compact(5, cs, Buffer.from('s5'));
    await ds.persist(ready({ entries: ents(11, 20, 1) }));
    await ds.compact(15, cs, Buffer.from('s15'));
    await ds.close();
    const snaps = fs.readdirSync(path.join(dir, 'snap')).sort();
    const newest = path.join(dir, 'snap', snaps.at(-1)!);
    const b = fs.readFileSync(newest);
    b[b.length - 6] ^= 0xff; // body damage
    fs.writeFileSync(newest, b);
    const warnings: string[] = [];
    ds = await DurableStorage.open({ dir, onWarn: (m) => warnings.push(m) });
    assert.equal(ds.restoredSnapshot.meta.index, 5);
    assert.equal(ds.memory.lastIndex(), 20);
    assert.ok(warnings.some((w) => /invalid/.test(w)));
    await ds.close();
  });

  test('a single-node RawNode driven through DurableStorage survives restarts', async () => {
    const dir = tmp();
    const applied: string[] = [];
    const drive = async (rn: RawNode, ds: DurableStorage) => {
      while (rn.hasReady()) {
        const rd = rn.ready();
        await ds.persist(rd);
        for (const e of rd.committedEntries) if (e.data && e.data.length) applied.push(e.data.toString());
        rn.advance(rd);
      }
    };
    for (let life = 0; life < 3; life++) {
      const ds = await DurableStorage.open({ dir, ...quiet });
      const rn = new RawNode({ id: 1, storage: ds.memory, electionTick: 10, heartbeatTick: 1, random: () => 0.5, voters: [1] });
      applied.length = 0;
      await drive(rn, ds); // replays the committed log
      assert.equal(applied.length, life * 3);
      rn.campaign();
      await drive(rn, ds);
      assert.equal(rn.raft.state, 'leader');
      assert.equal(rn.raft.term, life + 1);
      for (let k = 0; k < 3; k++) {
        rn.propose(Buffer.from(`l${life}p${k}`));
        await drive(rn, ds);
      }
      await ds.close();
    }
    assert.deepEqual(applied, ['l0p0', 'l0p1', 'l0p2', 'l1p0', 'l1p1', 'l1p2', 'l2p0', 'l2p1', 'l2p2']);
  });
});
