// Output formatting with zkCli's layouts: the Stat block (StatPrinter), Java's Date.toString,
// ACL lines (jute's Id.toString + ZKUtil.getPermString), List.toString, watch events
// (WatchedEvent.toString), KeeperException messages and the shorter ones zkCli substitutes
// for common codes (CliWrapperException). Plus the JSON pretty-printer of `--pretty`.

import { Err, ErrName, Perms } from '../jute/constants.js';
import type { ACL, Stat } from '../client/types.js';
import type { Style } from './colors.js';

// ------------------------------------------------------------------ numbers and dates

/** Java's Long.toHexString: two's complement for negative values. */
export function longHex(v: number | bigint): string {
  const b = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
  return BigInt.asUintN(64, b).toString(16);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

function zoneName(d: Date): string {
  // Java prints the zone's abbreviation (UTC, EST, CET) or else the offset as GMT+hh:mm; Intl knows
  // the US abbreviations in en-US and the European ones in en-GB
  for (const locale of ['en-US', 'en-GB']) {
    try {
      const part = new Intl.DateTimeFormat(locale, { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
      if (part !== undefined && !/^(GMT|UTC)[+-]/.test(part.value)) return part.value;
    } catch {
      // no Intl time zone data: fall through to the offset
    }
  }
  const off = -d.getTimezoneOffset();
  if (off === 0) return 'UTC';
  const a = Math.abs(off);
  return `GMT${off < 0 ? '-' : '+'}${two(Math.floor(a / 60))}:${two(a % 60)}`;
}

/** Java's Date.toString(): "Wed Nov 25 15:43:37 UTC 2026", in the local time zone. */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${zoneName(d)} ${d.getFullYear()}`;
}

// ------------------------------------------------------------------ stat, acl, lists

/**
 * The Stat block, one "name = value" line each, newline-terminated. Stat's longs reach us as JS
 * numbers, exact below 2^53 (all of Kraal's); ZooKeeper's session ids are larger, so an
 * ephemeralOwner equal to one of `sessions` (known exactly, as bigints) is printed from that.
 */
export function formatStat(s: Stat, style: Style, sessions: readonly bigint[] = []): string {
  const owner = sessions.find((id) => Number(BigInt.asIntN(64, id)) === s.ephemeralOwner) ?? s.ephemeralOwner;
  const rows: [string, string][] = [
    ['cZxid', `0x${longHex(s.czxid)}`],
    ['ctime', javaDate(s.ctime)],
    ['mZxid', `0x${longHex(s.mzxid)}`],
    ['mtime', javaDate(s.mtime)],
    ['pZxid', `0x${longHex(s.pzxid)}`],
    ['cversion', String(s.cversion)],
    ['dataVersion', String(s.version)],
    ['aclVersion', String(s.aversion)],
    ['ephemeralOwner', `0x${longHex(owner)}`],
    ['dataLength', String(s.dataLength)],
    ['numChildren', String(s.numChildren)],
  ];
  return rows.map(([k, v]) => `${style.key(k)} = ${v}\n`).join('');
}

/** ZKUtil.getPermString: the letters of the permission bits, in the order c d r w a. */
export function permString(perms: number): string {
  let s = '';
  if (perms & Perms.CREATE) s += 'c';
  if (perms & Perms.DELETE) s += 'd';
  if (perms & Perms.READ) s += 'r';
  if (perms & Perms.WRITE) s += 'w';
  if (perms & Perms.ADMIN) s += 'a';
  return s;
}

/** A string as jute's ToStringOutputArchive writes it: a leading quote and %-escapes. */
function juteString(s: string): string {
  let r = "'";
  for (const c of s) {
    switch (c) {
      case '\0': r += '%00'; break;
      case '\n': r += '%0A'; break;
      case '\r': r += '%0D'; break;
      case ',': r += '%2C'; break;
      case '}': r += '%7D'; break;
      case '%': r += '%25'; break;
      default: r += c;
    }
  }
  return r;
}

/** getAcl's lines for one entry: Id.toString() (which ends in a newline), ": ", the perms. */
export function formatAcl(a: ACL): string {
  return `${juteString(a.id.scheme)},${juteString(a.id.id)}\n: ${permString(a.perms)}\n`;
}

/** Java's AbstractCollection.toString: "[a, b]". */
export function javaList(items: readonly string[]): string {
  return `[${items.join(', ')}]`;
}

// ------------------------------------------------------------------ events

/** "WatchedEvent state:SyncConnected type:NodeDataChanged path:/x" (path "null" for session events). */
export function formatEvent(state: string, type: string, path: string | null): string {
  return `WatchedEvent state:${state} type:${type} path:${path === null || path === '' ? 'null' : path}`;
}

/** zkCli's printMessage("WATCHER::") + printMessage(event): each message preceded by a blank line. */
export function watcherBlock(eventLine: string, style: Style): string {
  return `\n${style.event('WATCHER::')}\n\n${style.event(eventLine)}\n`;
}

// ------------------------------------------------------------------ errors

/** KeeperException.getCodeMessage. */
const CODE_MESSAGE: Record<number, string> = {
  [Err.OK]: 'ok',
  [Err.NotEmpty]: 'Directory not empty',
  [Err.SessionExpired]: 'Session expired',
  [Err.InvalidCallback]: 'Invalid callback',
  [Err.SessionMoved]: 'Session moved',
  [Err.NotReadOnly]: 'Not a read-only call',
  [Err.EphemeralOnLocalSession]: 'Ephemeral node on local session',
  [Err.NoWatcher]: 'No such watcher',
  [Err.ReconfigDisabled]: 'Reconfig is disabled',
  [Err.SessionClosedRequireSaslAuth]: 'Session closed because client failed to authenticate',
  [Err.QuotaExceeded]: 'Quota has exceeded',
  [Err.ThrottledOp]: 'Op throttled due to high load',
};
const PLAIN_NAMES = new Set([
  'SystemError', 'RuntimeInconsistency', 'DataInconsistency', 'ConnectionLoss', 'MarshallingError', 'NewConfigNoQuorum',
  'ReconfigInProgress', 'Unimplemented', 'OperationTimeout', 'BadArguments', 'APIError', 'NoNode', 'NoAuth', 'BadVersion',
  'NoChildrenForEphemerals', 'NodeExists', 'InvalidACL', 'AuthFailed',
]);

export function codeMessage(code: number): string {
  const m = CODE_MESSAGE[code];
  if (m !== undefined) return m;
  const name = ErrName[code];
  if (name !== undefined && PLAIN_NAMES.has(name)) return name;
  return `Unknown error ${name === undefined ? code : name.toUpperCase()}`;
}

/** KeeperException.getMessage(): "KeeperErrorCode = NoNode for /x" (no " for" part without a path). */
export function keeperMessage(code: number, path: string | undefined | null): string {
  return path === undefined || path === null ? `KeeperErrorCode = ${codeMessage(code)}` : `KeeperErrorCode = ${codeMessage(code)} for ${path}`;
}

/** The message zkCli prints for a failed operation (CliWrapperException). */
export function wrapperMessage(code: number, path: string | undefined | null): string {
  const p = path ?? 'null';
  switch (code) {
    case Err.NoNode: return `Node does not exist: ${p}`;
    case Err.NoChildrenForEphemerals: return `Ephemerals cannot have children: ${p}`;
    case Err.NodeExists: return `Node already exists: ${p}`;
    case Err.NotEmpty: return `Node not empty: ${p}`;
    case Err.NotReadOnly: return `Not a read-only call: ${p}`;
    case Err.InvalidACL: return `Acl is not valid : ${p}`;
    case Err.NoAuth: return `Insufficient permission : ${p}`;
    case Err.BadArguments: return `Arguments are not valid : ${p}`;
    case Err.BadVersion: return `version No is not valid : ${p}`;
    case Err.ReconfigInProgress: return 'Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)';
    case Err.NewConfigNoQuorum:
      return 'No quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced';
    case Err.QuotaExceeded: return `Quota has exceeded : ${p}`;
    default: return keeperMessage(code, path);
  }
}

// ------------------------------------------------------------------ data and JSON

/** Znode data as zkCli prints it: UTF-8 text, "null" for no data. */
export function dataText(data: Buffer | null): string {
  return data === null ? 'null' : data.toString('utf8');
}

interface Tok {
  kind: 'punct' | 'string' | 'number' | 'literal';
  text: string;
}

function tokenizeJson(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if ('{}[],:'.includes(c)) {
      out.push({ kind: 'punct', text: c });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      out.push({ kind: 'string', text: s.slice(i, j + 1) });
      i = j + 1;
    } else {
      let j = i;
      while (j < s.length && !' \t\n\r{}[],:"'.includes(s[j]!)) j++;
      const text = s.slice(i, j);
      out.push({ kind: text === 'true' || text === 'false' || text === 'null' ? 'literal' : 'number', text });
      i = j;
    }
  }
  return out;
}

/**
 * Re-indents JSON text (2 spaces) when it is a JSON object or array; returns undefined otherwise.
 * Works on the tokens, so numbers keep their exact digits (no 2^53 rounding) and keys their order.
 */
export function prettyJson(text: string, style: Style): string | undefined {
  const t = text.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined;
  try {
    JSON.parse(t);
  } catch {
    return undefined;
  }
  const toks = tokenizeJson(t);
  let out = '';
  let depth = 0;
  const nl = () => '\n' + '  '.repeat(depth);
  for (let k = 0; k < toks.length; k++) {
    const tok = toks[k]!;
    const next = toks[k + 1];
    switch (tok.kind) {
      case 'punct':
        if (tok.text === '{' || tok.text === '[') {
          const close = tok.text === '{' ? '}' : ']';
          if (next !== undefined && next.text === close) {
            out += tok.text + close;
            k++;
          } else {
            depth++;
            out += tok.text + nl();
          }
        } else if (tok.text === '}' || tok.text === ']') {
          depth--;
          out += nl() + tok.text;
        } else if (tok.text === ',') {
          out += ',' + nl();
        } else {
          out += ': ';
        }
        break;
      case 'string':
        out += next !== undefined && next.text === ':' ? style.jsonKey(tok.text) : style.jsonString(tok.text);
        break;
      case 'number':
        out += style.jsonNumber(tok.text);
        break;
      default:
        out += style.jsonLiteral(tok.text);
    }
  }
  return out;
}
