// The `kraal` executable.

import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { parseZooCfg, parseMyid, applyOverrides, defaultConfig, ConfigError, type ServerConfig } from '../server/config.js';
import { CorruptionError, repairTruncate } from '../storage/wal.js';
import { KRAAL_VERSION } from '../server/version.js';
import { registerShell } from '../shell/cli.js';

function loadConfig(file: string | undefined, flags: Record<string, string>): { config: ServerConfig; warnings: string[] } {
  if (file === undefined) {
    return { config: applyOverrides(defaultConfig({ dataDir: path.resolve('data') , dataLogDir: path.resolve('data') }), flags), warnings: [] };
  }
  if (!existsSync(file)) throw new ConfigError(`config file not found: ${file}`);
  const text = readFileSync(file, 'utf8');
  // Two passes: the first finds dataDir, whose myid file (ensembles) the second needs.
  const first = parseZooCfg(text, { baseDir: process.cwd() });
  const myidFile = path.join(first.config.dataDir, 'myid');
  const myid = existsSync(myidFile) ? parseMyid(readFileSync(myidFile, 'utf8')) : undefined;
  const parsed = myid === undefined ? first : parseZooCfg(text, { baseDir: process.cwd(), myid });
  return { config: applyOverrides(parsed.config, flags), warnings: parsed.warnings };
}

const program = new Command();
program.name('kraal').description('ZooKeeper-compatible coordination service').version(KRAAL_VERSION);

program
  .command('server')
  .description('run a server in the foreground (like zkServer.sh start-foreground)')
  .argument('[config]', 'zoo.cfg file')
  .option('-p, --port <port>', 'client port (overrides clientPort)')
  .option('-d, --data-dir <dir>', 'data directory (overrides dataDir and dataLogDir)')
  .option('--admin-port <port>', 'admin HTTP port (overrides admin.serverPort)')
  .option('-D, --set <key=value...>', 'override any zoo.cfg key', [])
  .option('--log-level <level>', 'trace|debug|info|warn|error', process.env.KRAAL_LOG_LEVEL ?? 'info')
  .action(async (file: string | undefined, opts: { port?: string; dataDir?: string; adminPort?: string; set: string[]; logLevel: string }) => {
    // Loaded here so that `kraal shell` does not carry the server (and the reverse, see shell/cli.ts).
    const [{ createLogger }, { runServer }] = await Promise.all([import('../server/logger.js'), import('../server/start.js')]);
    const log = createLogger(opts.logLevel);
    const flags: Record<string, string> = {};
    for (const kv of opts.set) {
      const i = kv.indexOf('=');
      if (i <= 0) throw new ConfigError(`-D expects key=value, got '${kv}'`);
      flags[kv.slice(0, i)] = kv.slice(i + 1);
    }
    if (opts.port !== undefined) flags.clientPort = opts.port;
    if (opts.dataDir !== undefined) {
      flags.dataDir = path.resolve(opts.dataDir);
      flags.dataLogDir = path.resolve(opts.dataDir);
    }
    if (opts.adminPort !== undefined) flags['admin.serverPort'] = opts.adminPort;
    const { config, warnings } = loadConfig(file, flags);
    for (const w of warnings) log.warn(w);
    const running = await runServer(config, log);
    running.server.onFatal = () => process.exit(2);
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal: sig }, 'shutting down');
      running.close().then(
        () => {
          log.flush?.();
          process.exit(0);
        },
        (err: Error) => {
          log.error({ err }, 'error during shutdown');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

program
  .command('repair')
  .description('repair a stopped server\'s transaction log after a corruption report')
  .requiredOption('--truncate <file@offset>', 'discard everything from this offset of this log segment on (and all later segments)')
  .action((opts: { truncate: string }) => {
    const at = opts.truncate.lastIndexOf('@');
    if (at <= 0) throw new ConfigError(`--truncate expects <file>@<offset>, got '${opts.truncate}'`);
    const file = opts.truncate.slice(0, at);
    const offset = Number(opts.truncate.slice(at + 1));
    const { truncated, removed } = repairTruncate(file, offset);
    if (truncated !== undefined) process.stdout.write(`truncated ${truncated} at offset ${offset}\n`);
    for (const r of removed) process.stdout.write(`removed ${r}\n`);
  });

registerShell(program);

program.parseAsync(process.argv).catch((err: Error) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`kraal: configuration error: ${err.message}\n`);
    process.exit(78);
  }
  if (err instanceof CorruptionError) {
    process.stderr.write(`kraal: refusing to start: ${err.message}\n`);
    process.exit(3);
  }
  process.stderr.write(`kraal: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
