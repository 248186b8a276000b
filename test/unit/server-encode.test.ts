// The hand-specialised encoders of the server's hot path must produce exactly the bytes of the
// generic record codecs they stand in for (zk/command.ts Command, jute/records.ts ReplyHeader).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader, Writer } from '../../src/jute/codec.js';
import { ReplyHeader, GetDataResponse, WatcherEvent } from '../../src/jute/records.js';
import { Command } from '../../src/zk/command.js';
import { commandBytes, encodeCommandInto, encodedIdentities } from '../../src/server/pipeline.js';
import { encodeReply, encodeReplyView, encodeNotification } from '../../src/server/replies.js';
import type { Identity } from '../../src/zk/types.js';

function generic(cmd: Command): Buffer {
  const w = new Writer(16);
  Command.encode(w, cmd);
  return w.toBuffer();
}

function special(cmd: Command): Buffer {
  const ids = encodedIdentities(cmd.identities);
  const n = commandBytes(ids, cmd.body);
  const buf = Buffer.alloc(n + 10, 0xee);
  encodeCommandInto(buf, 5, { cmd, ids });
  assert.ok(buf.subarray(0, 5).every((b) => b === 0xee), 'nothing written before the record');
  assert.ok(buf.subarray(5 + n).every((b) => b === 0xee), 'nothing written after the record');
  return buf.subarray(5, 5 + n);
}

test('encodeCommandInto writes the bytes of Command.encode', () => {
  const idsA: Identity[] = [{ scheme: 'ip', id: '127.0.0.1' }];
  const idsB: Identity[] = [
    { scheme: 'digest', id: 'bob:Zm9vYmFy' },
    { scheme: 'super', id: '' },
    { scheme: 'ip', id: '::1' },
    { scheme: 'x', id: 'ünïcødé ✓' },
  ];
  const longs = [0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 0x1234_5678_9abc, Number.MAX_SAFE_INTEGER, -1, -(2 ** 40)];
  const bodies = [null, Buffer.alloc(0), Buffer.from('hello'), Buffer.alloc(70000, 7)];
  for (const ids of [[], idsA, idsB]) {
    for (const body of bodies) {
      for (const l of longs) {
        const cmd: Command = { zxid: Math.abs(l), time: l, sessionId: l, cxid: (l % 2 ** 31) | 0, op: -11, identities: ids, body };
        assert.deepEqual(special(cmd), generic(cmd));
        const back = Command.decode(new Reader(special(cmd)));
        assert.deepEqual(back.identities, ids);
      }
    }
  }
});

test('the identities cache notices a changed identity list', () => {
  const ids: Identity[] = [{ scheme: 'ip', id: '10.0.0.1' }];
  const cmd: Command = { zxid: 1, time: 2, sessionId: 3, cxid: 4, op: 1, identities: ids, body: null };
  assert.deepEqual(special(cmd), generic(cmd));
  ids.splice(0, 0, { scheme: 'digest', id: 'a:b' }); // addauth inserts in place
  assert.deepEqual(special(cmd), generic(cmd));
  ids[0] = { scheme: 'digest', id: 'c:d' };
  assert.deepEqual(special(cmd), generic(cmd));
});

test('encodeReplyView / encodeReply write length + ReplyHeader (+ body on success)', () => {
  const stat = { czxid: 1, mzxid: 2, ctime: 3, mtime: 4, version: 5, cversion: 6, aversion: 7, ephemeralOwner: 2 ** 40, dataLength: 3, numChildren: 0, pzxid: 9 };
  const body = { data: Buffer.from('abc'), stat };
  for (const [xid, zxid, err] of [[1, 2, 0], [-1, -1, 0], [7, 2 ** 33 + 1, -101], [-2, 0, 0]] as const) {
    const w = new Writer(16);
    const at = w.beginFrame();
    ReplyHeader.encode(w, { xid, zxid, err });
    if (err === 0) GetDataResponse.encode(w, body);
    w.endFrame(at);
    const want = w.toBuffer();
    assert.deepEqual(Buffer.from(encodeReplyView(xid, zxid, err, GetDataResponse, body)), want);
    assert.deepEqual(encodeReply(xid, zxid, err, GetDataResponse, body), want);
  }
  const n = encodeNotification(1, '/a/b');
  const w = new Writer(16);
  const at = w.beginFrame();
  ReplyHeader.encode(w, { xid: -1, zxid: -1, err: 0 });
  WatcherEvent.encode(w, { type: 1, state: 3, path: '/a/b' });
  w.endFrame(at);
  assert.deepEqual(n, w.toBuffer());
});

test('Writer/Reader integer and string fast paths match Buffer\'s checked methods', () => {
  const ints = [0, 1, -1, 127, 128, 255, 256, 0x7fffffff, -0x80000000, 0x80000000, 0xffffffff, 2 ** 40 + 5, 1.5, -1.5, NaN];
  for (const v of ints) {
    const w = new Writer(1);
    w.int(v);
    const want = Buffer.alloc(4);
    want.writeInt32BE(v | 0);
    assert.deepEqual(w.view(), want, `int ${v}`);
    assert.equal(new Reader(w.view()).int(), v | 0);
  }
  const longs = [0, 1, -1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 53 - 1, -(2 ** 53) + 1, 0x1234_5678_9abc, -0x1234_5678_9abc, 12345.5];
  for (const v of longs) {
    const w = new Writer(1);
    w.long(v);
    const want = Buffer.alloc(8);
    const hi = Math.floor(v / 2 ** 32);
    want.writeInt32BE(hi | 0, 0);
    want.writeUInt32BE((v - hi * 2 ** 32) >>> 0, 4);
    assert.deepEqual(w.view(), want, `long ${v}`);
    if (Number.isInteger(v)) {
      assert.equal(new Reader(w.view()).long(), v);
      assert.equal(Number(want.readBigInt64BE(0)), v);
    }
  }
  const strings = ['', '/', '/a/b/c', 'x'.repeat(64), 'y'.repeat(65), 'é', '/zk/ü/✓', 'a'.repeat(63) + 'é', '😀', 'z'.repeat(1000) + '€'];
  for (const v of strings) {
    const w = new Writer(1);
    w.ustring(v);
    const bytes = Buffer.from(v, 'utf8');
    const want = Buffer.concat([Buffer.from([bytes.length >>> 24, bytes.length >>> 16, bytes.length >>> 8, bytes.length].map((x) => x & 255)), bytes]);
    assert.deepEqual(w.view(), want, `ustring ${JSON.stringify(v.slice(0, 20))}`);
    assert.equal(new Reader(w.view()).ustring(), v);
  }
  const w = new Writer(1);
  w.ustring(null);
  assert.deepEqual(w.view(), Buffer.from([255, 255, 255, 255]));
  assert.throws(() => new Reader(Buffer.alloc(3)).int(), /truncated/);
  assert.throws(() => new Reader(Buffer.alloc(7)).long(), /truncated/);
});
