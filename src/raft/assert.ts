// Invariant checks that stay on in production (TigerBeetle style): a broken invariant is a
// programmer error, and stopping is better than continuing with a log that may be wrong.

export class RaftInvariantError extends Error {
  override name = 'RaftInvariantError';
}

export function assert(cond: unknown, msg: string | (() => string)): asserts cond {
  if (!cond) throw new RaftInvariantError(`raft: ${typeof msg === 'function' ? msg() : msg}`);
}
