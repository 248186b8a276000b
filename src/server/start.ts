// Starting a server: from code (embedded, for tests of other projects) or from the CLI.

import type http from 'node:http';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, defaultConfig, type ServerConfig } from './config.js';
import { ZkServer } from './zk-server.js';
import { startAdminServer } from './admin-http.js';
import { silentLogger } from './logger.js';

export interface StartOptions extends Partial<ServerConfig> {
  /** Where logs go; silent by default for embedded use. */
  logger?: Logger;
}

export interface RunningServer {
  host: string;
  port: number;
  /** Admin HTTP port when admin.enableServer is on. */
  adminPort: number | undefined;
  server: ZkServer;
  close(): Promise<void>;
}

/**
 * Starts a Kraal server in this process and resolves once it accepts clients.
 * `clientPort: 0` picks a free port. Embedded servers default to no admin server.
 */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const { logger, ...overrides } = options;
  // Embedded use: no admin HTTP server unless asked, and a private temp data directory unless given.
  const dataDir = overrides.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'kraal-'));
  const config = defaultConfig({ adminEnableServer: false, ...overrides, dataDir, dataLogDir: overrides.dataLogDir ?? dataDir });
  return runServer(config, logger ?? silentLogger());
}

/** Starts a server for a fully resolved configuration. */
export async function runServer(config: ServerConfig, log: Logger): Promise<RunningServer> {
  // Several servers listed: the operator means an ensemble. Running each one standalone would give
  // independent trees that clients take for one, so refuse until replication is wired in (#5).
  // A single server.N line is standalone, as in ZooKeeper with standaloneEnabled=true.
  if (config.servers.length > 1) {
    throw new ConfigError(
      `${config.servers.length} servers are configured (${config.servers.map((s) => `server.${s.id}`).join(', ')}), but this Kraal version runs standalone only: ` +
        'remove the server.N lines (or keep only this server\'s) to run one server',
      { key: `server.${config.servers[0]!.id}` },
    );
  }
  const server = new ZkServer(config, log);
  await server.recover();
  const addr = await server.listen();
  let admin: http.Server | undefined;
  let adminPort: number | undefined;
  if (config.adminEnableServer) {
    try {
      admin = await startAdminServer(server, config.adminServerAddress, config.adminServerPort, config.adminCommandUrl);
      const a = admin.address();
      adminPort = typeof a === 'object' && a !== null ? a.port : undefined;
      log.info({ port: adminPort }, 'admin server listening');
    } catch (err) {
      await server.close();
      throw err;
    }
  }
  let closed: Promise<void> | undefined;
  return {
    host: addr.host,
    port: addr.port,
    adminPort,
    server,
    close(): Promise<void> {
      closed ??= (async () => {
        if (admin !== undefined) {
          admin.closeAllConnections();
          await new Promise<void>((r) => admin!.close(() => r()));
        }
        await server.close();
      })();
      return closed;
    },
  };
}
