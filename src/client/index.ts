// Kraal's ZooKeeper client. See client.ts for the session semantics; in short:
//   const zk = await ZooKeeperClient.connect('h1:2181,h2:2181/app', { sessionTimeout: 10000 });
//   await zk.create('/a', 'x', { mode: CreateMode.EPHEMERAL });
//   const { data, changed } = await zk.watchData('/a');
//   for await (const ev of await zk.addWatch('/', 'recursive')) { ... }
//   for await (const s of zk.states()) { ... }
// Requests issued while disconnected WAIT (in order) for the session to be re-attached, for at most
// `disconnectedRequestTimeout` (default: the session timeout), then fail with ConnectionLoss;
// requests already on the wire when the connection drops fail with ConnectionLoss at once.

export { ZooKeeperClient, sessionIdHex } from './client.js';
export { ZooKeeperError, isZkError, isRetryable, ErrorCode, CLOSED_CODE, type ErrorCodeName } from './errors.js';
export { parseConnectString, type ConnectString, type HostPort } from './connect-string.js';
export { PersistentWatch } from './watches.js';
export * from './types.js';
