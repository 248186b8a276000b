// Raw-socket differential scenarios: things real clients hide (frame sizes, header-only error
// replies, unknown opcodes, oversized frames, notification ordering, four-letter-word layouts).
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { normalize, sortRuns } from '../harness/normalize.js';
import { fourLetterWord, type Target } from '../harness/servers.js';
import { connectReq, create, labelledSession, OPEN_ACL, Raw, replyHeader, req, session, W, type Frame } from '../harness/raw.js';
import { setupPair } from '../harness/targets.js';

const pair = setupPair({ name: 'wire', portBase: 22400 });

// ---- raw client: see ../harness/raw.ts ----

function parseConnectResp(f: Frame) {
  if (typeof f === 'string') return f;
  return {
    length: f.length, protocolVersion: f.readInt32BE(0), timeOut: f.readInt32BE(4),
    sessionId: f.readBigInt64BE(8), passwdLen: f.readInt32BE(16),
    readOnly: f.length > 36 ? f[36] : 'absent',
    // The top byte of the session id is deliberately NOT compared. ZooKeeper puts its server id
    // there (1 for a standalone server, so its ids are >= 2^56); Kraal leaves it 0 so that every
    // session id stays below 2^53 and is exact as a JS number. Clients treat session ids as
    // opaque; what they rely on is that ids are non-zero and distinct, which the scenario checks
    // ('session ids non-zero and distinct', and the normalizer's <session#n> labels).
  };
}

// ---- four-letter words: helpers ----

/** Maps session ids printed as 0x<hex> to labels; unknown ids become <other>, 0x0 stays. */
function labeller(sessions: Record<string, { hex: string }>): (hex: string) => string {
  const m = new Map(Object.entries(sessions).map(([label, s]) => [s.hex, label]));
  return (h) => (h === '0x0' ? '0x0' : (m.get(h.toLowerCase()) ?? '<other>'));
}

const lines = (s: string) => s.split('\n');

/**
 * srvr/stat body: keys in order; exact values for Mode, Node count, Connections, Outstanding;
 * the others reduced to their shape (ZooKeeper prints the average latency as a Java double).
 */
function srvrLine(l: string): string {
  const m = /^([^:]+): (.*)$/.exec(l);
  if (!m) return l;
  const [, k, v] = m as unknown as [string, string, string];
  if (k === 'Zookeeper version') return `${k}: <version>`;
  if (k === 'Latency min/avg/max') return `${k}: ${/^\d+\/\d+\.\d+\/\d+$/.test(v) ? '<long>/<double>/<long>' : v}`;
  if (k === 'Zxid') return `${k}: ${/^0x[0-9a-f]+$/.test(v) ? '0x<hex>' : v}`;
  if (['Mode', 'Node count', 'Connections', 'Outstanding'].includes(k)) return l;
  return `${k}: ${/^\d+$/.test(v) ? '<long>' : v}`;
}

/**
 * One cons/stat connection line: address and values are dropped except queued, to, lop and
 * sid (as a label). The interest-ops number in brackets is reduced to [N]: ZooKeeper shows 0
 * for the connection the word itself arrived on (its selection key is cancelled) and 1 for the
 * others, an artefact of its NIO loop that no client interprets.
 */
function connLine(l: string, label: (hex: string) => string): string {
  const m = /^ \/(\S+):(\d+)\[(\d+)\]\((.*)\)$/.exec(l);
  if (!m) return `UNPARSED ${l}`;
  const fields = m[4]!.split(',').map((kv) => {
    const i = kv.indexOf('=');
    const k = kv.slice(0, i);
    const v = kv.slice(i + 1);
    if (k === 'sid') return `sid=${label(v)}`;
    if (k === 'queued' || k === 'to' || k === 'lop') return kv;
    if (['lcxid', 'lzxid'].includes(k)) return `${k}=${/^0x[0-9a-f]+$/.test(v) ? '0x<hex>' : v}`;
    return `${k}=${/^\d+$/.test(v) ? '<long>' : v}`;
  });
  return ` /<ip:port>[N](${fields.join(',')})`;
}

/**
 * dump: section headers and line shapes; session ids as labels. Expiry buckets depend on timing
 * (and ZooKeeper keeps emptied buckets for a while), so their "N expire at <date>:" lines are
 * only checked for format, set counts are blanked, and ids of sessions left over from earlier
 * scenarios (still alive until their timeout) are dropped. Entries inside a section are sorted.
 */
function dumpLines(text: string, label: (hex: string) => string): { lines: string[]; expiryLinesWellFormed: boolean } {
  let ok = true;
  const out: string[] = [];
  for (const l of lines(text)) {
    if (/ expire at /.test(l)) {
      ok &&= /^\d+ expire at (Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} \S+ \d{4}:$/.test(l);
      continue;
    }
    let m: RegExpExecArray | null;
    if ((m = /^(Session|Connections) Sets \(\d+\)\/\(\d+\):$/.exec(l))) out.push(`${m[1]} Sets (N)/(N):`);
    else if ((m = /^\t(0x[0-9a-f]+)$/.exec(l))) { if (label(m[1]!) !== '<other>') out.push(`\t${label(m[1]!)}`); }
    else if ((m = /^(0x[0-9a-f]+):$/.exec(l))) out.push(`${label(m[1]!)}:`);
    else if ((m = /^\tip: \/[0-9.]+:\d+ sessionId: (0x[0-9a-f]+)$/.exec(l))) { if (label(m[1]!) !== '<other>') out.push(`\tip: /<ip:port> sessionId: ${label(m[1]!)}`); }
    else out.push(l);
  }
  return { lines: sortRuns(out, /^\t/), expiryLinesWellFormed: ok };
}

/** wchc / wchp: blocks of a header line and tab-indented entries, as a sorted map (ZooKeeper iterates hash maps). */
function watchBlocks(text: string, mapHeader: (h: string) => string, mapEntry: (e: string) => string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let cur: string[] | undefined;
  for (const l of lines(text)) {
    if (l === '') continue;
    if (l.startsWith('\t')) cur?.push(mapEntry(l.slice(1)));
    else out[mapHeader(l)] = cur = [];
  }
  for (const k of Object.keys(out)) out[k]!.sort();
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * envi: ZooKeeper prints its JVM's java.* properties; Kraal runs no JVM and cannot report them
 * honestly, so it prints node.version in their place. This allow-list is the only accepted
 * difference: both runs map these keys to <runtime> (and the scenario checks that each side
 * printed exactly its own list).
 */
const ENVI_ZOOKEEPER_ONLY = ['java.version', 'java.vendor', 'java.home', 'java.class.path', 'java.library.path', 'java.io.tmpdir', 'java.compiler'];
const ENVI_KRAAL_ONLY = ['node.version'];

function enviKeys(text: string, kind: Target['kind']): { keys: string[]; runtimeKeysAsExpected: boolean } {
  const keys = lines(text).filter((l) => l.includes('=')).map((l) => l.slice(0, l.indexOf('=')));
  const runtime = keys.filter((k) => ENVI_ZOOKEEPER_ONLY.includes(k) || ENVI_KRAAL_ONLY.includes(k));
  const expected = kind === 'zookeeper' ? ENVI_ZOOKEEPER_ONLY : ENVI_KRAAL_ONLY;
  const mapped = keys.map((k) => (runtime.includes(k) ? '<runtime>' : k)).filter((k, i, a) => k !== '<runtime>' || a[i - 1] !== '<runtime>');
  return { keys: [lines(text)[0]!, ...mapped], runtimeKeysAsExpected: JSON.stringify(runtime) === JSON.stringify(expected) };
}

/** conf: keys in order and their values, except ports, directories and sizes (reduced to their shape). */
function confLines(text: string, t: Target): string[] {
  return lines(text).filter(Boolean).map((l) => {
    const i = l.indexOf('=');
    const k = l.slice(0, i);
    const v = l.slice(i + 1);
    if (k === 'clientPort') return `${k}=${v === String(t.port) ? '<port>' : v}`;
    // ZooKeeper keeps its files in <dataDir>/version-2 and prints that; Kraal keeps them in <dataDir>.
    if (k === 'dataDir' || k === 'dataLogDir') return `${k}=${v.replace(/\/version-2$/, '') === t.dataDir ? '<dataDir>' : v}`;
    if (k.endsWith('Size')) return `${k}=${/^\d+$/.test(v) ? '<long>' : v}`;
    return l;
  });
}

/** stmk with its 8-byte mask; `partial` sends only part of the mask (ZooKeeper then prints nothing). */
function setTraceMask(t: Target, mask: bigint, partial = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const b = Buffer.alloc(12);
    b.write('stmk', 'latin1');
    b.writeBigInt64BE(mask, 4);
    const chunks: Buffer[] = [];
    const sock = net.connect({ host: t.host, port: t.port }, () => sock.write(partial ? b.subarray(0, 6) : b));
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('stmk timed out')); }, 5000);
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('utf8')); });
  });
}

/** mntr as [key, value] pairs. */
async function mntr(t: Target): Promise<[string, string][]> {
  const text = await fourLetterWord(t.host, t.port, 'mntr');
  return lines(text).filter(Boolean).map((l) => [l.slice(0, l.indexOf('\t')), l.slice(l.indexOf('\t') + 1)] as [string, string]);
}

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
      const ids = [...Object.values(out).map((x) => (x as { sessionId?: bigint }).sessionId), sid];
      out['session ids non-zero and distinct'] = ids.every((x) => typeof x === 'bigint' && x !== 0n) && new Set(ids.map(String)).size === ids.length;
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

  test('four-letter words: layouts', { timeout: 60000 }, async () => {
    await pair.compare('4lw', async (t) => {
      const w = (word: string) => fourLetterWord(t.host, t.port, word);
      const out: Record<string, unknown> = {};
      out.ruok = await w('ruok');
      out.isro = await w('isro');
      const hold = await labelledSession(t); // one client connection, to shape cons/stat/dump
      const label = labeller({ H: hold });
      out.srvr = lines(await w('srvr')).map(srvrLine);
      out.stat = sortRuns(lines(await w('stat')).map((l) => (l.startsWith(' /') ? connLine(l, label) : srvrLine(l))), /^ \//);
      out.cons = sortRuns(lines(await w('cons')).map((l) => (l.startsWith(' /') ? connLine(l, label) : l)), /^ \//);
      out.conf = confLines(await w('conf'), t);
      out.envi = enviKeys(await w('envi'), t.kind);
      out.dirs = lines(await w('dirs')).map((l) => l.replace(/: \d+$/, ': <long>'));
      out.dump = dumpLines(await w('dump'), label);
      out.wchs = await w('wchs');
      out.wchc = await w('wchc');
      out.wchp = await w('wchp');
      out.gtmk = await w('gtmk');
      out.hash = await w('hash');
      out.crst = await w('crst');
      out.srst = await w('srst');
      out.srvrAfterSrst = lines(await w('srvr')).filter((l) => /^(Latency|Received|Sent)/.test(l)).map((l) => l.replace(/\d+$/, (n) => (Number(n) <= 2 ? 'small' : n)));
      out.unknown = await w('abcd').catch((e) => `error ${(e as Error).message}`);
      hold.r.close();
      return out;
    }, (o: any) => {
      assert.equal(o.ruok, 'imok');
      assert.equal(o.isro, 'rw');
      assert.equal(o.gtmk, '306');
      assert.equal(o.wchc, '\n');
      assert.equal(o.envi.runtimeKeysAsExpected, true);
      assert.ok(o.cons.some((l: string) => l.includes('sid=H,lop=')), 'the held session is listed by cons');
    });
  });

  test('four-letter words: watches (3.8 data table), cons, dump and mntr values with sessions', { timeout: 60000 }, async () => {
    await pair.compare('4lw-sessions', async (t) => {
      const w = (word: string) => fourLetterWord(t.host, t.port, word);
      const out: Record<string, unknown> = {};
      const A = await labelledSession(t);
      const B = await labelledSession(t);
      const C = await labelledSession(t);
      const label = labeller({ A, B, C });
      const call = async (s: Raw, frame: Buffer) => { s.write(frame); return replyHeader(await s.next()); };
      out.ops = normalize([
        await call(A.r, create(1, '/wire_4lw', Buffer.from('x'))),
        await call(A.r, create(2, '/wire_4lw/e', Buffer.from('eph'), 1)),
        await call(A.r, req(3, 4, (x) => x.str('/wire_4lw').bool(true))), // data watch
        await call(A.r, req(4, 3, (x) => x.str('/wire_4lw_missing').bool(true))), // exist watch on a missing node
        await call(A.r, req(5, 8, (x) => x.str('/wire_4lw').bool(true))), // child watch (not in the data table)
        await call(B.r, req(1, 106, (x) => x.str('/wire_4lw').int(0))), // persistent
        await call(B.r, req(2, 106, (x) => x.str('/wire_4lw/e').int(1))), // persistent recursive
        await call(B.r, req(3, 8, (x) => x.str('/').bool(true))),
        await call(C.r, req(1, 8, (x) => x.str('/wire_4lw').bool(true))), // C holds only a child watch
      ]);
      out.wchs = await w('wchs');
      out.wchc = watchBlocks(await w('wchc'), label, (p) => p);
      out.wchp = watchBlocks(await w('wchp'), (p) => p, label);
      out.cons = sortRuns(lines(await w('cons')).map((l) => (l.startsWith(' /') ? connLine(l, label) : l)), /^ \//);
      out.stat = sortRuns(lines(await w('stat')).map((l) => (l.startsWith(' /') ? connLine(l, label) : srvrLine(l))), /^ \//);
      out.dump = dumpLines(await w('dump'), label);
      const m = new Map(await mntr(t));
      // values that follow from the data tree and the live connections, identical on both sides
      out.mntr = Object.fromEntries(['zk_server_state', 'zk_znode_count', 'zk_ephemerals_count', 'zk_watch_count',
        'zk_num_alive_connections', 'zk_outstanding_requests', 'zk_approximate_data_size', 'zk_local_sessions'].map((k) => [k, m.get(k)]));
      for (const s of [A, B, C]) s.r.close();
      return out;
    }, (o: any) => {
      assert.equal(o.wchs, '2 connections watching 3 paths\nTotal watches:4\n', 'child watches are not in the 3.8 data table');
      assert.deepEqual(o.wchc, { A: ['/wire_4lw', '/wire_4lw_missing'], B: ['/wire_4lw', '/wire_4lw/e'] });
      assert.equal(o.mntr.zk_watch_count, '9', 'data table 4 + child table 5: persistent and recursive watches are in both');
      assert.equal(o.dump.expiryLinesWellFormed, true);
    });
  });

  test('four-letter words: mntr key set (3.8.0 standalone) and format', { timeout: 60000 }, async () => {
    await pair.compare('mntr', async (t) => {
      const entries = await mntr(t);
      const keys = entries.map(([k]) => k);
      const perNamespace = (k: string) => /_per_namespace$/.test(k);
      return {
        // the exact key set, including the per-namespace keys of the namespaces the earlier
        // scenarios of this file read or wrote (wire_e, wire_w, wire_4lw)
        keys: [...keys].sort(),
        perNamespaceKeys: keys.filter(perNamespace).sort(),
        // and the order of the fixed keys
        fixedKeyOrder: keys.filter((k) => !perNamespace(k)),
        lineFormat: entries.every(([k, v]) => /^zk_[a-z0-9_]+$/.test(k) && v.length > 0),
        numeric: entries.filter(([k]) => k !== 'zk_version' && k !== 'zk_server_state').every(([, v]) => /^-?\d+(\.\d+)?$/.test(v)),
        javaDoubles: entries.filter(([k]) => /^zk_avg_/.test(k) || k === 'zk_connection_drop_probability').every(([, v]) => /^-?\d+\.\d+$/.test(v)),
        version: /^\d+\.\d+\.\d+-\S+, built on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/.test(entries[0]?.[1] ?? ''),
      };
    }, (o: any) => {
      assert.ok(o.keys.includes('zk_znode_count'));
      assert.ok(o.perNamespaceKeys.includes('zk_sum_wire_w_write_per_namespace'));
    });
  });

  test('four-letter words: stmk/gtmk keep a trace mask per server', { timeout: 60000 }, async () => {
    await pair.compare('tracemask', async (t) => {
      const gtmk = () => fourLetterWord(t.host, t.port, 'gtmk');
      const out: unknown[] = [];
      out.push(['gtmk', await gtmk()]);
      out.push(['stmk 16', await setTraceMask(t, 16n)]);
      out.push(['gtmk', await gtmk()]);
      out.push(['stmk partial mask', await setTraceMask(t, 99n, true)]);
      out.push(['gtmk', await gtmk()]);
      out.push(['stmk -1', await setTraceMask(t, -1n)]);
      out.push(['gtmk', await gtmk()]);
      out.push(['stmk 306', await setTraceMask(t, 306n)]);
      out.push(['gtmk', await gtmk()]);
      return out;
    }, (o: any) => {
      assert.deepEqual(o[2], ['gtmk', '16']);
    });
  });
});
