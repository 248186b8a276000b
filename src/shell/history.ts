// Persistent line history for the interactive shell: ~/.kraal_shell_history, or the file named
// by KRAAL_SHELL_HISTORY (set it to the empty string to keep no file). One line per entry, oldest
// first; node:readline keeps them newest first. `addauth` lines (passwords) are not written.

import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const HISTORY_SIZE = 1000;

/** The history file, or undefined when history is not to be persisted. */
export function historyFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env.KRAAL_SHELL_HISTORY;
  if (v !== undefined) return v === '' ? undefined : path.resolve(v);
  return path.join(os.homedir(), '.kraal_shell_history');
}

/** Entries newest first (readline's order); [] when the file is missing or unreadable. */
export function loadHistory(file: string | undefined): string[] {
  if (file === undefined) return [];
  try {
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
    return lines.slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

/** Lines never written to the file: they carry credentials. */
const SECRET = /^\s*addauth\b/;

/**
 * Writes readline's history (newest first) to the file, oldest first, without `addauth` lines
 * (they stay in memory for Up-arrow); errors are ignored.
 */
export function saveHistory(file: string | undefined, newestFirst: readonly string[]): void {
  if (file === undefined) return;
  try {
    const lines = newestFirst.slice(0, HISTORY_SIZE).filter((l) => !SECRET.test(l)).reverse();
    writeFileSync(file, lines.length === 0 ? '' : lines.join('\n') + '\n', { mode: 0o600 });
  } catch {
    // an unwritable history file must not break the shell
  }
}
