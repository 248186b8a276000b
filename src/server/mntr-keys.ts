// The `mntr` key set of ZooKeeper 3.8.0 standalone, as data.
//
// Captured from a running ZooKeeper 3.8.0 (Debian package, standalone, idle: 485 lines) and kept
// in ZooKeeper's printing order: zk_version, zk_server_state, the gauges, the gauge sets, the
// counters, the basic summaries (avg/min/max/cnt/sum), the percentile summaries (the same five
// plus p50/p95/p99/p999) and last the summary sets. Every key is printed as `zk_<key>`; the
// AdminServer's /commands/monitor uses the same names without the prefix.
//
// Each entry says how Kraal fills the key: a named source (computed in fourletter.ts from the
// server's state, or recorded by monitor-stats.ts), or a constant: the value an idle ZooKeeper
// prints for a mechanism Kraal does not have (a quorum, throttling, TLS, the JVM ...), 0 for
// most. Keys that exist only in Kraal never go here: they belong in /metrics (Prometheus).
//
// Dynamic keys (present only when the data tree calls for them), also as in 3.8.0:
//   gauge sets   <ns>_quota_{count,bytes}_{limit,usage}_per_namespace, for each top-level
//                namespace holding a quota under /zookeeper/quota
//   summary sets {avg,min,max,cnt,sum}_<ns>_{read,write}_per_namespace, for each top-level
//                namespace read or written since start (or since the last `srst`)

/** A gauge's source: a named Kraal value, or the constant ZooKeeper prints for what Kraal lacks. */
export type GaugeSource =
  | 'ephemerals'
  | 'connections'
  | 'avgLatency'
  | 'outstanding'
  | 'znodes'
  | 'sessions'
  | 'packetsSent'
  | 'packetsReceived'
  | 'watches'
  | 'minLatency'
  | 'maxFds'
  | 'dataSize'
  | 'openFds'
  | 'uptime'
  | 'maxLatency'
  | { constant: number };

const zero = { constant: 0 } as const;
/** ZooKeeper's "no response measured yet" value for the client response size gauges; Kraal does not measure them. */
const noData = { constant: -1 } as const;

/** Gauges printed as Java doubles ("0.0"); all other values are longs. */
export const DOUBLE_GAUGES: ReadonlySet<string> = new Set(['avg_latency', 'connection_drop_probability']);

export const MNTR_GAUGES: readonly (readonly [string, GaugeSource])[] = [
  ['ephemerals_count', 'ephemerals'],
  ['num_alive_connections', 'connections'],
  ['avg_latency', 'avgLatency'],
  ['outstanding_requests', 'outstanding'],
  ['znode_count', 'znodes'],
  ['global_sessions', 'sessions'],
  ['non_mtls_remote_conn_count', zero], // no TLS client port
  ['last_client_response_size', noData],
  ['packets_sent', 'packetsSent'],
  ['packets_received', 'packetsReceived'],
  ['max_client_response_size', noData],
  ['connection_drop_probability', zero], // no connection throttling
  ['watch_count', 'watches'],
  ['auth_failed_count', zero], // counted in /metrics (kraal_auth_failures_total)
  ['min_latency', 'minLatency'],
  ['max_file_descriptor_count', 'maxFds'],
  ['approximate_data_size', 'dataSize'],
  ['open_file_descriptor_count', 'openFds'],
  ['local_sessions', zero], // no local sessions
  ['uptime', 'uptime'],
  ['max_latency', 'maxLatency'],
  ['outstanding_tls_handshake', zero],
  ['min_client_response_size', noData],
  ['non_mtls_local_conn_count', zero],
];

/** Gauge sets computed from the quota subtree, per top-level namespace. */
export const MNTR_QUOTA_GAUGE_SETS = [
  'quota_bytes_limit_per_namespace',
  'quota_count_usage_per_namespace',
  'quota_count_limit_per_namespace',
  'quota_bytes_usage_per_namespace',
] as const;

/**
 * Counters. None has a Kraal equivalent worth reporting under ZooKeeper's meaning (they count
 * stages of ZooKeeper's request processors, its response cache, quorum traffic, throttling,
 * TLS), so all print 0; Kraal's own counters are in /metrics.
 */
export const MNTR_COUNTERS: readonly string[] = [
  'proposal_count', 'watch_bytes', 'outstanding_changes_removed', 'throttled_ops', 'stale_requests_dropped',
  'large_requests_rejected', 'insecure_admin_count', 'connection_rejected', 'cnxn_closed_without_zk_server_running',
  'sessionless_connections_expired', 'looking_count', 'dead_watchers_queued', 'stale_requests', 'connection_drop_count',
  'learner_proposal_received_count', 'digest_mismatches_count', 'dead_watchers_cleared', 'response_packet_cache_hits',
  'bytes_received_count', 'add_dead_watcher_stall_time', 'request_throttle_wait_count',
  'requests_not_forwarded_to_commit_processor', 'response_packet_cache_misses', 'ensemble_auth_success',
  'prep_processor_request_queued', 'learner_commit_received_count', 'stale_replies', 'connection_request_count',
  'response_bytes', 'ensemble_auth_fail', 'diff_count', 'response_packet_get_children_cache_misses',
  'connection_revalidate_count', 'quit_leading_due_to_disloyal_voter', 'snap_count', 'unrecoverable_error_count',
  'unsuccessful_handshake', 'commit_count', 'stale_sessions_expired', 'response_packet_get_children_cache_hits',
  'sync_processor_request_queued', 'outstanding_changes_queued', 'request_commit_queued', 'ensemble_auth_skip',
  'skip_learner_request_to_next_processor_count', 'tls_handshake_exceeded', 'revalidate_count',
];

/**
 * Summaries Kraal records (see monitor-stats.ts), by ZooKeeper name:
 *   fsynctime                 ms per transaction-log fsync (one per group-commit batch)
 *   sync_processor_batch_size commands made durable by one fsync
 *   snapshottime              ms per snapshot write
 *   node_*_watch_count        watches fired by one change, per event type
 *   readlatency/updatelatency ms from request read to reply queued, reads / writes
 * Every other summary prints zeros.
 */
export type RecordedSummary =
  | 'fsynctime'
  | 'sync_processor_batch_size'
  | 'snapshottime'
  | 'node_created_watch_count'
  | 'node_deleted_watch_count'
  | 'node_changed_watch_count'
  | 'node_children_watch_count'
  | 'readlatency'
  | 'updatelatency';

/** Basic summaries: each prints avg_<n>, min_<n>, max_<n>, cnt_<n>, sum_<n>. */
export const MNTR_BASIC_SUMMARIES: readonly string[] = [
  'socket_closing_time', 'proposal_process_time', 'leader_unavailable_time', 'node_created_watch_count',
  'session_queues_drained', 'write_commit_proc_req_queued', 'connection_token_deficit', 'read_commit_proc_req_queued',
  'node_deleted_watch_count', 'startup_txns_load_time', 'sync_processor_queue_size', 'follower_sync_time',
  'prep_processor_queue_size', 'fsynctime', 'inflight_snap_count', 'reads_issued_from_session_queue',
  'learner_request_processor_queue_size', 'snapshottime', 'unavailable_time', 'startup_txns_loaded',
  'reads_after_write_in_session_queue', 'requests_in_session_queue', 'write_commit_proc_issued', 'prep_process_time',
  'pending_session_queue_size', 'time_waiting_empty_pool_in_commit_processor_read_ms', 'commit_process_time',
  'dbinittime', 'inflight_diff_count', 'netty_queued_buffer_capacity', 'election_time', 'commit_commit_proc_req_queued',
  'sync_processor_batch_size', 'node_children_watch_count', 'write_batch_time_in_commit_processor',
  'read_commit_proc_issued', 'concurrent_request_processing_in_commit_processor', 'observer_sync_time',
  'node_changed_watch_count', 'sync_process_time', 'startup_snap_load_time',
];

/** Percentile summaries: the five basic keys plus p50_<n>, p95_<n>, p99_<n>, p999_<n>. */
export const MNTR_PERCENTILE_SUMMARIES: readonly string[] = [
  'prep_processor_queue_time_ms', 'jvm_pause_time_ms', 'close_session_prep_time', 'read_commitproc_time_ms',
  'updatelatency', 'local_write_committed_time_ms', 'request_throttle_queue_time_ms', 'readlatency',
  'quorum_ack_latency', 'om_commit_process_time_ms', 'read_final_proc_time_ms', 'commit_propagation_latency',
  'dead_watchers_cleaner_latency', 'write_final_proc_time_ms', 'proposal_ack_creation_latency', 'proposal_latency',
  'om_proposal_process_time_ms', 'sync_processor_queue_and_flush_time_ms', 'propagation_latency',
  'server_write_committed_time_ms', 'sync_processor_queue_time_ms', 'sync_processor_queue_flush_time_ms',
  'write_commitproc_time_ms',
];

/** Summary sets, printed per namespace as {avg,min,max,cnt,sum}_<ns>_<set>, in this order. */
export const MNTR_SUMMARY_SETS = ['read_per_namespace', 'write_per_namespace'] as const;
