// Encoding of server→client frames: length prefix + ReplyHeader (+ body on success).

import { Writer } from '../jute/codec.js';
import { EventType, KeeperState, Xid } from '../jute/constants.js';
import { ConnectResponse, WatcherEvent } from '../jute/records.js';
import type { Codec } from '../jute/schema.js';

const writer = new Writer(64 * 1024);

/** A reply frame. On error ZooKeeper sends the header alone, never a body. */
export function encodeReply(xid: number, zxid: number, err: number, codec?: Codec<any>, body?: unknown): Buffer {
  return Buffer.from(encodeReplyView(xid, zxid, err, codec, body));
}

/**
 * Same frame as encodeReply, as a view into a shared buffer: valid only until the next
 * encode call (send it or copy it at once). Saves the allocation + copy on the hot path.
 */
export function encodeReplyView(xid: number, zxid: number, err: number, codec?: Codec<any>, body?: unknown): Buffer {
  if (writer.buf.length > 1024 * 1024) writer.buf = Buffer.allocUnsafe(64 * 1024); // don't keep a huge buffer around
  writer.reset();
  const at = writer.beginFrame();
  // ReplyHeader (xid, zxid, err), written field by field: no header object per reply
  writer.int(xid);
  writer.long(zxid);
  writer.int(err);
  if (err === 0 && codec !== undefined) codec.encode(writer, body ?? {});
  writer.endFrame(at);
  return writer.view();
}

/**
 * A watch notification. ZooKeeper up to 3.8 sends zxid -1 in the header (3.9 sends the
 * txn's zxid); we follow 3.8, the version clients are most commonly paired with.
 */
export function encodeNotification(type: number, path: string): Buffer {
  return encodeReply(Xid.notification, -1, 0, WatcherEvent, { type, state: KeeperState.SyncConnected, path });
}

/** encodeNotification as a shared view (see encodeReplyView). */
export function encodeNotificationView(type: number, path: string): Buffer {
  return encodeReplyView(Xid.notification, -1, 0, WatcherEvent, { type, state: KeeperState.SyncConnected, path });
}

export function encodeConnectResponse(v: ConnectResponse): Buffer {
  writer.reset();
  const at = writer.beginFrame();
  ConnectResponse.encode(writer, v);
  writer.endFrame(at);
  return writer.toBuffer();
}

export const EVENT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k]));
