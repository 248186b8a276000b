// Helpers for the ZkDatabase unit tests: build Commands the way the server does
// (request bodies encoded with the real codecs, the whole Command round-tripped
// through its own codec so `body` is a view into a larger buffer, as after a WAL read).

import { Op } from '../../src/jute/constants.js';
import {
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  PathRequest,
  SetACLRequest,
  SetDataRequest,
  type ACL,
} from '../../src/jute/records.js';
import { MultiWriteRequest, type MultiOp } from '../../src/jute/requests.js';
import { decodeFromBuffer, encodeToBuffer, type Codec } from '../../src/jute/schema.js';
import { OPEN_ACL_UNSAFE } from '../../src/zk/acl.js';
import { Command, CreateSessionBody, ErrorBody } from '../../src/zk/command.js';
import { ZkDatabase, type ZkDatabaseOptions } from '../../src/zk/database.js';
import type { ApplyResult, Identity, ReadResult } from '../../src/zk/types.js';

export const T0 = 1_700_000_000_000;
export const SID = 0x1000;
export const IP: Identity = { scheme: 'ip', id: '127.0.0.1' };

export interface CmdOpts {
  sessionId?: number;
  ids?: readonly Identity[];
  time?: number;
}

export interface CreateOpts extends CmdOpts {
  flags?: number;
  acl?: readonly ACL[];
  op?: number;
  ttl?: number;
}

export function enc<T>(codec: Codec<T>, v: T): Buffer {
  return encodeToBuffer(codec, v);
}

export function createReq(path: string, data: Buffer | null = null, o: CreateOpts = {}): { op: number; req: any } {
  const op = o.op ?? Op.create;
  const base = { path, data, acl: [...(o.acl ?? OPEN_ACL_UNSAFE)], flags: o.flags ?? 0 };
  return { op, req: op === Op.createTTL ? { ...base, ttl: o.ttl ?? -1 } : base };
}

/** The snapshot bytes without lastZxid: equal iff the logical state is equal. */
export function stateBytes(db: ZkDatabase): Buffer {
  const b = Buffer.concat(db.serialize());
  b.fill(0, 12, 20); // header: magic(8) version(4) lastZxid(8)
  return b;
}

/** Drives one ZkDatabase with consecutive zxids and a clock that advances 1 ms per command. */
export class Harness {
  db: ZkDatabase;
  zxid = 0;
  time = T0;

  constructor(opts?: ZkDatabaseOptions, withSession = true) {
    this.db = new ZkDatabase(opts);
    if (withSession) this.session(SID);
  }

  /** A Command as it comes out of the log: encoded, then decoded (body is a view into the record). */
  command(op: number, body: Buffer | null, o: CmdOpts = {}): Command {
    this.zxid++;
    this.time = o.time ?? this.time + 1;
    const cmd: Command = { zxid: this.zxid, time: this.time, sessionId: o.sessionId ?? SID, cxid: 7, op, identities: [...(o.ids ?? [IP])], body };
    return decodeFromBuffer(Command, encodeToBuffer(Command, cmd));
  }

  run(op: number, body: Buffer | null, o: CmdOpts = {}): ApplyResult {
    return this.db.apply(this.command(op, body, o));
  }

  session(id: number, timeout = 30000, passwd = Buffer.alloc(16, id & 0xff)): ApplyResult {
    return this.run(Op.createSession, enc(CreateSessionBody, { timeOut: timeout, passwd }), { sessionId: id });
  }

  closeSession(id: number): ApplyResult {
    return this.run(Op.closeSession, Buffer.alloc(0), { sessionId: id });
  }

  error(code: number): ApplyResult {
    return this.run(Op.error, enc(ErrorBody, { err: code }));
  }

  create(path: string, data: Buffer | string | null = null, o: CreateOpts = {}): ApplyResult {
    const d = typeof data === 'string' ? Buffer.from(data) : data;
    const { op, req } = createReq(path, d, o);
    return this.run(op, enc(op === Op.createTTL ? CreateTTLRequest : CreateRequest, req), o);
  }

  delete(path: string, version = -1, o: CmdOpts = {}): ApplyResult {
    return this.run(Op.delete, enc(DeleteRequest, { path, version }), o);
  }

  deleteContainer(path: string, o: CmdOpts = {}): ApplyResult {
    return this.run(Op.deleteContainer, enc(PathRequest, { path }), { sessionId: 0, ...o });
  }

  setData(path: string, data: Buffer | string | null, version = -1, o: CmdOpts = {}): ApplyResult {
    const d = typeof data === 'string' ? Buffer.from(data) : data;
    return this.run(Op.setData, enc(SetDataRequest, { path, data: d, version }), o);
  }

  setAcl(path: string, acl: readonly ACL[], version = -1, o: CmdOpts = {}): ApplyResult {
    return this.run(Op.setACL, enc(SetACLRequest, { path, acl: [...acl], version }), o);
  }

  multi(ops: MultiOp[], o: CmdOpts = {}): ApplyResult {
    return this.run(Op.multi, enc(MultiWriteRequest, { ops, invalid: false }), o);
  }

  read(op: number, req: any, ids: readonly Identity[] = [IP], sessionId = SID): ReadResult {
    return this.db.read(op, req, ids, sessionId);
  }

  /** Data of a node through getData, as a client sees it. */
  dataOf(path: string): Buffer | null {
    const r = this.read(Op.getData, { path, watch: false });
    if (r.err !== 0) throw new Error(`getData ${path}: ${r.err}`);
    return (r.response as { data: Buffer | null }).data;
  }
}

export const multiOps = {
  create: (path: string, data: Buffer | null = null, o: CreateOpts = {}): MultiOp => createReq(path, data, o),
  delete: (path: string, version = -1): MultiOp => ({ op: Op.delete, req: { path, version } }),
  setData: (path: string, data: Buffer | null, version = -1): MultiOp => ({ op: Op.setData, req: { path, data, version } }),
  check: (path: string, version: number): MultiOp => ({ op: Op.check, req: { path, version } }),
};
