// Raft's wire and log records, each declared ONCE as data (src/jute/schema.ts): the TypeScript
// types, the encoder and the decoder all derive from the field lists below, so the TCP transport
// (transport.ts) and the storage adapter (storage.ts) encode them table-driven.
//
// One flat Message record carries every message type (as etcd's raftpb.Message does); fields a
// type does not use are zero / empty. Ids and indexes are JS numbers below 2^53 (jute 'long').

import { record, vector, type RecordOf } from '../jute/schema.js';

/** MessageType numbers are wire values: never renumber, only append. */
export const MessageType = {
  /** Local: election timeout fired (or forced campaign). Never sent. */
  Hup: 0,
  /** Local: leader's heartbeat timer fired. Never sent. */
  Beat: 1,
  /** Local or forwarded by a follower: append data to the log. */
  Prop: 2,
  App: 3,
  AppResp: 4,
  Vote: 5,
  VoteResp: 6,
  PreVote: 7,
  PreVoteResp: 8,
  /** A chunk of a snapshot (offset/data/done fields). */
  Snap: 9,
  SnapResp: 10,
  Heartbeat: 11,
  HeartbeatResp: 12,
  /** Local: a snapshot send was aborted by the transport (Progress back to probe). */
  Unreachable: 13,
  TransferLeader: 14,
  /** Leader to transfer target: campaign now, skipping PreVote and leases. */
  TimeoutNow: 15,
  ReadIndex: 16,
  ReadIndexResp: 17,
  /** Local: CheckQuorum timer fired on the leader. */
  CheckQuorum: 18,
  /**
   * Not Raft: opaque application data from one member to another over the same connections
   * (e.g. a follower's session touches for the leader). The driver hands it to the application;
   * the core never sees it.
   */
  AppData: 19,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const TYPE_NAMES: string[] = [];
for (const [k, v] of Object.entries(MessageType)) TYPE_NAMES[v] = k;
export function messageTypeName(t: number): string {
  return TYPE_NAMES[t] ?? `Unknown(${t})`;
}

/** Local messages never cross the network: the transport must refuse them. */
export function isLocalMessage(t: number): boolean {
  return t === MessageType.Hup || t === MessageType.Beat || t === MessageType.Unreachable || t === MessageType.CheckQuorum;
}

/** Responses (their term check differs: a stale response is dropped, never answered). */
export function isResponseMessage(t: number): boolean {
  return (
    t === MessageType.AppResp ||
    t === MessageType.VoteResp ||
    t === MessageType.PreVoteResp ||
    t === MessageType.HeartbeatResp ||
    t === MessageType.SnapResp ||
    t === MessageType.ReadIndexResp ||
    t === MessageType.Unreachable
  );
}

export const EntryType = {
  /** Opaque application payload (the server's command; the core never looks inside). */
  Normal: 0,
  /** A ConfChange record (encoded with ConfChange below) in `data`. */
  ConfChange: 1,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export const Entry = record('RaftEntry', [
  ['term', 'long'],
  ['index', 'long'],
  ['type', 'int'],
  ['data', 'buffer'],
] as const);
export type Entry = RecordOf<typeof Entry.fields>;

/**
 * ConfState: the membership a log position implies. votersOutgoing is non-empty only in a
 * joint configuration (C_old,new); learnersNext are voters of the outgoing config that become
 * learners when the joint config is left (they must stay in the outgoing majority until then).
 */
export const ConfState = record('RaftConfState', [
  ['voters', vector('long')],
  ['votersOutgoing', vector('long')],
  ['learners', vector('long')],
  ['learnersNext', vector('long')],
  ['autoLeave', 'bool'],
] as const);
export type ConfState = RecordOf<typeof ConfState.fields>;

export const ConfChangeType = {
  AddVoter: 0,
  RemoveNode: 1,
  AddLearner: 2,
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

export const ConfChangeSingle = record('RaftConfChangeSingle', [
  ['type', 'int'],
  ['node', 'long'],
] as const);
export type ConfChangeSingle = RecordOf<typeof ConfChangeSingle.fields>;

/**
 * ConfChange: one change is applied directly (one-at-a-time, "simple"); two or more, or
 * `joint` set, go through joint consensus. An empty change list leaves a joint config.
 * `context` is opaque to the core (the server can put the new member's address there).
 */
export const ConfChange = record('RaftConfChange', [
  ['changes', vector(ConfChangeSingle)],
  ['joint', 'bool'],
  ['context', 'buffer'],
] as const);
export type ConfChange = RecordOf<typeof ConfChange.fields>;

export const SnapshotMeta = record('RaftSnapshotMeta', [
  ['index', 'long'],
  ['term', 'long'],
  ['confState', ConfState],
] as const);
export type SnapshotMeta = RecordOf<typeof SnapshotMeta.fields>;

/** A whole snapshot as handed to the application for installation. */
export interface Snapshot {
  meta: SnapshotMeta;
  data: Buffer;
}

/**
 * Message: every field exists in every message. Snapshot chunks use snapshot (the meta of the
 * snapshot being sent), offset (of data within the snapshot body), data, and done (last chunk).
 * SnapResp uses index = snapshot index and offset = bytes the follower holds contiguously.
 */
export const Message = record('RaftMessage', [
  ['type', 'int'],
  ['to', 'long'],
  ['from', 'long'],
  ['term', 'long'],
  ['logTerm', 'long'],
  ['index', 'long'],
  ['entries', vector(Entry)],
  ['commit', 'long'],
  ['reject', 'bool'],
  ['rejectHint', 'long'],
  ['context', 'buffer'],
  ['snapshot', SnapshotMeta],
  ['offset', 'long'],
  ['data', 'buffer'],
  ['done', 'bool'],
] as const);
export type Message = RecordOf<typeof Message.fields>;

export const HardState = record('RaftHardState', [
  ['term', 'long'],
  ['vote', 'long'], // NONE (0) when no vote
  ['commit', 'long'],
] as const);
export type HardState = RecordOf<typeof HardState.fields>;

/** NONE is the "no node" id: node ids are positive. */
export const NONE = 0;
const EMPTY = Buffer.alloc(0);

export function emptyConfState(): ConfState {
  return { voters: [], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
}
export function emptySnapshotMeta(): SnapshotMeta {
  return { index: 0, term: 0, confState: emptyConfState() };
}

/** A message with every unused field at its zero value. */
export function makeMessage(fields: Partial<Message> & { type: MessageType }): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: EMPTY,
    snapshot: EMPTY_META,
    offset: 0,
    data: EMPTY,
    done: false,
    ...fields,
  };
}
const EMPTY_META: SnapshotMeta = Object.freeze(emptySnapshotMeta()) as SnapshotMeta;

/** Bytes an entry accounts for in size limits (payload plus a fixed overhead). */
export function entrySize(e: Entry): number {
  return 24 + (e.data === null ? 0 : e.data.length);
}

/** Deterministic one-line description, for traces and failure reports. */
export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${messageTypeName(m.type)} t${m.term}`;
  if (m.logTerm || m.index) s += ` lt${m.logTerm} i${m.index}`;
  if (m.commit) s += ` c${m.commit}`;
  if (m.entries.length) s += ` [${m.entries.map((e) => `${e.term}/${e.index}`).join(',')}]`;
  if (m.reject) s += ` rej(hint ${m.rejectHint})`;
  if (m.type === MessageType.Snap) s += ` snap${m.snapshot.term}/${m.snapshot.index}@${m.offset}+${m.data?.length ?? 0}${m.done ? ' done' : ''}`;
  return s;
}
