// SessionTracker: tick buckets (protocol notes §3.4). Deadlines are rounded up to the next
// multiple of tickTime (ZooKeeper's ExpiryQueue: (floor(t / tick) + 1) * tick), sessions of a
// bucket expire together exactly at the bucket time, touches move sessions between buckets.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SessionTracker } from '../../src/zk/sessions.js';

describe('bucket rounding', () => {
  const ROWS: { tick: number; now: number; timeout: number; deadline: number }[] = [
    { tick: 2000, now: 0, timeout: 4000, deadline: 6000 }, // exact multiple: the *next* one
    { tick: 2000, now: 1, timeout: 4000, deadline: 6000 },
    { tick: 2000, now: 1999, timeout: 4000, deadline: 6000 },
    { tick: 2000, now: 2000, timeout: 4000, deadline: 8000 },
    { tick: 2000, now: 100, timeout: 30000, deadline: 32000 },
    { tick: 1000, now: 1_700_000_000_123, timeout: 10000, deadline: 1_700_000_011_000 },
    { tick: 3000, now: 500, timeout: 0, deadline: 3000 },
    { tick: 1, now: 10, timeout: 5, deadline: 16 },
  ];
  for (const r of ROWS) {
    test(`tick ${r.tick}: now ${r.now} + ${r.timeout} → bucket ${r.deadline}`, () => {
      const t = new SessionTracker(r.tick);
      t.add(1, r.timeout, r.now);
      assert.equal(t.deadline(1), r.deadline);
      assert.equal(t.bucketFor(r.now, r.timeout), r.deadline);
      assert.equal(t.nextExpiry(), r.deadline);
      assert.ok(r.deadline > r.now + r.timeout, 'never before the timeout has elapsed');
      assert.ok(r.deadline <= r.now + r.timeout + r.tick, 'at most one tick late');
    });
  }
});

describe('expiry', () => {
  test('exactly at the rounded deadline, not a millisecond before', () => {
    const t = new SessionTracker(2000);
    t.add(1, 4000, 100); // bucket 6000
    assert.deepEqual(t.expire(4100), [], 'timeout elapsed but bucket not reached');
    assert.deepEqual(t.expire(5999), []);
    assert.equal(t.size(), 1);
    assert.deepEqual(t.expire(6000), [1]);
    assert.equal(t.size(), 0);
    assert.equal(t.deadline(1), undefined);
    assert.equal(t.nextExpiry(), undefined);
    assert.deepEqual(t.expire(6000), [], 'expired once only');
  });

  test('a bucket expires as a batch; buckets in time order, insertion order inside a bucket', () => {
    const t = new SessionTracker(1000);
    t.add(30, 5000, 100); // 6000
    t.add(10, 3000, 200); // 4000
    t.add(20, 3000, 900); // 4000
    t.add(40, 3500, 0); // 4000
    t.add(50, 9000, 0); // 10000
    assert.equal(t.nextExpiry(), 4000);
    assert.deepEqual(t.buckets(), [
      { time: 4000, ids: [10, 20, 40] },
      { time: 6000, ids: [30] },
      { time: 10000, ids: [50] },
    ]);
    assert.deepEqual(t.expire(7000), [10, 20, 40, 30]);
    assert.equal(t.nextExpiry(), 10000);
    assert.deepEqual([...t.ids()], [50]);
  });

  test('a late expire call (process paused) reaps every passed bucket at once', () => {
    const t = new SessionTracker(100);
    for (let i = 0; i < 50; i++) t.add(i, 100 * i, 0);
    assert.deepEqual(t.expire(1_000_000), Array.from({ length: 50 }, (_, i) => i));
    assert.equal(t.nextExpiry(), undefined);
  });
});

describe('touch', () => {
  test('extends the deadline to now + timeout (rounded)', () => {
    const t = new SessionTracker(2000);
    t.add(1, 4000, 0); // 6000
    assert.equal(t.touch(1, 3000), true); // 7000 → 8000
    assert.equal(t.deadline(1), 8000);
    assert.deepEqual(t.expire(6000), []);
    assert.equal(t.nextExpiry(), 8000, 'the emptied 6000 bucket is skipped');
    assert.deepEqual(t.expire(8000), [1]);
  });

  test('a touch within the same bucket changes nothing', () => {
    const t = new SessionTracker(2000);
    t.add(1, 4000, 0); // 6000
    assert.equal(t.touch(1, 1999), true);
    assert.equal(t.deadline(1), 6000);
    assert.deepEqual(t.buckets(), [{ time: 6000, ids: [1] }]);
  });

  test('a client that keeps pinging never expires', () => {
    const t = new SessionTracker(500);
    t.add(1, 3000, 0);
    for (let now = 0; now <= 60000; now += 1000) {
      assert.deepEqual(t.expire(now), []);
      assert.equal(t.touch(1, now), true);
    }
    assert.equal(t.size(), 1);
    // Silence from 60000: expires at the bucket after 63000.
    assert.deepEqual(t.expire(63499), []);
    assert.deepEqual(t.expire(63500), [1]);
  });

  test('unknown or expired ids are not revived', () => {
    const t = new SessionTracker(1000);
    assert.equal(t.touch(42, 0), false);
    t.add(1, 1000, 0);
    t.expire(5000);
    assert.equal(t.touch(1, 5000), false);
    assert.equal(t.size(), 0);
  });
});

describe('add, remove, accessors', () => {
  test('remove forgets the session; its bucket no longer schedules', () => {
    const t = new SessionTracker(1000);
    t.add(1, 2000, 0); // 3000
    t.add(2, 4000, 0); // 5000
    t.remove(1);
    t.remove(1); // twice: no-op
    t.remove(99); // unknown: no-op
    assert.equal(t.deadline(1), undefined);
    assert.equal(t.timeout(1), undefined);
    assert.equal(t.nextExpiry(), 5000);
    assert.deepEqual(t.expire(4000), []);
    assert.deepEqual(t.expire(5000), [2]);
  });

  test('adding a tracked id again replaces its timeout and re-arms it', () => {
    const t = new SessionTracker(1000);
    t.add(1, 10000, 0); // 11000
    t.add(1, 2000, 500); // 3000
    assert.equal(t.size(), 1);
    assert.equal(t.timeout(1), 2000);
    assert.equal(t.deadline(1), 3000);
    t.touch(1, 2000); // uses the new timeout: 4000 → 5000
    assert.equal(t.deadline(1), 5000);
    assert.deepEqual(t.expire(11000), [1]);
  });

  test('accessors: timeout, deadline, size, ids (large ids below 2^53, as the server issues them)', () => {
    const t = new SessionTracker(2000);
    const a = 0x1000fdc670000;
    const b = Number.MAX_SAFE_INTEGER;
    t.add(a, 30000, 1000);
    t.add(b, 4000, 1000);
    assert.equal(t.size(), 2);
    assert.equal(t.timeout(a), 30000);
    assert.equal(t.timeout(b), 4000);
    assert.deepEqual([...t.ids()], [a, b]);
    assert.equal(t.nextExpiry(), 6000);
  });

  test('bad constructor and timeout arguments throw', () => {
    for (const tick of [0, -1, 1.5, NaN, Infinity]) assert.throws(() => new SessionTracker(tick), RangeError);
    const t = new SessionTracker(1000);
    for (const timeout of [-1, NaN, Infinity]) assert.throws(() => t.add(1, timeout, 0), RangeError);
  });

  test('a bucket emptied and refilled is scheduled once and still expires', () => {
    const t = new SessionTracker(1000);
    t.add(1, 2000, 0); // 3000
    t.touch(1, 1500); // 4000: bucket 3000 emptied
    t.add(2, 2000, 500); // 3000 again
    assert.equal(t.nextExpiry(), 3000);
    assert.deepEqual(t.expire(3000), [2]);
    assert.deepEqual(t.expire(4000), [1]);
    assert.equal(t.nextExpiry(), undefined);
  });
});

describe('scale', () => {
  test('100k sessions: touches stay cheap, buckets expire in batches', () => {
    const N = 100_000;
    const tick = 2000;
    const t = new SessionTracker(tick);
    for (let i = 0; i < N; i++) t.add(i, 10000 + (i % 5) * 2000, i % 2000);
    assert.equal(t.size(), N);
    // Every session pings a few times, staggered like real clients.
    const t0 = performance.now();
    for (let round = 1; round <= 10; round++) {
      const now = round * 1000;
      for (let i = 0; i < N; i++) t.touch(i, now + (i % 1000));
    }
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `1M touches took ${ms.toFixed(0)} ms`);
    // Number of buckets is bounded by the timeout spread, not by the session count.
    assert.ok(t.buckets().length <= 8, `buckets: ${t.buckets().length}`);
    // Silence: everything expires, in non-decreasing deadline order, each exactly at its bucket.
    let now = t.nextExpiry()!;
    let total = 0;
    let batches = 0;
    while (now !== undefined) {
      const want = [...t.ids()].filter((id) => t.deadline(id)! <= now).length;
      const got = t.expire(now);
      assert.equal(got.length, want);
      assert.ok(got.length > 0);
      total += got.length;
      batches++;
      const next = t.nextExpiry();
      if (next === undefined) break;
      assert.ok(next > now && next % tick === 0);
      now = next;
    }
    assert.equal(total, N);
    assert.ok(batches <= 8, `batches: ${batches}`);
    assert.equal(t.size(), 0);
  });

  test('churn: sessions added and removed continuously keep the schedule small', () => {
    const t = new SessionTracker(100);
    let next = 0;
    const live: number[] = [];
    for (let now = 0; now < 200_000; now += 50) {
      t.add(next, 1000, now);
      live.push(next++);
      if (live.length > 100) t.remove(live.shift()!);
      for (const id of t.expire(now)) assert.fail(`session ${id} expired while being touched`);
      for (const id of live) t.touch(id, now);
    }
    assert.equal(t.size(), 100);
    assert.ok(t.buckets().length <= 12);
  });
});
