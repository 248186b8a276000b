// Prometheus metrics for one server instance (its own registry, so several
// in-process servers — tests, embedded use — never share counters).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface GaugeSources {
  znodes(): number;
  watches(): number;
  ephemerals(): number;
  sessions(): number;
  connections(): number;
  outstanding(): number;
  approximateDataSize(): number;
  lastZxid(): number;
}

const LATENCY_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requestLatency: Histogram<'op'>;
  readonly fsyncTime: Histogram;
  readonly fsyncBatch: Histogram;
  readonly snapshotTime: Histogram;
  readonly badFrames: Counter<'reason'>;
  readonly rejectedConnections: Counter<'reason'>;
  readonly packetsReceived: Counter;
  readonly packetsSent: Counter;
  readonly sessionsExpired: Counter;
  readonly authFailures: Counter;
  private readonly latencyByOp = new Map<string, { observe(v: number): void }>();

  constructor(src: GaugeSources, withProcessMetrics = true) {
    const r = this.registry;
    if (withProcessMetrics) collectDefaultMetrics({ register: r, prefix: 'kraal_' });
    this.requestLatency = new Histogram({
      name: 'kraal_request_latency_seconds',
      help: 'Time from a request frame being read to its reply being queued, by operation',
      labelNames: ['op'],
      buckets: LATENCY_BUCKETS_S,
      registers: [r],
    });
    this.fsyncTime = new Histogram({
      name: 'kraal_fsync_seconds',
      help: 'Write + fdatasync time of one group-commit batch of the transaction log',
      buckets: LATENCY_BUCKETS_S,
      registers: [r],
    });
    this.fsyncBatch = new Histogram({
      name: 'kraal_fsync_batch_size',
      help: 'Commands made durable by one fdatasync (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers: [r],
    });
    this.snapshotTime = new Histogram({
      name: 'kraal_snapshot_seconds',
      help: 'Time to serialise and durably write one snapshot',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [r],
    });
    this.badFrames = new Counter({
      name: 'kraal_bad_frames_total',
      help: 'Client frames refused (oversize, undecodable, unknown opcode, before connect)',
      labelNames: ['reason'],
      registers: [r],
    });
    this.rejectedConnections = new Counter({
      name: 'kraal_rejected_connections_total',
      help: 'Connections closed at accept time (maxClientCnxns per IP, maxCnxns)',
      labelNames: ['reason'],
      registers: [r],
    });
    this.packetsReceived = new Counter({ name: 'kraal_packets_received_total', help: 'Client frames received', registers: [r] });
    this.packetsSent = new Counter({ name: 'kraal_packets_sent_total', help: 'Frames sent to clients', registers: [r] });
    this.sessionsExpired = new Counter({ name: 'kraal_sessions_expired_total', help: 'Sessions closed by expiry', registers: [r] });
    this.authFailures = new Counter({ name: 'kraal_auth_failures_total', help: 'Failed addauth requests', registers: [r] });
    const gauge = (name: string, help: string, f: () => number) =>
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(f());
        },
      });
    gauge('kraal_znode_count', 'Znodes in the data tree (counted as ZooKeeper does)', () => src.znodes());
    gauge('kraal_watch_count', 'Registered watches', () => src.watches());
    gauge('kraal_ephemerals_count', 'Ephemeral znodes', () => src.ephemerals());
    gauge('kraal_sessions', 'Live sessions', () => src.sessions());
    gauge('kraal_connections', 'Open client connections', () => src.connections());
    gauge('kraal_outstanding_requests', 'Requests received and not yet answered', () => src.outstanding());
    gauge('kraal_approximate_data_size_bytes', 'Sum of znode path and data sizes', () => src.approximateDataSize());
    gauge('kraal_last_zxid', 'Zxid of the last applied transaction', () => src.lastZxid());
  }

  observeLatency(op: string, seconds: number): void {
    let h = this.latencyByOp.get(op);
    if (h === undefined) {
      h = this.requestLatency.labels(op);
      this.latencyByOp.set(op, h);
    }
    h.observe(seconds);
  }
}
