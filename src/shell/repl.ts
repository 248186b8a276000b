// The two ways of reading commands: an interactive prompt on a terminal (node:readline with line
// editing, history, tab completion, and watch events printed without garbling what is being typed)
// and a script read from a pipe or file, one command per line.

import readline from 'node:readline';
import { readlineCompleter } from './completion.js';
import { EXIT } from './errors.js';
import { HISTORY_SIZE, loadHistory, saveHistory } from './history.js';
import type { ShellSession } from './session.js';

export interface InteractiveOptions {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
  /** Where history is persisted (undefined: in memory only). */
  historyFile: string | undefined;
  /** The first connection, under way; its failure is reported at the prompt. */
  connecting: Promise<void>;
}

/**
 * Runs the prompt until quit, end of input (Ctrl-D) or Ctrl-C on an empty line (0), or Ctrl-C
 * while a command is still running (130); resolves with that exit status.
 */
export function runInteractive(s: ShellSession, o: InteractiveOptions): Promise<number> {
  const { output } = o;
  const terminal = o.input.isTTY === true && output.isTTY === true;
  const rl = readline.createInterface({
    input: o.input,
    output,
    terminal,
    completer: readlineCompleter(s),
    history: loadHistory(o.historyFile),
    historySize: HISTORY_SIZE,
    tabSize: 4,
  });
  const editor = rl as unknown as { line: string; cursor: number };
  let busy = false;
  let closed = false;
  let exitStatus: number = EXIT.OK;
  const queue: string[] = [];

  // Asynchronous output. While a command runs it is simply written; at the prompt the typed line
  // is kept: the event goes below it (zkCli's layout) and the prompt is drawn again, with the
  // state it now shows (e.g. CONNECTED after the first connection).
  s.io.event = (text: string) => {
    if (busy || closed || !terminal) {
      output.write(text);
      return;
    }
    readline.moveCursor(output, editor.line.length - editor.cursor, 0);
    output.write(text);
    rl.setPrompt(s.prompt());
    rl.prompt(true);
  };

  rl.on('history', (h: string[]) => saveHistory(o.historyFile, h));

  const showPrompt = () => {
    rl.setPrompt(s.prompt());
    rl.prompt();
  };

  const pump = async () => {
    if (busy) return;
    busy = true;
    while (queue.length > 0 && !closed) {
      const line = queue.shift()!;
      await s.executeLine(line);
      if (s.quitRequested) {
        rl.close();
        return;
      }
    }
    busy = false;
    if (!closed) showPrompt();
  };

  rl.on('line', (line: string) => {
    queue.push(line);
    void pump();
  });

  rl.on('SIGINT', () => {
    if (busy || editor.line.length === 0) {
      output.write('^C\n');
      exitStatus = busy ? 130 : EXIT.OK;
      rl.close();
      return;
    }
    // a typed line is dropped, like in a shell: "typed^C", then a fresh prompt
    readline.moveCursor(output, editor.line.length - editor.cursor, 0);
    output.write('^C\n');
    editor.line = '';
    editor.cursor = 0;
    showPrompt();
  });

  o.connecting.catch((e: Error) => s.io.event(s.style.error(e.message) + '\n'));
  showPrompt();

  return new Promise<number>((resolve) => {
    rl.on('close', () => {
      closed = true;
      if (!s.quitRequested) output.write('\n');
      s.end().then(
        () => resolve(exitStatus),
        () => resolve(exitStatus),
      );
    });
  });
}

/**
 * Runs commands read from a non-terminal stream, one per line, until its end or `quit`. The exit
 * status is that of the first command that failed, 0 when all succeeded.
 */
export async function runScript(s: ShellSession, input: NodeJS.ReadableStream): Promise<number> {
  const rl = readline.createInterface({ input, terminal: false, crlfDelay: Infinity });
  let status: number = EXIT.OK;
  try {
    for await (const line of rl) {
      const r = await s.executeLine(line);
      if (r !== EXIT.OK && status === EXIT.OK) status = r;
      if (s.quitRequested) break;
    }
  } finally {
    rl.close();
    await s.end();
  }
  return status;
}
