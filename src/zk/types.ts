// Contracts between the ZooKeeper state machine (pure) and the server around it.

import type { EventTypeCode } from '../jute/constants.js';
import type { ACL, Id } from '../jute/records.js';

/** An authenticated identity of a connection: ('ip','127.0.0.1'), ('digest','bob:HASH'), ('super',''). */
export type Identity = Id;

/**
 * A change that may fire watches, produced by applying a command.
 * `acl` is the ACL of the node whose READ permission gates delivery (the changed
 * node, or the parent for NodeChildrenChanged), per ZooKeeper 3.8.4+.
 */
export interface Trigger {
  path: string;
  type: EventTypeCode;
  acl: readonly ACL[];
}

/** Outcome of applying one command. */
export interface ApplyResult {
  /** 0 or a ZooKeeper error code for the reply header. */
  err: number;
  /** The reply record (per OPS[op].response) when err === 0. */
  response?: unknown;
  /** Watch triggers in the order ZooKeeper fires them. */
  triggers: Trigger[];
}

/** The kind of watch a successful read asks the server to register. */
export type WatchKind = 'data' | 'exist' | 'child';

export interface ReadResult {
  err: number;
  response?: unknown;
  /** Set when the request had watch=true and ZooKeeper would register a watch (exists registers even on NoNode). */
  watch?: { path: string; kind: WatchKind };
  /** multiRead: one registration per sub-op that asked for it. */
  watches?: { path: string; kind: WatchKind }[];
}

/** A replicated session as the state machine knows it. */
export interface SessionInfo {
  sessionId: number;
  timeout: number;
  passwd: Buffer;
  ephemerals: Set<string>;
}
