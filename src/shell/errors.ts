// Failures of shell commands and the exit status each kind maps to. zkCli itself exits 0 after
// most failures; `kraal shell` exits non-zero so that scripts can tell (see README "Shell").

import { CLOSED_CODE, ZooKeeperError } from '../client/errors.js';
import { wrapperMessage } from './format.js';

export const EXIT = {
  OK: 0,
  /** The server refused the operation (no node, bad version, no permission, ...). */
  FAILED: 1,
  /** Bad options or arguments, malformed path: the usage line or parse error is printed. */
  USAGE: 2,
  /** No session: could not connect, or the session was closed or expired. */
  NOT_CONNECTED: 3,
  /** No such command (zkCli's CommandNotFoundException code). */
  NOT_FOUND: 127,
} as const;

/** A failed command: `message` goes to stderr, `status` is the exit status. */
export class ShellError extends Error {
  override name = 'ShellError';
  constructor(message: string, readonly status: number = EXIT.FAILED) {
    super(message);
  }
}

export const usageError = (message: string) => new ShellError(message, EXIT.USAGE);
export const notConnected = () => new ShellError('Not connected', EXIT.NOT_CONNECTED);

/** Wraps whatever an operation threw as zkCli would report it. */
export function fromOperation(e: unknown, pathOverride?: string | null): ShellError {
  if (e instanceof ShellError) return e;
  if (e instanceof ZooKeeperError) {
    if (e.code === CLOSED_CODE) return notConnected();
    const path = pathOverride !== undefined ? pathOverride : e.path;
    return new ShellError(wrapperMessage(e.code, path), e.is('ConnectionLoss') || e.is('SessionExpired') ? EXIT.NOT_CONNECTED : EXIT.FAILED);
  }
  return new ShellError(e instanceof Error ? e.message : String(e));
}
