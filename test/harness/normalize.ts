// Normalization of observations so that ZooKeeper and Kraal results can be compared with
// assert.deepStrictEqual: zxids are renumbered in order of appearance (<zxid#1>, ...), session
// ids likewise (<session#1>, ...), times become <time>, ports <port>. Everything else (error
// codes/names, versions, cversion, aversion, dataLength, numChildren, paths, data) is kept.

const ZXID_KEYS = new Set(['czxid', 'mzxid', 'pzxid', 'cZxid', 'mZxid', 'pZxid', 'zxid', 'lastZxid', 'last_zxid', 'czxid_', 'mzxid_']);
const TIME_KEYS = new Set(['ctime', 'mtime', 'time', 'timestamp']);
const SESSION_KEYS = new Set(['ephemeralOwner', 'ephemeral_owner', 'sessionId', 'session_id', 'session', 'clientId', 'owner']);
const PORT_KEYS = new Set(['port', 'clientPort', 'localPort', 'remotePort']);

function toBig(v: unknown): bigint | undefined {
  try {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
    if (typeof v === 'string' && /^-?(0x[0-9a-f]+|\d+)$/i.test(v.trim())) {
      const s = v.trim();
      return s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s);
    }
    if (v && typeof v === 'object' && 'toString' in v) {
      // node-zookeeper-client longs are 8-byte Buffers
      if (Buffer.isBuffer(v)) return v.length === 8 ? v.readBigInt64BE(0) : undefined;
    }
  } catch { /* not a number */ }
  return undefined;
}

export class Normalizer {
  private readonly zxids = new Map<string, string>();
  private readonly sessions = new Map<string, string>();
  constructor(private readonly ports: number[] = []) {}

  /** zxid → <zxid#n> in order of first appearance; 0 and -1 kept. */
  zxid(v: unknown): unknown {
    const b = toBig(v);
    if (b === undefined) return v;
    if (b === 0n || b === -1n) return Number(b);
    const k = b.toString();
    let r = this.zxids.get(k);
    if (!r) { r = `<zxid#${this.zxids.size + 1}>`; this.zxids.set(k, r); }
    return r;
  }

  /** session id → <session#n> in order of first appearance; 0 kept. */
  session(v: unknown): unknown {
    const b = toBig(v);
    if (b === undefined) return v;
    if (b === 0n) return 0;
    const k = b.toString();
    let r = this.sessions.get(k);
    if (!r) { r = `<session#${this.sessions.size + 1}>`; this.sessions.set(k, r); }
    return r;
  }

  /** Deep-normalize a JSON-like value. */
  value(v: unknown, key?: string): unknown {
    if (key !== undefined) {
      if (ZXID_KEYS.has(key)) return this.zxid(v);
      if (TIME_KEYS.has(key) && (typeof v === 'number' || typeof v === 'string' || typeof v === 'bigint' || Buffer.isBuffer(v))) return '<time>';
      if (SESSION_KEYS.has(key) && v !== null && typeof v !== 'object') return this.session(v);
      if (SESSION_KEYS.has(key) && Buffer.isBuffer(v)) return this.session(v);
      if (PORT_KEYS.has(key) && typeof v === 'number') return '<port>';
    }
    if (v === null || v === undefined) return v ?? null;
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'string') return this.text(v);
    if (typeof v !== 'object') return v;
    if (Buffer.isBuffer(v)) return { buffer: v.toString('hex') };
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = this.value(x, k);
    return out;
  }

  /** Normalize free text (zkCli / cli_mt output, strings inside results). */
  text(s: string): string {
    let r = s;
    // zkCli stat block
    r = r.replace(/\b(cZxid|mZxid|pZxid) = (0x[0-9a-f]+)/g, (_m, k: string, z: string) => `${k} = ${this.zxid(z)}`);
    r = r.replace(/\b(ctime|mtime) = [^\n]*/g, (_m, k: string) => `${k} = <time>`);
    r = r.replace(/\bephemeralOwner = (0x[0-9a-f]+)/g, (m, z: string) => (/^0x0+$/.test(z) ? m : `ephemeralOwner = ${this.session(z)}`));
    // cli_mt stat block (decimal zxids)
    r = r.replace(/\b(czxid|mzxid|pzxid)=(0x[0-9a-f]+|-?\d+)\b/g, (_m, k: string, z: string) => `${k}=${this.zxid(z)}`);
    // session ids printed in context without 0x (cli_mt: "session Id = 1000010b7770001")
    r = r.replace(/\b(session id: |session Id = )(?!0x)([0-9a-f]+)\b/gi, (_m, k: string, z: string) => `${k}${this.session('0x' + z)}`);
    // any long hex number is a session id (ZooKeeper standalone ids are 0x01xxxxxxxxxxxxxx;
    // zxids in these tests stay far below 10 hex digits)
    r = r.replace(/\b0x[0-9a-f]{10,16}\b/gi, (m) => String(this.session(m)));
    for (const p of this.ports) {
      r = r.split(`:${p}`).join(':<port>');
    }
    return r;
  }
}

/** Normalize one scenario result with a fresh Normalizer. */
export function normalize(v: unknown, ports: number[] = []): unknown {
  return new Normalizer(ports).value(v);
}

/** Sort the comma-separated items of a bracketed list line such as "[b, a]" (zkCli ls output). */
export function sortBracketList(line: string): string {
  const m = /^\[(.*)\]$/.exec(line);
  if (!m || !m[1]) return line;
  return '[' + m[1].split(', ').sort().join(', ') + ']';
}

/** Sort every maximal run of consecutive lines matching re (children listings). */
export function sortRuns(lines: string[], re: RegExp): string[] {
  const out: string[] = [];
  let run: string[] = [];
  const flush = () => { out.push(...run.sort()); run = []; };
  for (const l of lines) {
    if (re.test(l)) run.push(l); else { flush(); out.push(l); }
  }
  flush();
  return out;
}
