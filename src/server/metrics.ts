// Prometheus metrics for one server instance (its own registry, so several
// in-process servers — tests, embedded use — never share counters).
//
// Every metric is kept as plain numbers here; prom-client (and its process metrics, which start
// an event-loop monitor) is loaded only when the registry is first asked for, i.e. on the first
// scrape of /metrics. A server nobody scrapes does not carry it: about 12 MB of resident memory.

import type { Metric, Registry } from 'prom-client';

export interface GaugeSources {
  znodes(): number;
  watches(): number;
  ephemerals(): number;
  sessions(): number;
  connections(): number;
  outstanding(): number;
  approximateDataSize(): number;
  lastZxid(): number;
  packetsReceived(): number;
  packetsSent(): number;
}

const OP_OFFSET = 128;
const MAX_OP_SLOTS = 512;

const LATENCY_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * One series of a FastHistogram: a plain count per bucket, updated with no allocation and
 * no label hashing (prom-client's Histogram.observe costs ~1 µs per call, which is several
 * per cent of a request on the hot path). Bucket i counts values <= bounds[i] (and > bounds[i-1]);
 * the last slot counts values above every bound (only in +Inf).
 */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labelValue: string | undefined,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    const n = b.length;
    let i = 0;
    while (i < n && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

interface MetricValue {
  value: number;
  metricName: string;
  exemplar?: null;
  labels: Record<string, string | number>;
}

/**
 * A Prometheus histogram with at most one label, kept as plain counters and turned into
 * prom-client's exported form only when the registry is scraped. The exposition text is the
 * same as prom-client's Histogram (same series names, `le` labels, cumulative buckets, +Inf, _sum, _count).
 */
export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries>();
  private unlabelled: HistogramSeries | undefined;
  /** prom-client shows an unlabelled histogram's zero buckets until the first reset. */
  private showEmpty = true;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    private readonly labelName: string | undefined,
  ) {
    if (labelName === undefined) this.unlabelled = this.labels('');
  }

  /** The series for one label value (create it once and keep it: lookups are by string). */
  labels(value: string): HistogramSeries {
    let s = this.series.get(value);
    if (s === undefined) {
      s = new HistogramSeries(this.bounds, value);
      this.series.set(value, s);
    }
    return s;
  }

  /** Observes into the unlabelled series. */
  observe(v: number): void {
    this.unlabelled!.observe(v);
  }

  reset(): void {
    for (const s of this.series.values()) s.reset();
    this.showEmpty = false;
  }

  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: string }> {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    const ln = this.labelName;
    for (const s of this.series.values()) {
      // prom-client shows a labelled series only once observed, an unlabelled one until reset
      if (s.count === 0 && (ln !== undefined || !this.showEmpty)) continue;
      const lv = s.labelValue!;
      const with_ = (le: number | string): Record<string, string | number> => (ln === undefined ? { le } : { le, [ln]: lv });
      const plain = (): Record<string, string | number> => (ln === undefined ? {} : { [ln]: lv });
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i]!;
        values.push({ value: acc, metricName: bucket, exemplar: null, labels: with_(this.bounds[i]!) });
      }
      values.push({ value: s.count, metricName: bucket, exemplar: null, labels: with_('+Inf') });
      values.push({ value: s.sum, metricName: `${this.name}_sum`, labels: plain() });
      values.push({ value: s.count, metricName: `${this.name}_count`, labels: plain() });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }
}

/** A counter with at most one label, exported in prom-client's Counter form. */
export class FastCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly byLabel = new Map<string, number>();
  private value = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName?: string,
  ) {}

  inc(labels?: Record<string, string>, n = 1): void {
    if (this.labelName === undefined || labels === undefined) {
      this.value += n;
      return;
    }
    const v = labels[this.labelName] ?? '';
    this.byLabel.set(v, (this.byLabel.get(v) ?? 0) + n);
  }

  reset(): void {
    this.value = 0;
    this.byLabel.clear();
  }

  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: string }> {
    const ln = this.labelName;
    // prom-client shows an unlabelled counter from the start, a labelled series once incremented
    const values: MetricValue[] =
      ln === undefined ? [{ value: this.value, metricName: this.name, labels: {} }] : [...this.byLabel].map(([v, n]) => ({ value: n, metricName: this.name, labels: { [ln]: v } }));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }
}

/** A gauge (or a counter the server keeps anyway) read from its source at scrape time. */
class SourceGauge {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
    readonly type: 'gauge' | 'counter' = 'gauge',
  ) {}
  reset(): void {}
  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: string }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values: [{ value: this.read(), metricName: this.name, labels: {} }], aggregator: this.aggregator });
  }
}

export class ServerMetrics {
  readonly requestLatency: FastHistogram;
  readonly fsyncTime: FastHistogram;
  readonly fsyncBatch: FastHistogram;
  readonly snapshotTime: FastHistogram;
  readonly badFrames: FastCounter;
  readonly rejectedConnections: FastCounter;
  readonly sessionsExpired: FastCounter;
  readonly authFailures: FastCounter;
  private readonly all: (FastHistogram | FastCounter | SourceGauge)[];
  private registryPromise: Promise<Registry> | undefined;
  /** Latency series by opcode (opcodes are small integers, offset so that negative ones fit). */
  private readonly latencyByOp: (HistogramSeries | undefined)[] = [];

  constructor(
    src: GaugeSources,
    private readonly withProcessMetrics = true,
  ) {
    this.requestLatency = new FastHistogram(
      'kraal_request_latency_seconds',
      'Time from a request frame being read to its reply being queued, by operation',
      LATENCY_BUCKETS_S,
      'op',
    );
    this.fsyncTime = new FastHistogram('kraal_fsync_seconds', 'Write + fdatasync time of one group-commit batch of the transaction log', LATENCY_BUCKETS_S, undefined);
    this.fsyncBatch = new FastHistogram('kraal_fsync_batch_size', 'Commands made durable by one fdatasync (group commit)', [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], undefined);
    this.snapshotTime = new FastHistogram('kraal_snapshot_seconds', 'Time to serialise and durably write one snapshot', [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], undefined);
    this.badFrames = new FastCounter('kraal_bad_frames_total', 'Client frames refused (oversize, undecodable, unknown opcode, before connect)', 'reason');
    this.rejectedConnections = new FastCounter('kraal_rejected_connections_total', 'Connections closed at accept time (maxClientCnxns per IP, maxCnxns)', 'reason');
    this.sessionsExpired = new FastCounter('kraal_sessions_expired_total', 'Sessions closed by expiry');
    this.authFailures = new FastCounter('kraal_auth_failures_total', 'Failed addauth requests');
    const gauge = (name: string, help: string, f: () => number) => new SourceGauge(name, help, f);
    this.all = [
      this.requestLatency,
      this.fsyncTime,
      this.fsyncBatch,
      this.snapshotTime,
      this.badFrames,
      this.rejectedConnections,
      new SourceGauge('kraal_packets_received_total', 'Client frames received', () => src.packetsReceived(), 'counter'),
      new SourceGauge('kraal_packets_sent_total', 'Frames sent to clients', () => src.packetsSent(), 'counter'),
      this.sessionsExpired,
      this.authFailures,
      gauge('kraal_znode_count', 'Znodes in the data tree (counted as ZooKeeper does)', () => src.znodes()),
      gauge('kraal_watch_count', 'Registered watches', () => src.watches()),
      gauge('kraal_ephemerals_count', 'Ephemeral znodes', () => src.ephemerals()),
      gauge('kraal_sessions', 'Live sessions', () => src.sessions()),
      gauge('kraal_connections', 'Open client connections', () => src.connections()),
      gauge('kraal_outstanding_requests', 'Requests received and not yet answered', () => src.outstanding()),
      gauge('kraal_approximate_data_size_bytes', 'Sum of znode path and data sizes', () => src.approximateDataSize()),
      gauge('kraal_last_zxid', 'Zxid of the last applied transaction', () => src.lastZxid()),
    ];
  }

  /** The prom-client registry with every metric (loads prom-client on first use). */
  registry(): Promise<Registry> {
    this.registryPromise ??= import('prom-client').then((prom) => {
      const r = new prom.Registry();
      if (this.withProcessMetrics) prom.collectDefaultMetrics({ register: r, prefix: 'kraal_' });
      for (const m of this.all) r.registerMetric(m as unknown as Metric);
      return r;
    });
    return this.registryPromise;
  }

  /** `op` is the opcode, `name` its label value (looked up only the first time an opcode is seen). */
  observeLatency(op: number, name: string, seconds: number): void {
    const k = op + OP_OFFSET;
    let h = k >= 0 && k < MAX_OP_SLOTS ? this.latencyByOp[k] : undefined;
    if (h === undefined) {
      h = this.requestLatency.labels(name);
      if (k >= 0 && k < MAX_OP_SLOTS) this.latencyByOp[k] = h;
    }
    h.observe(seconds);
  }
}
