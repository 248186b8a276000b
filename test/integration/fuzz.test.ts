// A bounded fuzz run against a live server: random and mutated frames on many
// connections, then proof that the server still answers everyone correctly.
// Seeded, so a failure can be replayed with FUZZ_SEED=<seed>.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writer } from '../../src/jute/codec.js';
import { Op, CreateMode } from '../../src/jute/constants.js';
import { ConnectRequest, RequestHeader } from '../../src/jute/records.js';
import { OPS } from '../../src/jute/requests.js';
import { OPEN_ACL_UNSAFE } from '../../src/zk/acl.js';
import { RawClient } from '../support/raw-client.js';
import { startTestServer } from '../support/server.js';
import { rng } from '../support/prng.js';


const acl = [...OPEN_ACL_UNSAFE];
const SAMPLES: [number, unknown][] = [
  [Op.create, { path: '/fz/a', data: Buffer.from('abc'), acl, flags: CreateMode.PERSISTENT }],
  [Op.create2, { path: '/fz/b', data: null, acl, flags: CreateMode.EPHEMERAL_SEQUENTIAL }],
  [Op.createTTL, { path: '/fz/t', data: null, acl, flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 1000 }],
  [Op.getData, { path: '/fz', watch: true }],
  [Op.setData, { path: '/fz', data: Buffer.from('zz'), version: -1 }],
  [Op.getChildren2, { path: '/', watch: true }],
  [Op.delete, { path: '/fz/a', version: -1 }],
  [Op.setACL, { path: '/fz', acl, version: -1 }],
  [Op.multi, { ops: [{ op: Op.check, req: { path: '/fz', version: -1 } }, { op: Op.create, req: { path: '/fz/m', data: null, acl, flags: 0 } }], invalid: false }],
  [Op.multiRead, { ops: [{ op: Op.getData, req: { path: '/fz', watch: false } }], invalid: false }],
  [Op.setWatches2, { relativeZxid: 0, dataWatches: ['/fz'], existWatches: ['/nope'], childWatches: ['/'], persistentWatches: [], persistentRecursiveWatches: ['/fz'] }],
  [Op.addWatch, { path: '/fz', mode: 1 }],
  [Op.removeWatches, { path: '/fz', type: 3 }],
  [Op.auth, { type: 0, scheme: 'digest', auth: Buffer.from('u:p') }],
  [Op.getEphemerals, { prefixPath: '/' }],
  [Op.whoAmI, {}],
];

function frame(body: Buffer): Buffer {
  const f = Buffer.alloc(4 + body.length);
  f.writeInt32BE(body.length, 0);
  body.copy(f, 4);
  return f;
}

/** Encodes `req` as a request of `op`, but may announce another opcode in the header. */
function encodeRequest(xid: number, headerOp: number, op: number, req: unknown): Buffer {
  const w = new Writer();
  RequestHeader.encode(w, { xid, type: headerOp });
  OPS.get(op)!.request.encode(w, req);
  return w.toBuffer();
}

function mutate(b: Buffer, r: () => number): Buffer {
  const out = Buffer.from(b);
  const kind = Math.floor(r() * 4);
  if (kind === 0 && out.length > 0) {
    for (let i = 0; i < 1 + Math.floor(r() * 4); i++) out[Math.floor(r() * out.length)] = Math.floor(r() * 256);
    return out;
  }
  if (kind === 1) return out.subarray(0, Math.floor(r() * out.length)); // truncated
  if (kind === 2) {
    // a length field set to something huge or negative
    const at = 8 + Math.floor(r() * Math.max(1, out.length - 12));
    if (at + 4 <= out.length) out.writeInt32BE(r() < 0.5 ? -2 - Math.floor(r() * 100) : 0x7ffffff0, at);
    return out;
  }
  return Buffer.concat([out, Buffer.from(Array.from({ length: Math.floor(r() * 16) }, () => Math.floor(r() * 256)))]);
}

test('the server survives random and mutated frames and keeps serving correctly', async () => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
  const r = rng(seed);
  const s = await startTestServer({ extendedTypesEnabled: true, maxClientCnxns: 0 });
  try {
    const setup = await RawClient.connect(s.port);
    await setup.request(Op.create, { path: '/fz', data: null, acl, flags: 0 });
    const ROUNDS = 300;
    for (let round = 0; round < ROUNDS; round++) {
      const c = await RawClient.open(s.port);
      const mode = r();
      const frames: Buffer[] = [];
      if (mode < 0.15) {
        // pure garbage from the first byte
        frames.push(Buffer.from(Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256))));
      } else {
        const w = new Writer();
        ConnectRequest.encode(w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 2000, sessionId: 0, passwd: Buffer.alloc(16), readOnly: false });
        frames.push(frame(mode < 0.25 ? mutate(w.toBuffer(), r) : w.toBuffer()));
        for (let i = 0; i < 1 + Math.floor(r() * 12); i++) {
          const [op, req] = SAMPLES[Math.floor(r() * SAMPLES.length)]!;
          const body = encodeRequest(i + 1, r() < 0.1 ? Math.floor(r() * 300) - 20 : op, op, req);
          frames.push(frame(r() < 0.6 ? mutate(body, r) : body));
        }
      }
      c.writeRaw(Buffer.concat(frames));
      await new Promise((res) => setTimeout(res, r() < 0.5 ? 0 : 3));
      c.destroy();
    }
    // Everyone else is still served, and served correctly.
    const check = await RawClient.connect(s.port);
    const created = await check.request(Op.create, { path: '/after-fuzz', data: Buffer.from('ok'), acl, flags: 0 });
    assert.equal(created.header.err, 0, `seed ${seed}`);
    const got = await check.request(Op.getData, { path: '/after-fuzz', watch: false });
    assert.equal(got.body.data.toString(), 'ok', `seed ${seed}`);
    const stillSetup = await setup.request(Op.exists, { path: '/fz', watch: false });
    assert.equal(stillSetup.header.err, 0, `seed ${seed}: a bystander connection keeps working`);
    const metrics = await (await s.server.metrics.registry()).getSingleMetricAsString('kraal_bad_frames_total');
    assert.match(metrics, /kraal_bad_frames_total\{reason="/, 'refused frames are counted');
    check.destroy();
    setup.destroy();
  } finally {
    await s.destroy();
  }
});
