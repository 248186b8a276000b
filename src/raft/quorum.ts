// Quorum math, kept apart from the protocol so it can be checked against a naive oracle
// (test/raft/quorum.test.ts). A MajorityConfig is a set of voter ids; a JointConfig is the pair
// (incoming, outgoing) used during joint consensus, where every decision needs BOTH majorities.
// An empty majority config agrees to everything (so a non-joint config is joint with an empty one).

export type VoteResult = 'won' | 'lost' | 'pending';

/** The largest index that a majority of `voters` has acknowledged (Infinity for an empty config). */
export function majorityCommitted(voters: ReadonlySet<number>, acked: (id: number) => number): number {
  const n = voters.size;
  if (n === 0) return Infinity;
  const idx: number[] = [];
  for (const id of voters) idx.push(acked(id));
  idx.sort((a, b) => b - a);
  // The (n/2+1)-th largest: a majority has acked at least this much.
  return idx[(n >> 1)]!;
}

export function majorityVoteResult(voters: ReadonlySet<number>, votes: ReadonlyMap<number, boolean>): VoteResult {
  if (voters.size === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = (voters.size >> 1) + 1;
  if (granted >= q) return 'won';
  if (granted + missing >= q) return 'pending';
  return 'lost';
}

export class JointConfig {
  constructor(
    readonly incoming: ReadonlySet<number>,
    readonly outgoing: ReadonlySet<number> = new Set(),
  ) {}

  get isJoint(): boolean {
    return this.outgoing.size > 0;
  }

  /** Every voter of either half. */
  ids(): Set<number> {
    return new Set([...this.incoming, ...this.outgoing]);
  }

  isVoter(id: number): boolean {
    return this.incoming.has(id) || this.outgoing.has(id);
  }

  committed(acked: (id: number) => number): number {
    return Math.min(majorityCommitted(this.incoming, acked), majorityCommitted(this.outgoing, acked));
  }

  voteResult(votes: ReadonlyMap<number, boolean>): VoteResult {
    const a = majorityVoteResult(this.incoming, votes);
    const b = majorityVoteResult(this.outgoing, votes);
    if (a === b) return a;
    if (a === 'lost' || b === 'lost') return 'lost';
    return 'pending';
  }
}
