// Shared helpers for differential tests: start/stop a real ZooKeeper 3.8 (Debian jar, started
// directly with java on 127.0.0.1) and Kraal (in-process from dist/src/index.js, or as a
// process via bin/kraal.js), free ports, four-letter words, wait-for-ruok.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Repository root (works from test/harness/*.ts and dist/test/harness/*.js). */
export const REPO_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'test'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('cannot locate repository root from ' + import.meta.url);
})();

export type TargetKind = 'zookeeper' | 'kraal';
export interface Target {
  host: string;
  port: number;
  kind: TargetKind;
  /** dataDir of the server (for dirs/conf checks) */
  dataDir: string;
  /** AdminServer HTTP port, when the server was started with one */
  adminPort?: number;
  stop(): Promise<void>;
}

export const ZK_JAR = '/usr/share/java/zookeeper.jar';
// servlet-api.jar: the jar's manifest pulls in Jetty but not the servlet API, without which the
// AdminServer (admin.enableServer=true) does not start ("Unable to load jetty"). Debian installs it
// with libjetty9-java, a dependency of libzookeeper-java.
export const ZK_CLASSPATH = [ZK_JAR, '/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar', '/usr/share/java/servlet-api.jar'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when nothing listens on 127.0.0.1:port and we can bind it. */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** First free port at or above base (scans up to 200 ports). */
export async function freePort(base = 22000): Promise<number> {
  for (let p = base; p < base + 200; p++) {
    if (await portIsFree(p)) return p;
  }
  throw new Error(`no free port in ${base}..${base + 199}`);
}

/** Send a four-letter word and read until the server closes the socket. */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect({ host, port });
    const t = setTimeout(() => { sock.destroy(); reject(new Error(`4lw ${word} timed out`)); }, timeoutMs);
    sock.on('connect', () => sock.write(word));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (e) => { clearTimeout(t); reject(e); });
    sock.on('close', () => { clearTimeout(t); resolve(Buffer.concat(chunks).toString('utf8')); });
  });
}

export async function waitForRuok(host: string, port: number, timeoutMs = 60000, isAlive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (isAlive && !isAlive()) throw new Error(`server on ${host}:${port} died while starting`);
    try {
      const r = await fourLetterWord(host, port, 'ruok', 2000);
      if (r === 'imok') {
        const s = await fourLetterWord(host, port, 'srvr', 2000);
        if (/^Mode: /m.test(s)) return;
        last = s;
      } else last = r;
    } catch (e) {
      last = String(e);
    }
    await sleep(150);
  }
  throw new Error(`timeout waiting for ruok on ${host}:${port} (last: ${last})`);
}

/** Poll an HTTP URL until it answers 200. */
export async function waitForHttp(url: string, timeoutMs = 30000, isAlive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (isAlive && !isAlive()) throw new Error(`server died while waiting for ${url}`);
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status === 200) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = String(e);
    }
    await sleep(150);
  }
  throw new Error(`timeout waiting for ${url} (last: ${last})`);
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => { clearTimeout(t); resolve(true); });
  });
}

export interface ZkOptions {
  /** extra zoo.cfg lines, e.g. { extendedTypesEnabled: 'true' } */
  cfg?: Record<string, string | number | boolean>;
  /** extra JVM system properties (-Dk=v), e.g. { 'znode.container.checkIntervalMs': 500 } */
  sysProps?: Record<string, string | number | boolean>;
  /** first port to try (default 22100) */
  portBase?: number;
  /** start the AdminServer (Jetty) on 127.0.0.1, on the first free port at or above this */
  adminPortBase?: number;
  heap?: string;
}

/** Default zoo.cfg extras used by the compat suite on both sides. */
export const DEFAULT_ZK_CFG: Record<string, string | number | boolean> = {
  tickTime: 2000,
  initLimit: 10,
  syncLimit: 5,
  maxClientCnxns: 0,
  'admin.enableServer': false,
  '4lw.commands.whitelist': '*',
  extendedTypesEnabled: true,
  'autopurge.purgeInterval': 0,
};

/** Start a real standalone ZooKeeper 3.8 on 127.0.0.1 with a temporary dataDir. */
export async function startZooKeeper(opts: ZkOptions = {}): Promise<Target> {
  if (!existsSync(ZK_JAR)) {
    throw new Error(`ZooKeeper jar ${ZK_JAR} is missing: apt-get install zookeeper`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kraal-compat-zk-'));
  const dataDir = path.join(dir, 'data');
  const port = await freePort(opts.portBase ?? 22100);
  const adminPort = opts.adminPortBase === undefined ? undefined : await freePort(opts.adminPortBase);
  if (adminPort === port) throw new Error(`adminPortBase ${opts.adminPortBase} overlaps the client port range`);
  const admin: Record<string, string | number | boolean> = adminPort === undefined ? {} : {
    'admin.enableServer': true, 'admin.serverAddress': '127.0.0.1', 'admin.serverPort': adminPort,
  };
  const cfg: Record<string, string | number | boolean> = {
    ...DEFAULT_ZK_CFG, ...(opts.cfg ?? {}), ...admin, dataDir, clientPort: port, clientPortAddress: '127.0.0.1',
  };
  writeFileSync(path.join(dir, 'zoo.cfg'), Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  writeFileSync(path.join(dir, 'log4j.properties'), [
    'log4j.rootLogger=INFO, F',
    'log4j.appender.F=org.apache.log4j.FileAppender',
    `log4j.appender.F.File=${path.join(dir, 'zookeeper.log')}`,
    'log4j.appender.F.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.F.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n',
    '',
  ].join('\n'));
  const sys: Record<string, string | number | boolean> = {
    'zookeeper.admin.enableServer': adminPort !== undefined,
    'zookeeper.jmx.log4j.disable': true,
    'zookeeper.log.dir': dir,
    'log4j.configuration': 'file:' + path.join(dir, 'log4j.properties'),
    ...(opts.sysProps ?? {}),
  };
  const args = [
    `-Xmx${opts.heap ?? '512m'}`, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
    ...Object.entries(sys).map(([k, v]) => `-D${k}=${v}`),
    '-cp', ZK_CLASSPATH.join(':'),
    'org.apache.zookeeper.server.quorum.QuorumPeerMain', path.join(dir, 'zoo.cfg'),
  ];
  const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; if (out.length > 20000) out = out.slice(-10000); });
  child.stderr!.on('data', (d) => { out += d; if (out.length > 20000) out = out.slice(-10000); });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (alive()) {
      child.kill('SIGTERM');
      if (!(await waitExit(child, 5000))) { child.kill('SIGKILL'); await waitExit(child, 5000); }
    }
    if (!process.env.KRAAL_COMPAT_KEEP) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForRuok('127.0.0.1', port, 60000, alive);
  } catch (e) {
    let log = '';
    try { log = readFileSync(path.join(dir, 'zookeeper.log'), 'utf8').slice(-3000); } catch { /* none */ }
    await stop();
    throw new Error(`ZooKeeper failed to start on port ${port}: ${(e as Error).message}\n${out}\n${log}`);
  }
  if (adminPort !== undefined) {
    try {
      await waitForHttp(`http://127.0.0.1:${adminPort}/commands/ruok`, 30000, alive);
    } catch (e) {
      await stop();
      throw new Error(`ZooKeeper's AdminServer did not answer on port ${adminPort}: ${(e as Error).message}`);
    }
  }
  return { host: '127.0.0.1', port, kind: 'zookeeper', dataDir, adminPort, stop };
}

export interface KraalOptions {
  /** ServerConfig keys (see src/server/config.ts); clientPort defaults to 0 (ephemeral) */
  config?: Record<string, unknown>;
  /** start the AdminServer on 127.0.0.1, on the first free port at or above this */
  adminPortBase?: number;
}

export const KRAAL_ENTRY = path.join(REPO_ROOT, 'dist', 'src', 'index.js');

/** Default Kraal config mirroring DEFAULT_ZK_CFG. */
export const DEFAULT_KRAAL_CONFIG: Record<string, unknown> = {
  tickTime: 2000,
  extendedTypesEnabled: true,
  fourLetterWhitelist: '*',
  maxClientCnxns: 0,
};

/** Start Kraal in-process. Throws (never skips) when Kraal is not built. */
export async function startKraal(opts: KraalOptions = {}): Promise<Target> {
  if (!existsSync(KRAAL_ENTRY)) {
    throw new Error(`Kraal is not built: ${KRAAL_ENTRY} is missing (run \`npx tsc -p .\` in ${REPO_ROOT}). ` +
      'The compat suite compares every scenario against Kraal and must fail without it.');
  }
  const mod = await import(pathToFileURL(KRAAL_ENTRY).href) as Record<string, unknown>;
  const startServer = mod.startServer as undefined | ((c: Record<string, unknown>) => Promise<{ host?: string; port: number; adminPort?: number; close(): Promise<void> }>);
  if (typeof startServer !== 'function') {
    throw new Error(`${KRAAL_ENTRY} does not export startServer(config)`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kraal-compat-kraal-'));
  const dataDir = path.join(dir, 'data');
  const admin = opts.adminPortBase === undefined ? {} : {
    adminEnableServer: true, adminServerAddress: '127.0.0.1', adminServerPort: await freePort(opts.adminPortBase),
  };
  const s = await startServer({
    ...DEFAULT_KRAAL_CONFIG, ...(opts.config ?? {}), ...admin, clientPort: 0, clientPortAddress: '127.0.0.1', dataDir,
  });
  const host = s.host && s.host !== '0.0.0.0' && s.host !== '::' ? s.host : '127.0.0.1';
  await waitForRuok(host, s.port, 15000);
  return {
    host, port: s.port, kind: 'kraal', dataDir, adminPort: s.adminPort,
    stop: async () => {
      await s.close();
      if (!process.env.KRAAL_COMPAT_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Start Kraal as a separate process (`node bin/kraal.js server zoo.cfg`). */
export async function startKraalProcess(cfgExtra: Record<string, string | number | boolean> = {}, portBase = 22600): Promise<Target> {
  const bin = path.join(REPO_ROOT, 'bin', 'kraal.js');
  if (!existsSync(bin)) throw new Error(`Kraal launcher ${bin} is missing`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kraal-compat-kraalp-'));
  const dataDir = path.join(dir, 'data');
  const port = await freePort(portBase);
  const cfg = { ...DEFAULT_ZK_CFG, ...cfgExtra, dataDir, clientPort: port, clientPortAddress: '127.0.0.1' };
  writeFileSync(path.join(dir, 'zoo.cfg'), Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const child = spawn(process.execPath, [bin, 'server', path.join(dir, 'zoo.cfg')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (alive()) {
      child.kill('SIGTERM');
      if (!(await waitExit(child, 5000))) { child.kill('SIGKILL'); await waitExit(child, 5000); }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForRuok('127.0.0.1', port, 20000, alive);
  } catch (e) {
    await stop();
    throw new Error(`Kraal process failed to start: ${(e as Error).message}\n${out.slice(-3000)}`);
  }
  return { host: '127.0.0.1', port, kind: 'kraal', dataDir, stop };
}
