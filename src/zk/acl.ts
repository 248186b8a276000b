// ACLs: digest ids, permission checks (protocol notes §12.4) and ACL-list
// validation with 'auth' expansion (§12.3). Pure functions; node:crypto is only
// used for SHA-1, which is deterministic.

import { createHash } from 'node:crypto';
import { Perms } from '../jute/constants.js';
import type { ACL } from '../jute/records.js';
import type { Identity } from './types.js';

function freezeAcl(a: ACL): ACL {
  return Object.freeze({ perms: a.perms, id: Object.freeze({ scheme: a.id.scheme, id: a.id.id }) });
}

/** ZooDefs.Ids.OPEN_ACL_UNSAFE: everyone may do everything. */
export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([freezeAcl({ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } })]);

/** ZooDefs.Ids.READ_ACL_UNSAFE: everyone may read (the ACL of /zookeeper/config). */
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([freezeAcl({ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } })]);

/** Schemes a stock ZooKeeper server has providers for (world is handled specially). */
export const DEFAULT_ACL_SCHEMES: ReadonlySet<string> = new Set(['digest', 'ip']);

/** Identity schemes whose providers count as "authenticated", i.e. take part in 'auth' expansion (ip does not). */
const AUTHENTICATED_SCHEMES: ReadonlySet<string> = new Set(['digest', 'sasl', 'x509']);

// ------------------------------------------------------------------ digest

/** 'user:BASE64(SHA1("user:password"))', the id the digest provider attaches and ACLs name. */
export function digestId(user: string, password: string): string {
  const hash = createHash('sha1').update(`${user}:${password}`, 'utf8').digest('base64');
  return `${user}:${hash}`;
}

/**
 * The identity an `addauth digest user:password` yields ('user:hash'), or null when the
 * credential has no ':' (the server answers AuthFailed). The password may contain ':'.
 */
export function parseDigestAuth(cred: string): string | null {
  const i = cred.indexOf(':');
  if (i < 0) return null;
  return digestId(cred.slice(0, i), cred.slice(i + 1));
}

/** Java String.split(sep) semantics (trailing empty strings dropped), used by the digest validity rule. */
function javaSplitCount(s: string, sep: string): number {
  const parts = s.split(sep);
  if (s.length === 0) return 1;
  let n = parts.length;
  while (n > 0 && parts[n - 1] === '') n--;
  return n;
}

// ------------------------------------------------------------------ ip

/** Java Integer.parseInt for the plain decimal forms we accept; NaN when not a number. */
function parseDecimal(s: string): number {
  return /^[+-]?[0-9]+$/.test(s) ? Number(s) : NaN;
}

function ipv4Bytes(addr: string): number[] | null {
  const parts = addr.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    const v = parseDecimal(p);
    if (!(v >= 0 && v <= 255)) return null;
    out.push(v);
  }
  return out;
}

function ipv6Groups(s: string): number[] | null {
  if (s === '') return [];
  const out: number[] = [];
  for (const g of s.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    out.push(parseInt(g, 16));
  }
  return out;
}

/** IPv6 text (full or '::'-compressed, no embedded IPv4, no zone) to 16 bytes. */
function ipv6Bytes(addr: string): number[] | null {
  const halves = addr.split('::');
  if (halves.length > 2) return null;
  const head = ipv6Groups(halves[0]!);
  const tail = halves.length === 2 ? ipv6Groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const explicit = head.length + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit >= 8) return null;
  const groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...tail];
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** An IPv4-mapped IPv6 address ('::ffff:a.b.c.d', as Node reports on dual-stack sockets) in IPv4 form, as Java's InetAddress would give it. */
function unmapIpv4(addr: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  return m ? m[1]! : addr;
}

function ipBytes(addr: string): number[] | null {
  if (addr.includes(':')) return ipv6Bytes(addr);
  if (addr.includes('.')) return ipv4Bytes(addr);
  return null;
}

/** Parses 'addr' or 'addr/bits' into the address bytes and the prefix length. */
function parseIpExpr(expr: string): { bytes: number[]; bits: number } | null {
  const slash = expr.indexOf('/');
  const bytes = ipBytes(slash < 0 ? expr : expr.slice(0, slash));
  if (bytes === null) return null;
  let bits = bytes.length * 8;
  if (slash >= 0) {
    bits = parseDecimal(expr.slice(slash + 1));
    if (!(bits >= 0 && bits <= bytes.length * 8)) return null;
  }
  return { bytes, bits };
}

function samePrefix(a: number[], b: number[], bits: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    const mask = (0xff00 >> keep) & 0xff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

/** Does the client address `id` fall inside the ACL expression `expr` ('10.0.0.0/8', 'fe80::/10', '127.0.0.1')? */
export function ipMatches(id: string, expr: string): boolean {
  const acl = parseIpExpr(expr);
  if (acl === null) return false;
  const remote = ipBytes(unmapIpv4(id));
  return remote !== null && samePrefix(remote, acl.bytes, acl.bits);
}

// ------------------------------------------------------------------ checks

function idMatches(scheme: string, callerId: string, aclId: string): boolean {
  if (scheme === 'ip') return ipMatches(callerId, aclId);
  if (scheme === 'sasl' && callerId === 'super') return true; // SASLAuthenticationProvider: sasl:super matches any sasl entry
  return callerId === aclId; // digest, sasl, x509: exact
}

/**
 * ZooKeeper's checkACL: an empty ACL allows everything, a 'super' identity
 * allows everything, otherwise some entry sharing a bit with `perm` must name
 * world:anyone or one of the caller's identities. `perm` may be a mask (getACL
 * asks for READ|ADMIN, either bit suffices).
 */
export function checkPerm(acl: readonly ACL[], identities: readonly Identity[], perm: number): boolean {
  if (acl.length === 0) return true;
  for (const who of identities) if (who.scheme === 'super') return true;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    const { scheme, id } = a.id;
    if (scheme === 'world' && id === 'anyone') return true;
    for (const who of identities) {
      if (who.scheme === scheme && idMatches(scheme, who.id, id)) return true;
    }
  }
  return false;
}

/** Kerberos-name syntax check of SASLAuthenticationProvider.isValid. */
function validSaslId(id: string): boolean {
  if (/^[^/@]*(\/[^/@]*)?@[^/@]*$/.test(id)) return true;
  return !id.includes('@');
}

/** Would ZooKeeper's provider for `scheme` accept `id` in an ACL? */
function validAclId(scheme: string, id: string, schemes: ReadonlySet<string>): boolean {
  if (!schemes.has(scheme)) return false;
  switch (scheme) {
    case 'digest':
      return javaSplitCount(id, ':') === 2;
    case 'ip':
      return parseIpExpr(id) !== null;
    case 'sasl':
      return validSaslId(id);
    default:
      return true; // x509 and custom providers: accepted as given
  }
}

function sameAcl(a: ACL, b: ACL): boolean {
  return a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id;
}

function removeDuplicates(acl: readonly ACL[]): ACL[] {
  const out: ACL[] = [];
  for (const a of acl) if (!out.some((b) => sameAcl(a, b))) out.push(a);
  return out;
}

/**
 * ZooKeeper's fixupACL for create and setACL: drop exact duplicates, reject an
 * empty list, expand each 'auth' entry into one entry per authenticated identity
 * of the caller (ip does not count; none at all → invalid), and reject ids no
 * provider accepts (world:foo, super:..., unknown schemes). null means InvalidACL.
 * `schemes` lists the schemes with a registered provider besides world.
 */
export function fixupAcl(
  acl: readonly ACL[],
  identities: readonly Identity[],
  schemes: ReadonlySet<string> = DEFAULT_ACL_SCHEMES,
): ACL[] | null {
  const unique = removeDuplicates(acl);
  if (unique.length === 0) return null;
  const out: ACL[] = [];
  for (const a of unique) {
    const { scheme, id } = a.id;
    if (scheme === 'world' && id === 'anyone') {
      out.push({ perms: a.perms, id: { scheme, id } });
    } else if (scheme === 'auth') {
      const before = out.length;
      for (const who of identities) {
        if (AUTHENTICATED_SCHEMES.has(who.scheme)) out.push({ perms: a.perms, id: { scheme: who.scheme, id: who.id } });
      }
      if (out.length === before) return null;
    } else if (validAclId(scheme, id, schemes)) {
      out.push({ perms: a.perms, id: { scheme, id } });
    } else {
      return null;
    }
  }
  return out;
}

/** getACL for a caller without ADMIN: digest ids lose their hash ('user:x'), like ZooKeeper. */
export function maskDigests(acl: readonly ACL[]): ACL[] {
  return acl.map((a) => (a.id.scheme === 'digest' ? { perms: a.perms, id: { scheme: 'digest', id: a.id.id.replace(/:.*/g, ':x') } } : a));
}

/** A canonical string for an ACL list, the key of the ACL intern table. */
export function aclKey(acl: readonly ACL[]): string {
  let k = '';
  for (const a of acl) k += `${a.perms}|${a.id.scheme.length}:${a.id.scheme}|${a.id.id.length}:${a.id.id};`;
  return k;
}

/** An immutable copy, safe to share between nodes and hand out to callers. */
export function freezeAclList(acl: readonly ACL[]): readonly ACL[] {
  return Object.freeze(acl.map(freezeAcl));
}
