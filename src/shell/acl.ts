// ACL arguments as zkCli reads them (AclParser): "scheme:id:perms[,scheme:id:perms...]", where the
// id is everything between the first and the last colon (digest ids contain one) and perms are
// letters of "cdrwa". Malformed entries and unknown letters are reported and skipped, not fatal.

import { Perms } from '../jute/constants.js';
import type { ACL } from '../client/types.js';

export interface ParsedAcl {
  acl: ACL[];
  /** Lines zkCli prints to stderr while parsing. */
  warnings: string[];
}

const PERM_BITS: Record<string, number> = { r: Perms.READ, w: Perms.WRITE, c: Perms.CREATE, d: Perms.DELETE, a: Perms.ADMIN };

export function parseAcl(text: string): ParsedAcl {
  const acl: ACL[] = [];
  const warnings: string[] = [];
  for (const a of javaSplit(text, ',')) {
    const first = a.indexOf(':');
    const last = a.lastIndexOf(':');
    if (first === -1 || first === last) {
      warnings.push(`${a} does not have the form scheme:id:perm`);
      continue;
    }
    let perms = 0;
    for (const c of a.slice(last + 1)) {
      const bit = PERM_BITS[c];
      if (bit === undefined) warnings.push(`Unknown perm type: ${c}`);
      else perms |= bit;
    }
    acl.push({ perms, id: { scheme: a.slice(0, first), id: a.slice(first + 1, last) } });
  }
  return { acl, warnings };
}

/** Java's String.split(sep): trailing empty strings are dropped. */
function javaSplit(s: string, sep: string): string[] {
  const parts = s.split(sep);
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 1 && parts[0] === '' && s.length > 0) return [];
  return parts;
}
