// A Command is one entry of the replicated log: a client write (or a server-internal
// one such as a session expiry) exactly as it will be applied on every replica.
//
// We log commands rather than ZooKeeper's pre-computed txns: validation happens at
// apply time against the applied tree, so no "outstanding changes" overlay is
// needed, and every replica computes the same result because everything that is
// not in the tree travels in the command: the leader's clock, the caller's
// identities (for ACL checks) and the session password.

import { record, vector, type RecordOf } from '../jute/schema.js';
import { Id } from '../jute/records.js';

export const Command = record('Command', [
  ['zxid', 'long'],
  /** Leader wall clock (ms since epoch) when the command was proposed: ctime/mtime and TTL ages. */
  ['time', 'long'],
  ['sessionId', 'long'],
  /** The client's xid, echoed in the reply; 0 for server-internal commands. */
  ['cxid', 'int'],
  /** The opcode (Op.*); Op.createSession / Op.closeSession / Op.deleteContainer / Op.error for internal ones. */
  ['op', 'int'],
  /** The caller's authenticated identities when it sent the request (ip, digest, super, ...). */
  ['identities', vector(Id)],
  /** The request record exactly as the client encoded it (see OPS in jute/requests.ts). */
  ['body', 'buffer'],
] as const);
export type Command = RecordOf<typeof Command.fields>;

/** Body of Op.createSession commands. */
export const CreateSessionBody = record('CreateSessionBody', [
  ['timeOut', 'int'],
  ['passwd', 'buffer'],
] as const);
export type CreateSessionBody = RecordOf<typeof CreateSessionBody.fields>;

/**
 * Body of Op.error commands: a write that could not even be decoded still consumes
 * a zxid in ZooKeeper (e.g. a malformed multi), so it is logged as an error command.
 */
export const ErrorBody = record('ErrorBody', [['err', 'int']] as const);
export type ErrorBody = RecordOf<typeof ErrorBody.fields>;
