// Public types of the client API. Records (Stat, ACL, Id) are the jute definitions, re-exported.

import type { ACL, Id, Stat } from '../jute/records.js';
import { CreateMode, EventType, Perms } from '../jute/constants.js';
import type { ConnectionOptions } from 'node:tls';

export type { ACL, Id, Stat };
export { CreateMode, EventType, Perms };

export type CreateModeCode = (typeof CreateMode)[keyof typeof CreateMode];

/** Session / connection states. CONNECTING is used while (re)connecting. */
export type ConnectionState =
  | 'CONNECTING'
  | 'CONNECTED'
  | 'CONNECTED_READ_ONLY'
  | 'DISCONNECTED'
  | 'EXPIRED'
  | 'AUTH_FAILED'
  | 'CLOSED';

export interface StateChange {
  state: ConnectionState;
  /** The server (host:port) involved, when any. */
  server?: string;
  /** Session id (hex, 16 digits) at the time of the change. */
  sessionId: string;
}

/** A watch notification. `type` and `state` use ZooKeeper's numbers; the names are for reading. */
export interface WatchedEvent {
  type: number;
  typeName: EventTypeName;
  /** 'SyncConnected' for node events, else the connection state that ended the watch. */
  state: 'SyncConnected' | 'Disconnected' | 'Expired' | 'Closed' | 'AuthFailed';
  /** Path relative to the chroot; '' for session events. */
  path: string;
}

export type EventTypeName = keyof typeof EventType;

export type WatchCallback = (event: WatchedEvent) => void;

export interface ClientOptions {
  /** Requested session timeout in ms (the server clamps it to [2, 20] x tickTime). Default 30000. */
  sessionTimeout?: number;
  /**
   * How long the first connect() may take before it fails with ConnectionLoss. Default: sessionTimeout.
   */
  connectTimeout?: number;
  /** Accept read-only servers (sent in the ConnectRequest). Default false. */
  canBeReadOnly?: boolean;
  /** Maximum number of requests on the wire; further requests wait in the client. Default 1024. */
  maxOutstanding?: number;
  /**
   * How long a request issued (or still unsent) while disconnected waits for the session to be
   * re-attached before it fails with ConnectionLoss. Default: the negotiated session timeout.
   */
  disconnectedRequestTimeout?: number;
  /** Connect with TLS; `true` uses node's defaults. */
  tls?: boolean | ConnectionOptions;
  /** Resume an existing session (both must be given). */
  sessionId?: bigint;
  sessionPassword?: Buffer;
  /** Authentication sent on every (re)connection, like addAuth(). */
  auth?: { scheme: string; auth: string | Buffer }[];
  /** Randomize host order (default true). */
  shuffleHosts?: boolean;
}

export type DataInput = Buffer | Uint8Array | string | null;

export interface CreateOptions {
  /** CreateMode number (default PERSISTENT). */
  mode?: CreateModeCode;
  /** Default OPEN_ACL_UNSAFE. */
  acl?: ACL[];
  /** Required for the TTL modes, in ms. */
  ttl?: number;
}

export interface CreateResult {
  path: string;
  stat: Stat;
}

export interface DataResult {
  data: Buffer | null;
  stat: Stat;
}

export interface ChildrenResult {
  children: string[];
  stat: Stat;
}

export interface ACLResult {
  acl: ACL[];
  stat: Stat;
}

export interface ClientInfo {
  authScheme: string;
  user: string;
}

/** Operations of a multi transaction. */
export type MultiOp =
  | { type: 'create'; path: string; data?: DataInput; mode?: CreateModeCode; acl?: ACL[]; ttl?: number }
  | { type: 'delete'; path: string; version?: number }
  | { type: 'setData'; path: string; data: DataInput; version?: number }
  | { type: 'check'; path: string; version: number };

export type MultiResult =
  | { type: 'create'; path: string; stat?: Stat }
  | { type: 'delete' }
  | { type: 'setData'; stat: Stat }
  | { type: 'check' }
  | { type: 'error'; code: number; codeName: string };

export type MultiReadOp = { type: 'getData'; path: string } | { type: 'getChildren'; path: string };

export type MultiReadResult =
  | { type: 'getData'; data: Buffer | null; stat: Stat }
  | { type: 'getChildren'; children: string[] }
  | { type: 'error'; code: number; codeName: string };

export const OPEN_ACL_UNSAFE: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
export const CREATOR_ALL_ACL: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }];
export const READ_ACL_UNSAFE: ACL[] = [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }];

/** Which watches removeWatches() removes. */
export type WatcherKind = 'children' | 'data' | 'any' | 'persistent' | 'persistentRecursive';
