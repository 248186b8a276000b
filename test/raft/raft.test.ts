// Rule-by-rule tests of the Raft core. Each test names the rule it checks: Figure 2 of the Raft
// paper ("In Search of an Understandable Consensus Algorithm") and the sections of Ongaro's thesis
// on PreVote (§9.6), CheckQuorum/leases (§6.2), leadership transfer (§3.10), ReadIndex (§6.4),
// learners (§4.2.1) and membership changes (§4.1, §4.3). Scenarios run on the synchronous
// harness (harness.ts); tables list inputs and expected outcomes.

import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { RaftLog } from '../../src/raft/log.js';
import { MemoryStorage } from '../../src/raft/memory-storage.js';
import { ConfChangeType, type Entry, EntryType, makeMessage, Message, MessageType } from '../../src/raft/messages.js';
import { majorityCommitted, majorityVoteResult, JointConfig } from '../../src/raft/quorum.js';
import { decodeConfChange, encodeConfChange, ProposalDroppedError } from '../../src/raft/raft.js';
import { RawNode } from '../../src/raft/rawnode.js';
import { decodeFromBuffer, encodeToBuffer } from '../../src/jute/schema.js';
import { Net } from './harness.js';

const ent = (index: number, term: number, data = ''): Entry => ({ index, term, type: EntryType.Normal, data: Buffer.from(data) });

function logWith(terms: number[]): RaftLog {
  const st = new MemoryStorage();
  st.append(terms.map((t, i) => ent(i + 1, t)));
  return new RaftLog(st);
}

describe('Figure 2: RequestVote', () => {
  // voter's log terms, candidate (lastIndex, lastTerm), expected grant (§5.4.1 election restriction)
  const table: [number[], number, number, boolean][] = [
    [[1, 1], 2, 1, true], // same
    [[1, 1], 3, 1, true], // longer, same last term
    [[1, 1], 1, 1, false], // shorter, same last term
    [[1, 2], 5, 1, false], // longer but older last term
    [[1, 2], 1, 3, true], // shorter but newer last term
    [[], 0, 0, true],
  ];
  for (const [terms, li, lt, grant] of table) {
    test(`voter log ${JSON.stringify(terms)}, candidate last ${lt}/${li} -> ${grant ? 'grant' : 'reject'}`, () => {
      assert.equal(logWith(terms).isUpToDate(li, lt), grant);
    });
  }

  test('at most one vote per term, and the vote is in the hard state before the response is sent', () => {
    const net = new Net([1, 2, 3], { preVote: false });
    const r3 = net.raft(3);
    r3.step(makeMessage({ type: MessageType.Vote, from: 1, to: 3, term: 1, index: 0, logTerm: 0 }));
    r3.step(makeMessage({ type: MessageType.Vote, from: 2, to: 3, term: 1, index: 0, logTerm: 0 }));
    const rd = net.node(3).rn.ready();
    assert.deepEqual(rd.hardState, { term: 1, vote: 1, commit: 0 });
    assert.deepEqual(rd.messages.map((m) => [m.to, m.reject]), [[1, false], [2, true]]);
    assert.equal(rd.mustSync, true);
  });
});

describe('Figure 2: AppendEntries (receiver)', () => {
  test('rejects when the log lacks prevLogIndex/prevLogTerm; accepts, truncates a conflicting suffix, commits min(leaderCommit, last new)', () => {
    const l = logWith([1, 1, 2, 2]);
    assert.equal(l.maybeAppend(4, 3, 0, []), undefined, 'prev term mismatch');
    assert.equal(l.maybeAppend(5, 2, 0, []), undefined, 'prev index past the end');
    assert.equal(l.maybeAppend(2, 1, 9, [ent(3, 3), ent(4, 3)]), 4);
    assert.deepEqual([1, 2, 3, 4].map((i) => l.term(i)), [1, 1, 3, 3]);
    assert.equal(l.committed, 4, 'min(leaderCommit 9, last new 4)');
    assert.throws(() => l.maybeAppend(1, 1, 4, [ent(2, 5)]), /conflicts with committed/, 'never overwrite a committed entry');
  });

  test('an append that is already contained does not truncate later entries (stale, reordered append)', () => {
    const l = logWith([1, 1, 1]);
    assert.equal(l.maybeAppend(0, 0, 0, [ent(1, 1)]), 1);
    assert.equal(l.lastIndex(), 3);
  });
});

describe('Figure 2: leader rules', () => {
  test('election: the winner appends an empty entry of its term and commits it on a quorum', () => {
    const net = new Net([1, 2, 3]);
    net.campaign(1);
    assert.equal(net.raft(1).state, 'leader');
    assert.equal(net.raft(1).term, 1);
    for (const id of [1, 2, 3]) assert.equal(net.raft(id).raftLog.committed, 1);
    assert.equal(net.propose(1, 'x'), 2);
    for (const id of [1, 2, 3]) assert.deepEqual(net.node(id).applied, ['x']);
  });

  test('§5.4.2: an entry of an earlier term is never committed by counting replicas (Figure 8)', () => {
    const net = new Net([1, 2, 3]);
    const r = net.raft(1);
    // Node 1 holds entries of term 1 it did not commit, then becomes leader of term 3.
    r.raftLog.append([ent(1, 1), ent(2, 1)]);
    r.term = 2;
    r.becomeCandidate();
    r.becomeLeader(); // term 3, appends the empty entry at 3
    // A follower acknowledges index 2 (term 1) but not 3: a quorum holds 2, yet it must stay uncommitted.
    r.step(makeMessage({ type: MessageType.AppResp, from: 2, to: 1, term: 3, index: 2 }));
    assert.equal(r.raftLog.committed, 0);
    r.step(makeMessage({ type: MessageType.AppResp, from: 2, to: 1, term: 3, index: 3 }));
    assert.equal(r.raftLog.committed, 3, 'committing the current-term entry commits the earlier ones');
  });

  test('fast backtracking: a follower with a long divergent suffix is repaired in one rejection', () => {
    const net = new Net([1, 2, 3]);
    net.isolate(3);
    const r3 = net.raft(3);
    r3.raftLog.append(Array.from({ length: 50 }, (_, k) => ent(1 + k, 1))); // 50 stale term-1 entries
    for (const id of [1, 2]) {
      net.raft(id).raftLog.append(Array.from({ length: 20 }, (_, k) => ent(1 + k, 2))); // 20 of term 2
      net.raft(id).becomeFollower(2, 0);
    }
    net.campaign(1); // term 3; probes 3 at index 21
    net.heal();
    net.delivered = [];
    net.tick(1, 1);
    net.stabilize();
    const rejects = net.delivered.filter((m) => m.type === MessageType.AppResp && m.reject).length;
    assert.equal(rejects, 1, 'one round trip skips all 50 divergent entries');
    assert.equal(r3.raftLog.lastIndex(), net.raft(1).raftLog.lastIndex());
    assert.equal(r3.raftLog.term(r3.raftLog.lastIndex()), 3);
  });

  test('flow control: at most maxInflightMsgs appends outstanding per follower; acks free the window', () => {
    const net = new Net([1, 2], { maxInflightMsgs: 2, maxSizePerMsg: 1 });
    net.campaign(1);
    net.drop = (m) => m.type === MessageType.AppResp; // acks lost: the window fills
    for (let i = 0; i < 5; i++) net.node(1).rn.propose(Buffer.from(`p${i}`));
    net.delivered = [];
    net.stabilize();
    assert.equal(net.count(MessageType.App), 2);
    net.heal();
    net.tick(1, 1); // heartbeat; its response frees a slot and replication resumes
    net.stabilize();
    assert.equal(net.raft(2).raftLog.lastIndex(), net.raft(1).raftLog.lastIndex());
  });
});

describe('§9.6 PreVote and §6.2 CheckQuorum', () => {
  test('a partitioned node does not raise its term, so rejoining does not depose the leader', () => {
    const net = new Net([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    net.tick(3, 100);
    net.stabilize();
    assert.equal(net.raft(3).term, 1, 'pre-votes failed, no term bump');
    net.heal();
    net.tickAll(1);
    net.stabilize();
    assert.equal(net.raft(1).state, 'leader');
    assert.equal(net.raft(1).term, 1);
  });

  test('without PreVote, the same rejoin would disrupt: a leased follower ignores the higher-term vote request', () => {
    const net = new Net([1, 2, 3], { preVote: false });
    net.campaign(1);
    net.raft(2).step(makeMessage({ type: MessageType.Vote, from: 3, to: 2, term: 5, index: 9, logTerm: 5 }));
    assert.equal(net.raft(2).term, 1, 'in lease: request ignored');
    net.tick(2, 10); // lease expired (no heartbeats delivered to 2)
    net.raft(2).step(makeMessage({ type: MessageType.Vote, from: 3, to: 2, term: 5, index: 9, logTerm: 5 }));
    assert.equal(net.raft(2).term, 5);
  });

  test('a leader that cannot reach a quorum steps down after an election timeout', () => {
    const net = new Net([1, 2, 3]);
    net.campaign(1);
    net.isolate(1);
    net.tick(1, 10);
    net.stabilize();
    net.tick(1, 10);
    assert.equal(net.raft(1).state, 'follower');
  });
});

describe('§3.10 leadership transfer', () => {
  test('the target campaigns at once (no PreVote, no lease) and wins; proposals are refused meanwhile', () => {
    const net = new Net([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    net.drop = (m) => m.type === MessageType.TimeoutNow;
    net.node(1).rn.transferLeader(3);
    net.stabilize();
    assert.throws(() => net.node(1).rn.propose(Buffer.from('b')), ProposalDroppedError);
    net.heal();
    net.raft(1).leadTransferee = 0;
    net.node(1).rn.transferLeader(3);
    net.stabilize();
    assert.equal(net.raft(3).state, 'leader');
    assert.equal(net.raft(1).state, 'follower');
    assert.equal(net.raft(3).term, 2);
  });

  test('a lagging target is caught up first', () => {
    const net = new Net([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    net.propose(1, 'a');
    net.heal();
    net.node(1).rn.transferLeader(3);
    net.stabilize();
    assert.equal(net.raft(3).state, 'leader');
    assert.deepEqual(net.node(3).applied, ['a']);
  });
});

describe('§6.4 ReadIndex', () => {
  test('the leader answers after a heartbeat round confirms it is still leader; followers forward', () => {
    const net = new Net([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    net.node(1).rn.readIndex(Buffer.from('r1'));
    net.node(2).rn.readIndex(Buffer.from('r2'));
    net.stabilize();
    assert.deepEqual(net.node(1).reads, [{ index: 2, context: 'r1' }]);
    assert.deepEqual(net.node(2).reads, [{ index: 2, context: 'r2' }]);
  });

  test('no answer without a quorum of heartbeat acks (a deposed leader cannot serve stale reads)', () => {
    const net = new Net([1, 2, 3]);
    net.campaign(1);
    net.isolate(1);
    net.node(1).rn.readIndex(Buffer.from('r'));
    net.stabilize();
    assert.deepEqual(net.node(1).reads, []);
  });

  test('a new leader waits for its first commit before answering', () => {
    const net = new Net([1, 2, 3]);
    net.drop = (m) => m.type === MessageType.AppResp;
    net.campaign(1);
    net.node(1).rn.readIndex(Buffer.from('r'));
    net.stabilize();
    assert.deepEqual(net.node(1).reads, []);
    net.heal();
    net.tick(1, 1);
    net.stabilize();
    assert.deepEqual(net.node(1).reads, [{ index: 1, context: 'r' }]);
  });
});

describe('§4.2.1 learners and §4.1/§4.3 membership changes', () => {
  const cc = (type: number, node: number) => ({ changes: [{ type, node }], joint: false, context: Buffer.alloc(0) });

  test('a learner receives the log but neither votes in quorums nor campaigns', () => {
    const net = new Net([1, 2], { learners: [3] });
    net.campaign(1);
    net.propose(1, 'a');
    assert.deepEqual(net.node(3).applied, ['a']);
    net.tick(3, 100);
    net.stabilize();
    assert.equal(net.raft(3).state, 'follower');
    net.isolate(2); // leader + learner are not a quorum
    net.propose(1, 'b');
    assert.equal(net.node(1).applied.length, 1);
  });

  test('one change at a time: a second change is refused until the first is applied; a new leader must apply its first entry first', () => {
    const net = new Net([1, 2, 3]);
    net.drop = (m) => m.type === MessageType.AppResp;
    net.campaign(1);
    // Before the empty entry of term 1 is applied, no change is accepted.
    assert.throws(() => net.node(1).rn.proposeConfChange(cc(ConfChangeType.AddLearner, 4)), /not applied yet/);
    net.heal();
    net.tick(1, 1);
    net.stabilize();
    net.add(4, [1, 2, 3]);
    net.drop = (m) => m.type === MessageType.AppResp; // keep the first change uncommitted
    net.node(1).rn.proposeConfChange(cc(ConfChangeType.AddLearner, 4));
    net.stabilize();
    assert.throws(() => net.node(1).rn.proposeConfChange(cc(ConfChangeType.AddVoter, 4)), /not applied yet/);
    net.heal();
    net.tick(1, 1);
    net.stabilize();
    net.node(1).rn.proposeConfChange(cc(ConfChangeType.AddVoter, 4));
    net.stabilize();
    assert.deepEqual(net.raft(1).confState().voters, [1, 2, 3, 4]);
    assert.deepEqual(net.raft(4).confState().voters, [1, 2, 3, 4]);
  });

  test('a simple change may alter at most one voter; joint consensus does more and leaves automatically', () => {
    const net = new Net([1, 2, 3]);
    net.campaign(1);
    const two = { changes: [{ type: ConfChangeType.RemoveNode, node: 2 }, { type: ConfChangeType.RemoveNode, node: 3 }], joint: false, context: Buffer.alloc(0) };
    assert.equal(net.raft(1).nextConfState(two).votersOutgoing.length, 3, 'two changes go through joint');
    net.add(4, [1, 2, 3]);
    net.add(5, [1, 2, 3]);
    net.node(1).rn.proposeConfChange({
      changes: [{ type: ConfChangeType.AddVoter, node: 4 }, { type: ConfChangeType.AddVoter, node: 5 }, { type: ConfChangeType.RemoveNode, node: 2 }],
      joint: false,
      context: Buffer.alloc(0),
    });
    net.stabilize();
    for (const id of [1, 3, 4, 5]) {
      const cs = net.raft(id).confState();
      assert.deepEqual(cs.voters, [1, 3, 4, 5], `node ${id}`);
      assert.deepEqual(cs.votersOutgoing, [], `node ${id} left the joint config`);
    }
    net.propose(1, 'after');
    assert.deepEqual(net.node(5).applied, ['after']);
  });

  test('a leader that removes itself steps down and the rest elect a new leader', () => {
    const net = new Net([1, 2, 3]);
    net.campaign(1);
    net.node(1).rn.proposeConfChange(cc(ConfChangeType.RemoveNode, 1));
    net.stabilize();
    assert.equal(net.raft(1).state, 'follower');
    for (let i = 0; i < 40; i++) {
      net.tickAll(1);
      net.stabilize();
    }
    assert.ok(net.raft(2).state === 'leader' || net.raft(3).state === 'leader');
  });

  test('§4.1 a conf change is in force once appended, before commit; cutting it from the log reverts it', () => {
    const storage = new MemoryStorage();
    const rn = new RawNode({ id: 1, storage, electionTick: 10, heartbeatTick: 1, random: () => 0.5, voters: [1, 2, 3], preVote: false });
    const change = (type: number, node: number): Entry & { data: Buffer } => ({ index: 0, term: 0, type: EntryType.ConfChange, data: encodeConfChange({ changes: [{ type, node }], joint: false, context: Buffer.alloc(0) }) });
    const at = (e: Entry, index: number, term: number): Entry => ({ ...e, index, term });
    // Leader 2 (term 1) sends: remove 3, then add 4. Node 1 never learns that they committed.
    rn.step(makeMessage({ type: MessageType.App, from: 2, to: 1, term: 1, index: 0, logTerm: 0, commit: 0, entries: [ent(1, 1), at(change(ConfChangeType.RemoveNode, 3), 2, 1), ent(3, 1), at(change(ConfChangeType.AddVoter, 4), 4, 1)] }));
    assert.deepEqual(rn.raft.confState().voters, [1, 2, 4], 'the newest config in the log is in force');
    assert.deepEqual(rn.raft.appliedConfState().voters, [1, 2, 3], 'the applied config has not moved');
    // Campaigning, it asks the members of {1,2,4}; a grant from the removed node 3 does not count.
    rn.campaign();
    const asked = rn.raft.msgs.filter((m) => m.type === MessageType.Vote).map((m) => m.to).sort();
    assert.deepEqual(asked, [2, 4]);
    const term = rn.raft.term;
    rn.step(makeMessage({ type: MessageType.VoteResp, from: 3, to: 1, term }));
    assert.equal(rn.raft.state, 'candidate', 'an old-config majority {1,3} does not elect');
    rn.step(makeMessage({ type: MessageType.VoteResp, from: 4, to: 1, term }));
    assert.equal(rn.raft.state, 'leader', 'a majority of {1,2,4} does');
    // A new leader (term 5) overwrites index 4: the config falls back to the one before it.
    const f = new RawNode({ id: 1, storage: new MemoryStorage(), electionTick: 10, heartbeatTick: 1, random: () => 0.5, voters: [1, 2, 3] });
    f.step(makeMessage({ type: MessageType.App, from: 2, to: 1, term: 1, index: 0, logTerm: 0, commit: 0, entries: [ent(1, 1), at(change(ConfChangeType.RemoveNode, 3), 2, 1), ent(3, 1), at(change(ConfChangeType.AddVoter, 4), 4, 1)] }));
    f.step(makeMessage({ type: MessageType.App, from: 2, to: 1, term: 5, index: 3, logTerm: 1, commit: 0, entries: [ent(4, 5, 'x')] }));
    assert.deepEqual(f.raft.confState().voters, [1, 2]);
  });
});

describe('§5 log compaction: snapshots in chunks', () => {
  test('a follower behind the compacted log gets the snapshot in chunks, resuming after a lost chunk', () => {
    const net = new Net([1, 2, 3], { snapshotChunkBytes: 4 });
    net.campaign(1);
    net.isolate(3);
    for (let i = 0; i < 5; i++) net.propose(1, `e${i}`);
    const st = net.node(1).storage;
    st.createSnapshot(st.lastIndex(), net.raft(1).confState(), Buffer.from('SNAPSHOT-BODY-0123456789'));
    let dropped = false;
    net.drop = (m) => {
      if (m.type === MessageType.Snap && m.offset === 8 && !dropped) return (dropped = true);
      return false;
    };
    net.tick(1, 1);
    net.stabilize();
    net.tick(1, 1); // heartbeat: the leader resends from the follower's offset
    net.stabilize();
    assert.ok(dropped);
    const snap = net.node(3).storage.snapshot();
    assert.equal(snap.data.toString(), 'SNAPSHOT-BODY-0123456789');
    assert.equal(net.raft(3).raftLog.committed, net.raft(1).raftLog.committed);
    net.propose(1, 'after');
    assert.deepEqual(net.node(3).applied, ['after']);
  });
  test('a snapshot installed while committed conf changes are still being applied makes them no-ops (sim seed 501901)', () => {
    // Follower 3 is in a joint config and has been handed the committed "leave joint" entry in a
    // Ready, but has not applied it when the leader's snapshot (taken after both, plain config) arrives.
    const storage = new MemoryStorage();
    const rn = new RawNode({ id: 3, storage, electionTick: 10, heartbeatTick: 1, random: () => 0.5, voters: [1, 2, 3] });
    const enter = { changes: [{ type: ConfChangeType.AddVoter, node: 4 }, { type: ConfChangeType.RemoveNode, node: 2 }], joint: true, context: Buffer.alloc(0) };
    const leave = { changes: [], joint: false, context: Buffer.alloc(0) };
    const ccEntry = (index: number, c: typeof enter | typeof leave): Entry => ({ index, term: 1, type: EntryType.ConfChange, data: encodeConfChange(c) });
    rn.step(makeMessage({ type: MessageType.App, from: 1, to: 3, term: 1, index: 0, logTerm: 0, commit: 2, entries: [ent(1, 1, 'a'), ccEntry(2, enter), ccEntry(3, leave)] }));
    const persist = rn.ready();
    storage.append(persist.entries);
    if (persist.hardState) storage.setHardState(persist.hardState);
    rn.advance(persist);
    const first = rn.ready();
    assert.deepEqual(first.committedEntries.map((e) => e.index), [1, 2]);
    assert.deepEqual(rn.applyConfChange(decodeConfChange(first.committedEntries[1]!.data!)).votersOutgoing, [1, 2, 3]);
    rn.advance(first);
    rn.step(makeMessage({ type: MessageType.Heartbeat, from: 1, to: 3, term: 1, commit: 3 }));
    const rd = rn.ready();
    assert.deepEqual(rd.committedEntries.map((e) => e.index), [3]);
    const snapConf = { voters: [1, 3, 4], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
    rn.step(makeMessage({ type: MessageType.Snap, from: 1, to: 3, term: 1, snapshot: { index: 10, term: 1, confState: snapConf }, offset: 0, data: Buffer.from('S'), done: true }));
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.ConfChange) assert.deepEqual(rn.applyConfChange(decodeConfChange(e.data!)).voters, [1, 3, 4]);
    }
    rn.advance(rd);
    const rd2 = rn.ready();
    assert.equal(rd2.snapshot?.meta.index, 10);
    storage.applySnapshot(rd2.snapshot!);
    rn.advance(rd2);
    assert.deepEqual(rn.raft.confState(), snapConf);
    // Conf changes after the snapshot apply normally again.
    rn.step(makeMessage({ type: MessageType.App, from: 1, to: 3, term: 1, index: 10, logTerm: 1, commit: 11, entries: [{ index: 11, term: 1, type: EntryType.ConfChange, data: encodeConfChange({ changes: [{ type: ConfChangeType.AddLearner, node: 5 }], joint: false, context: Buffer.alloc(0) }) }] }));
    const rd3a = rn.ready();
    storage.append(rd3a.entries);
    rn.advance(rd3a);
    const rd3 = rn.ready();
    assert.deepEqual(rn.applyConfChange(decodeConfChange(rd3.committedEntries[0]!.data!)).learners, [5]);
    rn.advance(rd3);
  });
});

describe('quorum math against a naive oracle', () => {
  test('majority commit index and vote result on random inputs', () => {
    let s = 42;
    const rnd = (n: number) => ((s = (s * 48271) % 2147483647), s % n);
    for (let k = 0; k < 2000; k++) {
      const ids = new Set(Array.from({ length: rnd(7) + 1 }, () => rnd(9) + 1));
      const acked = new Map([...ids].map((id) => [id, rnd(20)]));
      const c = majorityCommitted(ids, (id) => acked.get(id)!);
      // naive: the largest x such that a majority acked ≥ x
      let naive = 0;
      for (let x = 0; x <= 20; x++) if ([...ids].filter((id) => acked.get(id)! >= x).length > ids.size / 2) naive = x;
      assert.equal(c, naive);
      const votes = new Map<number, boolean>();
      for (const id of ids) if (rnd(3) > 0) votes.set(id, rnd(2) === 0);
      const yes = [...votes.values()].filter((v) => v).length;
      const no = [...votes.values()].filter((v) => !v).length;
      const want = yes > ids.size / 2 ? 'won' : no >= ids.size / 2 + (ids.size % 2 === 0 ? 0 : 0.5) ? 'lost' : 'pending';
      assert.equal(majorityVoteResult(ids, votes), want);
    }
    const j = new JointConfig(new Set([1, 2, 3]), new Set([3, 4, 5]));
    assert.equal(j.committed((id) => ({ 1: 5, 2: 5, 3: 1, 4: 1, 5: 1 })[id]!), 1, 'both majorities needed');
  });
});

test('messages are declared once as jute records and round-trip', () => {
  const m = makeMessage({ type: MessageType.App, from: 1, to: 2, term: 7, index: 3, logTerm: 6, entries: [ent(4, 7, 'x')], commit: 3, context: Buffer.from('c') });
  const back = decodeFromBuffer(Message, encodeToBuffer(Message, m));
  assert.deepEqual(back, m);
});
