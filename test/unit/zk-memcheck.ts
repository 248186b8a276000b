// Not a unit test: a quick memory and throughput check of the state machine.
//   npx tsc -p . && node --expose-gc dist/test/unit/zk-memcheck.js [znodes=1000000] [dataBytes=100]
// Builds the tree through ZkDatabase.apply with real encoded Commands (1000 parents
// × N/1000 children), then reports RSS/heap and apply/read rates, and the snapshot
// paths without files: the streaming cursor (slice times, RSS), the synchronous
// serialize(), and the incremental loader fed 1 MiB pieces. For snapshot files, event-loop
// delay under concurrent writes and a restart-style load, see bench/snapshot-mem.mjs.

import { Op } from '../../src/jute/constants.js';
import { CreateRequest, SetDataRequest } from '../../src/jute/records.js';
import { Writer } from '../../src/jute/codec.js';
import { encodeToBuffer } from '../../src/jute/schema.js';
import { OPEN_ACL_UNSAFE } from '../../src/zk/acl.js';
import { CreateSessionBody, type Command } from '../../src/zk/command.js';
import { ZkDatabase } from '../../src/zk/database.js';

const total = Number(process.argv[2] ?? 1_000_000);
const dataBytes = Number(process.argv[3] ?? 100);
const SID = 0x100;
const ids = [{ scheme: 'ip', id: '127.0.0.1' }];
const acl = [...OPEN_ACL_UNSAFE];
const w = new Writer(4096);
let zxid = 0;

function cmd(op: number, body: Buffer): Command {
  return { zxid: ++zxid, time: 1_700_000_000_000 + zxid, sessionId: SID, cxid: 1, op, identities: ids, body };
}

function mb(n: number): string {
  return (n / 1048576).toFixed(0) + ' MiB';
}

function report(label: string): void {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  console.log(`${label}: rss ${mb(m.rss)}, heapUsed ${mb(m.heapUsed)}, heapTotal ${mb(m.heapTotal)}, arrayBuffers ${mb(m.arrayBuffers)}`);
}

report('baseline');
const db = new ZkDatabase();
db.apply(cmd(Op.createSession, encodeToBuffer(CreateSessionBody, { timeOut: 30000, passwd: Buffer.alloc(16) })));
const data = Buffer.alloc(dataBytes);
for (let i = 0; i < dataBytes; i++) data[i] = (i * 31) & 0xff;
const create = (path: string): Command => cmd(Op.create, encodeToBuffer(CreateRequest, { path, data, acl, flags: 0 }, w));

db.apply(create('/bench'));
const parents = Math.max(1, Math.ceil(total / 1000));
for (let p = 0; p < parents; p++) db.apply(create(`/bench/p${p}`));
let applyNs = 0n;
const t0 = process.hrtime.bigint();
for (let i = 0; i < total; i++) {
  const c = create(`/bench/p${i % parents}/n${String(i).padStart(10, '0')}`);
  const a = process.hrtime.bigint();
  const r = db.apply(c);
  applyNs += process.hrtime.bigint() - a;
  if (r.err !== 0) throw new Error(`create failed: ${r.err}`);
}
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`created ${total} znodes of ${dataBytes} B: ${(total / wall).toFixed(0)} creates/s incl. encoding, ${(total / (Number(applyNs) / 1e9)).toFixed(0)}/s in apply alone`);
console.log(`nodeCount ${db.nodeCount()}, approximateDataSize ${db.approximateDataSize()}`);
report('after build');

const n = Math.min(total, 200_000);
let t = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  const body = encodeToBuffer(SetDataRequest, { path: `/bench/p${i % parents}/n${String(i).padStart(10, '0')}`, data, version: -1 }, w);
  if (db.apply(cmd(Op.setData, body)).err !== 0) throw new Error('setData failed');
}
console.log(`setData: ${(n / (Number(process.hrtime.bigint() - t) / 1e9)).toFixed(0)}/s incl. encoding`);
t = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  const r = db.read(Op.getData, { path: `/bench/p${i % parents}/n${String(i).padStart(10, '0')}`, watch: false }, ids, SID);
  if (r.err !== 0) throw new Error('getData failed');
}
console.log(`getData: ${(n / (Number(process.hrtime.bigint() - t) / 1e9)).toFixed(0)}/s`);
// Streaming snapshot: slices of 256 KiB, with a few writes between slices (copy-on-write).
report('before streaming snapshot');
let ts = performance.now();
const cursor = db.beginSnapshot();
let streamed = 0;
let slices = 0;
let maxSlice = 0;
const crcLike = { sum: 0 };
for (;;) {
  const a = performance.now();
  const b = cursor.next();
  maxSlice = Math.max(maxSlice, performance.now() - a);
  if (b === null) break;
  streamed += b.length;
  crcLike.sum = (crcLike.sum + b[b.length - 1]!) | 0; // touch the bytes; they are dropped at once
  slices++;
  for (let k = 0; k < 10; k++) {
    const i = (slices * 7919 + k * 104729) % total; // mostly ahead of the cursor
    const body = encodeToBuffer(SetDataRequest, { path: `/bench/p${i % parents}/n${String(i).padStart(10, '0')}`, data, version: -1 }, w);
    if (db.apply(cmd(Op.setData, body)).err !== 0) throw new Error('setData failed');
  }
}
console.log(`streaming snapshot: ${mb(streamed)} in ${slices} slices, ${(performance.now() - ts).toFixed(0)} ms, longest slice ${maxSlice.toFixed(1)} ms, ${cursor.preimages} pre-images`);
report('after streaming snapshot');
ts = performance.now();
const chunks = db.serialize();
const bytes = chunks.reduce((s, c) => s + c.length, 0);
console.log(`serialize (synchronous, whole in memory): ${mb(bytes)} in ${(performance.now() - ts).toFixed(0)} ms`);
ts = performance.now();
const loader = ZkDatabase.loader({}, { totalBytes: bytes });
const piece = Buffer.allocUnsafe(1 << 20);
let fill = 0;
for (const c of chunks) {
  for (let off = 0; off < c.length; ) {
    const n = c.copy(piece, fill, off, Math.min(c.length, off + piece.length - fill));
    fill += n;
    off += n;
    if (fill === piece.length) {
      loader.push(piece); // the loader copies what it keeps, so one buffer is reused
      fill = 0;
    }
  }
}
if (fill > 0) loader.push(piece.subarray(0, fill));
const back = loader.finish();
console.log(`incremental load (1 MiB pieces): ${(performance.now() - ts).toFixed(0)} ms, nodeCount ${back.nodeCount()}`);
