// Connection strings: "h1:2181,h2:2181,[::1]:2181/chroot". Hosts are tried in a random order.

export interface HostPort {
  host: string;
  port: number;
}

export interface ConnectString {
  hosts: HostPort[];
  /** '' when there is no chroot, else an absolute path without trailing slash, e.g. '/app'. */
  chroot: string;
}

export function parseConnectString(s: string, defaultPort = 2181): ConnectString {
  const str = s.trim();
  let chroot = '';
  const slash = str.indexOf('/');
  let hostPart = str;
  if (slash >= 0) {
    chroot = str.slice(slash);
    hostPart = str.slice(0, slash);
    if (chroot === '/') chroot = '';
    else {
      if (chroot.endsWith('/')) throw new Error(`invalid chroot ${chroot}: must not end with /`);
      validatePath(chroot);
    }
  }
  const hosts: HostPort[] = [];
  for (const raw of hostPart.split(',')) {
    const h = raw.trim();
    if (h === '') continue;
    let host: string;
    let port = defaultPort;
    if (h.startsWith('[')) {
      const end = h.indexOf(']');
      if (end < 0) throw new Error(`invalid host ${h}`);
      host = h.slice(1, end);
      const rest = h.slice(end + 1);
      if (rest.startsWith(':')) port = parsePort(rest.slice(1), h);
      else if (rest !== '') throw new Error(`invalid host ${h}`);
    } else {
      const colon = h.lastIndexOf(':');
      if (colon >= 0 && h.indexOf(':') === colon) {
        host = h.slice(0, colon);
        port = parsePort(h.slice(colon + 1), h);
      } else host = h;
    }
    if (host === '') throw new Error(`invalid host ${h}`);
    hosts.push({ host, port });
  }
  if (hosts.length === 0) throw new Error(`connection string ${JSON.stringify(s)} names no host`);
  return { hosts, chroot };
}

function parsePort(p: string, h: string): number {
  const n = Number(p);
  if (!/^\d+$/.test(p) || n < 1 || n > 65535) throw new Error(`invalid port in ${h}`);
  return n;
}

/** Fisher–Yates shuffle into a new array. */
export function shuffled<T>(a: readonly T[], random: () => number = Math.random): T[] {
  const r = a.slice();
  for (let i = r.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = r[i]!;
    r[i] = r[j]!;
    r[j] = t;
  }
  return r;
}

/** Client-side path validation (ZooKeeper's PathUtils rules). Throws BadArguments-style errors. */
export function validatePath(path: string, sequential = false): void {
  if (typeof path !== 'string' || path.length === 0) throw new Error('path must not be empty');
  if (path[0] !== '/') throw new Error(`path ${path} must start with /`);
  if (path.length === 1) return;
  if (path.endsWith('/') && !sequential) throw new Error(`path ${path} must not end with /`);
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    if (p === '' && !(sequential && i === parts.length - 1)) throw new Error(`empty node name in ${path}`);
    if (p === '.' || p === '..') throw new Error(`relative path element in ${path}`);
  }
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0 || (c > 0 && c < 0x1f) || (c > 0x7f && c < 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)) {
      throw new Error(`invalid character @${i} in ${path}`);
    }
  }
}
