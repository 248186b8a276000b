// Deliberately broken cores, used to prove the simulator catches real Raft bugs (the canary
// idea of TigerBeetle's fuzzers). Never used outside tests.

import { Raft, type RaftConfig } from '../../../src/raft/raft.js';

/**
 * Commits by counting replicas even when the entry is from an EARLIER term — the bug of the
 * Raft paper's Figure 8: such an entry can still be overwritten by a leader of a later term,
 * after some node already applied it.
 */
export class CommitPreviousTermByCounting extends Raft {
  protected override maybeCommit(): boolean {
    const mci = this.config.committed((id) => this.progress.get(id)?.match ?? 0);
    if (mci <= this.raftLog.committed) return false;
    this.raftLog.commitTo(mci);
    return true;
  }
}

/** Grants votes without the election restriction (§5.4.1): a stale node can win and overwrite committed entries. */
export class VoteWithoutLogCheck extends Raft {
  protected override candidateLogOk(): boolean {
    return true;
  }
}

export const PLANTED_BUGS: Record<string, (c: RaftConfig) => Raft> = {
  'commit-previous-term-by-counting': (c) => new CommitPreviousTermByCounting(c),
  'vote-without-log-check': (c) => new VoteWithoutLogCheck(c),
};
