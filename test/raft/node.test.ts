// RaftNode: a 3-node cluster in this process over loopback TCP with real fsync: election, 1000
// commits, leader loss and re-election, and restarted nodes catching up from the log and from a
// snapshot after compaction.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { NotLeaderError, RaftNode, type RaftNodeOptions } from '../../src/raft/node.js';
import { HOST, freePort } from './ports.js';



const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The replicated state: the list of applied payloads. */
class Cluster {
  readonly nodes = new Map<number, RaftNode | undefined>();
  readonly state = new Map<number, string[]>();
  readonly warns: string[] = [];
  /** Application data received (onAppData), by receiver. */
  readonly appData: { to: number; from: number; data: string }[] = [];
  private constructor(
    readonly base: string,
    readonly ports: Map<number, number>,
    readonly extra: Partial<RaftNodeOptions>,
  ) {}

  static async create(extra: Partial<RaftNodeOptions> = {}): Promise<Cluster> {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'kraal-raft-node-'));
    const ports = new Map<number, number>();
    for (const id of [1, 2, 3]) ports.set(id, await freePort());
    const c = new Cluster(base, ports, extra);
    for (const id of [1, 2, 3]) await c.start(id);
    return c;
  }

  async start(id: number): Promise<RaftNode> {
    this.state.set(id, []);
    const n = await RaftNode.start({
      id,
      clusterId: 'node-test',
      peers: [...this.ports].map(([pid, port]) => [pid, { host: HOST, port }]),
      dir: path.join(this.base, `n${id}`),
      tickMs: 25,
      electionTick: 10,
      heartbeatTick: 2,
      transport: { backoff: { initialMs: 20, maxMs: 200 } },
      onApply: (ents) => {
        const s = this.state.get(id)!;
        for (const e of ents) s.push(e.data!.toString());
      },
      onRestore: (data) => {
        this.state.set(id, JSON.parse(data.toString()));
      },
      takeSnapshot: () => Buffer.from(JSON.stringify(this.state.get(id))),
      onAppData: (from, data) => this.appData.push({ to: id, from, data: data.toString() }),
      logger: { info: () => undefined, warn: (m) => this.warns.push(`${id}: ${m}`) },
      onFatal: (e) => this.warns.push(`${id}: FATAL ${e.stack}`),
      ...this.extra,
    });
    this.nodes.set(id, n);
    return n;
  }

  async stop(id: number): Promise<void> {
    const n = this.nodes.get(id);
    this.nodes.set(id, undefined);
    await n?.stop();
  }

  running(): RaftNode[] {
    return [...this.nodes.values()].filter((n): n is RaftNode => n !== undefined);
  }

  async leader(): Promise<RaftNode> {
    let found: RaftNode | undefined;
    await until(() => {
      const ls = this.running().filter((n) => n.isLeader);
      found = ls.length === 1 ? ls[0] : undefined;
      return found !== undefined;
    }, 'a single leader');
    return found!;
  }

  /** Proposes through whoever leads, retrying while there is none. */
  async propose(data: string): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const l = await this.leader();
      try {
        return await l.propose(Buffer.from(data));
      } catch (e) {
        if (attempt > 50) throw e;
        if (!(e instanceof NotLeaderError)) this.warns.push(`retry ${data}: ${(e as Error).message}`);
        await sleep(20);
      }
    }
  }

  async converged(ids: number[], count: number): Promise<void> {
    await until(() => ids.every((id) => this.state.get(id)!.length >= count), `nodes ${ids} to apply ${count} entries`);
    const ref = this.state.get(ids[0]!)!;
    for (const id of ids) assert.deepEqual(this.state.get(id), ref, `node ${id} diverges`);
  }

  async close(): Promise<void> {
    for (const id of this.nodes.keys()) await this.stop(id);
    fs.rmSync(this.base, { recursive: true, force: true });
  }
}

describe('RaftNode: 3 nodes over loopback TCP with fsync', { timeout: 180_000 }, () => {
  let c: Cluster;
  after(async () => {
    await c?.close();
  });

  test('elects a leader and commits 1000 proposals on every node in the same order', async () => {
    c = await Cluster.create({ snapshotEntries: 400, snapshotKeep: 50 });
    const l = await c.leader();
    const followers = c.running().filter((n) => n !== l);
    await until(() => followers[0]!.leader === l.id, 'the follower to learn the leader');
    await assert.rejects(followers[0]!.propose(Buffer.from('x')), (e: unknown) => e instanceof NotLeaderError && e.leader === l.id);
    const idx = await Promise.all(Array.from({ length: 1000 }, (_, i) => c.propose(`p${i}`)));
    assert.equal(new Set(idx).size, 1000);
    assert.deepEqual([...idx].sort((a, b) => a - b), idx.slice().sort((a, b) => a - b));
    await c.converged([1, 2, 3], 1000);
    assert.deepEqual(new Set(c.state.get(1)), new Set(Array.from({ length: 1000 }, (_, i) => `p${i}`)));
    const st = l.stats();
    assert.ok(st.proposalBatches < 1000, `proposals were batched: ${st.proposalBatches} batches`);
    await until(() => c.running().every((n) => n.stats().snapshotsTaken >= 1), 'compaction on every node');
    assert.equal(c.warns.filter((w) => /FATAL/.test(w)).length, 0, c.warns.join('\n'));
  });

  test('application data between members: delivered with its sender, in order, never to the core', async () => {
    const l = await c.leader();
    const f = c.running().find((n) => n !== l)!;
    for (let i = 0; i < 5; i++) f.sendAppData(l.id, Buffer.from(`touch ${i}`));
    l.sendAppData(f.id, Buffer.from('ack'));
    await until(() => c.appData.length >= 6, 'the application messages');
    assert.deepEqual(c.appData.filter((m) => m.to === l.id).map((m) => `${m.from}:${m.data}`), Array.from({ length: 5 }, (_, i) => `${f.id}:touch ${i}`));
    assert.deepEqual(c.appData.filter((m) => m.to === f.id), [{ to: f.id, from: l.id, data: 'ack' }]);
    assert.equal((await c.leader()).id, l.id, 'the core was not disturbed');
    assert.equal(c.warns.filter((w) => /FATAL/.test(w)).length, 0, c.warns.join('\n'));
  });

  test('survives losing the leader: re-election, new commits, the old leader catches up from the log', async () => {
    const old = await c.leader();
    const oldId = old.id;
    const oldTerm = old.status().term;
    await c.stop(oldId);
    const nl = await c.leader();
    assert.notEqual(nl.id, oldId);
    assert.ok(nl.status().term > oldTerm);
    const rest = [1, 2, 3].filter((id) => id !== oldId);
    for (let i = 0; i < 20; i++) await c.propose(`q${i}`);
    await c.converged(rest, 1020);
    const back = await c.start(oldId); // restarts from its own snapshot + WAL
    await c.converged([1, 2, 3], 1020);
    assert.equal(back.stats().snapshotsInstalled, 0, 'caught up from the log');
    assert.ok(c.state.get(oldId)!.slice(-20).every((s, i) => s === `q${i}`));
  });

  test('a follower that missed more than the kept log catches up from a snapshot', async () => {
    const l = await c.leader();
    const f = c.running().find((n) => n !== l)!;
    const fid = f.id;
    await c.stop(fid);
    await Promise.all(Array.from({ length: 900 }, (_, i) => c.propose(`r${i}`)));
    const ids = [1, 2, 3].filter((id) => id !== fid);
    await c.converged(ids, 1920);
    const leader = await c.leader();
    const fApplied = f.status().applied;
    await until(() => leader.storage.memory.firstIndex() > fApplied + 1, 'the leader to compact past the stopped follower');
    const back = await c.start(fid);
    await c.converged([1, 2, 3], 1920);
    assert.ok(back.stats().snapshotsInstalled >= 1, `installed ${back.stats().snapshotsInstalled} snapshots; fApplied ${fApplied} leader first ${leader.storage.memory.firstIndex()} back ${JSON.stringify(back.status())} restored ${back.storage.restoredSnapshot.meta.index}`);
    // and it keeps following
    await c.propose('last');
    await c.converged([1, 2, 3], 1921);
    assert.equal(c.warns.filter((w) => /FATAL/.test(w)).length, 0, c.warns.join('\n'));
  });
});
