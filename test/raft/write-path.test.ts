// The ZooKeeper write path on the Raft log (src/server/raft-write-path.ts): three RaftNodes in
// this process over loopback TCP with fsync, each applying committed commands to its own
// ZkDatabase. Followers forward their proposals to the leader and get their results back when they
// apply the entry. Every member must end with the same tree and the same zxids, zxids must be
// term << 32 | counter with the counter restarting in each term, and a member that was down
// must catch up to exactly the same state.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { Op } from '../../src/jute/constants.js';
import { CreateRequest } from '../../src/jute/records.js';
import { encodeToBuffer } from '../../src/jute/schema.js';
import { RaftNode } from '../../src/raft/node.js';
import { RaftWritePath } from '../../src/server/raft-write-path.js';
import { CreateSessionBody } from '../../src/zk/command.js';
import { ZkDatabase } from '../../src/zk/database.js';
import type { ApplyResult } from '../../src/zk/types.js';
import { HOST, freePort } from './ports.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'kraal-write-path-'));
after(() => fs.rmSync(base, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TWO_32 = 4294967296;
const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

interface Member {
  node: RaftNode;
  wp: RaftWritePath;
}

async function until<T>(f: () => T | undefined | false, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('three members apply the same commands with the same zxids, across a leader change and a catch-up', { timeout: 120_000 }, async () => {
  const ports = new Map<number, number>();
  for (const id of [1, 2, 3]) ports.set(id, await freePort());
  const members = new Map<number, Member | undefined>();
  const fatal: string[] = [];
  const start = async (id: number): Promise<Member> => {
    // The write path exists before the node: RaftNode.start restores a snapshot into it.
    let node: RaftNode | undefined;
    const log = {
      id,
      get isLeader() {
        return node!.isLeader;
      },
      propose: (d: Buffer) => node!.propose(d),
      forward: (d: Buffer) => node!.forward(d),
    };
    const wp = new RaftWritePath(new ZkDatabase(), log, { onFatal: (e) => fatal.push(`${id}: ${e.message}`) });
    node = await RaftNode.start({
      id,
      clusterId: 'write-path-test',
      peers: [...ports].map(([pid, port]) => [pid, { host: HOST, port }]),
      dir: path.join(base, `m${id}`),
      tickMs: 25,
      electionTick: 10,
      heartbeatTick: 2,
      transport: { backoff: { initialMs: 20, maxMs: 200 } },
      snapshotEntries: 150,
      snapshotKeep: 20,
      onApply: (ents) => wp.applyEntries(ents),
      onRestore: (data) => {
        wp.db = ZkDatabase.deserialize(data);
      },
      takeSnapshot: () => Buffer.concat(wp.db.serialize()),
      logger: { info: () => undefined, warn: () => undefined },
      onFatal: (e) => fatal.push(`${id}: ${e.stack}`),
    });
    const m = { node, wp };
    members.set(id, m);
    return m;
  };
  for (const id of [1, 2, 3]) await start(id);
  const running = () => [...members.values()].filter((m): m is Member => m !== undefined);
  const leader = () => until(() => running().find((m) => m.node.isLeader), 'a leader');

  const propose = (m: Member, op: number, sessionId: number, body: Buffer) =>
    new Promise<{ result: ApplyResult; zxid: number }>((resolve, reject) => m.wp.propose(op, sessionId, 0, [], body, (result, cmd) => resolve({ result, zxid: cmd.zxid }), reject));
  const create = (m: Member, sid: number, p: string) => propose(m, Op.create, sid, encodeToBuffer(CreateRequest, { path: p, data: Buffer.from(p), acl: OPEN_ACL, flags: 0 }));

  try {
    let l = await leader();
    const term1 = l.node.status().term;
    const sid = 0x1234;
    const session = await propose(l, Op.createSession, sid, encodeToBuffer(CreateSessionBody, { timeOut: 30000, passwd: Buffer.alloc(16, 1) }));
    assert.equal(session.result.err, 0);
    assert.equal(session.zxid, term1 * TWO_32 + 1, 'the first command of a term gets counter 1, in epoch = term');
    const first = await Promise.all(Array.from({ length: 200 }, (_, i) => create(l, sid, `/a${i}`)));
    assert.ok(first.every((r) => r.result.err === 0));
    assert.deepEqual(first.map((r) => r.zxid).sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => term1 * TWO_32 + 2 + i));

    // A follower forwards its proposals to the leader; the result comes back when it applies the entry.
    const follower = running().find((m) => m !== l)!;
    const fromFollower = await Promise.all(Array.from({ length: 20 }, (_, i) => create(follower, sid, `/f${i}`)));
    assert.ok(fromFollower.every((r) => r.result.err === 0));
    assert.deepEqual(fromFollower.map((r) => r.zxid).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => term1 * TWO_32 + 202 + i));
    assert.equal((await create(follower, sid, '/f0')).result.err, -110, 'errors come back the same way');
    // ...and one that is never applied (the node refuses it: no leader known) fails instead of hanging.
    const lost = new RaftWritePath(new ZkDatabase(), { id: 99, isLeader: false, propose: () => Promise.reject(new Error('unused')), forward: () => undefined }, { onFatal: () => undefined });
    const outcome = new Promise<string>((resolve) => lost.propose(Op.create, sid, 0, [], Buffer.alloc(0), () => resolve('applied'), (e) => resolve(e.name)));
    lost.expireForwarded(Date.now() + 10_000, 5_000);
    assert.equal(await outcome, 'ForwardTimeoutError');
    assert.equal(lost.outstanding, 0);

    // Leader loss: the next leader's commands are in a new epoch, the counter restarting at 1.
    const oldId = l.node.id;
    await l.node.stop();
    members.set(oldId, undefined);
    l = await leader();
    const term2 = l.node.status().term;
    assert.ok(term2 > term1);
    const second = await Promise.all(Array.from({ length: 200 }, (_, i) => create(l, sid, `/b${i}`)));
    assert.ok(second.every((r) => r.result.err === 0));
    assert.equal(Math.min(...second.map((r) => r.zxid)), term2 * TWO_32 + 1);
    const dup = await create(l, sid, '/a0');
    assert.equal(dup.result.err, -110, 'NodeExists: apply-time validation sees the replicated tree');

    // The old leader comes back (behind a compacted log: it catches up by snapshot, then log).
    const back = await start(oldId);
    const lastZxid = l.wp.db.lastZxid;
    await until(() => running().length === 3 && running().every((m) => m.wp.db.lastZxid === lastZxid), 'every member to reach the last zxid');
    const images = running().map((m) => Buffer.concat(m.wp.db.serialize()));
    for (const img of images.slice(1)) assert.ok(img.equals(images[0]!), 'every member holds byte-identical trees');
    assert.ok(back.node.stats().snapshotsInstalled >= 1, 'the returning member was behind the compacted log and installed a snapshot');
    for (const m of running()) {
      assert.equal(m.wp.db.stat('/a7')?.czxid, first[7]!.zxid);
      assert.equal(m.wp.outstanding, 0);
    }
    assert.deepEqual(fatal, []);
  } finally {
    for (const m of running()) await m.node.stop();
  }
});
