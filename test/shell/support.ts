// Helpers for the shell tests: run `kraal shell` (one command, or a script on stdin) and zkCli.sh,
// and split a script's output into one segment per command so that two transcripts can be compared.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { markedScript, splitTranscript, type Transcript } from '../harness/transcript.js';
import { runProcess, type ProcResult } from '../harness/proc.js';
import { REPO_ROOT } from '../harness/servers.js';

export const KRAAL_BIN = path.join(REPO_ROOT, 'bin', 'kraal.js');
export const ZKCLI = process.env.KRAAL_COMPAT_ZKCLI ?? ['/usr/share/zookeeper/bin/zkCli.sh', '/usr/bin/zkCli.sh'].find((p) => existsSync(p)) ?? 'zkCli.sh';

/** The environment for child shells: no colours forced either way, no history file. */
export function shellEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KRAAL_SHELL_HISTORY: '', ...extra };
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k];
  return env;
}

/** `kraal shell <args...>` with optional stdin; stdout and stderr kept apart. */
export function kraalShell(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ProcResult> {
  return runProcess(process.execPath, [KRAAL_BIN, 'shell', ...args], { input: opts.input ?? '', env: opts.env ?? shellEnv(), timeoutMs: opts.timeoutMs ?? 30000 });
}

/** stdout and stderr of `kraal shell` in one stream, in write order (as `2>&1` gives). */
export function kraalShellMerged(args: string[], input: string, timeoutMs = 60000): Promise<ProcResult> {
  return runProcess('sh', ['-c', 'exec "$0" "$@" 2>&1', process.execPath, KRAAL_BIN, 'shell', ...args], { input, env: shellEnv(), timeoutMs });
}

export function zkCliMerged(server: string, input: string, timeoutMs = 90000): Promise<ProcResult> {
  return runProcess('sh', ['-c', 'exec "$0" -server "$1" 2>&1', ZKCLI, server], { input, timeoutMs });
}

export type { Transcript };

/**
 * Runs commands through a shell process fed on stdin, with a marker command `ls /__shell_mark_N`
 * after each one (test/harness/transcript.ts splits the output per command).
 */
export async function transcript(run: (input: string) => Promise<ProcResult>, cmds: string[], ports: number[]): Promise<Transcript & { raw: string }> {
  const r = await run(markedScript(cmds, '/__shell_mark_'));
  const t = splitTranscript(r.stdout, cmds, '/__shell_mark_', ports);
  if (t.completed !== cmds.length) throw new Error(`only ${t.completed}/${cmds.length} commands completed (exit ${r.code}); output:\n${r.stdout.slice(-4000)}`);
  return { ...t, raw: r.stdout };
}

/** A process on a pseudo-terminal, driven through tmux (private server socket). */
export class Tmux {
  readonly socket = `kraal-shell-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private started = false;
  constructor(readonly session = 'sh') {}

  static available(): boolean {
    return existsSync('/usr/bin/tmux') || existsSync('/usr/local/bin/tmux') || existsSync('/bin/tmux');
  }

  private tmux(args: string[]): Promise<ProcResult> {
    const env = { ...process.env };
    delete env.TMUX; // a test run from inside tmux must still start its own server
    return runProcess('tmux', ['-L', this.socket, ...args], { timeoutMs: 10000, env });
  }

  /** Starts `command` (argv) in an 160x50 window with the given environment. */
  async start(command: string[], env: Record<string, string>): Promise<void> {
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const shellWords = command.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
    // `; sleep` keeps the pane (and its last screen) after the shell exits, for the exit checks
    const r = await this.tmux(['-f', '/dev/null', 'new-session', '-d', '-s', this.session, '-x', '160', '-y', '50', ...envArgs,
      `${shellWords}; echo "[exit status $?]"; sleep 30`]);
    if (r.code !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`);
    this.started = true;
  }

  /** Sends keys: literal text, or key names with `keys: true` (Enter, Tab, Up, C-c, ...). */
  async send(text: string, keys = false): Promise<void> {
    const r = await this.tmux(['send-keys', '-t', this.session, ...(keys ? [text] : ['-l', text])]);
    if (r.code !== 0) throw new Error(`tmux send-keys failed: ${r.stderr}`);
  }

  async type(line: string): Promise<void> {
    await this.send(line);
    await this.send('Enter', true);
  }

  /** The visible screen (with `escapes`, SGR colour sequences included). */
  async screen(escapes = false): Promise<string> {
    const r = await this.tmux(['capture-pane', '-p', '-J', ...(escapes ? ['-e'] : []), '-t', this.session, '-S', '-200']);
    return r.stdout;
  }

  /** Polls the screen until `pred` holds; fails with the screen after timeoutMs. */
  async waitFor(pred: (screen: string) => boolean, what: string, timeoutMs = 10000, escapes = false): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      last = await this.screen(escapes);
      if (pred(last)) return last;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${last}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async kill(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.tmux(['kill-server']).catch(() => undefined);
  }
}
