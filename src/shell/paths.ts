// zkCli validates paths on the client before sending anything, with these messages
// (org.apache.zookeeper.common.PathUtils); the shell does the same so that its errors read alike.

/** Throws an Error whose message is PathUtils' for an invalid path. */
export function validatePath(path: string, sequential = false): void {
  const p = sequential ? path + '1' : path;
  if (p.length === 0) throw new Error('Path length must be > 0');
  if (p[0] !== '/') throw new Error('Path must start with / character');
  if (p.length === 1) return;
  if (p[p.length - 1] === '/') throw new Error('Path must not end with / character');
  let reason: string | undefined;
  let last = '/';
  for (let i = 1; i < p.length; last = p[i]!, i++) {
    const c = p[i]!;
    const code = c.charCodeAt(0);
    if (code === 0) {
      reason = `null character not allowed @${i}`;
      break;
    } else if (c === '/' && last === '/') {
      reason = `empty node name specified @${i}`;
      break;
    } else if (c === '.' && last === '.') {
      if (p[i - 2] === '/' && (i + 1 === p.length || p[i + 1] === '/')) {
        reason = `relative paths not allowed @${i}`;
        break;
      }
    } else if (c === '.') {
      if (p[i - 1] === '/' && (i + 1 === p.length || p[i + 1] === '/')) {
        reason = `relative paths not allowed @${i}`;
        break;
      }
    } else if ((code > 0 && code <= 0x1f) || (code >= 0x7f && code <= 0x9f) || (code >= 0xd800 && code <= 0xf8ff) || (code >= 0xfff0 && code <= 0xffff)) {
      reason = `invalid character @${i}`;
      break;
    }
  }
  if (reason !== undefined) throw new Error(`Invalid path string "${p}" caused by ${reason}`);
}

/** Parent of an absolute path ('/' for top-level nodes). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Joins a parent path and a child name. */
export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}
