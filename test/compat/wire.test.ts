// Raw-socket differential scenarios: things real clients hide (frame sizes, header-only error
// replies, unknown opcodes, oversized frames, notification ordering, four-letter-word layouts).
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { normalize } from '../harness/normalize.js';
import { fourLetterWord, type Target } from '../harness/servers.js';
import { setupPair } from '../harness/targets.js';

const pair = setupPair({ name: 'wire', portBase: 22400 });

// ---- minimal jute writer ----
class W {
  private parts: Buffer[] = [];
  int(v: number) { const b = Buffer.alloc(4); b.writeInt32BE(v); this.parts.push(b); return this; }
  long(v: bigint) { const b = Buffer.alloc(8); b.writeBigInt64BE(v); this.parts.push(b); return this; }
  bool(v: boolean) { this.parts.push(Buffer.from([v ? 1 : 0])); return this; }
  buf(v: Buffer | null) { if (v === null) return this.int(-1); this.int(v.length); this.parts.push(v); return this; }
  str(s: string) { return this.buf(Buffer.from(s, 'utf8')); }
  raw(b: Buffer) { this.parts.push(b); return this; }
  bytes() { return Buffer.concat(this.parts); }
  frame() { const body = this.bytes(); const l = Buffer.alloc(4); l.writeInt32BE(body.length); return Buffer.concat([l, body]); }
}

type Frame = Buffer | 'closed' | 'timeout';

class Raw {
  private buf = Buffer.alloc(0);
  private frames: Buffer[] = [];
  private closed = false;
  private waiters: (() => void)[] = [];
  constructor(private sock: net.Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4) {
        const n = this.buf.readInt32BE(0);
        if (this.buf.length < 4 + n) break;
        this.frames.push(this.buf.subarray(4, 4 + n));
        this.buf = this.buf.subarray(4 + n);
      }
      this.wake();
    });
    sock.on('close', () => { this.closed = true; this.wake(); });
    sock.on('error', () => { this.closed = true; this.wake(); });
  }
  private wake() { const w = this.waiters; this.waiters = []; w.forEach((f) => f()); }
  static open(t: Target): Promise<Raw> {
    return new Promise((res, rej) => {
      const s = net.connect({ host: t.host, port: t.port }, () => res(new Raw(s)));
      s.once('error', rej);
    });
  }
  write(b: Buffer) { this.sock.write(b); }
  async next(timeoutMs = 3000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.frames.length) return this.frames.shift()!;
      if (this.closed) return 'closed';
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((r) => { const t = setTimeout(r, left); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }
  get pending() { return this.buf.length; }
  close() { this.sock.destroy(); }
}

function connectReq(timeout: number, readOnly: boolean | undefined, sessionId = 0n, passwd = Buffer.alloc(16)): Buffer {
  const w = new W().int(0).long(0n).int(timeout).long(sessionId).buf(passwd);
  if (readOnly !== undefined) w.bool(readOnly);
  return w.frame();
}

function parseConnectResp(f: Frame) {
  if (typeof f === 'string') return f;
  return {
    length: f.length, protocolVersion: f.readInt32BE(0), timeOut: f.readInt32BE(4),
    sessionId: f.readBigInt64BE(8), passwdLen: f.readInt32BE(16),
    readOnly: f.length > 36 ? f[36] : 'absent',
    // ZooKeeper: top byte of a session id = server id (1 for a standalone server)
    sessionIdTopByte: Number(f.readBigUInt64BE(8) >> 56n),
  };
}

function replyHeader(f: Frame) {
  if (typeof f === 'string') return f;
  return { length: f.length, xid: f.readInt32BE(0), zxid: f.readBigInt64BE(4), err: f.readInt32BE(12) };
}

async function session(t: Target): Promise<Raw> {
  const r = await Raw.open(t);
  r.write(connectReq(30000, false));
  const f = await r.next();
  assert.ok(Buffer.isBuffer(f), 'connect response');
  return r;
}

const req = (xid: number, type: number, body: (w: W) => W = (w) => w) => body(new W().int(xid).int(type)).frame();
const OPEN_ACL = (w: W) => w.int(1).int(31).str('world').str('anyone');
const create = (xid: number, path: string, data: Buffer | null, flags = 0) => req(xid, 1, (w) => OPEN_ACL(w.str(path).buf(data)).int(flags));

describe('wire', { concurrency: false }, () => {
  test('ConnectResponse sizes and timeout clamping', { timeout: 60000 }, async () => {
    await pair.compare('connect', async (t) => {
      const out: Record<string, unknown> = {};
      for (const [label, to, ro] of [['ro byte', 30000, false], ['no ro byte', 30000, undefined], ['ro true', 30000, true],
        ['low timeout', 1000, false], ['high timeout', 100000, false]] as const) {
        const r = await Raw.open(t);
        r.write(connectReq(to, ro));
        out[label] = parseConnectResp(await r.next());
        r.close();
      }
      // reattach with wrong password -> timeOut 0, id 0, then close
      const a = await Raw.open(t);
      a.write(connectReq(30000, false));
      const first = await a.next();
      const sid = Buffer.isBuffer(first) ? first.readBigInt64BE(8) : 0n;
      const passwd = Buffer.isBuffer(first) ? Buffer.from(first.subarray(20, 36)) : Buffer.alloc(16);
      const bad = await Raw.open(t);
      bad.write(connectReq(30000, false, sid, Buffer.alloc(16, 7)));
      out['wrong password'] = parseConnectResp(await bad.next());
      out['wrong password then'] = await bad.next(2000);
      const good = await Raw.open(t);
      good.write(connectReq(30000, false, sid, passwd));
      const g = await good.next();
      out['reattach same id'] = Buffer.isBuffer(g) && g.readBigInt64BE(8) === sid;
      out['reattach same passwd'] = Buffer.isBuffer(g) && Buffer.from(g.subarray(20, 36)).equals(passwd);
      // lastZxidSeen in the future -> closed without reply
      const fut = await Raw.open(t);
      fut.write(new W().int(0).long(1n << 40n).int(30000).long(0n).buf(Buffer.alloc(16)).bool(false).frame());
      out['future zxid'] = await fut.next(2000);
      for (const s of [a, bad, good, fut]) s.close();
      return normalize(out, [t.port]);
    }, (o: any) => {
      assert.equal(o['ro byte'].length, 37);
      assert.equal(o['no ro byte'].length, 36);
      assert.equal(o['low timeout'].timeOut, 4000);
      assert.equal(o['high timeout'].timeOut, 40000);
    });
  });

  test('header-only error replies, unknown opcode, pipelining', { timeout: 60000 }, async () => {
    await pair.compare('errors', async (t) => {
      const out: Record<string, unknown> = {};
      const r = await session(t);
      r.write(req(1, 4, (w) => w.str('/wire_missing').bool(false)));
      out['getData missing'] = replyHeader(await r.next());
      r.write(create(2, '/wire_e', null));
      r.write(create(3, '/wire_e', null));
      r.write(req(4, 2, (w) => w.str('/').int(-1)));
      r.write(req(5, 1, (w) => OPEN_ACL(w.str('bad//path').buf(null)).int(0)));
      r.write(req(6, 3, (w) => w.str('/wire_e').bool(false)));
      for (let i = 2; i <= 6; i++) out[`pipelined ${i}`] = replyHeader(await r.next());
      r.write(req(7, 9, (w) => w.str('/no/such')));
      const syncF = await r.next();
      out['sync missing'] = typeof syncF === 'string' ? syncF : { ...replyHeader(syncF) as object, body: syncF.subarray(16).toString('hex') };
      r.write(req(8, 999, (w) => w.str('/')));
      out['unknown opcode'] = replyHeader(await r.next());
      out['after unknown opcode'] = await r.next(2000);
      r.close();
      const r2 = await session(t);
      r2.write(req(1, 11, (w) => w)); // ping with normal xid
      out['ping opcode'] = replyHeader(await r2.next());
      r2.write(req(-2, 11));
      out['ping -2'] = replyHeader(await r2.next());
      r2.write(req(2, 14, (w) => w.int(-1).bool(true).int(-1)));
      const m = await r2.next();
      out['empty multi'] = typeof m === 'string' ? m : { ...replyHeader(m) as object, body: m.subarray(16).toString('hex') };
      r2.close();
      return normalize(out, [t.port]);
    }, (o: any) => {
      assert.equal(o['getData missing'].err, -101);
      assert.equal(o['getData missing'].length, 16);
      assert.equal(o['unknown opcode'].err, -6);
    });
  });

  test('oversized frame closes without reply; 1048575 accepted', { timeout: 60000 }, async () => {
    await pair.compare('maxbuffer', async (t) => {
      const out: Record<string, unknown> = {};
      const r = await session(t);
      const l = Buffer.alloc(4); l.writeInt32BE(1048576);
      r.write(Buffer.concat([l, Buffer.alloc(64)]));
      out['1048576'] = await r.next(3000);
      const r2 = await session(t);
      // exactly 1048575 bytes: setData on a missing node with padding data
      const head = new W().int(1).int(5).str('/wire_max').bytes();
      const dataLen = 1048575 - head.length - 4 - 4;
      const body = new W().raw(head).buf(Buffer.alloc(dataLen, 97)).int(-1).bytes();
      assert.equal(body.length, 1048575);
      const lb = Buffer.alloc(4); lb.writeInt32BE(body.length);
      r2.write(Buffer.concat([lb, body]));
      out['1048575'] = replyHeader(await r2.next(5000));
      const n = Buffer.alloc(4); n.writeInt32BE(-5);
      const r3 = await session(t);
      r3.write(n);
      out['negative length'] = await r3.next(3000);
      for (const s of [r, r2, r3]) s.close();
      return normalize(out, [t.port]);
    }, (o: any) => {
      assert.equal(o['1048576'], 'closed');
      assert.equal(o['1048575'].err, -101);
    });
  });

  test('notification ordering: event before the reply of a later request', { timeout: 60000 }, async () => {
    await pair.compare('ordering', async (t) => {
      const out: unknown[] = [];
      const a = await session(t);
      const b = await session(t);
      a.write(create(1, '/wire_w', Buffer.from('x')));
      out.push(['create', replyHeader(await a.next())]);
      a.write(req(2, 4, (w) => w.str('/wire_w').bool(true)));
      out.push(['get watch', replyHeader(await a.next())]);
      a.write(req(3, 5, (w) => w.str('/wire_w').buf(Buffer.from('y')).int(-1)));
      for (let i = 0; i < 2; i++) {
        const f = await a.next();
        out.push(['own write', typeof f === 'string' ? f : { ...replyHeader(f) as object, body: f.length > 16 && f.readInt32BE(0) === -1 ? f.subarray(16).toString('hex') : `${f.length - 16} bytes` }]);
      }
      a.write(req(4, 12, (w) => w.str('/wire_w').bool(true)));
      out.push(['children watch', replyHeader(await a.next())]);
      a.write(req(5, 3, (w) => w.str('/wire_w').bool(true)));
      out.push(['exists watch', replyHeader(await a.next())]);
      b.write(create(1, '/wire_w/c', null));
      out.push(['b create', replyHeader(await b.next())]);
      b.write(req(2, 2, (w) => w.str('/wire_w/c').int(-1)));
      out.push(['b delete', replyHeader(await b.next())]);
      b.write(req(3, 2, (w) => w.str('/wire_w').int(-1)));
      out.push(['b delete parent', replyHeader(await b.next())]);
      a.write(req(6, 3, (w) => w.str('/wire_w').bool(false)));
      for (let i = 0; i < 3; i++) {
        const f = await a.next();
        out.push(['a after b', typeof f === 'string' ? f : { ...replyHeader(f) as object, body: f.readInt32BE(0) === -1 ? f.subarray(16).toString('hex') : `${f.length - 16} bytes` }]);
      }
      out.push(['nothing more', await a.next(500)]);
      a.close(); b.close();
      return normalize(out, [t.port]);
    });
  });

  test('four-letter words: key sets and layout', { timeout: 60000 }, async () => {
    await pair.compare('4lw', async (t) => {
      const keys = (s: string, sep: RegExp) => s.split('\n').filter((l) => l.trim()).map((l) => l.split(sep)[0]!.trim());
      const out: Record<string, unknown> = {};
      out.ruok = await fourLetterWord(t.host, t.port, 'ruok');
      out.isro = await fourLetterWord(t.host, t.port, 'isro');
      const hold = await session(t); // one client connection, to shape cons/stat
      out.srvr = keys(await fourLetterWord(t.host, t.port, 'srvr'), /:/);
      const stat = await fourLetterWord(t.host, t.port, 'stat');
      out.stat = stat.split('\n').map((l) => (/^ \//.test(l) ? ' /<client>' : l.split(':')[0]));
      out.mntr = keys(await fourLetterWord(t.host, t.port, 'mntr'), /\t/).sort();
      out.mntrFormat = (await fourLetterWord(t.host, t.port, 'mntr')).split('\n').filter(Boolean).every((l) => /^zk_[a-z0-9_]+\t\S/.test(l));
      out.conf = keys(await fourLetterWord(t.host, t.port, 'conf'), /=/);
      out.envi = keys(await fourLetterWord(t.host, t.port, 'envi'), /=/);
      out.wchs = (await fourLetterWord(t.host, t.port, 'wchs')).replace(/\d+/g, 'N');
      out.cons = (await fourLetterWord(t.host, t.port, 'cons')).split('\n').filter((l) => l.trim())
        .map((l) => l.replace(/\/[0-9.:]+/, '/<ip:port>').replace(/=[^,)]*/g, '=').replace(/\[\d+\]/, '[N]'));
      (out.cons as string[]).sort();
      out.dirs = keys(await fourLetterWord(t.host, t.port, 'dirs'), /:/);
      out.crst = await fourLetterWord(t.host, t.port, 'crst');
      out.srst = await fourLetterWord(t.host, t.port, 'srst');
      out.gtmk = await fourLetterWord(t.host, t.port, 'gtmk');
      out.wchc = (await fourLetterWord(t.host, t.port, 'wchc')).replace(/0x[0-9a-f]+/g, '<sid>');
      out.wchp = await fourLetterWord(t.host, t.port, 'wchp');
      out.unknown = await fourLetterWord(t.host, t.port, 'abcd').catch((e) => `error ${(e as Error).message}`);
      hold.close();
      return out;
    }, (o: any) => {
      assert.equal(o.ruok, 'imok');
      assert.equal(o.isro, 'rw');
      assert.ok(o.mntr.includes('zk_znode_count'));
    });
  });
});
