// Running `kraal server` as a real child process, for crash and restart tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fourLetter } from './raw-client.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const KRAAL_BIN = path.join(REPO_ROOT, 'bin', 'kraal.js');

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  output(): string;
  exited: Promise<number | null>;
}

/** Writes a zoo.cfg and starts `kraal server` on it; resolves once it answers ruok (or rejects if it exits). */
export async function spawnServer(
  dataDir: string,
  port: number,
  extra: Record<string, string | number> = {},
  args: string[] = [],
): Promise<ServerProcess> {
  const cfg = path.join(dataDir, '..', `zoo-${path.basename(dataDir)}.cfg`);
  const lines = {
    tickTime: 2000,
    dataDir,
    clientPort: port,
    clientPortAddress: '127.0.0.1',
    '4lw.commands.whitelist': '*',
    'admin.enableServer': 'false',
    maxClientCnxns: 0,
    ...extra,
  };
  writeFileSync(cfg, Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const child = spawn(process.execPath, [KRAAL_BIN, 'server', cfg, '--log-level', 'info', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = Date.now() + 20000;
  for (;;) {
    if (dead) throw Object.assign(new Error(`kraal exited during startup:\n${out}`), { output: out, code: await exited });
    try {
      if ((await fourLetter(port, 'ruok')) === 'imok') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`kraal did not start within 20 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port, output: () => out, exited };
}

/** Runs `kraal server` expecting it to refuse to start; resolves with its exit code and output. */
export async function spawnExpectingFailure(dataDir: string, port: number): Promise<{ code: number | null; output: string }> {
  try {
    const p = await spawnServer(dataDir, port);
    p.child.kill('SIGKILL');
    await p.exited;
    throw new Error('server started although it should have refused');
  } catch (e) {
    const err = e as { output?: string; code?: number | null };
    if (err.output === undefined) throw e;
    return { code: err.code ?? null, output: err.output };
  }
}
