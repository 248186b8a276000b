// zoo.cfg: parsing and validation (pure: text in, typed config out; the caller reads files).
//
// A zoo.cfg is a Java properties file, and ZooKeeper reads it with java.util.Properties, so we
// accept the same syntax: `key=value`, `key: value` or `key value`; `#` and `!` comments;
// backslash escapes and continuation lines; CRLF or LF line ends. Keys and values are trimmed.
// Later duplicates win (with a warning).
//
// Keys fall in four groups:
//   * implemented: typed and validated into ServerConfig; a bad value throws ConfigError naming
//     the line, the key, the value and what is expected;
//   * accepted: ZooKeeper settings whose absence of effect in Kraal is harmless (tuning knobs,
//     caches, JVM and quorum transport details); ignored without a warning;
//   * unsupported: ZooKeeper settings that change behaviour Kraal does not implement yet (TLS
//     listener, hierarchical quorums, mandatory auth...); ignored with a warning;
//   * unknown: a warning naming the key and line (ZooKeeper turns these into `zookeeper.<key>`
//     system properties, so they are not errors there either).
//
// Where ZooKeeper reads a setting as a JVM system property rather than from zoo.cfg
// (jute.maxbuffer, readonlymode.enabled, znode.container.*), Kraal still accepts it in zoo.cfg.

import * as path from 'node:path';

/** ServerConfig is the validated server configuration. Times are in ms unless noted. */
export interface ServerConfig {
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  dataDir: string;
  dataLogDir: string;
  clientPort: number;
  /** Listen address for clients; '' means all interfaces (IPv4 and IPv6), ZooKeeper's default. */
  clientPortAddress: string;
  /** Per-IP connection cap; 0 = unlimited. */
  maxClientCnxns: number;
  /** Total connection cap; 0 = unlimited. */
  maxCnxns: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  snapCount: number;
  autopurgeSnapRetainCount: number;
  /** Hours between purges; 0 = off. */
  autopurgePurgeInterval: number;
  /** Enabled four-letter words ('*' = all). Always contains 'srvr', and 'isro' in read-only mode. */
  fourLetterWhitelist: Set<string> | '*';
  adminEnableServer: boolean;
  adminServerAddress: string;
  adminServerPort: number;
  adminCommandUrl: string;
  extendedTypesEnabled: boolean;
  juteMaxBuffer: number;
  forceSync: boolean;
  /** Kraal: a lone writer's group commits of at most this many bytes are written inline (WalOptions.inlineSyncBytes, pipeline.ts); 0 = always async. */
  walInlineSyncBytes: number;
  globalOutstandingLimit: number;
  /** DigestAuthenticationProvider.superDigest, `super:<base64 sha1>`. */
  superDigest: string | undefined;
  skipACL: boolean;
  reconfigEnabled: boolean;
  standaloneEnabled: boolean;
  readonlyModeEnabled: boolean;
  containerCheckIntervalMs: number;
  containerMaxPerMinute: number;
  containerMaxNeverUsedIntervalMs: number;
  /**
   * Kraal's own: a separate Prometheus listener port. Unset, /metrics is served by the admin
   * server. Also taken from metricsProvider.httpPort when metricsProvider.className names
   * ZooKeeper's PrometheusMetricsProvider, so existing scrape configs keep working.
   */
  metricsPort: number | undefined;
  /** server.N=host:peerPort:electionPort[:participant|observer][;[clientAddr:]clientPort], sorted by id. */
  servers: ServerEntry[];
  /** This server's id (the myid file, passed in by the caller). */
  serverId: number | undefined;
  /** Every key as written (after trimming and unescaping), last value wins. */
  raw: Record<string, string>;
}

/** ServerEntry is one server.N line. */
export interface ServerEntry {
  id: number;
  host: string;
  peerPort: number;
  electionPort: number;
  role: 'participant' | 'observer';
  clientHost?: string;
  clientPort?: number;
}

/** ConfigError is a configuration the server must refuse to start with. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** The offending key, when one key is to blame. */
  readonly key: string | undefined;
  /** The offending value as written. */
  readonly value: string | undefined;
  /** The 1-based zoo.cfg line, when the error comes from the file. */
  readonly line: number | undefined;

  constructor(message: string, detail: { key?: string; value?: string; line?: number } = {}) {
    super(message);
    this.key = detail.key;
    this.value = detail.value;
    this.line = detail.line;
  }
}

const INT_MAX = 2147483647;
const DEFAULT_TICK_TIME = 2000;
/** ZooKeeper's code default when zoo.cfg has no tickTime (ZooKeeperServer.DEFAULT_TICK_TIME). */
const ZK_CODE_TICK_TIME = 3000;
const MIN_SNAP_RETAIN_COUNT = 3;
const MIN_SNAP_COUNT = 2;
const PROMETHEUS_PROVIDER = 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider';

/** FOUR_LETTER_WORDS are the words ZooKeeper 3.8 knows; '*' enables these. */
export const FOUR_LETTER_WORDS: readonly string[] = [
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'ruok', 'stmk', 'srst',
  'srvr', 'stat', 'wchc', 'wchp', 'wchs', 'mntr', 'isro', 'hash',
];

/**
 * defaultConfig returns ZooKeeper's defaults with `overrides` applied, deriving what ZooKeeper
 * derives: min/maxSessionTimeout = 2x/20x tickTime and dataLogDir = dataDir unless given.
 * It does not validate and does not choose a data directory (dataDir is '' unless given).
 */
export function defaultConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  const tickTime = overrides.tickTime ?? DEFAULT_TICK_TIME;
  const dataDir = overrides.dataDir ?? '';
  const cfg: ServerConfig = {
    tickTime,
    initLimit: 10,
    syncLimit: 5,
    dataDir,
    dataLogDir: dataDir,
    clientPort: 2181,
    clientPortAddress: '',
    maxClientCnxns: 60,
    maxCnxns: 0,
    minSessionTimeout: 2 * tickTime,
    maxSessionTimeout: 20 * tickTime,
    snapCount: 100000,
    autopurgeSnapRetainCount: 3,
    autopurgePurgeInterval: 0,
    fourLetterWhitelist: new Set(['srvr']),
    adminEnableServer: true,
    adminServerAddress: '0.0.0.0',
    adminServerPort: 8080,
    adminCommandUrl: '/commands',
    extendedTypesEnabled: false,
    juteMaxBuffer: 1048575,
    forceSync: true,
    walInlineSyncBytes: 4096,
    globalOutstandingLimit: 1000,
    superDigest: undefined,
    skipACL: false,
    reconfigEnabled: false,
    standaloneEnabled: true,
    readonlyModeEnabled: false,
    containerCheckIntervalMs: 60000,
    containerMaxPerMinute: 10000,
    containerMaxNeverUsedIntervalMs: 0,
    metricsPort: undefined,
    servers: [],
    serverId: undefined,
    raw: {},
  };
  Object.assign(cfg, overrides);
  if (overrides.dataLogDir === undefined) cfg.dataLogDir = cfg.dataDir;
  if (cfg.readonlyModeEnabled && cfg.fourLetterWhitelist !== '*') cfg.fourLetterWhitelist.add('isro');
  return cfg;
}

/**
 * parseZooCfg parses zoo.cfg text. Relative dataDir/dataLogDir are resolved against
 * opts.baseDir when given; opts.myid (the myid file) selects this server's server.N entry,
 * whose client address, if any, becomes clientPort/clientPortAddress. Throws ConfigError on a
 * bad value; unknown or unsupported keys only produce warnings.
 */
export function parseZooCfg(
  text: string,
  opts: { baseDir?: string; myid?: number } = {},
): { config: ServerConfig; warnings: string[] } {
  const b = new Builder(defaultConfig(), opts.baseDir);
  const firstLine = new Map<string, number>();
  for (const e of parseProperties(text)) {
    const prev = firstLine.get(e.key);
    if (prev !== undefined) b.warnings.push(`line ${e.line}: ${e.key} is set again (first on line ${prev}); the last value wins`);
    firstLine.set(e.key, e.line);
    b.set(e.key, e.value, { where: `line ${e.line}`, line: e.line }, 'warn');
  }
  if (!('tickTime' in b.cfg.raw)) {
    b.cfg.tickTime = ZK_CODE_TICK_TIME;
    b.warnings.push(`tickTime is not set; using ZooKeeper's built-in default of ${ZK_CODE_TICK_TIME} ms`);
  }
  if (opts.myid !== undefined) b.cfg.serverId = checkServerId(opts.myid, 'myid', String(opts.myid), 'myid');
  const raw = b.cfg.raw;
  b.finish(
    {
      minDerived: !('minSessionTimeout' in raw),
      maxDerived: !('maxSessionTimeout' in raw),
      dataLogDirDerived: !('dataLogDir' in raw),
      clientPortDerived: !('clientPort' in raw),
      clientPortForced: false,
      clientAddressForced: false,
    },
    true,
  );
  return { config: b.cfg, warnings: b.warnings };
}

/**
 * applyOverrides returns a copy of `cfg` with command-line flags applied. Flags use the zoo.cfg
 * key names and are validated the same way; an unknown flag is a ConfigError (there is no
 * warnings channel, and a mistyped flag should not pass silently). Values derived from
 * tickTime/dataDir follow an overridden tickTime/dataDir unless they were set explicitly.
 */
export function applyOverrides(
  cfg: ServerConfig,
  flags: Record<string, string>,
  opts: { baseDir?: string } = {},
): ServerConfig {
  const raw = cfg.raw;
  const derived = {
    minDerived: !('minSessionTimeout' in raw) && cfg.minSessionTimeout === 2 * cfg.tickTime,
    maxDerived: !('maxSessionTimeout' in raw) && cfg.maxSessionTimeout === 20 * cfg.tickTime,
    dataLogDirDerived: !('dataLogDir' in raw) && cfg.dataLogDir === cfg.dataDir,
    clientPortDerived: !('clientPort' in raw),
    clientPortForced: false,
    clientAddressForced: false,
  };
  const b = new Builder(structuredClone(cfg), opts.baseDir);
  for (const [rawKey, value] of Object.entries(flags)) {
    const key = rawKey.trim();
    b.set(key, String(value).trim(), { where: 'command-line override' }, 'throw');
    if (key === 'minSessionTimeout') derived.minDerived = b.cfg.minSessionTimeout === -1;
    if (key === 'maxSessionTimeout') derived.maxDerived = b.cfg.maxSessionTimeout === -1;
    if (key === 'dataLogDir') derived.dataLogDirDerived = false;
    if (key === 'clientPort') derived.clientPortForced = true;
    if (key === 'clientPortAddress') derived.clientAddressForced = true;
  }
  b.finish(derived, false);
  return b.cfg;
}

/** parseMyid reads the contents of a myid file (one line, the server id 1..255). */
export function parseMyid(text: string): number {
  const first = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/)[0]!.trim();
  if (!/^\d+$/.test(first)) {
    throw new ConfigError(`myid file: ${JSON.stringify(first)} is invalid: expected the server id, an integer from 1 to 255`, {
      key: 'myid',
      value: first,
    });
  }
  return checkServerId(Number(first), 'myid', first, 'myid file');
}

// ---------------------------------------------------------------------------------------------
// Properties syntax

interface Entry {
  key: string;
  value: string;
  line: number;
}

/** parseProperties splits java.util.Properties text into trimmed key/value entries. */
function parseProperties(text: string): Entry[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const out: Entry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const startLine = i + 1;
    let logical = lines[i]!.replace(/^[ \t\f]+/, '');
    if (logical === '' || logical[0] === '#' || logical[0] === '!') continue;
    // A line ending in an odd number of backslashes continues on the next one.
    while (endsWithOddBackslashes(logical) && i + 1 < lines.length) {
      i++;
      logical = logical.slice(0, -1) + lines[i]!.replace(/^[ \t\f]+/, '');
    }
    if (endsWithOddBackslashes(logical)) logical = logical.slice(0, -1);
    const { key, value } = splitKeyValue(logical);
    const k = unescape(key).trim();
    if (k === '') continue;
    out.push({ key: k, value: unescape(value).trim(), line: startLine });
  }
  return out;
}

function endsWithOddBackslashes(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

/** Splits at the first unescaped '=', ':' or whitespace, then skips one separator. */
function splitKeyValue(s: string): { key: string; value: string } {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
  }
  const key = s.slice(0, i);
  let j = i;
  while (j < s.length && (s[j] === ' ' || s[j] === '\t' || s[j] === '\f')) j++;
  if (j < s.length && (s[j] === '=' || s[j] === ':')) j++;
  return { key, value: s.slice(j) };
}

function unescape(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[++i]!;
    if (n === 't') out += '\t';
    else if (n === 'n') out += '\n';
    else if (n === 'r') out += '\r';
    else if (n === 'f') out += '\f';
    else if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 5), 16));
      i += 4;
    } else out += n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Value parsing

interface Ctx {
  key: string;
  value: string;
  /** 'line 7' or 'command-line override': where the value came from, for messages. */
  where: string;
  line?: number;
}

function fail(c: Ctx, expected: string): never {
  const detail: { key: string; value: string; line?: number } = { key: c.key, value: c.value };
  if (c.line !== undefined) detail.line = c.line;
  throw new ConfigError(`${c.where}: ${c.key}=${JSON.stringify(c.value)} is invalid: expected ${expected}`, detail);
}

/** An integer written in decimal (optionally signed) or 0x hex, within [min, max]. */
function int(c: Ctx, min: number, max: number, expected: string): number {
  const v = c.value;
  let n: number;
  if (/^[+-]?\d+$/.test(v)) n = Number(v);
  else if (/^0[xX][0-9a-fA-F]+$/.test(v)) n = parseInt(v.slice(2), 16);
  else fail(c, expected);
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(c, expected);
  return n;
}

function port(c: Ctx): number {
  return int(c, 1, 65535, 'a TCP port, an integer from 1 to 65535');
}

/** true/false, any case. */
function trueFalse(c: Ctx): boolean {
  const v = c.value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  return fail(c, 'true or false');
}

/** yes/no, any case (ZooKeeper reads skipACL and forceSync this way: `skipACL=true` does NOT skip ACLs there). */
function yesNo(c: Ctx): boolean {
  const v = c.value.toLowerCase();
  if (v === 'yes') return true;
  if (v === 'no') return false;
  return fail(c, "yes or no (ZooKeeper reads this key as yes/no, not true/false)");
}

function nonEmpty(c: Ctx, expected: string): string {
  if (c.value === '') fail(c, expected);
  return c.value;
}

function checkServerId(id: number, key: string, value: string, where: string): number {
  if (!Number.isInteger(id) || id < 1 || id > 255) {
    throw new ConfigError(`${where}: ${key}=${JSON.stringify(value)} is invalid: expected a server id, an integer from 1 to 255`, {
      key,
      value,
    });
  }
  return id;
}

/** Splits `host:a:b`, `[v6]:a:b` or `a` into parts (ZooKeeper's ConfigUtils.getHostAndPort). */
function hostAndPorts(s: string): string[] | undefined {
  if (!s.startsWith('[')) return s.split(':');
  const close = s.indexOf(']');
  if (close < 0) return undefined;
  const host = s.slice(1, close);
  const rest = s.slice(close + 1);
  if (rest === '') return [host];
  if (!rest.startsWith(':')) return undefined;
  return [host, ...rest.slice(1).split(':')];
}

const SERVER_FORMAT =
  'host:peerPort:electionPort[:participant|observer][;[clientAddress:]clientPort], e.g. server.1=10.0.0.1:2888:3888;2181';

function parseServer(c: Ctx, id: number): ServerEntry {
  const bad = (why: string): never => fail(c, `${SERVER_FORMAT} (${why})`);
  const halves = c.value.split(';');
  if (halves.length > 2) bad("more than one ';'");
  const serverPart = halves[0]!.trim();
  if (serverPart.includes('|')) bad('multiple addresses per server (multiAddress) are not supported');
  const parts = hostAndPorts(serverPart);
  if (parts === undefined || parts.length < 3 || parts.length > 4) bad('server part must have 3 or 4 fields');
  const [host, p1, p2, type] = parts!.map((p) => p.trim());
  if (!host) bad('empty host');
  const portOf = (v: string, what: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) bad(`${what} ${JSON.stringify(v)} is not a port 1..65535`);
    return Number(v);
  };
  const peerPort = portOf(p1!, 'peer port');
  const electionPort = portOf(p2!, 'election port');
  if (peerPort === electionPort) bad('peer and election ports must differ');
  let role: ServerEntry['role'] = 'participant';
  if (type !== undefined) {
    const t = type.toLowerCase();
    if (t !== 'participant' && t !== 'observer') bad(`role ${JSON.stringify(type)} is not participant or observer`);
    role = t as ServerEntry['role'];
  }
  const entry: ServerEntry = { id, host: host!, peerPort, electionPort, role };
  if (halves.length === 2) {
    const client = hostAndPorts(halves[1]!.trim());
    if (client === undefined || client.length > 2) bad('client part must be clientPort or clientAddress:clientPort');
    if (client!.length === 2) {
      if (!client![0]!.trim()) bad('empty client address');
      entry.clientHost = client![0]!.trim();
    }
    entry.clientPort = portOf(client![client!.length - 1]!.trim(), 'client port');
  }
  return entry;
}

// ---------------------------------------------------------------------------------------------
// Keys

interface Builderish {
  cfg: ServerConfig;
  warnings: string[];
}
type Handler = (c: Ctx, cfg: ServerConfig, b: Builderish) => void;

const POS_INT = 'a positive integer';
const NON_NEG_INT = 'an integer >= 0';

const HANDLERS: Readonly<Record<string, Handler>> = {
  tickTime: (c, cfg) => {
    cfg.tickTime = int(c, 1, INT_MAX, 'a positive number of milliseconds');
  },
  initLimit: (c, cfg) => {
    cfg.initLimit = int(c, 1, INT_MAX, `${POS_INT} (ticks)`);
  },
  syncLimit: (c, cfg) => {
    cfg.syncLimit = int(c, 1, INT_MAX, `${POS_INT} (ticks)`);
  },
  dataDir: (c, cfg) => {
    cfg.dataDir = nonEmpty(c, 'a directory path');
  },
  dataLogDir: (c, cfg) => {
    cfg.dataLogDir = nonEmpty(c, 'a directory path');
  },
  clientPort: (c, cfg) => {
    cfg.clientPort = port(c);
  },
  clientPortAddress: (c, cfg) => {
    cfg.clientPortAddress = nonEmpty(c, 'a host name or IP address');
  },
  maxClientCnxns: (c, cfg) => {
    cfg.maxClientCnxns = int(c, 0, INT_MAX, `${NON_NEG_INT} (0 = unlimited)`);
  },
  maxCnxns: (c, cfg) => {
    cfg.maxCnxns = int(c, 0, INT_MAX, `${NON_NEG_INT} (0 = unlimited)`);
  },
  minSessionTimeout: (c, cfg) => {
    cfg.minSessionTimeout = sessionTimeout(c);
  },
  maxSessionTimeout: (c, cfg) => {
    cfg.maxSessionTimeout = sessionTimeout(c);
  },
  snapCount: (c, cfg, b) => {
    const n = int(c, -INT_MAX, INT_MAX, 'an integer (transactions between snapshots)');
    if (n < MIN_SNAP_COUNT) b.warnings.push(`${c.where}: snapCount=${n} is below ${MIN_SNAP_COUNT}; using ${MIN_SNAP_COUNT}`);
    cfg.snapCount = Math.max(n, MIN_SNAP_COUNT);
  },
  'autopurge.snapRetainCount': (c, cfg, b) => {
    const n = int(c, -INT_MAX, INT_MAX, 'an integer (snapshots to keep, at least 3)');
    if (n < MIN_SNAP_RETAIN_COUNT) {
      b.warnings.push(`${c.where}: autopurge.snapRetainCount=${n} is below ${MIN_SNAP_RETAIN_COUNT}; using ${MIN_SNAP_RETAIN_COUNT}`);
    }
    cfg.autopurgeSnapRetainCount = Math.max(n, MIN_SNAP_RETAIN_COUNT);
  },
  'autopurge.purgeInterval': (c, cfg) => {
    // ZooKeeper schedules no purge for any value <= 0.
    cfg.autopurgePurgeInterval = Math.max(0, int(c, -INT_MAX, INT_MAX, 'an integer number of hours (0 = off)'));
  },
  '4lw.commands.whitelist': (c, cfg, b) => {
    cfg.fourLetterWhitelist = parseWhitelist(c, b);
  },
  'admin.enableServer': (c, cfg) => {
    cfg.adminEnableServer = trueFalse(c);
  },
  'admin.serverAddress': (c, cfg) => {
    cfg.adminServerAddress = nonEmpty(c, 'a host name or IP address');
  },
  'admin.serverPort': (c, cfg) => {
    cfg.adminServerPort = port(c);
  },
  'admin.commandURL': (c, cfg) => {
    if (!c.value.startsWith('/')) fail(c, "a URL path starting with '/', e.g. /commands");
    cfg.adminCommandUrl = c.value;
  },
  extendedTypesEnabled: (c, cfg) => {
    cfg.extendedTypesEnabled = trueFalse(c);
  },
  'jute.maxbuffer': (c, cfg) => {
    cfg.juteMaxBuffer = int(c, 1, INT_MAX, `${POS_INT} (bytes)`);
  },
  forceSync: (c, cfg) => {
    cfg.forceSync = yesNo(c);
  },
  'kraal.walInlineSyncBytes': (c, cfg) => {
    cfg.walInlineSyncBytes = int(c, 0, 1 << 20, 'an integer from 0 to 1048576 (bytes; 0 = off)');
  },
  globalOutstandingLimit: (c, cfg) => {
    cfg.globalOutstandingLimit = int(c, 1, INT_MAX, POS_INT);
  },
  'DigestAuthenticationProvider.superDigest': (c, cfg) => {
    if (!/^[^:]+:.+$/.test(c.value)) fail(c, 'user:base64(sha1(user:password)), e.g. super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
    cfg.superDigest = c.value;
  },
  skipACL: (c, cfg) => {
    cfg.skipACL = yesNo(c);
  },
  reconfigEnabled: (c, cfg) => {
    cfg.reconfigEnabled = trueFalse(c);
  },
  standaloneEnabled: (c, cfg) => {
    cfg.standaloneEnabled = trueFalse(c);
  },
  'readonlymode.enabled': (c, cfg) => {
    cfg.readonlyModeEnabled = trueFalse(c);
  },
  'znode.container.checkIntervalMs': (c, cfg) => {
    cfg.containerCheckIntervalMs = int(c, 1, INT_MAX, `${POS_INT} (milliseconds)`);
  },
  'znode.container.maxPerMinute': (c, cfg) => {
    cfg.containerMaxPerMinute = int(c, 1, INT_MAX, POS_INT);
  },
  'znode.container.maxNeverUsedIntervalMs': (c, cfg) => {
    cfg.containerMaxNeverUsedIntervalMs = int(c, 0, Number.MAX_SAFE_INTEGER, `${NON_NEG_INT} (milliseconds, 0 = never)`);
  },
  metricsPort: (c, cfg) => {
    cfg.metricsPort = port(c);
  },
  // Accepted and checked the way ZooKeeper checks them, otherwise without effect.
  electionAlg: (c) => {
    if (c.value !== '3') fail(c, '3 (the only election algorithm since ZooKeeper 3.6)');
  },
  peerType: (c) => {
    const v = c.value.toLowerCase();
    if (v !== 'participant' && v !== 'observer') fail(c, 'participant or observer');
  },
};

function sessionTimeout(c: Ctx): number {
  // -1 is ZooKeeper's "unset": derive from tickTime.
  if (c.value.trim() === '-1') return -1;
  return int(c, 1, INT_MAX, 'a positive number of milliseconds (or -1 for the tickTime-based default)');
}

function parseWhitelist(c: Ctx, b: Builderish): Set<string> | '*' {
  const words = c.value
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w !== '');
  if (words.includes('*')) return '*';
  const set = new Set<string>(['srvr']);
  for (const w of words) {
    if (!FOUR_LETTER_WORDS.includes(w)) b.warnings.push(`${c.where}: 4lw.commands.whitelist names unknown command ${JSON.stringify(w)}`);
    set.add(w);
  }
  return set;
}

/** ZooKeeper settings accepted and ignored silently: tuning, caches, JVM and quorum-transport details. */
const ACCEPTED_KEYS: ReadonlySet<string> = new Set([
  'preAllocSize', 'snapSizeLimitInKb', 'txnLogSizeLimitInKb', 'clientPortListenBacklog', 'quorumListenOnAllIPs',
  'admin.idleTimeout', 'admin.httpVersion', 'admin.portUnification', 'admin.forceHttps', 'admin.needClientAuth',
  'digest.enabled', 'audit.enable', 'audit.impl.class', 'localSessionsEnabled', 'localSessionsUpgradingEnabled',
  'maxResponseCacheSize', 'maxGetChildrenResponseCacheSize', 'cnxTimeout', 'quorumCnxnTimeoutMs', 'syncEnabled',
  'connectToLearnerMasterLimit', 'observerMasterPort', 'quorum.cnxn.threads.size', 'oraclePath', 'serverCnxnFactory',
  'clientTcpKeepAlive', 'tcpKeepAlive', 'requestThrottleLimit', 'requestThrottleStallTime', 'requestThrottleDropStale',
  'requestStaleLatencyCheck', 'requestStaleConnectionCheck', 'request_throttle_max_requests',
  'request_throttle_stall_time', 'request_throttle_drop_stale', 'request_stale_latency_check',
  'request_stale_connection_check', 'largeRequestMaxBytes', 'largeRequestThreshold', 'throttledOpWaitTime',
  'throttled_op_wait_time', 'jute.maxbuffer.extrasize', 'emulate353TTLNodes', 'commitLogCount', 'flushDelay',
  'maxWriteQueuePollTime', 'maxBatchSize', 'fsync.warningthresholdms', 'snapshotSizeFactor',
  'snapshot.compression.method', 'snapshot.trust.empty', 'closeSessionTxn.enabled', 'watchManagerName',
  'watcherCleanIntervalInSeconds', 'watcherCleanThreadsNum', 'watcherCleanThreshold', 'maxInProcessingDeadWatchers',
  'bitHashCacheSize', 'intBufferStartingSizeBytes', 'datadir.autocreate', 'db.autocreate', 'forceSnapshotSync',
  'leaderServes', 'electionPortBindRetry', 'enableEagerACLCheck', 'messageTracker.BufferSize',
  'messageTracker.Enabled', 'jmx.log4j.disable', 'observer.syncEnabled', 'minClientCnxns',
]);

/** Prefixes of accepted-and-ignored key families. */
const ACCEPTED_PREFIXES: readonly string[] = [
  'metricsProvider.', 'jvm.pause.', 'multiAddress.', 'nio.', 'netty.', 'pathStats.', 'connection_throttle_',
  'fastleader.', 'leader.', 'learner.', 'follower.', 'observer.', 'observerMaster.', 'commitProcessor.',
  'request_throttler.', 'ssl.',
];

/** ZooKeeper settings that change behaviour Kraal does not implement yet: accepted with a warning. */
const UNSUPPORTED_KEYS: ReadonlySet<string> = new Set([
  'secureClientPort', 'secureClientPortAddress', 'dynamicConfigFile', 'sessionRequireClientSASLAuth',
  'enforce.auth.enabled', 'enforce.auth.schemes', 'enforceQuota', 'sslQuorum', 'sslQuorumReloadCertFiles',
  'portUnification', 'client.portUnification', 'DigestAuthenticationProvider.enabled',
  'DigestAuthenticationProvider.digestAlg', 'superUser', 'SASLAuthenticationProvider.superPassword',
  'X509AuthenticationProvider.superUser', 'allowSaslFailedClients',
]);
const UNSUPPORTED_PREFIXES: readonly string[] = ['group.', 'weight.', 'authProvider.', 'quorum.auth.', 'kerberos.'];

type KeyKind = 'implemented' | 'server' | 'accepted' | 'unsupported' | 'unknown';

function classify(key: string): KeyKind {
  if (Object.prototype.hasOwnProperty.call(HANDLERS, key)) return 'implemented';
  if (key.startsWith('server.')) return 'server';
  if (ACCEPTED_KEYS.has(key) || ACCEPTED_PREFIXES.some((p) => key.startsWith(p))) return 'accepted';
  if (UNSUPPORTED_KEYS.has(key) || UNSUPPORTED_PREFIXES.some((p) => key.startsWith(p))) return 'unsupported';
  return 'unknown';
}

/** Known key spelled with another case, for "did you mean". */
function suggest(key: string): string | undefined {
  const lower = key.toLowerCase();
  const known = [...Object.keys(HANDLERS), ...ACCEPTED_KEYS, ...UNSUPPORTED_KEYS];
  return known.find((k) => k.toLowerCase() === lower);
}

// ---------------------------------------------------------------------------------------------
// Builder: applies keys to a config, then derives and cross-checks.

interface Derived {
  minDerived: boolean;
  maxDerived: boolean;
  dataLogDirDerived: boolean;
  clientPortDerived: boolean;
  /** A command-line clientPort / clientPortAddress wins over this server's server.N line. */
  clientPortForced: boolean;
  clientAddressForced: boolean;
}

class Builder implements Builderish {
  readonly warnings: string[] = [];

  constructor(
    readonly cfg: ServerConfig,
    readonly baseDir: string | undefined,
  ) {}

  /** set applies one key. Unknown keys warn ('warn', zoo.cfg) or throw ('throw', flags). */
  set(key: string, value: string, where: { where: string; line?: number }, onUnknown: 'warn' | 'throw'): void {
    const c: Ctx = { key, value, ...where };
    const kind = classify(key);
    if (kind === 'unknown' || (kind === 'unsupported' && onUnknown === 'throw')) {
      const hint = suggest(key);
      const msg =
        kind === 'unknown'
          ? `${c.where}: unknown key ${JSON.stringify(key)}${hint ? ` (did you mean ${hint}?)` : ''}; ignored`
          : `${c.where}: ${key} is a ZooKeeper setting Kraal does not implement yet`;
      if (onUnknown === 'throw') throw new ConfigError(msg, { key, value });
      this.warnings.push(msg);
      this.cfg.raw[key] = value;
      return;
    }
    if (kind === 'unsupported') {
      this.warnings.push(`${c.where}: ${key} is a ZooKeeper setting Kraal does not implement yet; ignored`);
    } else if (kind === 'server') {
      this.#setServer(c);
    } else if (kind === 'implemented') {
      HANDLERS[key]!(c, this.cfg, this);
    }
    this.cfg.raw[key] = value;
  }

  #setServer(c: Ctx): void {
    const idText = c.key.slice('server.'.length);
    if (!/^\d+$/.test(idText) || Number(idText) < 1 || Number(idText) > 255) {
      throw new ConfigError(`${c.where}: ${c.key} is invalid: the server id after 'server.' must be an integer from 1 to 255`, {
        key: c.key,
        value: c.value,
        ...(c.line !== undefined ? { line: c.line } : {}),
      });
    }
    const entry = parseServer(c, Number(idText));
    const servers = this.cfg.servers.filter((s) => s.id !== entry.id);
    servers.push(entry);
    servers.sort((a, b) => a.id - b.id);
    this.cfg.servers = servers;
  }

  /**
   * finish derives defaults and checks relations between keys. `d` says which values were not
   * set explicitly (and so follow tickTime, dataDir or this server's server.N line);
   * `requireClientPort` is true for a parsed file, which must name a client port somewhere.
   */
  finish(d: Derived, requireClientPort: boolean): void {
    const cfg = this.cfg;
    if (cfg.dataDir === '') {
      throw new ConfigError('dataDir is not set: zoo.cfg must name the directory for snapshots, e.g. dataDir=/var/lib/kraal', {
        key: 'dataDir',
      });
    }
    if (this.baseDir !== undefined) cfg.dataDir = path.resolve(this.baseDir, cfg.dataDir);
    if (d.dataLogDirDerived) cfg.dataLogDir = cfg.dataDir;
    else if (this.baseDir !== undefined) cfg.dataLogDir = path.resolve(this.baseDir, cfg.dataLogDir);
    if (d.minDerived || cfg.minSessionTimeout === -1) cfg.minSessionTimeout = 2 * cfg.tickTime;
    if (d.maxDerived || cfg.maxSessionTimeout === -1) cfg.maxSessionTimeout = 20 * cfg.tickTime;
    if (cfg.minSessionTimeout > cfg.maxSessionTimeout) {
      throw new ConfigError(
        `minSessionTimeout (${cfg.minSessionTimeout}) is larger than maxSessionTimeout (${cfg.maxSessionTimeout}): ` +
          'expected minSessionTimeout <= maxSessionTimeout (defaults: 2x and 20x tickTime)',
        { key: 'minSessionTimeout', value: String(cfg.minSessionTimeout) },
      );
    }
    this.#finishServers(d, requireClientPort);
    if (cfg.readonlyModeEnabled && cfg.fourLetterWhitelist !== '*') cfg.fourLetterWhitelist.add('isro');
    this.#finishMetricsPort();
  }

  #finishServers(d: Derived, requireClientPort: boolean): void {
    const cfg = this.cfg;
    const id = cfg.serverId;
    if (id !== undefined && cfg.extendedTypesEnabled && id > 254) {
      throw new ConfigError(`myid ${id} is invalid with extendedTypesEnabled=true: expected a server id from 1 to 254`, {
        key: 'myid',
        value: String(id),
      });
    }
    const me = id === undefined ? undefined : cfg.servers.find((s) => s.id === id);
    if (id !== undefined && cfg.servers.length > 0 && me === undefined) {
      throw new ConfigError(
        `myid ${id} has no server.${id} entry: expected one of ${cfg.servers.map((s) => `server.${s.id}`).join(', ')}`,
        { key: 'myid', value: String(id) },
      );
    }
    if (me?.clientPort !== undefined) {
      if (d.clientPortForced) return;
      if (!d.clientPortDerived && cfg.clientPort !== me.clientPort) {
        throw new ConfigError(
          `clientPort=${cfg.clientPort} disagrees with server.${me.id}, whose client port is ${me.clientPort}: ` +
            'expected the same port, or only one of them',
          { key: 'clientPort', value: String(cfg.clientPort) },
        );
      }
      cfg.clientPort = me.clientPort;
      if (me.clientHost !== undefined && !d.clientAddressForced) this.#takeClientHost(me);
      return;
    }
    if (!requireClientPort || !d.clientPortDerived) return;
    if (id === undefined && cfg.servers.some((s) => s.clientPort !== undefined)) {
      // The port is on this server's server.N line, which needs myid to pick.
      cfg.clientPort = 0;
      this.warnings.push('clientPort is not set and server.N lines carry client ports: pass myid to pick this server\'s port');
      return;
    }
    throw new ConfigError(
      "clientPort is not set: expected clientPort=<port> (ZooKeeper's usual port is 2181) or a ;clientPort on this server's server.N line",
      { key: 'clientPort' },
    );
  }

  #takeClientHost(me: ServerEntry): void {
    const explicit = this.cfg.raw['clientPortAddress'];
    const wildcard = explicit === undefined || explicit === '0.0.0.0' || explicit === '::';
    if (!wildcard && explicit !== me.clientHost) {
      throw new ConfigError(
        `clientPortAddress=${explicit} disagrees with server.${me.id}, whose client address is ${me.clientHost}: ` +
          'expected the same address, or only one of them',
        { key: 'clientPortAddress', value: explicit },
      );
    }
    this.cfg.clientPortAddress = me.clientHost!;
  }

  #finishMetricsPort(): void {
    const cfg = this.cfg;
    if ('metricsPort' in cfg.raw) return;
    if (cfg.raw['metricsProvider.className'] !== PROMETHEUS_PROVIDER) return;
    const httpPort = cfg.raw['metricsProvider.httpPort'] ?? '7000';
    cfg.metricsPort = port({ key: 'metricsProvider.httpPort', value: httpPort, where: 'zoo.cfg' });
  }
}
