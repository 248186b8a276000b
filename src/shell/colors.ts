// Colours: only on a terminal, never when NO_COLOR is set (to anything, even empty) or with
// --no-color. A Style with colours off returns every string unchanged, so callers never branch.

export interface Style {
  readonly enabled: boolean;
  error(s: string): string;
  event(s: string): string;
  created(s: string): string;
  /** The pieces of the prompt. */
  host(s: string): string;
  state(s: string): string;
  count(s: string): string;
  /** Stat block: the field name. */
  key(s: string): string;
  /** JSON tokens (pretty mode). */
  jsonKey(s: string): string;
  jsonString(s: string): string;
  jsonNumber(s: string): string;
  jsonLiteral(s: string): string;
}

const sgr = (open: string) => (s: string) => (s === '' ? s : `\x1b[${open}m${s}\x1b[0m`);
const plain = (s: string) => s;

const RED = sgr('31');
const GREEN = sgr('32');
const YELLOW = sgr('33');
const BLUE = sgr('34');
const MAGENTA = sgr('35');
const CYAN = sgr('36');
const DIM = sgr('2');
const BOLD_RED = sgr('1;31');

function colourState(s: string): string {
  if (s === 'CONNECTED') return GREEN(s);
  if (s === 'CONNECTEDREADONLY' || s === 'CONNECTING') return YELLOW(s);
  return BOLD_RED(s);
}

export const PLAIN: Style = {
  enabled: false,
  error: plain,
  event: plain,
  created: plain,
  host: plain,
  state: plain,
  count: plain,
  key: plain,
  jsonKey: plain,
  jsonString: plain,
  jsonNumber: plain,
  jsonLiteral: plain,
};

export const COLOURED: Style = {
  enabled: true,
  error: RED,
  event: YELLOW,
  created: GREEN,
  host: CYAN,
  state: colourState,
  count: DIM,
  key: DIM,
  jsonKey: BLUE,
  jsonString: GREEN,
  jsonNumber: CYAN,
  jsonLiteral: MAGENTA,
};

/**
 * Whether a stream gets colours: it is a TTY, NO_COLOR is absent from the environment (any value,
 * the empty string included, turns colours off) and colours were not refused with --no-color.
 */
export function wantColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, flag: boolean): boolean {
  return flag && stream.isTTY === true && !Object.prototype.hasOwnProperty.call(env, 'NO_COLOR');
}

export function styleFor(enabled: boolean): Style {
  return enabled ? COLOURED : PLAIN;
}
