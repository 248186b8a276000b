// The opcode table: which record each request carries and which record its reply
// carries. Server and client both decode and encode through this one table.

import { Reader, Writer, JuteError } from './codec.js';
import { Op } from './constants.js';
import {
  AddWatchRequest,
  AuthPacket,
  CheckVersionRequest,
  Create2Response,
  CreateRequest,
  CreateResponse,
  CreateTTLRequest,
  DeleteRequest,
  ErrorResponse,
  GetACLResponse,
  GetAllChildrenNumberResponse,
  GetChildren2Response,
  GetChildrenResponse,
  GetDataResponse,
  GetEphemeralsRequest,
  GetEphemeralsResponse,
  MultiHeader,
  PathRequest,
  PathWatchRequest,
  ReconfigRequest,
  SaslToken,
  SetACLRequest,
  SetDataRequest,
  SetWatches,
  SetWatches2,
  StatResponse,
  WatchesRequest,
  WhoAmIResponse,
} from './records.js';
import type { Codec } from './schema.js';

/** A record with no fields (ping, closeSession, whoAmI requests; delete replies). */
export const Empty: Codec<Record<string, never>> = {
  name: 'Empty',
  decode: () => ({}),
  encode: () => {},
};

export interface OpSpec {
  readonly name: string;
  readonly request: Codec<any>;
  readonly response: Codec<any>;
  /** Changes state, so it goes through the log and consumes a zxid. */
  readonly write: boolean;
}

function spec(name: string, request: Codec<any>, response: Codec<any>, write = false): OpSpec {
  return { name, request, response, write };
}

// Sub-operations allowed inside multi (14) and multiRead (22), with their request records.
const MULTI_WRITE_OPS: Record<number, Codec<any>> = {
  [Op.create]: CreateRequest,
  [Op.create2]: CreateRequest,
  [Op.createContainer]: CreateRequest,
  [Op.createTTL]: CreateTTLRequest,
  [Op.delete]: DeleteRequest,
  [Op.setData]: SetDataRequest,
  [Op.check]: CheckVersionRequest,
};
const MULTI_READ_OPS: Record<number, Codec<any>> = {
  [Op.getChildren]: PathWatchRequest,
  [Op.getData]: PathWatchRequest,
};

export interface MultiOp {
  op: number;
  req: any;
}

/**
 * A multi request as decoded. `invalid` is set when the stream names an op that
 * does not belong in this kind of multi: ZooKeeper answers MarshallingError for
 * the whole request (and, for multi, still consumes a zxid).
 */
export interface MultiRequest {
  ops: MultiOp[];
  invalid: boolean;
}

function multiRequestCodec(allowed: Record<number, Codec<any>>, other: Record<number, Codec<any>>): Codec<MultiRequest> {
  return {
    name: 'MultiRequest',
    decode(r: Reader): MultiRequest {
      const ops: MultiOp[] = [];
      let invalid = false;
      for (;;) {
        const h = MultiHeader.decode(r);
        if (h.done) break;
        const codec = allowed[h.type] ?? other[h.type];
        if (codec === undefined) throw new JuteError(`op ${h.type} is not allowed in a multi`);
        if (allowed[h.type] === undefined) invalid = true; // decodable, but the wrong kind
        ops.push({ op: h.type, req: codec.decode(r) });
      }
      return { ops, invalid };
    },
    encode(w: Writer, v: MultiRequest): void {
      for (const o of v.ops) {
        MultiHeader.encode(w, { type: o.op, done: false, err: -1 });
        (allowed[o.op] ?? other[o.op])!.encode(w, o.req);
      }
      MultiHeader.encode(w, { type: -1, done: true, err: -1 });
    },
  };
}

/** One result of a multi/multiRead. `op` is the result header type (-1 for an error). */
export interface MultiResult {
  op: number;
  err: number;
  res?: any;
}

const MULTI_RESULT_BODY: Record<number, Codec<any>> = {
  [Op.create]: CreateResponse,
  [Op.create2]: Create2Response,
  [Op.delete]: Empty,
  [Op.setData]: StatResponse,
  [Op.check]: Empty,
  [Op.getData]: GetDataResponse,
  [Op.getChildren]: GetChildrenResponse,
  [Op.error]: ErrorResponse,
};

export const MultiResponse: Codec<MultiResult[]> = {
  name: 'MultiResponse',
  decode(r: Reader): MultiResult[] {
    const out: MultiResult[] = [];
    for (;;) {
      const h = MultiHeader.decode(r);
      if (h.done) break;
      const codec = MULTI_RESULT_BODY[h.type];
      if (codec === undefined) throw new JuteError(`unknown multi result type ${h.type}`);
      const res = codec.decode(r);
      out.push(h.type === Op.error ? { op: -1, err: (res as ErrorResponse).err } : { op: h.type, err: 0, res });
    }
    return out;
  },
  encode(w: Writer, v: MultiResult[]): void {
    for (const x of v) {
      if (x.op === Op.error) {
        MultiHeader.encode(w, { type: -1, done: false, err: x.err });
        ErrorResponse.encode(w, { err: x.err });
      } else {
        MultiHeader.encode(w, { type: x.op, done: false, err: 0 });
        MULTI_RESULT_BODY[x.op]!.encode(w, x.res ?? {});
      }
    }
    MultiHeader.encode(w, { type: -1, done: true, err: -1 });
  },
};

export const MultiWriteRequest = multiRequestCodec(MULTI_WRITE_OPS, MULTI_READ_OPS);
export const MultiReadRequest = multiRequestCodec(MULTI_READ_OPS, MULTI_WRITE_OPS);

export const OPS: ReadonlyMap<number, OpSpec> = new Map<number, OpSpec>([
  [Op.create, spec('create', CreateRequest, CreateResponse, true)],
  [Op.create2, spec('create2', CreateRequest, Create2Response, true)],
  [Op.createContainer, spec('createContainer', CreateRequest, Create2Response, true)],
  [Op.createTTL, spec('createTTL', CreateTTLRequest, Create2Response, true)],
  [Op.delete, spec('delete', DeleteRequest, Empty, true)],
  [Op.deleteContainer, spec('deleteContainer', PathRequest, Empty, true)],
  [Op.setData, spec('setData', SetDataRequest, StatResponse, true)],
  [Op.setACL, spec('setACL', SetACLRequest, StatResponse, true)],
  [Op.multi, spec('multi', MultiWriteRequest, MultiResponse, true)],
  [Op.reconfig, spec('reconfig', ReconfigRequest, GetDataResponse, true)],
  [Op.closeSession, spec('closeSession', Empty, Empty, true)],
  [Op.exists, spec('exists', PathWatchRequest, StatResponse)],
  [Op.getData, spec('getData', PathWatchRequest, GetDataResponse)],
  [Op.getACL, spec('getACL', PathRequest, GetACLResponse)],
  [Op.getChildren, spec('getChildren', PathWatchRequest, GetChildrenResponse)],
  [Op.getChildren2, spec('getChildren2', PathWatchRequest, GetChildren2Response)],
  [Op.check, spec('check', CheckVersionRequest, Empty)],
  [Op.sync, spec('sync', PathRequest, PathRequest)],
  [Op.ping, spec('ping', Empty, Empty)],
  [Op.multiRead, spec('multiRead', MultiReadRequest, MultiResponse)],
  [Op.checkWatches, spec('checkWatches', WatchesRequest, Empty)],
  [Op.removeWatches, spec('removeWatches', WatchesRequest, Empty)],
  [Op.auth, spec('auth', AuthPacket, Empty)],
  [Op.setWatches, spec('setWatches', SetWatches, Empty)],
  [Op.setWatches2, spec('setWatches2', SetWatches2, Empty)],
  [Op.sasl, spec('sasl', SaslToken, SaslToken)],
  [Op.getEphemerals, spec('getEphemerals', GetEphemeralsRequest, GetEphemeralsResponse)],
  [Op.getAllChildrenNumber, spec('getAllChildrenNumber', PathRequest, GetAllChildrenNumberResponse)],
  [Op.addWatch, spec('addWatch', AddWatchRequest, ErrorResponse)],
  [Op.whoAmI, spec('whoAmI', Empty, WhoAmIResponse)],
]);
