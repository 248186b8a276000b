// Starting throw-away Kraal servers for tests.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer, type StartOptions } from '../../src/server/start.js';

export function tempDir(prefix = 'kraal-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestServer extends RunningServer {
  dataDir: string;
  /** Stops the server and deletes its data. */
  destroy(): Promise<void>;
}

export async function startTestServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? tempDir();
  const s = await startServer({
    clientPort: 0,
    clientPortAddress: '127.0.0.1',
    dataDir,
    dataLogDir: opts.dataLogDir ?? dataDir,
    fourLetterWhitelist: '*',
    ...opts,
  });
  return {
    ...s,
    dataDir,
    async destroy() {
      await s.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
