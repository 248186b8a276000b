// A tiny synchronous network for scenario tests: nodes share no clock; messages are delivered
// until quiet (stabilize), optionally filtered (drop) — after etcd's rafttest network.

import { MemoryStorage } from '../../src/raft/memory-storage.js';
import { type Message, MessageType } from '../../src/raft/messages.js';
import { decodeConfChange, type RaftConfig } from '../../src/raft/raft.js';
import { RawNode } from '../../src/raft/rawnode.js';
import { EntryType } from '../../src/raft/messages.js';

export interface TestNode {
  id: number;
  rn: RawNode;
  storage: MemoryStorage;
  applied: string[];
  reads: { index: number; context: string }[];
}

export class Net {
  readonly nodes = new Map<number, TestNode>();
  /** Return true to drop a message. */
  drop: (m: Message) => boolean = () => false;
  delivered: Message[] = [];
  private seed = 1;

  constructor(voters: number[], opts: Partial<RaftConfig> & { learners?: number[] } = {}) {
    for (const id of [...voters, ...(opts.learners ?? [])]) this.add(id, voters, opts);
  }

  add(id: number, voters: number[], opts: Partial<RaftConfig> = {}): TestNode {
    const storage = new MemoryStorage();
    let s = this.seed++ * 7919;
    const random = () => {
      s = (s * 48271) % 2147483647;
      return s / 2147483647;
    };
    const rn = new RawNode({ id, storage, electionTick: 10, heartbeatTick: 1, random, voters, ...opts });
    const n: TestNode = { id, rn, storage, applied: [], reads: [] };
    this.nodes.set(id, n);
    return n;
  }

  node(id: number): TestNode {
    return this.nodes.get(id)!;
  }
  raft(id: number) {
    return this.node(id).rn.raft;
  }

  /** Processes every Ready and delivers messages until nothing moves. Returns messages delivered. */
  stabilize(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      const out: Message[] = [];
      for (const n of this.nodes.values()) {
        while (n.rn.hasReady()) {
          const rd = n.rn.ready();
          if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
          n.storage.append(rd.entries);
          if (rd.hardState) n.storage.setHardState(rd.hardState);
          out.push(...rd.messages);
          for (const e of rd.committedEntries) {
            if (e.type === EntryType.ConfChange) n.rn.applyConfChange(decodeConfChange(e.data!));
            else if (e.data && e.data.length) n.applied.push(e.data.toString());
          }
          for (const r of rd.readStates) n.reads.push({ index: r.index, context: r.context.toString() });
          n.rn.advance(rd);
        }
      }
      if (out.length === 0) return;
      for (const m of out) {
        if (this.drop(m)) continue;
        const to = this.nodes.get(m.to);
        if (to === undefined) continue;
        this.delivered.push(m);
        to.rn.step(m);
      }
    }
    throw new Error('network did not stabilize');
  }

  /** Isolates ids from everyone else (both directions). */
  isolate(...ids: number[]): void {
    const s = new Set(ids);
    this.drop = (m) => s.has(m.from) !== s.has(m.to);
  }
  heal(): void {
    this.drop = () => false;
  }

  tick(id: number, n = 1): void {
    for (let i = 0; i < n; i++) this.node(id).rn.tick();
  }
  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) for (const node of this.nodes.values()) node.rn.tick();
  }

  campaign(id: number): void {
    this.node(id).rn.campaign();
    this.stabilize();
  }

  propose(id: number, data: string): number | undefined {
    const idx = this.node(id).rn.propose(Buffer.from(data));
    this.stabilize();
    return idx;
  }

  count(type: number): number {
    return this.delivered.filter((m) => m.type === type).length;
  }
}

export { MessageType };
