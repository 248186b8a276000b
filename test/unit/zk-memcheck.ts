// Not a unit test: a quick memory and throughput check of the state machine.
//   npx tsc -p . && node --expose-gc dist/test/unit/zk-memcheck.js [znodes=1000000] [dataBytes=100]
// Builds the tree through ZkDatabase.apply with real encoded Commands (1000 parents
// × N/1000 children), then reports RSS/heap and apply/read rates.

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
t = process.hrtime.bigint();
const chunks = db.serialize();
const bytes = chunks.reduce((s, c) => s + c.length, 0);
console.log(`serialize: ${mb(bytes)} in ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(0)} ms`);
t = process.hrtime.bigint();
const back = ZkDatabase.deserialize(Buffer.concat(chunks));
console.log(`deserialize: ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(0)} ms, nodeCount ${back.nodeCount()}`);
