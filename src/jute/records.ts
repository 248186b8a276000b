// The ZooKeeper client protocol's records, in the field order of zookeeper.jute.
// Each record is declared here exactly once; server, client, log and tests share them.

import { Reader, Writer } from './codec.js';
import { record, vector, type Codec, type RecordOf } from './schema.js';

export const Id = record('Id', [
  ['scheme', 'ustring'],
  ['id', 'ustring'],
] as const);
export type Id = RecordOf<typeof Id.fields>;

export const ACL = record('ACL', [
  ['perms', 'int'],
  ['id', Id],
] as const);
export type ACL = RecordOf<typeof ACL.fields>;

export const Stat = record('Stat', [
  ['czxid', 'long'],
  ['mzxid', 'long'],
  ['ctime', 'long'],
  ['mtime', 'long'],
  ['version', 'int'],
  ['cversion', 'int'],
  ['aversion', 'int'],
  ['ephemeralOwner', 'long'],
  ['dataLength', 'int'],
  ['numChildren', 'int'],
  ['pzxid', 'long'],
] as const);
export type Stat = RecordOf<typeof Stat.fields>;

export const ClientInfo = record('ClientInfo', [
  ['authScheme', 'ustring'],
  ['user', 'ustring'],
] as const);
export type ClientInfo = RecordOf<typeof ClientInfo.fields>;

// ---------------------------------------------------------------- session

const ConnectRequestBase = record('ConnectRequest', [
  ['protocolVersion', 'int'],
  ['lastZxidSeen', 'long'],
  ['timeOut', 'int'],
  ['sessionId', 'long'],
  ['passwd', 'buffer'],
] as const);

/** Old clients (3.4-era, node-zookeeper-client) omit the trailing readOnly byte; its absence is remembered. */
export interface ConnectRequest extends RecordOf<typeof ConnectRequestBase.fields> {
  readOnly: boolean | undefined;
}
export const ConnectRequest: Codec<ConnectRequest> = {
  name: 'ConnectRequest',
  decode(r: Reader): ConnectRequest {
    const base = ConnectRequestBase.decode(r);
    const readOnly = r.remaining() > 0 ? r.bool() : undefined;
    return { ...base, readOnly };
  },
  encode(w: Writer, v: ConnectRequest): void {
    ConnectRequestBase.encode(w, v);
    if (v.readOnly !== undefined) w.bool(v.readOnly);
  },
};

const ConnectResponseBase = record('ConnectResponse', [
  ['protocolVersion', 'int'],
  ['timeOut', 'int'],
  ['sessionId', 'long'],
  ['passwd', 'buffer'],
] as const);

/** readOnly is written only when the client's request carried it. */
export interface ConnectResponse extends RecordOf<typeof ConnectResponseBase.fields> {
  readOnly: boolean | undefined;
}
export const ConnectResponse: Codec<ConnectResponse> = {
  name: 'ConnectResponse',
  decode(r: Reader): ConnectResponse {
    const base = ConnectResponseBase.decode(r);
    const readOnly = r.remaining() > 0 ? r.bool() : undefined;
    return { ...base, readOnly };
  },
  encode(w: Writer, v: ConnectResponse): void {
    ConnectResponseBase.encode(w, v);
    if (v.readOnly !== undefined) w.bool(v.readOnly);
  },
};

// ---------------------------------------------------------------- headers

export const RequestHeader = record('RequestHeader', [
  ['xid', 'int'],
  ['type', 'int'],
] as const);
export type RequestHeader = RecordOf<typeof RequestHeader.fields>;

export const ReplyHeader = record('ReplyHeader', [
  ['xid', 'int'],
  ['zxid', 'long'],
  ['err', 'int'],
] as const);
export type ReplyHeader = RecordOf<typeof ReplyHeader.fields>;

export const MultiHeader = record('MultiHeader', [
  ['type', 'int'],
  ['done', 'bool'],
  ['err', 'int'],
] as const);
export type MultiHeader = RecordOf<typeof MultiHeader.fields>;

// ---------------------------------------------------------------- requests

export const AuthPacket = record('AuthPacket', [
  ['type', 'int'],
  ['scheme', 'ustring'],
  ['auth', 'buffer'],
] as const);
export type AuthPacket = RecordOf<typeof AuthPacket.fields>;

export const SetWatches = record('SetWatches', [
  ['relativeZxid', 'long'],
  ['dataWatches', vector('ustring')],
  ['existWatches', vector('ustring')],
  ['childWatches', vector('ustring')],
] as const);
export type SetWatches = RecordOf<typeof SetWatches.fields>;

export const SetWatches2 = record('SetWatches2', [
  ['relativeZxid', 'long'],
  ['dataWatches', vector('ustring')],
  ['existWatches', vector('ustring')],
  ['childWatches', vector('ustring')],
  ['persistentWatches', vector('ustring')],
  ['persistentRecursiveWatches', vector('ustring')],
] as const);
export type SetWatches2 = RecordOf<typeof SetWatches2.fields>;

export const CreateRequest = record('CreateRequest', [
  ['path', 'ustring'],
  ['data', 'buffer'],
  ['acl', vector(ACL)],
  ['flags', 'int'],
] as const);
export type CreateRequest = RecordOf<typeof CreateRequest.fields>;

export const CreateTTLRequest = record('CreateTTLRequest', [
  ['path', 'ustring'],
  ['data', 'buffer'],
  ['acl', vector(ACL)],
  ['flags', 'int'],
  ['ttl', 'long'],
] as const);
export type CreateTTLRequest = RecordOf<typeof CreateTTLRequest.fields>;

export const DeleteRequest = record('DeleteRequest', [
  ['path', 'ustring'],
  ['version', 'int'],
] as const);
export type DeleteRequest = RecordOf<typeof DeleteRequest.fields>;

export const PathRequest = record('PathRequest', [['path', 'ustring']] as const);
export type PathRequest = RecordOf<typeof PathRequest.fields>;

/** exists, getData, getChildren and getChildren2 share this layout. */
export const PathWatchRequest = record('PathWatchRequest', [
  ['path', 'ustring'],
  ['watch', 'bool'],
] as const);
export type PathWatchRequest = RecordOf<typeof PathWatchRequest.fields>;

export const SetDataRequest = record('SetDataRequest', [
  ['path', 'ustring'],
  ['data', 'buffer'],
  ['version', 'int'],
] as const);
export type SetDataRequest = RecordOf<typeof SetDataRequest.fields>;

export const SetACLRequest = record('SetACLRequest', [
  ['path', 'ustring'],
  ['acl', vector(ACL)],
  ['version', 'int'],
] as const);
export type SetACLRequest = RecordOf<typeof SetACLRequest.fields>;

export const CheckVersionRequest = record('CheckVersionRequest', [
  ['path', 'ustring'],
  ['version', 'int'],
] as const);
export type CheckVersionRequest = RecordOf<typeof CheckVersionRequest.fields>;

export const ReconfigRequest = record('ReconfigRequest', [
  ['joiningServers', 'ustring?'],
  ['leavingServers', 'ustring?'],
  ['newMembers', 'ustring?'],
  ['curConfigId', 'long'],
] as const);
export type ReconfigRequest = RecordOf<typeof ReconfigRequest.fields>;

export const AddWatchRequest = record('AddWatchRequest', [
  ['path', 'ustring'],
  ['mode', 'int'],
] as const);
export type AddWatchRequest = RecordOf<typeof AddWatchRequest.fields>;

/** checkWatches and removeWatches. */
export const WatchesRequest = record('WatchesRequest', [
  ['path', 'ustring'],
  ['type', 'int'],
] as const);
export type WatchesRequest = RecordOf<typeof WatchesRequest.fields>;

export const GetEphemeralsRequest = record('GetEphemeralsRequest', [['prefixPath', 'ustring?']] as const);
export type GetEphemeralsRequest = RecordOf<typeof GetEphemeralsRequest.fields>;

export const SaslToken = record('SaslToken', [['token', 'buffer']] as const);
export type SaslToken = RecordOf<typeof SaslToken.fields>;

// ---------------------------------------------------------------- responses

export const CreateResponse = record('CreateResponse', [['path', 'ustring']] as const);
export type CreateResponse = RecordOf<typeof CreateResponse.fields>;

export const Create2Response = record('Create2Response', [
  ['path', 'ustring'],
  ['stat', Stat],
] as const);
export type Create2Response = RecordOf<typeof Create2Response.fields>;

/** exists, setData and setACL reply with just a Stat. */
export const StatResponse = record('StatResponse', [['stat', Stat]] as const);
export type StatResponse = RecordOf<typeof StatResponse.fields>;

export const GetDataResponse = record('GetDataResponse', [
  ['data', 'buffer'],
  ['stat', Stat],
] as const);
export type GetDataResponse = RecordOf<typeof GetDataResponse.fields>;

export const GetChildrenResponse = record('GetChildrenResponse', [['children', vector('ustring')]] as const);
export type GetChildrenResponse = RecordOf<typeof GetChildrenResponse.fields>;

export const GetChildren2Response = record('GetChildren2Response', [
  ['children', vector('ustring')],
  ['stat', Stat],
] as const);
export type GetChildren2Response = RecordOf<typeof GetChildren2Response.fields>;

export const GetACLResponse = record('GetACLResponse', [
  ['acl', vector(ACL)],
  ['stat', Stat],
] as const);
export type GetACLResponse = RecordOf<typeof GetACLResponse.fields>;

export const SyncResponse = PathRequest;

export const ErrorResponse = record('ErrorResponse', [['err', 'int']] as const);
export type ErrorResponse = RecordOf<typeof ErrorResponse.fields>;

export const GetEphemeralsResponse = record('GetEphemeralsResponse', [['ephemerals', vector('ustring')]] as const);
export type GetEphemeralsResponse = RecordOf<typeof GetEphemeralsResponse.fields>;

export const GetAllChildrenNumberResponse = record('GetAllChildrenNumberResponse', [['totalNumber', 'int']] as const);
export type GetAllChildrenNumberResponse = RecordOf<typeof GetAllChildrenNumberResponse.fields>;

export const WhoAmIResponse = record('WhoAmIResponse', [['clientInfo', vector(ClientInfo)]] as const);
export type WhoAmIResponse = RecordOf<typeof WhoAmIResponse.fields>;

export const WatcherEvent = record('WatcherEvent', [
  ['type', 'int'],
  ['state', 'int'],
  ['path', 'ustring'],
] as const);
export type WatcherEvent = RecordOf<typeof WatcherEvent.fields>;
