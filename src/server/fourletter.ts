// Four-letter words and their AdminServer JSON twins, in ZooKeeper's output formats.

import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import type { ZkServer } from './zk-server.js';
import type { Connection } from './connection.js';
import { newConnectionStats } from './connection.js';
import { KRAAL_VERSION, ZK_COMPAT_VERSION } from './version.js';

export function versionLine(): string {
  return `${ZK_COMPAT_VERSION}-kraal-${KRAAL_VERSION}, built on ${BUILD_DATE}`;
}
const BUILD_DATE = '2026-11-25 00:00 UTC';

function hex(n: number): string {
  return '0x' + n.toString(16);
}

function latency(min: number, total: number, count: number, max: number): string {
  const mn = count === 0 ? 0 : Math.round(min);
  const avg = count === 0 ? 0 : total / count;
  return `${mn}/${avg.toFixed(4)}/${Math.round(max)}`;
}

function serverLatency(s: ZkServer): string {
  const c = s.counters;
  return latency(c.minLatency, c.totalLatency, c.latencyCount, c.maxLatency);
}

function srvrBody(s: ZkServer): string {
  const c = s.counters;
  return (
    `Latency min/avg/max: ${serverLatency(s)}\n` +
    `Received: ${c.packetsReceived}\n` +
    `Sent: ${c.packetsSent}\n` +
    `Connections: ${s.conns.size}\n` +
    `Outstanding: ${s.outstanding()}\n` +
    `Zxid: ${hex(s.db.lastZxid)}\n` +
    `Mode: standalone\n` +
    `Node count: ${s.db.nodeCount()}\n`
  );
}

function briefConnection(c: Connection): string {
  return ` /${c.remoteAddress}:${c.remotePort}[1](queued=${c.queued()},recved=${c.stats.packetsReceived},sent=${c.stats.packetsSent})\n`;
}

function fullConnection(c: Connection): string {
  const st = c.stats;
  const lat = st.latencyCount === 0 ? { min: 0, avg: 0, max: 0 } : { min: Math.round(st.minLatency), avg: Math.round(st.totalLatency / st.latencyCount), max: Math.round(st.maxLatency) };
  const fields = [
    `queued=${c.queued()}`,
    `recved=${st.packetsReceived}`,
    `sent=${st.packetsSent}`,
  ];
  if (c.sessionId !== 0) {
    fields.push(
      `sid=${hex(c.sessionId)}`,
      `lop=${st.lastOp}`,
      `est=${c.established}`,
      `to=${c.timeout}`,
      `lcxid=${hex(st.lastCxid >>> 0)}`,
      `lzxid=${hex(st.lastZxid < 0 ? 0xffffffffffff : st.lastZxid)}`,
      `lresp=${st.lastResponseTime}`,
      `llat=${Math.round(st.lastLatency)}`,
      `minlat=${lat.min}`,
      `avglat=${lat.avg}`,
      `maxlat=${lat.max}`,
    );
  }
  return ` /${c.remoteAddress}:${c.remotePort}[1](${fields.join(',')})\n`;
}

function dirSize(dir: string): number {
  let total = 0;
  try {
    for (const f of fs.readdirSync(dir)) {
      const st = fs.statSync(path.join(dir, f));
      if (st.isFile()) total += st.size;
    }
  } catch {
    // a missing directory has size 0
  }
  return total;
}

/** mntr's keys and values, in ZooKeeper's order (version, state, then gauges and counters). */
export function monitorValues(s: ZkServer): [string, string | number][] {
  const c = s.counters;
  const mem = process.memoryUsage();
  const wal = s.walStats();
  let fds = 0;
  try {
    fds = fs.readdirSync('/proc/self/fd').length;
  } catch {
    fds = 0;
  }
  return [
    ['version', versionLine()],
    ['server_state', 'standalone'],
    ['avg_latency', c.latencyCount === 0 ? 0 : Number((c.totalLatency / c.latencyCount).toFixed(4))],
    ['max_latency', Math.round(c.maxLatency)],
    ['min_latency', c.latencyCount === 0 ? 0 : Math.round(c.minLatency)],
    ['packets_received', c.packetsReceived],
    ['packets_sent', c.packetsSent],
    ['num_alive_connections', s.conns.size],
    ['outstanding_requests', s.outstanding()],
    ['uptime', Date.now() - c.startedAt],
    ['znode_count', s.db.nodeCount()],
    ['watch_count', s.watches.watchCount()],
    ['ephemerals_count', s.db.ephemeralCount()],
    ['approximate_data_size', s.db.approximateDataSize()],
    ['global_sessions', s.tracker.size()],
    ['local_sessions', 0],
    ['open_file_descriptor_count', fds],
    ['max_file_descriptor_count', 1048576],
    ['connection_drop_probability', 0],
    ['last_proposal_size', -1],
    ['max_proposal_size', -1],
    ['min_proposal_size', -1],
    ['fsync_count', wal?.fsyncCount ?? 0],
    ['last_fsync_ms', wal?.lastFsyncMs ?? 0],
    ['log_segments', wal?.segments ?? 0],
    ['log_bytes', wal?.bytes ?? 0],
    ['last_snapshot_zxid', s.lastSnapshot === undefined ? -1 : s.lastSnapshot.zxid],
    ['last_snapshot_ms', s.lastSnapshot === undefined ? 0 : Math.round(s.lastSnapshot.ms)],
    ['heap_used_bytes', mem.heapUsed],
    ['rss_bytes', mem.rss],
  ];
}

function confValues(s: ZkServer): [string, string | number][] {
  const cfg = s.config;
  return [
    ['clientPort', cfg.clientPort],
    ['secureClientPort', -1],
    ['dataDir', cfg.dataDir],
    ['dataDirSize', dirSize(cfg.dataDir)],
    ['dataLogDir', cfg.dataLogDir],
    ['dataLogSize', dirSize(cfg.dataLogDir)],
    ['tickTime', cfg.tickTime],
    ['maxClientCnxns', cfg.maxClientCnxns],
    ['minSessionTimeout', cfg.minSessionTimeout],
    ['maxSessionTimeout', cfg.maxSessionTimeout],
    ['clientPortListenBacklog', -1],
    ['serverId', cfg.serverId ?? 0],
  ];
}

function dump(s: ZkServer): string {
  const lines: string[] = ['SessionTracker dump:', `Global Sessions(${s.tracker.size()}):`];
  for (const id of s.tracker.ids()) lines.push(`${hex(id)}\t${s.tracker.timeout(id)}ms`);
  const withEph = [...s.db.sessions()].filter((x) => x.ephemerals.size > 0);
  lines.push('ephemeral nodes dump:', `Sessions with Ephemerals (${withEph.length}):`);
  for (const x of withEph) {
    lines.push(`${hex(x.sessionId)}:`);
    for (const p of [...x.ephemerals].sort()) lines.push(`\t${p}`);
  }
  lines.push('Connections dump:', `Connections Sets (${s.conns.size}):`);
  for (const c of s.conns.values()) if (c.sessionId !== 0) lines.push(`${hex(c.sessionId)}`);
  return lines.join('\n') + '\n';
}

function environment(s: ZkServer): [string, string][] {
  return [
    ['zookeeper.version', versionLine()],
    ['host.name', os.hostname()],
    ['node.version', process.version],
    ['os.name', os.type()],
    ['os.arch', os.arch()],
    ['os.version', os.release()],
    ['user.name', os.userInfo().username],
    ['user.home', os.homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', `${Math.round(os.freemem() / 1048576)}MB`],
    ['os.memory.max', `${Math.round(os.totalmem() / 1048576)}MB`],
    ['os.memory.total', `${Math.round(process.memoryUsage().rss / 1048576)}MB`],
    ['kraal.dataDir', s.config.dataDir],
  ];
}

function resetConnectionStats(s: ZkServer): void {
  for (const c of s.conns.values()) Object.assign(c.stats, newConnectionStats());
}

function resetServerStats(s: ZkServer): void {
  Object.assign(s.counters, { packetsReceived: 0, packetsSent: 0, minLatency: Number.MAX_SAFE_INTEGER, maxLatency: 0, totalLatency: 0, latencyCount: 0 });
}

/** Runs a (whitelisted) four-letter word and returns its text output. */
export function runFourLetterWord(s: ZkServer, word: string): string {
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'srvr':
      return `Zookeeper version: ${versionLine()}\n` + srvrBody(s);
    case 'stat': {
      let out = `Zookeeper version: ${versionLine()}\nClients:\n`;
      for (const c of s.conns.values()) out += briefConnection(c);
      return out + '\n' + srvrBody(s);
    }
    case 'conf':
      return confValues(s).map(([k, v]) => `${k}=${v}\n`).join('');
    case 'cons': {
      let out = '';
      for (const c of s.conns.values()) out += fullConnection(c);
      return out + '\n';
    }
    case 'crst':
      resetConnectionStats(s);
      return 'Connection stats reset.\n';
    case 'srst':
      resetServerStats(s);
      return 'Server stats reset.\n';
    case 'dirs':
      return `datadir_size: ${dirSize(s.config.dataDir)}\nlogdir_size: ${dirSize(s.config.dataLogDir)}\n`;
    case 'dump':
      return dump(s);
    case 'envi':
      return 'Environment:\n' + environment(s).map(([k, v]) => `${k}=${v}\n`).join('');
    case 'mntr':
      return monitorValues(s).map(([k, v]) => `zk_${k}\t${v}\n`).join('');
    case 'wchs':
      return `${s.watches.connectionCount()} connections watching ${s.watches.pathCount()} paths\nTotal watches:${s.watches.watchCount()}\n`;
    case 'wchc': {
      let out = '';
      for (const [connId, paths] of s.watches.byConnection()) {
        const c = s.conns.get(connId);
        out += `${hex(c?.sessionId ?? 0)}\n` + paths.map((p) => `\t${p}\n`).join('');
      }
      return out;
    }
    case 'wchp': {
      let out = '';
      for (const [p, connIds] of s.watches.byPath()) {
        out += `${p}\n` + connIds.map((id) => `\t${hex(s.conns.get(id)?.sessionId ?? 0)}\n`).join('');
      }
      return out;
    }
    case 'isro':
      return 'rw';
    case 'gtmk':
    case 'stmk':
      return '0\n';
    case 'hash':
      return `${s.db.lastZxid}\n`;
  }
  return '';
}

/** The AdminServer's JSON for a command name (or alias), as /commands/<name> returns it. */
export function adminCommand(s: ZkServer, name: string): { status: number; body: Record<string, unknown> } {
  const canonical = ADMIN_ALIASES[name] ?? name;
  const obj = (o: Record<string, unknown>) => ({ status: 200, body: { ...o, command: canonical, error: null } });
  switch (canonical) {
    case 'ruok':
      return obj({});
    case 'server_stats':
    case 'stats': {
      const c = s.counters;
      const base = {
        version: versionLine(),
        read_only: false,
        server_stats: {
          packets_sent: c.packetsSent,
          packets_received: c.packetsReceived,
          max_latency: Math.round(c.maxLatency),
          min_latency: c.latencyCount === 0 ? 0 : Math.round(c.minLatency),
          avg_latency: c.latencyCount === 0 ? 0 : c.totalLatency / c.latencyCount,
          outstanding_requests: s.outstanding(),
          server_state: 'standalone',
          num_alive_client_connections: s.conns.size,
          last_processed_zxid: s.db.lastZxid,
        },
        node_count: s.db.nodeCount(),
      };
      if (canonical === 'stats') {
        return obj({ ...base, connections: [...s.conns.values()].map((c) => connectionJson(c)) });
      }
      return obj(base);
    }
    case 'monitor':
      return obj(Object.fromEntries(monitorValues(s)));
    case 'configuration':
      return obj(Object.fromEntries(confValues(s).map(([k, v]) => [k.replace(/[A-Z]/g, (m) => '_' + m.toLowerCase()), v])));
    case 'connections':
      return obj({ connections: [...s.conns.values()].map((c) => connectionJson(c)), secure_connections: [] });
    case 'connection_stat_reset':
      resetConnectionStats(s);
      return obj({});
    case 'stat_reset':
      resetServerStats(s);
      return obj({});
    case 'dirs':
      return obj({ datadir_size: dirSize(s.config.dataDir), logdir_size: dirSize(s.config.dataLogDir) });
    case 'dump': {
      const ephemerals: Record<string, string[]> = {};
      for (const x of s.db.sessions()) if (x.ephemerals.size > 0) ephemerals[hex(x.sessionId)] = [...x.ephemerals].sort();
      return obj({ expiry_time_to_session_ids: {}, session_id_to_ephemeral_paths: ephemerals });
    }
    case 'environment':
      return obj(Object.fromEntries(environment(s)));
    case 'get_trace_mask':
    case 'set_trace_mask':
      return obj({ tracemask: 0 });
    case 'is_read_only':
      return obj({ read_only: false });
    case 'watches': {
      const m: Record<string, string[]> = {};
      for (const [connId, paths] of s.watches.byConnection()) m[hex(s.conns.get(connId)?.sessionId ?? 0)] = paths;
      return obj({ session_id_to_watched_paths: m });
    }
    case 'watches_by_path': {
      const m: Record<string, string[]> = {};
      for (const [p, ids] of s.watches.byPath()) m[p] = ids.map((id) => hex(s.conns.get(id)?.sessionId ?? 0));
      return obj({ path_to_session_ids: m });
    }
    case 'watch_summary':
      return obj({ num_connections: s.watches.connectionCount(), num_paths: s.watches.pathCount(), num_total_watches: s.watches.watchCount() });
    case 'last_snapshot':
      return obj({ zxid: hex(s.lastSnapshot?.zxid ?? 0), timestamp: Math.floor((s.lastSnapshot?.at ?? 0) / 1000) });
    case 'zabstate':
      return obj({ voting: true, zabstate: 'broadcast' });
    case 'hash':
      return obj({ digests: [] });
  }
  return { status: 200, body: { command: name, error: `Unknown command: ${name}` } };
}

function connectionJson(c: Connection): Record<string, unknown> {
  const st = c.stats;
  return {
    remote_socket_address: `${c.remoteAddress}:${c.remotePort}`,
    interest_ops: 1,
    outstanding_requests: c.queued(),
    packets_received: st.packetsReceived,
    packets_sent: st.packetsSent,
    session_id: hex(c.sessionId),
    last_operation: st.lastOp,
    session_timeout: c.timeout,
    last_cxid: hex(st.lastCxid >>> 0),
    last_zxid: hex(Math.max(0, st.lastZxid)),
    last_response_time: st.lastResponseTime,
    last_latency: Math.round(st.lastLatency),
    min_latency: st.latencyCount === 0 ? 0 : Math.round(st.minLatency),
    avg_latency: st.latencyCount === 0 ? 0 : Math.round(st.totalLatency / st.latencyCount),
    max_latency: Math.round(st.maxLatency),
    established: new Date(c.established).toISOString(),
  };
}

/** Command names and their aliases, as ZooKeeper's AdminServer lists them. */
export const ADMIN_ALIASES: Record<string, string> = {
  crst: 'connection_stat_reset',
  conf: 'configuration',
  config: 'configuration',
  cons: 'connections',
  env: 'environment',
  envi: 'environment',
  gtmk: 'get_trace_mask',
  isro: 'is_read_only',
  lsnp: 'last_snapshot',
  mntr: 'monitor',
  stmk: 'set_trace_mask',
  srvr: 'server_stats',
  stat: 'stats',
  srst: 'stat_reset',
  wchc: 'watches',
  wchp: 'watches_by_path',
  wchs: 'watch_summary',
};

export const ADMIN_COMMANDS = [
  'connection_stat_reset', 'configuration', 'connections', 'dirs', 'dump', 'environment', 'get_trace_mask', 'hash',
  'is_read_only', 'last_snapshot', 'monitor', 'ruok', 'server_stats', 'set_trace_mask', 'stat_reset', 'stats',
  'watch_summary', 'watches', 'watches_by_path', 'zabstate',
];
