// Test support for the client suite: Kraal in-process, real ZooKeeper (standalone through the shared
// harness, or a 3-node ensemble started here), a client factory with cleanup, small wait helpers.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { ZooKeeperClient, type ClientOptions } from '../../src/client/index.js';
import { freePort, startZooKeeper, waitForRuok, ZK_CLASSPATH, type Target } from '../harness/servers.js';

export const TICK = 200; // min session timeout 400 ms on both servers

export interface Server {
  kind: 'kraal' | 'zookeeper';
  connect: string;
  port: number;
  stop(): Promise<void>;
}

export async function startKraalServer(extra: Record<string, unknown> = {}): Promise<Server & { running: RunningServer }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kraal-client-'));
  const s = await startServer({
    clientPort: 0, clientPortAddress: '127.0.0.1', dataDir: dir, tickTime: TICK, extendedTypesEnabled: true,
    fourLetterWhitelist: '*', maxClientCnxns: 0, ...extra,
  } as never);
  return {
    kind: 'kraal', connect: `127.0.0.1:${s.port}`, port: s.port, running: s,
    stop: async () => { await s.close(); rmSync(dir, { recursive: true, force: true }); },
  };
}

export async function startZkServer(portBase = 23300): Promise<Server> {
  const t: Target = await startZooKeeper({ portBase, cfg: { tickTime: TICK }, sysProps: { 'znode.container.checkIntervalMs': 1000 } });
  return { kind: 'zookeeper', connect: `${t.host}:${t.port}`, port: t.port, stop: () => t.stop() };
}

/** Runs `fn` against both servers (ZooKeeper first) and returns both results. */
export async function both<T>(servers: { zk: Server; kraal: Server }, fn: (s: Server) => Promise<T>): Promise<{ zk: T; kraal: T }> {
  const zk = await fn(servers.zk);
  const kraal = await fn(servers.kraal);
  return { zk, kraal };
}

/** A client factory that closes everything it made. */
export class Clients {
  private readonly all: ZooKeeperClient[] = [];
  async open(connect: string, opts: ClientOptions = {}): Promise<ZooKeeperClient> {
    const c = await ZooKeeperClient.connect(connect, { sessionTimeout: 4000, ...opts });
    this.all.push(c);
    return c;
  }
  async closeAll(): Promise<void> {
    await Promise.all(this.all.splice(0).map((c) => c.close().catch(() => undefined)));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function until(pred: () => boolean | Promise<boolean>, ms = 10000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Forces expiry of a client's session: no pings, no dead-connection detection, then wait. */
export async function expire(c: ZooKeeperClient, ms = 10000): Promise<void> {
  c.testHooks.suspendHeartbeat = true;
  await c.waitForState((s) => s === 'EXPIRED', ms);
}

// ------------------------------------------------------------------ 3-node ZooKeeper ensemble

export interface Ensemble {
  connect: string;
  ports: number[];
  /** Kill (SIGKILL) server i (0-based). */
  kill(i: number): Promise<void>;
  start(i: number): Promise<void>;
  stop(): Promise<void>;
  indexOfPort(port: number): number;
}

/** Starts a real 3-node ZooKeeper 3.8 ensemble on loopback (ports from 23400 up; quorum ports above). */
export async function startEnsemble(base = 23400): Promise<Ensemble> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kraal-client-ens-'));
  const ports: number[] = [];
  let p = base;
  for (let i = 0; i < 3; i++) { p = await freePort(p); ports.push(p); p++; }
  const quorum: [number, number][] = [];
  for (let i = 0; i < 3; i++) { const a = await freePort(p); const b = await freePort(a + 1); quorum.push([a, b]); p = b + 1; }
  const procs: (ChildProcess | undefined)[] = [undefined, undefined, undefined];
  const cfgPath = (i: number) => path.join(dir, `s${i + 1}`, 'zoo.cfg');
  writeFileSync(path.join(dir, 'log4j.properties'), 'log4j.rootLogger=WARN, F\nlog4j.appender.F=org.apache.log4j.FileAppender\n' +
    `log4j.appender.F.File=${dir}/zk.log\nlog4j.appender.F.layout=org.apache.log4j.PatternLayout\nlog4j.appender.F.layout.ConversionPattern=%d %p %m%n\n`);
  for (let i = 0; i < 3; i++) {
    const d = path.join(dir, `s${i + 1}`);
    mkdirSync(path.join(d, 'data'), { recursive: true });
    writeFileSync(path.join(d, 'data', 'myid'), `${i + 1}\n`);
    const lines = [
      `tickTime=${TICK}`, 'initLimit=20', 'syncLimit=10', `dataDir=${d}/data`, `clientPort=${ports[i]}`, 'clientPortAddress=127.0.0.1',
      'maxClientCnxns=0', 'admin.enableServer=false', '4lw.commands.whitelist=*', 'autopurge.purgeInterval=0', 'extendedTypesEnabled=true',
      ...quorum.map(([a, b], j) => `server.${j + 1}=127.0.0.1:${a}:${b}`),
    ];
    writeFileSync(cfgPath(i), lines.join('\n') + '\n');
  }
  const start = async (i: number) => {
    const child = spawn('java', [
      '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Dzookeeper.admin.enableServer=false', '-Dzookeeper.jmx.log4j.disable=true',
      `-Dlog4j.configuration=file:${dir}/log4j.properties`, '-cp', ZK_CLASSPATH.join(':'),
      'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgPath(i),
    ], { stdio: 'ignore' });
    procs[i] = child;
  };
  const kill = async (i: number) => {
    const c = procs[i];
    procs[i] = undefined;
    if (c && c.exitCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    }
  };
  for (let i = 0; i < 3; i++) await start(i);
  try {
    for (let i = 0; i < 3; i++) await waitForRuok('127.0.0.1', ports[i]!, 90000);
  } catch (e) {
    for (let i = 0; i < 3; i++) await kill(i);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    connect: ports.map((x) => `127.0.0.1:${x}`).join(','),
    ports,
    kill,
    start: async (i) => { await start(i); await waitForRuok('127.0.0.1', ports[i]!, 90000); },
    stop: async () => { for (let i = 0; i < 3; i++) await kill(i); rmSync(dir, { recursive: true, force: true }); },
    indexOfPort: (port) => ports.indexOf(port),
  };
}
