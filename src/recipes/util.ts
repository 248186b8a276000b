// Shared pieces of the recipes: waiting for the session, retrying idempotent steps across a
// connection loss, "protected" sequential creates (the node name carries a random id so a create
// whose reply was lost can be found again), and sequence-number ordering.

import { randomUUID } from 'node:crypto';
import { CreateMode, Err } from '../jute/constants.js';
import type { ZooKeeperClient } from '../client/client.js';
import { ZooKeeperError } from '../client/errors.js';
import type { CreateModeCode, DataInput, WatchedEvent } from '../client/types.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once the client is connected; rejects if the session ended (expired/closed). */
export async function waitConnected(client: ZooKeeperClient): Promise<void> {
  if (client.isConnected) return;
  const s = await client.waitForState((st) => st === 'CONNECTED' || st === 'CONNECTED_READ_ONLY' || st === 'EXPIRED' || st === 'CLOSED' || st === 'AUTH_FAILED', 2 ** 31 - 1);
  if (s !== 'CONNECTED' && s !== 'CONNECTED_READ_ONLY') throw new ZooKeeperError(s === 'EXPIRED' ? Err.SessionExpired : Err.ConnectionLoss, 'session');
}

export function isConnectionLoss(e: unknown): boolean {
  return e instanceof ZooKeeperError && (e.code === Err.ConnectionLoss || e.code === Err.OperationTimeout);
}

export function codeOf(e: unknown): number | undefined {
  return e instanceof ZooKeeperError ? e.code : undefined;
}

/** Runs an idempotent step, repeating it after a connection loss once the session is back. */
export async function retry<T>(client: ZooKeeperClient, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!isConnectionLoss(e)) throw e;
      await waitConnected(client);
    }
  }
}

/** Sequence number of a sequential node name (its last 10 digits). */
export function sequenceOf(name: string): number {
  return Number(name.slice(-10));
}

export function sortBySequence(names: string[]): string[] {
  return names.slice().sort((a, b) => sequenceOf(a) - sequenceOf(b));
}

export function protectedPrefix(): string {
  return `_c_${randomUUID()}-`;
}

/**
 * Creates `dir/<protected id><name>NNNNNNNNNN` (ephemeral sequential by default), creating `dir`
 * when missing. After a ConnectionLoss the directory is searched for the id, so the node is
 * created exactly once even if the reply was lost.
 */
export async function createProtected(
  client: ZooKeeperClient,
  dir: string,
  name: string,
  data: DataInput = null,
  mode: CreateModeCode = CreateMode.EPHEMERAL_SEQUENTIAL,
): Promise<string> {
  const id = protectedPrefix();
  let maybeCreated = false;
  for (;;) {
    if (maybeCreated) {
      const children = await retry(client, () => client.getChildren(dir)).catch((e) => {
        if (codeOf(e) === Err.NoNode) return [] as string[];
        throw e;
      });
      const mine = children.find((c) => c.startsWith(id));
      if (mine !== undefined) return `${dir}/${mine}`;
    }
    try {
      return await client.create(`${dir}/${id}${name}`, data, { mode });
    } catch (e) {
      if (codeOf(e) === Err.NoNode) {
        await retry(client, () => client.mkdirp(dir));
        continue;
      }
      if (!isConnectionLoss(e)) throw e;
      maybeCreated = true;
      await waitConnected(client);
    }
  }
}

/** Deletes a node, ignoring NoNode and repeating after connection loss. */
export async function deleteQuietly(client: ZooKeeperClient, path: string, version = -1): Promise<void> {
  await retry(client, async () => {
    try {
      await client.delete(path, version);
    } catch (e) {
      if (codeOf(e) !== Err.NoNode) throw e;
    }
  });
}

/** A promise for a one-shot watch, plus its resolver for early wake-ups (timeouts, cancel). */
export function watchSignal(): { cb: (e: WatchedEvent) => void; fired: Promise<WatchedEvent | undefined>; wake: () => void } {
  let resolve!: (e: WatchedEvent | undefined) => void;
  const fired = new Promise<WatchedEvent | undefined>((r) => (resolve = r));
  return { cb: (e) => resolve(e), fired, wake: () => resolve(undefined) };
}

/** Rejects with the client's session end (expired/closed) as soon as it happens. */
export function sessionEnd(client: ZooKeeperClient): { promise: Promise<never>; dispose: () => void } {
  let reject!: (e: unknown) => void;
  const promise = new Promise<never>((_, r) => (reject = r));
  promise.catch(() => undefined);
  const on = (c: { state: string }) => {
    if (c.state === 'EXPIRED') reject(new ZooKeeperError(Err.SessionExpired, 'session'));
    else if (c.state === 'CLOSED' || c.state === 'AUTH_FAILED') reject(new ZooKeeperError(Err.ConnectionLoss, 'session'));
  };
  client.on('state', on);
  if (client.state === 'EXPIRED' || client.state === 'CLOSED' || client.state === 'AUTH_FAILED') on(client);
  return { promise, dispose: () => client.off('state', on) };
}
