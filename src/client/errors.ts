// Typed client errors: every failure carries the ZooKeeper code (and its name), the operation
// and the path it concerned (the caller's path, without any chroot).

import { Err, ErrName, OpName } from '../jute/constants.js';

export { Err as ErrorCode };

export type ErrorCodeName = keyof typeof Err;

/** Client-side code for requests made after close() (not a ZooKeeper code). */
export const CLOSED_CODE = -999;

/** An error from the server or from the client's session handling. */
export class ZooKeeperError extends Error {
  override name = 'ZooKeeperError';
  /** ZooKeeper's numeric code (KeeperException.Code), e.g. -101 for NoNode. */
  readonly code: number;
  /** The code's name, e.g. 'NoNode'. */
  readonly codeName: string;
  /** The operation that failed ('create', 'getData', ..., or 'connect'). */
  readonly op: string;
  /** The path of the request (without chroot) when it had one. */
  readonly path: string | undefined;
  /** For multi: the per-op results, the failing one carrying its code. */
  readonly results: readonly unknown[] | undefined;

  constructor(code: number, op: string, path?: string, results?: readonly unknown[]) {
    const codeName = code === CLOSED_CODE ? 'ClientClosed' : (ErrName[code] ?? `Error${code}`);
    super(path !== undefined ? `${codeName} (${code}) for ${op} ${path}` : `${codeName} (${code}) for ${op}`);
    this.code = code;
    this.codeName = codeName;
    this.op = op;
    this.path = path;
    this.results = results;
  }

  /** True for NoNode etc.: `err.is('NoNode')`. */
  is(name: ErrorCodeName): boolean {
    return this.code === Err[name];
  }
}


export function zkError(code: number, opCode: number | string, path?: string): ZooKeeperError {
  return new ZooKeeperError(code, typeof opCode === 'string' ? opCode : (OpName[opCode] ?? `op${opCode}`), path);
}

/** `isZkError(e, 'NoNode')`: a type guard usable in catch blocks. */
export function isZkError(e: unknown, name?: ErrorCodeName): e is ZooKeeperError {
  return e instanceof ZooKeeperError && (name === undefined || e.code === Err[name]);
}

/** Errors after which the outcome of a write is unknown and a retry may be attempted. */
export function isRetryable(e: unknown): boolean {
  return e instanceof ZooKeeperError && (e.code === Err.ConnectionLoss || e.code === Err.OperationTimeout);
}
