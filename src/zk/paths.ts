// ZooKeeper path rules (protocol notes §6.1).
//
// Writes validate fully; reads do not (an invalid path simply is not in the tree).
// The checks work on UTF-16 code units, exactly like the Java server, so a non-BMP
// character (a surrogate pair) is rejected just as ZooKeeper rejects it.

/** The paths that exist on every server and can never be deleted (delete → BadArguments). */
export const SPECIAL_PATHS: ReadonlySet<string> = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

function isForbiddenChar(c: number): boolean {
  return (
    (c > 0x0000 && c <= 0x001f) ||
    (c >= 0x007f && c <= 0x009f) ||
    (c >= 0xd800 && c <= 0xf8ff) || // surrogates (so every non-BMP character) and the private-use area
    c >= 0xfff0
  );
}

/** True for '.' or '..' spanning [start, end) of path. */
function isRelativeSegment(path: string, start: number, end: number): boolean {
  const n = end - start;
  if (n === 1) return path.charCodeAt(start) === 0x2e;
  return n === 2 && path.charCodeAt(start) === 0x2e && path.charCodeAt(start + 1) === 0x2e;
}

/** Full path validation as ZooKeeper's PathUtils: false means BadArguments. */
export function validatePath(path: string): boolean {
  const n = path.length;
  if (n === 0 || path.charCodeAt(0) !== 0x2f) return false;
  if (n === 1) return true;
  if (path.charCodeAt(n - 1) === 0x2f) return false;
  let segStart = 1;
  for (let i = 1; i <= n; i++) {
    const c = i < n ? path.charCodeAt(i) : 0x2f; // a virtual '/' closes the last segment
    if (c === 0x2f) {
      if (i === segStart) return false; // empty segment: '//'
      if (isRelativeSegment(path, segStart, i)) return false;
      segStart = i + 1;
    } else if (c === 0 || isForbiddenChar(c)) {
      return false;
    }
  }
  return true;
}

/**
 * The parent of a path that contains '/': '/a/b' → '/a', '/a' → '/', and '/' → '/'
 * (ZooKeeper's parent of a top-level node is "", an alias of the root).
 * Callers must have checked that the path contains a '/'.
 */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) throw new Error(`parentOf: path without '/': ${JSON.stringify(path)}`);
  return i === 0 ? '/' : path.slice(0, i);
}

/** The last segment: '/a/b' → 'b', '/' → ''. */
export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** ZooKeeper's String.format("%010d", n) for the sequential suffix (sign counts towards the width). */
export function sequenceSuffix(n: number): string {
  return n < 0 ? '-' + String(-n).padStart(9, '0') : String(n).padStart(10, '0');
}
