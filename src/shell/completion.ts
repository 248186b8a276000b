// Tab completion for node:readline: the command name in the first word, znode paths in any word
// that starts with '/' (the children of the typed path's parent that start with what follows its
// last '/', fetched with getChildren), like zkCli's JLineZNodeCompleter.

import { COMMAND_NAMES } from './commands.js';
import type { ShellSession } from './session.js';

export type CompleterResult = [string[], string];

/** How long a completion may wait for getChildren before offering nothing. */
const LOOKUP_MS = 2000;

export async function complete(s: ShellSession, line: string): Promise<CompleterResult> {
  const lastSpace = Math.max(line.lastIndexOf(' '), line.lastIndexOf('\t'));
  const token = line.slice(lastSpace + 1);
  if (token.startsWith('/')) return completePath(s, token);
  if (line.slice(0, lastSpace + 1).trim() === '') {
    // the command word
    const hits = COMMAND_NAMES.filter((c) => c.startsWith(token));
    return [hits.length === 1 ? [hits[0]! + ' '] : hits, token];
  }
  return [[], token];
}

async function completePath(s: ShellSession, token: string): Promise<CompleterResult> {
  const idx = token.lastIndexOf('/') + 1;
  const prefix = token.slice(idx);
  const dir = idx === 1 ? '/' : token.slice(0, idx - 1);
  if (!s.alive || s.client === undefined) return [[], prefix];
  let timer: NodeJS.Timeout | undefined;
  try {
    const children = await Promise.race([
      s.client.getChildren(dir),
      new Promise<string[]>((resolve) => {
        timer = setTimeout(() => resolve([]), LOOKUP_MS);
      }),
    ]);
    return [children.filter((c) => c.startsWith(prefix)).sort(), prefix];
  } catch {
    return [[], prefix];
  } finally {
    clearTimeout(timer);
  }
}

/** The callback form node:readline wants. */
export function readlineCompleter(s: ShellSession): (line: string, cb: (err: Error | null, result: CompleterResult) => void) => void {
  return (line, cb) => {
    complete(s, line).then(
      (r) => cb(null, r),
      () => cb(null, [[], line]),
    );
  };
}
