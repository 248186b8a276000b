// Argument handling for shell commands, with zkCli's rules:
//  * a typed line is split into words the way ZooKeeperMain does it: a word is either a run of
//    non-blank characters not starting with a quote, or a whole "double-quoted" / 'single-quoted'
//    string (whose quotes are dropped). An unmatched quote is skipped;
//  * the words are then parsed against a command's options like Apache Commons CLI's
//    DefaultParser does: `-s -w`, `-sw`, `-v 3`, `-v3`, `--` ending options, options after
//    positional words, a negative number taken as an option's value, and its error messages.

/** The blank characters of Java's `\s`. */
const BLANK = ' \\t\\n\\x0B\\f\\r';
const WORD = new RegExp(`[${BLANK}]*([^"'${BLANK}][^${BLANK}]*|"[^"]*"|'[^']*')[${BLANK}]*`, 'g');

/** Splits a typed command line into words (zkCli's MyCommandOptions.parseCommand). */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  WORD.lastIndex = 0;
  for (let m = WORD.exec(line); m !== null; m = WORD.exec(line)) {
    let w = m[1]!;
    if (w.length >= 2 && (w[0] === '"' || w[0] === "'") && w[w.length - 1] === w[0]) w = w.slice(1, -1);
    words.push(w);
    if (m[0].length === 0) WORD.lastIndex++;
  }
  return words;
}

/** Which single-letter options a command takes: `flags` without a value, `valued` with one. */
export interface OptionSpec {
  flags?: string;
  valued?: string;
}

export interface ParsedArgs {
  /** Positional words, the command name first (as in zkCli, where args[1] is the path). */
  args: string[];
  /** Options given: true for flags, the (first) value for valued options. */
  opts: Map<string, string | true>;
}

/** A parse failure; `message` is what zkCli prints for it (commons-cli's exception text). */
export class OptionParseError extends Error {
  override name = 'OptionParseError';
}

function missing(opt: string): OptionParseError {
  return new OptionParseError(`org.apache.commons.cli.MissingArgumentException: Missing argument for option: ${opt}`);
}

function unrecognized(token: string): OptionParseError {
  return new OptionParseError(`org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: ${token}`);
}

const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;

/** Parses words (the command name included) against a command's options. */
export function parseOptions(words: readonly string[], spec: OptionSpec): ParsedArgs {
  const flags = spec.flags ?? '';
  const valued = spec.valued ?? '';
  const known = (c: string) => c.length === 1 && (flags.includes(c) || valued.includes(c));
  const args: string[] = [];
  const opts = new Map<string, string | true>();
  let pending: string | undefined; // an option still waiting for its value
  let rest = false;

  const setOpt = (name: string, value: string | true) => {
    if (!opts.has(name)) opts.set(name, value);
  };
  const handle = (c: string) => {
    if (pending !== undefined) throw missing(pending);
    if (valued.includes(c)) pending = c;
    else setOpt(c, true);
  };
  // commons-cli: a word is an option when it starts with '-' and its first letter is one of ours
  const isOption = (w: string) => w.length >= 2 && w[0] === '-' && known(w[1]!) && !w.startsWith('--');

  for (const w of words) {
    if (rest) {
      args.push(w);
      continue;
    }
    if (pending !== undefined && (!isOption(w) || NEGATIVE_NUMBER.test(w)) && w !== '--') {
      setOpt(pending, w);
      pending = undefined;
      continue;
    }
    if (w === '--') {
      if (pending !== undefined) throw missing(pending);
      rest = true;
      continue;
    }
    if (w.startsWith('--')) throw unrecognized(w);
    if (w.startsWith('-') && w !== '-') {
      const t = w.slice(1);
      const eq = t.indexOf('=');
      if (t.length === 1) {
        if (!known(t)) throw unrecognized(w);
        handle(t);
      } else if (eq > 0) {
        // -v=3
        const name = t.slice(0, eq);
        if (name.length === 1 && valued.includes(name)) {
          handle(name);
          setOpt(name, t.slice(eq + 1));
          pending = undefined;
        } else throw unrecognized(w);
      } else {
        // -sw, -v3, -sv 3
        for (let i = 1; i < w.length; i++) {
          const c = w[i]!;
          if (!known(c)) throw unrecognized(w);
          handle(c);
          if (pending !== undefined && i + 1 < w.length) {
            setOpt(pending, w.slice(i + 1));
            pending = undefined;
            break;
          }
        }
      }
      continue;
    }
    if (pending !== undefined) throw missing(pending);
    args.push(w);
  }
  if (pending !== undefined) throw missing(pending);
  return { args, opts };
}
