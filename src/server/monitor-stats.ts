// Per-server statistics kept in ZooKeeper's shapes for `mntr` / /commands/monitor (see
// mntr-keys.ts): basic and percentile summaries, per-namespace summary sets, and the trace mask
// of gtmk/stmk. Prometheus metrics (/metrics) are separate (metrics.ts).
//
// The server feeds it through a handful of one-line hooks (all optional: a summary nobody
// feeds prints zeros, as on an idle ZooKeeper):
//
//   monitorStats(server).onBatch(commands, fsyncMs)    after each group-commit fsync
//   monitorStats(server).onSnapshot(ms)                 after each snapshot write
//   monitorStats(server).onReply(op, ms)                for each reply (read vs update latency)
//   monitorStats(server).onRead(op, req, result)        after each successful-or-not read
//   monitorStats(server).onApplied(result, cmd)         after each applied command
//   monitorStats(server).onWatchesFired(type, count)    when a change fires count > 0 watches

import { EventType, Op } from '../jute/constants.js';
import { Reader } from '../jute/codec.js';
import { OPS, type MultiOp, type MultiRequest, type MultiResult } from '../jute/requests.js';
import type { ApplyResult, ReadResult } from '../zk/types.js';
import type { RecordedSummary } from './mntr-keys.js';

/** ZooTrace's default mask (CLIENT_REQUEST_TRACE_MASK | CLIENT_PING_TRACE_MASK | ...): what gtmk prints on a fresh ZooKeeper. */
export const DEFAULT_TRACE_MASK = 306n;

/** ZooKeeper's DataTree.STAT_OVERHEAD_BYTES: a read is accounted as path + payload + a Stat (6 longs, 5 ints). */
const STAT_OVERHEAD_BYTES = 6 * 8 + 5 * 4;

/** avg/min/max/cnt/sum of the values added since the last reset (ZooKeeper's AvgMinMaxCounter). */
export class Summary {
  count = 0;
  sum = 0;
  min = 0;
  max = 0;

  add(v: number): void {
    if (this.count === 0 || v < this.min) this.min = v;
    if (this.count === 0 || v > this.max) this.max = v;
    this.count++;
    this.sum += v;
  }

  /** Average rounded half-up to 4 decimals, 0 when empty (as ZooKeeper prints it). */
  avg(): number {
    return this.count === 0 ? 0 : round4(this.sum / this.count);
  }

  reset(): void {
    this.count = 0;
    this.sum = 0;
    this.min = 0;
    this.max = 0;
  }
}

const RESERVOIR_SIZE = 1028;

/** A Summary that also keeps a uniform sample (Vitter's algorithm R) for p50/p95/p99/p999. */
export class PercentileSummary extends Summary {
  private sample: number[] = [];

  override add(v: number): void {
    super.add(v);
    if (this.sample.length < RESERVOIR_SIZE) {
      this.sample.push(v);
    } else {
      const i = Math.floor(Math.random() * this.count);
      if (i < RESERVOIR_SIZE) this.sample[i] = v;
    }
  }

  /** The q-quantile of the sample, interpolated between neighbours; 0 when empty. */
  quantile(q: number): number {
    const n = this.sample.length;
    if (n === 0) return 0;
    const sorted = [...this.sample].sort((a, b) => a - b);
    const pos = q * (n + 1);
    if (pos < 1) return sorted[0]!;
    if (pos >= n) return sorted[n - 1]!;
    const lower = sorted[Math.floor(pos) - 1]!;
    const upper = sorted[Math.floor(pos)]!;
    return lower + (pos - Math.floor(pos)) * (upper - lower);
  }

  override reset(): void {
    super.reset();
    this.sample = [];
  }
}

/** Summaries keyed by top-level namespace. A reset zeroes them but keeps the namespaces, as ZooKeeper does. */
export class SummarySet {
  readonly byKey = new Map<string, Summary>();

  add(key: string, v: number): void {
    let s = this.byKey.get(key);
    if (s === undefined) {
      s = new Summary();
      this.byKey.set(key, s);
    }
    s.add(v);
  }

  reset(): void {
    for (const s of this.byKey.values()) s.reset();
  }
}

/** ZooKeeper's PathUtils.getTopNamespace: "/a/b" → "a"; "/" → undefined. */
export function topNamespace(path: string): string | undefined {
  const parts = path.split('/');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop(); // Java's split drops trailing empties
  return parts.length > 1 ? parts[1] : undefined;
}

/** What onApplied needs from the server: the data of a node after the change. */
interface DataSource {
  db: { data(path: string): Buffer | null | undefined };
}

export class MonitorStats {
  /** The stmk/gtmk mask (a Java long). */
  traceMask = DEFAULT_TRACE_MASK;
  readonly summaries: Record<RecordedSummary, Summary> = {
    fsynctime: new Summary(),
    sync_processor_batch_size: new Summary(),
    snapshottime: new Summary(),
    node_created_watch_count: new Summary(),
    node_deleted_watch_count: new Summary(),
    node_changed_watch_count: new Summary(),
    node_children_watch_count: new Summary(),
    readlatency: new PercentileSummary(),
    updatelatency: new PercentileSummary(),
  };
  readonly readPerNamespace = new SummarySet();
  readonly writePerNamespace = new SummarySet();

  constructor(private readonly server: DataSource) {}

  /** A group-commit batch of `commands` was made durable by one fsync taking fsyncMs. */
  onBatch(commands: number, fsyncMs: number): void {
    this.summaries.fsynctime.add(fsyncMs);
    this.summaries.sync_processor_batch_size.add(commands);
  }

  /** A snapshot took ms to write. */
  onSnapshot(ms: number): void {
    this.summaries.snapshottime.add(ms);
  }

  /** A reply to op was queued ms after its request was read: writes (and session close) are updates, the rest reads. */
  onReply(op: number, ms: number): void {
    const update = op === Op.closeSession || op === Op.createSession || OPS.get(op)?.write === true;
    (update ? this.summaries.updatelatency : this.summaries.readlatency).add(ms);
  }

  /** A read ran: successful exists/getData/getChildren(2) and multiRead sub-reads count per namespace, as in ZooKeeper's DataTree. */
  onRead(op: number, req: any, res: ReadResult): void {
    if (res.err !== 0) return;
    if (op === Op.multiRead) {
      const results = res.response as { op: number; err: number; res?: unknown }[] | undefined;
      const ops = (req as { ops?: { op: number; req: any }[] }).ops ?? [];
      results?.forEach((r, i) => {
        const sub = ops[i];
        if (sub !== undefined && r.err === 0 && r.op === sub.op) this.read(sub.op, sub.req?.path, r.res);
      });
      return;
    }
    this.read(op, req?.path, res.response);
  }

  private read(op: number, path: unknown, response: any): void {
    if (typeof path !== 'string') return;
    const ns = topNamespace(path);
    if (ns === undefined) return;
    let bytes = 0;
    switch (op) {
      case Op.exists:
        break;
      case Op.getData:
        bytes = response?.data?.length ?? 0;
        break;
      case Op.getChildren:
      case Op.getChildren2:
        for (const c of (response?.children ?? []) as string[]) bytes += c.length;
        break;
      default:
        return;
    }
    this.readPerNamespace.add(ns, path.length + bytes + STAT_OVERHEAD_BYTES);
  }

  /**
   * A command was applied: each node created or changed counts path + data length for its
   * namespace, each node deleted its path length (ZooKeeper's DataTree.updateWriteStat). A multi
   * is accounted per sub-operation from its request (so a node created and then changed in the
   * same multi counts its data as of each step); anything else from the watch triggers, which
   * also covers session close (ephemerals) and container/TTL reaping.
   */
  onApplied(result: ApplyResult, cmd?: { op: number; body: Buffer | null }): void {
    if (cmd?.op === Op.multi && this.multiWrites(result, cmd.body)) return;
    for (const t of result.triggers) {
      if (t.type === EventType.NodeChildrenChanged) continue;
      const data = t.type === EventType.NodeDeleted ? undefined : this.server.db.data(t.path);
      this.write(t.path, data?.length ?? 0);
    }
  }

  private multiWrites(result: ApplyResult, body: Buffer | null): boolean {
    if (result.triggers.length === 0) return true; // rolled back: nothing was written
    const results = result.response as MultiResult[] | undefined;
    if (body === null || !Array.isArray(results)) return false;
    let ops: MultiOp[];
    try {
      ops = (OPS.get(Op.multi)!.request.decode(new Reader(body)) as MultiRequest).ops;
    } catch {
      return false;
    }
    ops.forEach((sub, i) => {
      const r = results[i];
      if (r === undefined || r.err !== 0 || r.op === Op.error) return;
      const data = (sub.req as { data?: Buffer | null }).data;
      switch (sub.op) {
        case Op.create:
        case Op.create2:
        case Op.createContainer:
        case Op.createTTL:
          this.write((r.res as { path?: string } | undefined)?.path ?? sub.req.path, data?.length ?? 0);
          break;
        case Op.setData:
          this.write(sub.req.path, data?.length ?? 0);
          break;
        case Op.delete:
          this.write(sub.req.path, 0);
          break;
      }
    });
    return true;
  }

  private write(path: string, bytes: number): void {
    const ns = topNamespace(path);
    if (ns !== undefined) this.writePerNamespace.add(ns, path.length + bytes);
  }

  /** A change of `type` fired `count` watches. */
  onWatchesFired(type: number, count: number): void {
    if (count <= 0) return;
    const s =
      type === EventType.NodeCreated
        ? this.summaries.node_created_watch_count
        : type === EventType.NodeDeleted
          ? this.summaries.node_deleted_watch_count
          : type === EventType.NodeDataChanged
            ? this.summaries.node_changed_watch_count
            : type === EventType.NodeChildrenChanged
              ? this.summaries.node_children_watch_count
              : undefined;
    s?.add(count);
  }

  /** srst: zero every summary (namespaces stay listed); the trace mask is kept. */
  reset(): void {
    for (const s of Object.values(this.summaries)) s.reset();
    this.readPerNamespace.reset();
    this.writePerNamespace.reset();
  }
}

const byServer = new WeakMap<object, MonitorStats>();

/** The MonitorStats of a server (created on first use). */
export function monitorStats(server: DataSource): MonitorStats {
  let m = byServer.get(server);
  if (m === undefined) {
    m = new MonitorStats(server);
    byServer.set(server, m);
  }
  return m;
}

export function round4(v: number): number {
  return Math.round(v * 10000) / 10000;
}
