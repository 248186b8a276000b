// SessionTracker: local session liveness in tickTime buckets (pure: time is an argument).
//
// Like ZooKeeper's ExpiryQueue, a session's deadline is rounded up to the next multiple of
// tickTime: bucket(t) = (floor(t / tickTime) + 1) * tickTime, so a session never expires before
// its timeout has fully elapsed and all sessions of one bucket expire together (one timer per
// tick, not one per session). A touch that lands in the session's current bucket costs two
// map look-ups and moves nothing, which is the common case for a busy client.
//
// Data structures:
//   * #sessions: id → { timeout, bucket }
//   * #buckets:  bucket time → ids in that bucket (insertion-ordered Set)
//   * #times:    min-heap of the bucket times that were created and have not been passed yet;
//                an entry whose bucket was emptied by touches/removes is discarded lazily
//                (#scheduled keeps a time from being pushed twice, bounding the heap by the
//                number of distinct bucket times ahead of the clock)
//
// The tracker is the *liveness* view only. The replicated session table lives in ZkDatabase;
// the server turns each id returned by expire() into a closeSession command.

interface TrackedSession {
  timeout: number;
  bucket: number;
}

/** SessionTracker buckets session deadlines on tickTime and reports the expired ones. */
export class SessionTracker {
  readonly #tickTime: number;
  readonly #sessions = new Map<number, TrackedSession>();
  readonly #buckets = new Map<number, Set<number>>();
  readonly #times: number[] = [];
  readonly #scheduled = new Set<number>();

  /** tickTime is the bucket width in ms (a positive integer, zoo.cfg tickTime). */
  constructor(tickTime: number) {
    if (!Number.isSafeInteger(tickTime) || tickTime <= 0) {
      throw new RangeError(`SessionTracker: tickTime must be a positive integer, got ${tickTime}`);
    }
    this.#tickTime = tickTime;
  }

  /** bucketFor is the expiry bucket of a session touched at `now` with `timeoutMs`. */
  bucketFor(now: number, timeoutMs: number): number {
    return (Math.floor((now + timeoutMs) / this.#tickTime) + 1) * this.#tickTime;
  }

  /**
   * add starts tracking a session, deadline now + timeoutMs (rounded up to a bucket). Adding a
   * tracked id again replaces its timeout and re-arms it, which is how a renegotiated timeout
   * is applied.
   */
  add(id: number, timeoutMs: number, now: number): void {
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new RangeError(`SessionTracker: timeout must be a non-negative number of ms, got ${timeoutMs}`);
    }
    const s = this.#sessions.get(id);
    if (s === undefined) {
      const bucket = this.bucketFor(now, timeoutMs);
      this.#sessions.set(id, { timeout: timeoutMs, bucket });
      this.#enter(id, bucket);
      return;
    }
    s.timeout = timeoutMs;
    this.#move(id, s, this.bucketFor(now, timeoutMs));
  }

  /** touch pushes a session's deadline to now + its timeout; false if the id is not tracked (unknown or expired). */
  touch(id: number, now: number): boolean {
    const s = this.#sessions.get(id);
    if (s === undefined) return false;
    const bucket = this.bucketFor(now, s.timeout);
    if (bucket !== s.bucket) this.#move(id, s, bucket);
    return true;
  }

  /** remove stops tracking a session (closed by the client, or its closeSession was applied). */
  remove(id: number): void {
    const s = this.#sessions.get(id);
    if (s === undefined) return;
    this.#sessions.delete(id);
    this.#leave(id, s.bucket);
  }

  /**
   * expire removes and returns every session whose bucket time is <= now, earliest bucket
   * first and, within a bucket, in the order the sessions entered it.
   */
  expire(now: number): number[] {
    const out: number[] = [];
    while (this.#times.length > 0 && this.#times[0]! <= now) {
      const time = this.#pop();
      this.#scheduled.delete(time);
      const ids = this.#buckets.get(time);
      if (ids === undefined) continue;
      this.#buckets.delete(time);
      for (const id of ids) {
        this.#sessions.delete(id);
        out.push(id);
      }
    }
    return out;
  }

  /** nextExpiry is the earliest non-empty bucket time (when to call expire next), or undefined if none. */
  nextExpiry(): number | undefined {
    while (this.#times.length > 0) {
      const time = this.#times[0]!;
      if (this.#buckets.has(time)) return time;
      this.#pop();
      this.#scheduled.delete(time);
    }
    return undefined;
  }

  /** deadline is the bucket time at which the session will expire unless touched. */
  deadline(id: number): number | undefined {
    return this.#sessions.get(id)?.bucket;
  }

  /** timeout is the session's timeout in ms as last given to add. */
  timeout(id: number): number | undefined {
    return this.#sessions.get(id)?.timeout;
  }

  /** size is the number of tracked sessions. */
  size(): number {
    return this.#sessions.size;
  }

  /** ids iterates the tracked session ids (in the order they were first added). */
  ids(): IterableIterator<number> {
    return this.#sessions.keys();
  }

  /** buckets lists the non-empty buckets in time order (for the `dump` 4lw). */
  buckets(): { time: number; ids: number[] }[] {
    return [...this.#buckets]
      .sort((a, b) => a[0] - b[0])
      .map(([time, ids]) => ({ time, ids: [...ids] }));
  }

  #move(id: number, s: TrackedSession, bucket: number): void {
    if (bucket === s.bucket) return;
    this.#leave(id, s.bucket);
    s.bucket = bucket;
    this.#enter(id, bucket);
  }

  #enter(id: number, bucket: number): void {
    let ids = this.#buckets.get(bucket);
    if (ids === undefined) {
      ids = new Set();
      this.#buckets.set(bucket, ids);
      if (!this.#scheduled.has(bucket)) {
        this.#scheduled.add(bucket);
        this.#push(bucket);
      }
    }
    ids.add(id);
  }

  #leave(id: number, bucket: number): void {
    const ids = this.#buckets.get(bucket);
    if (ids === undefined) return;
    ids.delete(id);
    // The heap entry stays; nextExpiry/expire discard it when they reach it.
    if (ids.size === 0) this.#buckets.delete(bucket);
  }

  // Binary min-heap over #times.
  #push(time: number): void {
    const h = this.#times;
    let i = h.length;
    h.push(time);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]! <= time) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = time;
  }

  #pop(): number {
    const h = this.#times;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && h[r]! < h[l]! ? r : l;
      if (h[c]! >= last) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
