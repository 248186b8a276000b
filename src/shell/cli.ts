// `kraal shell`: argv handling and the choice between one command (from argv), a script (stdin is
// not a terminal) and the interactive prompt.
//
//   kraal shell [options] [host:port[,host:port...][/chroot]] [command [args...]]
//
// Options may be written the zkCli way too (-server h:p, -timeout ms, -r) and may come before or
// after the server. The first word after the options is the server unless it is a command name.

import { Command } from 'commander';
import { wantColour, styleFor } from './colors.js';
import { COMMANDS } from './commands.js';
import { EXIT } from './errors.js';
import { historyFile } from './history.js';
import type { ShellIO } from './session.js';

export const DEFAULT_SERVER = '127.0.0.1:2181';
export const DEFAULT_TIMEOUT = 30000;

export interface ShellFlags {
  server?: string;
  timeout?: string;
  readonly?: boolean;
  pretty?: boolean;
  color?: boolean;
}

export interface Invocation {
  server: string;
  timeout: number;
  readonly: boolean;
  pretty: boolean;
  color: boolean;
  /** The command to run once; empty for a script or the prompt. */
  command: string[];
}

export class InvocationError extends Error {}

const isCommand = (w: string) => Object.prototype.hasOwnProperty.call(COMMANDS, w);

/** Resolves argv (after `shell`, with commander's options already taken out) into an Invocation. */
export function resolveInvocation(args: readonly string[], flags: ShellFlags): Invocation {
  let server = flags.server;
  let timeout = flags.timeout;
  let readonly = flags.readonly === true;
  let pretty = flags.pretty === true;
  let color = flags.color !== false;
  let i = 0;
  const value = (opt: string) => {
    const v = args[i + 1];
    if (v === undefined) throw new InvocationError(`no argument found for option ${opt}`);
    i += 2;
    return v;
  };
  const options = () => {
    while (i < args.length) {
      const a = args[i]!;
      if (a === '-server' || a === '--server') server = value(a);
      else if (a.startsWith('--server=')) (server = a.slice(9)), i++;
      else if (a === '-timeout' || a === '--timeout') timeout = value(a);
      else if (a.startsWith('--timeout=')) (timeout = a.slice(10)), i++;
      else if (a === '-r' || a === '--readonly') (readonly = true), i++;
      else if (a === '--pretty') (pretty = true), i++;
      else if (a === '--no-color') (color = false), i++;
      else if (a === '-waitforconnection') i++; // we always wait
      else if (a === '-client-configuration') throw new InvocationError('-client-configuration is not supported');
      else if (a.startsWith('-') && a !== '-') throw new InvocationError(`unknown option ${a}`);
      else break;
    }
  };
  options();
  if (server === undefined && i < args.length && !isCommand(args[i]!)) {
    server = args[i]!;
    i++;
    options();
  }
  let ms = DEFAULT_TIMEOUT;
  if (timeout !== undefined) {
    if (!/^\d+$/.test(timeout) || Number(timeout) <= 0) throw new InvocationError(`-timeout expects a number of milliseconds, got '${timeout}'`);
    ms = Number(timeout);
  }
  return { server: server ?? DEFAULT_SERVER, timeout: ms, readonly, pretty, color, command: args.slice(i) };
}

export interface Streams {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/** Runs the shell; resolves with the process exit status. */
export async function runShell(inv: Invocation, io: Streams): Promise<number> {
  // Loaded here, not at the top: `kraal server` shares this CLI and should not carry the client.
  const [{ runInteractive, runScript }, { ShellSession }] = await Promise.all([import('./repl.js'), import('./session.js')]);
  const style = styleFor(wantColour(io.stdout, io.env, inv.color));
  const errStyle = styleFor(style.enabled && wantColour(io.stderr, io.env, inv.color));
  const interactive = inv.command.length === 0 && io.stdin.isTTY === true;
  const sink: ShellIO = {
    out: (t) => void io.stdout.write(t),
    err: (t) => void io.stderr.write(t),
    event: (t) => void io.stdout.write(t),
  };
  const s = new ShellSession(inv.server, {
    timeout: inv.timeout,
    readonly: inv.readonly,
    pretty: inv.pretty,
    sessionEvents: interactive,
    style,
    errStyle,
  }, sink);

  if (interactive) {
    io.stdout.write(`Connecting to ${inv.server}\nWelcome to the Kraal shell (zkCli 3.8 commands; help lists them, Tab completes)\n`);
    const connecting = s.connect(inv.server);
    return runInteractive(s, { input: io.stdin, output: io.stdout, historyFile: historyFile(io.env), connecting });
  }

  try {
    await s.connect(inv.server);
  } catch (e) {
    io.stderr.write(errStyle.error((e as Error).message) + '\n');
    await s.end();
    return EXIT.NOT_CONNECTED;
  }
  if (inv.command.length > 0) {
    const status = await s.run(inv.command);
    await s.end();
    return status;
  }
  return runScript(s, io.stdin);
}

/** Adds `kraal shell` to the program (commander). */
export function registerShell(program: Command): void {
  // options after the server belong to the shell command being run (`ls -s /`), not to us
  program.enablePositionalOptions();
  program
    .command('shell')
    .description('ZooKeeper shell with zkCli 3.8 commands: interactive, one command, or commands from stdin')
    .usage('[options] [host:port[,host:port...][/chroot]] [command [args...]]')
    .argument('[args...]', 'server (default 127.0.0.1:2181) and a command to run once, e.g. ls /brokers/ids')
    .option('--server <hosts>', 'connect string (zkCli: -server), when the first argument is not it')
    .option('--timeout <ms>', `session timeout in ms, also the connect limit (zkCli: -timeout; default ${DEFAULT_TIMEOUT})`)
    .option('-r, --readonly', 'accept a read-only server')
    .option('--pretty', 'pretty-print JSON znode data (shell command: pretty on|off)')
    .option('--no-color', 'no colours (they are used only on a terminal, and never when NO_COLOR is set)')
    .addHelpText('after', '\nExit status: 0 ok, 1 the operation failed, 2 usage error, 3 not connected, 127 unknown command.\nHistory: ~/.kraal_shell_history (KRAAL_SHELL_HISTORY=file, or empty for none).')
    .passThroughOptions()
    .allowUnknownOption()
    .action(async (args: string[], flags: ShellFlags) => {
      let inv: Invocation;
      try {
        inv = resolveInvocation(args, flags);
      } catch (e) {
        if (!(e instanceof InvocationError)) throw e;
        process.stderr.write(`kraal shell: ${e.message}\n`);
        process.exit(EXIT.USAGE);
      }
      const status = await runShell(inv, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
      process.exit(status);
    });
}
