// Four-letter words and their AdminServer JSON twins, in ZooKeeper 3.8's output formats
// (layouts checked line by line against a real 3.8.0 by test/compat/wire.test.ts and
// test/compat/admin.test.ts). The mntr key set is data: mntr-keys.ts.

import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import type { ZkServer } from './zk-server.js';
import type { Connection } from './connection.js';
import { newConnectionStats, newTrafficStats } from './connection.js';
import { KRAAL_VERSION, ZK_COMPAT_VERSION } from './version.js';
import { Op, WatcherType } from '../jute/constants.js';
import {
  DOUBLE_GAUGES,
  MNTR_BASIC_SUMMARIES,
  MNTR_COUNTERS,
  MNTR_GAUGES,
  MNTR_PERCENTILE_SUMMARIES,
  MNTR_QUOTA_GAUGE_SETS,
  MNTR_SUMMARY_SETS,
  type GaugeSource,
} from './mntr-keys.js';
import { monitorStats, PercentileSummary, round4, topNamespace, type Summary } from './monitor-stats.js';

export function versionLine(): string {
  return `${ZK_COMPAT_VERSION}-kraal-${KRAAL_VERSION}, built on ${BUILD_DATE}`;
}
const BUILD_DATE = '2026-11-25 00:00 UTC';

/** 0x + Java's Long.toHexString: negative values as their 64-bit two's complement (-1 → 0xffffffffffffffff). */
function hex(n: number): string {
  return '0x' + (n < 0 ? BigInt.asUintN(64, BigInt(n)).toString(16) : n.toString(16));
}

/** A number as Java's Double.toString prints it for the values we produce ("0.0", "2.5789"). */
function javaDouble(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

/** An address as Java's InetSocketAddress prints it: IPv4-mapped IPv6 unwrapped, IPv6 uncompressed. */
function javaAddress(ip: string): string {
  if (ip.startsWith('::ffff:') && ip.includes('.')) return ip.slice(7);
  if (!ip.includes(':')) return ip;
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}

/** Java's Date.toString(): "Wed Nov 25 13:47:05 UTC 2026", in local time. */
function javaDate(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number) => String(n).padStart(2, '0');
  const tz = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? 'UTC';
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${tz} ${d.getFullYear()}`;
}

/** ZooKeeper's names for the last operation of a connection (cons `lop=`, admin `last_operation`). */
const ZK_OP_NAMES: Record<number, string> = {
  [Op.create]: 'CREA',
  [Op.create2]: 'CREA',
  [Op.createContainer]: 'CREA',
  [Op.createTTL]: 'CREA',
  [Op.delete]: 'DELE',
  [Op.deleteContainer]: 'DELE',
  [Op.exists]: 'EXIS',
  [Op.getData]: 'GETD',
  [Op.setData]: 'SETD',
  [Op.getACL]: 'GETA',
  [Op.setACL]: 'SETA',
  [Op.getChildren]: 'GETC',
  [Op.getChildren2]: 'GETC',
  [Op.sync]: 'SYNC',
  [Op.ping]: 'PING',
  [Op.check]: 'CHEC',
  [Op.multi]: 'MULT',
  [Op.multiRead]: 'MLTR',
  [Op.reconfig]: 'RECO',
  [Op.checkWatches]: 'CHKW',
  [Op.removeWatches]: 'REMW',
  [Op.setWatches]: 'SETW',
  [Op.setWatches2]: 'STW2',
  [Op.addWatch]: 'ADDW',
  [Op.getEphemerals]: 'GETE',
  [Op.getAllChildrenNumber]: 'GETACN',
  [Op.whoAmI]: 'HOMI',
  [Op.createSession]: 'SESS',
  [Op.closeSession]: 'CLOS',
};
const ZK_OP_BY_KRAAL_NAME = new Map(
  Object.entries(Op).map(([name, code]) => [name, ZK_OP_NAMES[code] ?? 'NA'] as const),
);

function lastOp(c: Connection): string {
  const op = c.stats.lastOp;
  return op === 'NA' ? 'NA' : (ZK_OP_BY_KRAAL_NAME.get(op) ?? op);
}

// ------------------------------------------------------------------ server-wide values

function latencyTriple(s: ZkServer): { min: number; avg: number; max: number } {
  const c = s.counters;
  if (c.latencyCount === 0) return { min: 0, avg: 0, max: 0 };
  return { min: Math.round(c.minLatency), avg: round4(c.totalLatency / c.latencyCount), max: Math.round(c.maxLatency) };
}

function srvrBody(s: ZkServer): string {
  const c = s.counters;
  const l = latencyTriple(s);
  return (
    `Latency min/avg/max: ${l.min}/${javaDouble(l.avg)}/${l.max}\n` +
    `Received: ${c.packetsReceived}\n` +
    `Sent: ${c.packetsSent}\n` +
    `Connections: ${s.conns.size}\n` +
    `Outstanding: ${s.outstanding()}\n` +
    `Zxid: ${hex(s.db.lastZxid)}\n` +
    `Mode: standalone\n` +
    `Node count: ${s.db.nodeCount()}\n`
  );
}

/**
 * ZooKeeper's watch_count: entries of its data table (data/exist, persistent, recursive) plus
 * entries of its child table (child, persistent, recursive), one per (connection, path) in each:
 * a persistent watch counts twice.
 */
function zkWatchCount(s: ZkServer): number {
  let n = 0;
  for (const [connId, paths] of s.watches.byConnection('all')) {
    for (const p of paths) {
      const persistent = s.watches.has(connId, p, WatcherType.Persistent) || s.watches.has(connId, p, WatcherType.PersistentRecursive);
      if (persistent || s.watches.has(connId, p, WatcherType.Data)) n++;
      if (persistent || s.watches.has(connId, p, WatcherType.Children)) n++;
    }
  }
  return n;
}

function openFds(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length - 1; // minus the descriptor readdir itself used
  } catch {
    return 0;
  }
}

/** The soft RLIMIT_NOFILE (what the JVM reports as max_file_descriptor_count). */
function maxFds(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (m) return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  } catch {
    // not Linux
  }
  return 0;
}

const GAUGES: Record<Exclude<GaugeSource, { constant: number }>, (s: ZkServer) => number> = {
  ephemerals: (s) => s.db.ephemeralCount(),
  connections: (s) => s.conns.size,
  avgLatency: (s) => latencyTriple(s).avg,
  outstanding: (s) => s.outstanding(),
  znodes: (s) => s.db.nodeCount(),
  sessions: (s) => s.tracker.size(),
  packetsSent: (s) => s.counters.packetsSent,
  packetsReceived: (s) => s.counters.packetsReceived,
  watches: (s) => zkWatchCount(s),
  minLatency: (s) => latencyTriple(s).min,
  maxFds: () => maxFds(),
  dataSize: (s) => s.db.approximateDataSize(),
  openFds: () => openFds(),
  uptime: (s) => Date.now() - s.counters.startedAt,
  maxLatency: (s) => latencyTriple(s).max,
};

const ZERO_SUMMARY: Summary = new PercentileSummary();

function summaryValues(name: string, sum: Summary, percentiles: boolean): [string, number, boolean][] {
  const out: [string, number, boolean][] = [
    [`avg_${name}`, sum.avg(), true],
    [`min_${name}`, Math.round(sum.min), false],
    [`max_${name}`, Math.round(sum.max), false],
    [`cnt_${name}`, sum.count, false],
    [`sum_${name}`, Math.round(sum.sum), false],
  ];
  if (percentiles) {
    const p = sum instanceof PercentileSummary ? sum : (ZERO_SUMMARY as PercentileSummary);
    out.push(
      [`p50_${name}`, Math.floor(p.quantile(0.5)), false],
      [`p95_${name}`, Math.floor(p.quantile(0.95)), false],
      [`p99_${name}`, Math.floor(p.quantile(0.99)), false],
      [`p999_${name}`, Math.floor(p.quantile(0.999)), false],
    );
  }
  return out;
}

type QuotaGauges = Record<(typeof MNTR_QUOTA_GAUGE_SETS)[number], number>;

/**
 * Quota limits and usage per top-level namespace, read from the zookeeper_limits and
 * zookeeper_stats nodes under /zookeeper/quota (ZooKeeper's QuotaMetricsUtils). A hard limit
 * wins over a soft one; several quotas in one namespace add up.
 */
function quotaGaugeSets(s: ZkServer): Map<string, QuotaGauges> {
  const out = new Map<string, QuotaGauges>();
  const root = '/zookeeper/quota';
  const children = (p: string): string[] => {
    const r = s.db.read(Op.getChildren, { path: p, watch: false }, SUPER, 0);
    return r.err === 0 ? ((r.response as { children?: string[] }).children ?? []) : [];
  };
  const fields = (p: string): Map<string, number> | undefined => {
    const d = s.db.data(p);
    if (d === undefined || d === null) return undefined;
    const m = new Map<string, number>();
    // StatsTrack text, e.g. "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=1" (ZooKeeper mixes separators)
    for (const kv of d.toString('utf8').split(/[,;]/)) {
      const [k, v] = kv.split('=');
      if (k !== undefined && v !== undefined && /^-?\d+$/.test(v.trim())) m.set(k.trim(), Number(v.trim()));
    }
    return m;
  };
  const add = (ns: string, key: keyof QuotaGauges, v: number) => {
    let e = out.get(ns);
    if (e === undefined) {
      e = { quota_bytes_limit_per_namespace: -1, quota_count_usage_per_namespace: 0, quota_count_limit_per_namespace: -1, quota_bytes_usage_per_namespace: 0 };
      out.set(ns, e);
    }
    const isLimit = key === 'quota_bytes_limit_per_namespace' || key === 'quota_count_limit_per_namespace';
    e[key] = isLimit && e[key] < 0 ? v : isLimit && v < 0 ? e[key] : e[key] + v;
  };
  const limit = (m: Map<string, number>, soft: string, hard: string) => {
    const h = m.get(hard) ?? -1;
    return h >= 0 ? h : (m.get(soft) ?? -1);
  };
  const walk = (p: string, depth: number) => {
    if (depth > 64) return;
    for (const c of children(p)) {
      const child = `${p}/${c}`;
      const ns = topNamespace(p.slice(root.length));
      const m = c === 'zookeeper_limits' || c === 'zookeeper_stats' ? fields(child) : undefined;
      if (c === 'zookeeper_limits') {
        if (ns !== undefined && m !== undefined) {
          add(ns, 'quota_count_limit_per_namespace', limit(m, 'count', 'countHardLimit'));
          add(ns, 'quota_bytes_limit_per_namespace', limit(m, 'bytes', 'byteHardLimit'));
        }
      } else if (c === 'zookeeper_stats') {
        if (ns !== undefined && m !== undefined) {
          add(ns, 'quota_count_usage_per_namespace', m.get('count') ?? 0);
          add(ns, 'quota_bytes_usage_per_namespace', m.get('bytes') ?? 0);
        }
      } else {
        walk(child, depth + 1);
      }
    }
  };
  walk(root, 0);
  return out;
}

const SUPER = [{ scheme: 'super', id: '' }] as const;

/** mntr's keys (without zk_) and values in ZooKeeper 3.8.0's order; the boolean marks Java doubles. */
function monitorEntries(s: ZkServer): [string, string | number, boolean][] {
  const stats = monitorStats(s);
  const out: [string, string | number, boolean][] = [
    ['version', versionLine(), false],
    ['server_state', 'standalone', false],
  ];
  for (const [key, src] of MNTR_GAUGES) {
    const v = typeof src === 'object' ? src.constant : GAUGES[src](s);
    out.push([key, v, DOUBLE_GAUGES.has(key)]);
  }
  const quotas = quotaGaugeSets(s);
  for (const set of MNTR_QUOTA_GAUGE_SETS) {
    for (const [ns, e] of [...quotas].sort((a, b) => (a[0] < b[0] ? -1 : 1))) out.push([`${ns}_${set}`, e[set], false]);
  }
  for (const key of MNTR_COUNTERS) out.push([key, 0, false]);
  const recorded = stats.summaries as Record<string, Summary>;
  for (const name of MNTR_BASIC_SUMMARIES) out.push(...summaryValues(name, recorded[name] ?? ZERO_SUMMARY, false));
  for (const name of MNTR_PERCENTILE_SUMMARIES) out.push(...summaryValues(name, recorded[name] ?? ZERO_SUMMARY, true));
  for (const set of MNTR_SUMMARY_SETS) {
    const byNs = set === 'read_per_namespace' ? stats.readPerNamespace : stats.writePerNamespace;
    for (const ns of [...byNs.byKey.keys()].sort()) out.push(...summaryValues(`${ns}_${set}`, byNs.byKey.get(ns)!, false));
  }
  return out;
}

/** mntr's keys and values as numbers/strings (also the body of /commands/monitor). */
export function monitorValues(s: ZkServer): [string, string | number][] {
  return monitorEntries(s).map(([k, v]) => [k, v]);
}

// ------------------------------------------------------------------ connections

/** A connection's interest ops as ZooKeeper shows them: 0 for the four-letter-word connection being served (its key is cancelled), 1 (read) otherwise. */
function interestOps(c: Connection, self: Connection | undefined): number {
  return c === self ? 0 : 1;
}

function briefConnection(c: Connection, self: Connection | undefined): string {
  return ` /${javaAddress(c.remoteAddress)}:${c.remotePort}[${interestOps(c, self)}](queued=${c.queued()},recved=${c.stats.packetsReceived},sent=${c.stats.packetsSent})\n`;
}

function connLatency(c: Connection): { min: number; avg: number; max: number } {
  const st = c.stats;
  if (st.latencyCount === 0) return { min: 0, avg: 0, max: 0 };
  return { min: Math.round(st.minLatency), avg: Math.floor(st.totalLatency / st.latencyCount), max: Math.round(st.maxLatency) };
}

function fullConnection(c: Connection, self: Connection | undefined): string {
  const st = c.stats;
  const lat = connLatency(c);
  const fields = [`queued=${c.queued()}`, `recved=${st.packetsReceived}`, `sent=${st.packetsSent}`];
  if (c.sessionId !== 0) {
    fields.push(
      `sid=${hex(c.sessionId)}`,
      `lop=${lastOp(c)}`,
      `est=${c.established}`,
      `to=${c.timeout}`,
      `lcxid=${hex(st.lastCxid)}`,
      `lzxid=${hex(st.lastZxid)}`,
      `lresp=${st.lastResponseTime}`,
      `llat=${Math.round(st.lastLatency)}`,
      `minlat=${lat.min}`,
      `avglat=${lat.avg}`,
      `maxlat=${lat.max}`,
    );
  }
  return ` /${javaAddress(c.remoteAddress)}:${c.remotePort}[${interestOps(c, self)}](${fields.join(',')})\n`;
}

function connectionJson(c: Connection, brief: boolean, self?: Connection): Record<string, unknown> {
  const st = c.stats;
  const info: Record<string, unknown> = {
    remote_socket_address: `${javaAddress(c.remoteAddress)}:${c.remotePort}`,
    interest_ops: interestOps(c, self),
    outstanding_requests: c.queued(),
    packets_received: st.packetsReceived,
    packets_sent: st.packetsSent,
  };
  if (brief) return info;
  const lat = connLatency(c);
  return {
    ...info,
    session_id: c.sessionId,
    last_operation: lastOp(c),
    established: c.established,
    session_timeout: c.timeout,
    last_cxid: st.lastCxid,
    last_zxid: st.lastZxid,
    last_response_time: st.lastResponseTime,
    last_latency: Math.round(st.lastLatency),
    min_latency: lat.min,
    avg_latency: lat.avg,
    max_latency: lat.max,
  };
}

// ------------------------------------------------------------------ dump

/** ZooKeeper's NIO connection expiry interval (zookeeper.nio.sessionlessCnxnTimeout). */
const CNXN_EXPIRY_INTERVAL = 10000;

/** Connections bucketed like ZooKeeper's cnxnExpiryQueue: last activity + session timeout (or 10 s), rounded up to 10 s. */
function connectionBuckets(s: ZkServer): { time: number; conns: Connection[] }[] {
  const buckets = new Map<number, Connection[]>();
  for (const c of s.conns.values()) {
    const last = Math.max(c.established, c.stats.lastResponseTime);
    const timeout = c.timeout > 0 ? c.timeout : CNXN_EXPIRY_INTERVAL;
    const t = (Math.floor((last + timeout) / CNXN_EXPIRY_INTERVAL) + 1) * CNXN_EXPIRY_INTERVAL;
    const list = buckets.get(t);
    if (list === undefined) buckets.set(t, [c]);
    else list.push(c);
  }
  return [...buckets].sort((a, b) => a[0] - b[0]).map(([time, conns]) => ({ time, conns }));
}

function sessionsWithEphemerals(s: ZkServer): { sessionId: number; paths: string[] }[] {
  return [...s.db.sessions()].filter((x) => x.ephemerals.size > 0).map((x) => ({ sessionId: x.sessionId, paths: [...x.ephemerals].sort() }));
}

function dump(s: ZkServer): string {
  const lines: string[] = ['SessionTracker dump:'];
  const sb = s.tracker.buckets();
  lines.push(`Session Sets (${sb.length})/(${s.tracker.size()}):`);
  for (const b of sb) {
    lines.push(`${b.ids.length} expire at ${javaDate(b.time)}:`);
    for (const id of b.ids) lines.push(`\t${hex(id)}`);
  }
  const eph = sessionsWithEphemerals(s);
  lines.push('ephemeral nodes dump:', `Sessions with Ephemerals (${eph.length}):`);
  for (const x of eph) {
    lines.push(`${hex(x.sessionId)}:`);
    for (const p of x.paths) lines.push(`\t${p}`);
  }
  const cb = connectionBuckets(s);
  lines.push('Connections dump:', `Connections Sets (${cb.length})/(${s.conns.size}):`);
  for (const b of cb) {
    lines.push(`${b.conns.length} expire at ${javaDate(b.time)}:`);
    for (const c of b.conns) lines.push(`\tip: /${javaAddress(c.remoteAddress)}:${c.remotePort} sessionId: ${hex(c.sessionId)}`);
  }
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------ conf, dirs, envi

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

/** The client port: the configured one, or the one bound when the configuration asked for any free port (0). */
function clientPort(s: ZkServer): number {
  if (s.config.clientPort !== 0) return s.config.clientPort;
  for (const c of s.conns.values()) if (c.socket.localPort !== undefined) return c.socket.localPort;
  return 0;
}

function confValues(s: ZkServer): [string, string | number][] {
  const cfg = s.config;
  return [
    ['clientPort', clientPort(s)],
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

const JAVA_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'aarch64', ia32: 'x86' };

/**
 * envi: ZooKeeper's keys in its order, except its java.* lines (java.version, java.vendor,
 * java.home, java.class.path, java.library.path, java.io.tmpdir, java.compiler), which describe
 * a JVM we do not run: node.version stands in their place. os.memory.* describe the JS heap as
 * ZooKeeper's describe the Java heap (free within the current heap, the heap limit, the heap size).
 */
function environment(): [string, string][] {
  const heap = v8.getHeapStatistics();
  const mb = (n: number) => `${Math.round(n / 1048576)}MB`;
  let user = '';
  try {
    user = os.userInfo().username;
  } catch {
    user = '';
  }
  return [
    ['zookeeper.version', versionLine()],
    ['host.name', os.hostname()],
    ['node.version', process.version],
    ['os.name', os.type()],
    ['os.arch', JAVA_ARCH[os.arch()] ?? os.arch()],
    ['os.version', os.release()],
    ['user.name', user],
    ['user.home', os.homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', mb(heap.total_heap_size - heap.used_heap_size)],
    ['os.memory.max', mb(heap.heap_size_limit)],
    ['os.memory.total', mb(heap.total_heap_size)],
  ];
}

// ------------------------------------------------------------------ resets

function resetConnectionStats(s: ZkServer): void {
  for (const c of s.conns.values()) Object.assign(c.stats, newConnectionStats());
}

function resetServerStats(s: ZkServer): void {
  Object.assign(s.counters, newTrafficStats());
  monitorStats(s).reset();
}

// ------------------------------------------------------------------ watches (ZooKeeper 3.8's data table)

function wchc(s: ZkServer): string {
  let out = '';
  for (const [connId, paths] of s.watches.byConnection('data')) {
    out += `${hex(s.conns.get(connId)?.sessionId ?? 0)}\n` + paths.map((p) => `\t${p}\n`).join('');
  }
  return out + '\n';
}

function wchp(s: ZkServer): string {
  let out = '';
  for (const [p, connIds] of s.watches.byPath('data')) {
    out += `${p}\n` + connIds.map((id) => `\t${hex(s.conns.get(id)?.sessionId ?? 0)}\n`).join('');
  }
  return out + '\n';
}

// ------------------------------------------------------------------ the words

/** ZooKeeper writes four-letter-word output through an 8 KiB buffer; each flush counts as one packet sent. */
const OUTPUT_CHUNK = 8192;

/**
 * Runs a (whitelisted) four-letter word and returns its text output. `conn` is the connection
 * the word arrived on (shown with interest ops 0 by cons/stat, and counted like ZooKeeper counts
 * it: one packet received, one sent per output chunk); `arg` holds the bytes that followed the
 * word in the same read (stmk's 8-byte mask).
 */
export function runFourLetterWord(s: ZkServer, word: string, conn?: Connection, arg?: Buffer): string {
  s.counters.packetsReceived++;
  if (conn !== undefined) conn.stats.packetsReceived++;
  const text = fourLetterText(s, word, conn, arg);
  const chunks = Math.ceil(text.length / OUTPUT_CHUNK);
  s.counters.packetsSent += chunks;
  if (conn !== undefined) conn.stats.packetsSent += chunks;
  return text;
}

function fourLetterText(s: ZkServer, word: string, conn: Connection | undefined, arg: Buffer | undefined): string {
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'srvr':
      return `Zookeeper version: ${versionLine()}\n` + srvrBody(s);
    case 'stat': {
      let out = `Zookeeper version: ${versionLine()}\nClients:\n`;
      for (const c of s.conns.values()) out += briefConnection(c, conn);
      return out + '\n' + srvrBody(s);
    }
    case 'conf':
      return confValues(s).map(([k, v]) => `${k}=${v}\n`).join('');
    case 'cons': {
      let out = '';
      for (const c of s.conns.values()) out += fullConnection(c, conn);
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
      return 'Environment:\n' + environment().map(([k, v]) => `${k}=${v}\n`).join('');
    case 'mntr':
      return monitorEntries(s)
        .map(([k, v, dbl]) => `zk_${k}\t${dbl && typeof v === 'number' ? javaDouble(v) : v}\n`)
        .join('');
    case 'wchs':
      return `${s.watches.connectionCount('data')} connections watching ${s.watches.pathCount('data')} paths\nTotal watches:${s.watches.watchCount('data')}\n`;
    case 'wchc':
      return wchc(s);
    case 'wchp':
      return wchp(s);
    case 'isro':
      return 'rw';
    case 'gtmk':
      return String(monitorStats(s).traceMask);
    case 'stmk': {
      // The mask must arrive with the word (ZooKeeper reads it once, without waiting); otherwise nothing is printed.
      if (arg === undefined || arg.length < 8) return '';
      const m = monitorStats(s);
      m.traceMask = arg.readBigInt64BE(0);
      return String(m.traceMask);
    }
    case 'hash':
      // ZooKeeper lists its periodic tree digests here; Kraal computes none.
      return '';
  }
  return '';
}

// ------------------------------------------------------------------ AdminServer

type Json = Record<string, unknown>;

function ok(command: string, o: Json): { status: number; body: Json } {
  return { status: 200, body: { ...o, command, error: null } };
}

function failure(command: string, error: string): { status: number; body: Json } {
  return { status: 200, body: { error, command } };
}

function serverStatsJson(s: ZkServer): Json {
  const c = s.counters;
  const l = latencyTriple(s);
  const noResponseStats = { last_buffer_size: -1, min_buffer_size: -1, max_buffer_size: -1 };
  return {
    version: versionLine(),
    read_only: false,
    server_stats: {
      packets_sent: c.packetsSent,
      packets_received: c.packetsReceived,
      fsync_threshold_exceed_count: 0,
      client_response_stats: noResponseStats,
      data_dir_size: dirSize(s.config.dataDir),
      log_dir_size: dirSize(s.config.dataLogDir),
      provider_null: false,
      server_state: 'standalone',
      last_processed_zxid: s.db.lastZxid,
      outstanding_requests: s.outstanding(),
      avg_latency: l.avg,
      max_latency: l.max,
      min_latency: l.min,
      num_alive_client_connections: s.conns.size,
      uptime: Date.now() - c.startedAt,
      auth_failed_count: 0,
      non_mtlsremote_conn_count: 0,
      non_mtlslocal_conn_count: 0,
    },
    client_response: noResponseStats,
    node_count: s.db.nodeCount(),
  };
}

/**
 * The AdminServer's JSON for a command name (or alias), as /commands/<name> returns it.
 * `params` are the query parameters (set_trace_mask reads traceMask).
 */
export function adminCommand(s: ZkServer, name: string, params?: URLSearchParams): { status: number; body: Json } {
  const cmd = ADMIN_ALIASES[name] ?? name;
  switch (cmd) {
    case 'ruok':
      return ok(cmd, {});
    case 'server_stats':
      return ok(cmd, serverStatsJson(s));
    case 'stats':
      return ok(cmd, {
        ...serverStatsJson(s),
        connections: [...s.conns.values()].map((c) => connectionJson(c, true)),
        secure_connections: [],
      });
    case 'monitor':
      return ok(cmd, Object.fromEntries(monitorValues(s)));
    case 'configuration': {
      const cfg = s.config;
      return ok(cmd, {
        client_port: clientPort(s),
        data_dir: cfg.dataDir,
        data_log_dir: cfg.dataLogDir,
        tick_time: cfg.tickTime,
        max_client_cnxns: cfg.maxClientCnxns,
        min_session_timeout: cfg.minSessionTimeout,
        max_session_timeout: cfg.maxSessionTimeout,
        server_id: cfg.serverId ?? 0,
        client_port_listen_backlog: -1,
      });
    }
    case 'initial_configuration':
      return ok(cmd, { initial_configuration: Object.entries(s.config.raw).map(([k, v]) => `${k}=${v}\n`).join('') });
    case 'connections':
      return ok(cmd, { connections: [...s.conns.values()].map((c) => connectionJson(c, false)), secure_connections: [] });
    case 'connection_stat_reset':
    case 'observer_connection_stat_reset':
      if (cmd === 'connection_stat_reset') resetConnectionStats(s);
      return ok(cmd, {});
    case 'stat_reset':
      resetServerStats(s);
      return ok(cmd, {});
    case 'dirs':
      return ok(cmd, { datadir_size: dirSize(s.config.dataDir), logdir_size: dirSize(s.config.dataLogDir) });
    case 'dump': {
      const expiry: Record<string, number[]> = {};
      for (const b of s.tracker.buckets()) expiry[String(b.time)] = b.ids;
      const eph: Record<string, string[]> = {};
      for (const x of sessionsWithEphemerals(s)) eph[String(x.sessionId)] = x.paths;
      return ok(cmd, { expiry_time_to_session_ids: expiry, session_id_to_ephemeral_paths: eph });
    }
    case 'environment':
      return ok(cmd, Object.fromEntries(environment()));
    case 'get_trace_mask':
      return ok(cmd, { tracemask: Number(monitorStats(s).traceMask) });
    case 'set_trace_mask': {
      const v = params?.get('traceMask');
      if (v === undefined || v === null) return failure(cmd, 'setTraceMask requires long traceMask argument');
      if (!/^-?\d+$/.test(v) || BigInt(v) > 2n ** 63n - 1n || BigInt(v) < -(2n ** 63n)) {
        return failure(cmd, `setTraceMask requires long traceMask argument, got ${v}`);
      }
      const m = monitorStats(s);
      m.traceMask = BigInt(v);
      return ok(cmd, { tracemask: Number(m.traceMask) });
    }
    case 'is_read_only':
      return ok(cmd, { read_only: false });
    case 'watches': {
      const m: Record<string, string[]> = {};
      for (const [connId, paths] of s.watches.byConnection('data')) m[String(s.conns.get(connId)?.sessionId ?? 0)] = paths;
      return ok(cmd, { session_id_to_watched_paths: m });
    }
    case 'watches_by_path': {
      const m: Record<string, number[]> = {};
      for (const [p, ids] of s.watches.byPath('data')) m[p] = ids.map((id) => s.conns.get(id)?.sessionId ?? 0);
      return ok(cmd, { path_to_session_ids: m });
    }
    case 'watch_summary':
      return ok(cmd, {
        num_connections: s.watches.connectionCount('data'),
        num_paths: s.watches.pathCount('data'),
        num_total_watches: s.watches.watchCount('data'),
      });
    case 'last_snapshot': {
      const snap = s.lastSnapshot;
      return ok(cmd, snap === undefined ? { zxid: 'ffffffffffffffff', timestamp: -1 } : { zxid: snap.zxid.toString(16), timestamp: Math.floor(snap.at / 1000) });
    }
    case 'zabstate':
      return ok(cmd, { voting: false, zabstate: '' });
    case 'hash':
      return ok(cmd, { digests: [] });
    case 'voting_view':
      return ok(cmd, { current_config: {} });
    case 'leader':
      // What a standalone ZooKeeper answers: there is no quorum peer.
      return failure(cmd, 'server is not initialized');
    case 'observers':
      return ok(cmd, { observers: [] });
  }
  return { status: 200, body: { command: name, error: `Unknown command: ${name}` } };
}

/** Command aliases, as ZooKeeper 3.8's AdminServer accepts them. */
export const ADMIN_ALIASES: Record<string, string> = {
  crst: 'connection_stat_reset',
  conf: 'configuration',
  config: 'configuration',
  cons: 'connections',
  env: 'environment',
  envi: 'environment',
  gtmk: 'get_trace_mask',
  icfg: 'initial_configuration',
  isro: 'is_read_only',
  lead: 'leader',
  lsnp: 'last_snapshot',
  mntr: 'monitor',
  obsr: 'observers',
  orst: 'observer_connection_stat_reset',
  stmk: 'set_trace_mask',
  srvr: 'server_stats',
  stat: 'stats',
  srst: 'stat_reset',
  wchc: 'watches',
  wchp: 'watches_by_path',
  wchs: 'watch_summary',
};

/**
 * The primary command names GET /commands lists, sorted as ZooKeeper lists them. ZooKeeper's
 * system_properties (the JVM's system properties) has no Kraal counterpart and is left out.
 */
export const ADMIN_COMMANDS = [
  'configuration', 'connection_stat_reset', 'connections', 'dirs', 'dump', 'environment', 'get_trace_mask', 'hash',
  'initial_configuration', 'is_read_only', 'last_snapshot', 'leader', 'monitor', 'observer_connection_stat_reset',
  'observers', 'ruok', 'server_stats', 'set_trace_mask', 'stat_reset', 'stats', 'voting_view', 'watch_summary',
  'watches', 'watches_by_path', 'zabstate',
];
