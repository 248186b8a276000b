// One shell session: the ZooKeeper client, the settings (printwatches, pretty), zkCli's numbered
// command history, and the dispatcher that turns a command line into a command run and an exit
// status. Input (a terminal, a pipe, argv) and output streams are the caller's (repl.ts, main.ts).

import { ZooKeeperClient } from '../client/client.js';
import { parseConnectString } from '../client/connect-string.js';
import { ZooKeeperError } from '../client/errors.js';
import type { ConnectionState, Stat, StateChange, WatchedEvent } from '../client/types.js';
import { EventType } from '../jute/constants.js';
import { OptionParseError, parseOptions, splitWords } from './args.js';
import type { Style } from './colors.js';
import { COMMANDS } from './commands.js';
import { EXIT, ShellError, notConnected, usageError } from './errors.js';
import { formatEvent, formatStat, watcherBlock } from './format.js';

/** Where the session writes. `event` is for asynchronous output (watch and session events). */
export interface ShellIO {
  out(text: string): void;
  err(text: string): void;
  event(text: string): void;
}

export interface SessionOptions {
  /** Session timeout in ms (zkCli's -timeout); also how long connecting may take. */
  timeout: number;
  /** Accept a read-only server (zkCli's -r). */
  readonly: boolean;
  /** Pretty-print JSON znode data. */
  pretty: boolean;
  /** Print session state changes (SyncConnected, Disconnected, ...) as zkCli does; off for scripts. */
  sessionEvents: boolean;
  /** Colours for stdout and for stderr. */
  style: Style;
  errStyle: Style;
}

/** zkCli's prompt shows ZooKeeper.States names. */
const PROMPT_STATE: Record<ConnectionState, string> = {
  CONNECTING: 'CONNECTING',
  DISCONNECTED: 'CONNECTING',
  CONNECTED: 'CONNECTED',
  CONNECTED_READ_ONLY: 'CONNECTEDREADONLY',
  EXPIRED: 'CLOSED',
  CLOSED: 'CLOSED',
  AUTH_FAILED: 'AUTH_FAILED',
};

/** Watcher.Event.KeeperState names of the session events zkCli prints. */
const EVENT_STATE: Partial<Record<ConnectionState, string>> = {
  CONNECTED: 'SyncConnected',
  CONNECTED_READ_ONLY: 'ConnectedReadOnly',
  DISCONNECTED: 'Disconnected',
  EXPIRED: 'Expired',
  AUTH_FAILED: 'AuthFailed',
  CLOSED: 'Closed',
};

const TERMINAL: ReadonlySet<ConnectionState> = new Set(['EXPIRED', 'AUTH_FAILED', 'CLOSED']);

/** zkCli 3.8 commands not implemented here (quotas, dynamic reconfiguration). */
const NOT_YET: ReadonlySet<string> = new Set(['setquota', 'listquota', 'delquota', 'reconfig']);

export class ShellSession {
  client: ZooKeeperClient | undefined;
  /** A session without the chroot, for `config` (see rootClient). */
  private root: ZooKeeperClient | undefined;
  host: string;
  printWatches = true;
  pretty: boolean;
  /** zkCli's history: command number → line. */
  readonly history = new Map<number, string>();
  commandCount = 0;
  /** Set by `quit`: the caller stops reading commands. */
  quitRequested = false;
  readonly style: Style;
  readonly errStyle: Style;
  private readonly printed = new WeakSet<WatchedEvent>();

  /** The one watcher every -w / addWatch / config -w uses, like zkCli's default watcher. */
  readonly watcher = (ev: WatchedEvent): void => {
    if (ev.type === EventType.None) return; // session events are printed from the state listener
    // one event can reach the same watcher through several registrations (data + child watch,
    // persistent + recursive): ZooKeeper's client delivers it once, and so do we
    if (this.printed.has(ev)) return;
    this.printed.add(ev);
    if (this.printWatches) this.io.event(watcherBlock(formatEvent(ev.state, ev.typeName, ev.path), this.style));
  };

  constructor(host: string, readonly options: SessionOptions, readonly io: ShellIO) {
    this.host = host;
    this.pretty = options.pretty;
    this.style = options.style;
    this.errStyle = options.errStyle;
  }

  // ------------------------------------------------------------------ connection

  /** True while there is a session that may still serve requests (zkCli's States.isAlive()). */
  get alive(): boolean {
    return this.client !== undefined && !TERMINAL.has(this.client.state);
  }

  get stateName(): string {
    return this.client === undefined ? 'CLOSED' : PROMPT_STATE[this.client.state];
  }

  /** The client, or "Not connected". */
  zk(): ZooKeeperClient {
    if (this.client === undefined || !this.alive) throw notConnected();
    return this.client;
  }

  /** The Stat block; this session's own id is known exactly (see formatStat). */
  formatStat(stat: Stat): string {
    return formatStat(stat, this.style, this.client === undefined ? [] : [this.client.sessionId]);
  }

  /** zkCli's prompt: "[zk: host:port(CONNECTED) 3] ". */
  prompt(): string {
    const s = this.style;
    return `[zk: ${s.host(this.host)}(${s.state(this.stateName)}) ${s.count(String(this.commandCount))}] `;
  }

  /** Closes any current session and opens one to `host`; resolves once connected. */
  async connect(host: string): Promise<void> {
    try {
      parseConnectString(host);
    } catch (e) {
      throw usageError(`Invalid connect string ${host}: ${(e as Error).message}`);
    }
    // (no await before the new client exists when there is nothing to close: the prompt shown
    // right after the first connect() call must already say CONNECTING)
    if (this.alive || this.root !== undefined) await this.closeClient();
    this.host = host;
    const c = new ZooKeeperClient(host, {
      sessionTimeout: this.options.timeout,
      connectTimeout: this.options.timeout,
      canBeReadOnly: this.options.readonly,
    });
    this.client = c;
    c.on('state', (sc: StateChange) => this.onState(sc));
    try {
      await c.connect();
    } catch (e) {
      // the client's message reads "ConnectionLoss (-4) for connect: <why>"; keep the why
      const m = (e as Error).message;
      const why = e instanceof ZooKeeperError && m.includes(': ') ? m.slice(m.indexOf(': ') + 2) : m;
      throw new ShellError(`Unable to connect to ${host}: ${why}`, EXIT.NOT_CONNECTED);
    }
  }

  private onState(sc: StateChange): void {
    if (!this.options.sessionEvents || !this.printWatches) return;
    const name = EVENT_STATE[sc.state];
    if (name !== undefined) this.io.event(watcherBlock(formatEvent(name, 'None', null), this.style));
  }

  /**
   * A client for paths outside the chroot (zkCli's `config` reads /zookeeper/config whatever the
   * chroot): the session's own client without a chroot, else a second session opened on demand.
   */
  async rootClient(): Promise<ZooKeeperClient> {
    const zk = this.zk();
    if (zk.chroot === '') return zk;
    if (this.root === undefined || TERMINAL.has(this.root.state)) {
      const hosts = parseConnectString(this.host).hosts.map((h) => (h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`));
      this.root = new ZooKeeperClient(hosts.join(','), { sessionTimeout: this.options.timeout, connectTimeout: this.options.timeout, canBeReadOnly: this.options.readonly });
      await this.root.connect();
    }
    return this.root;
  }

  /** Ends the current session (zkCli's `close`); the client object stays, in state CLOSED. */
  async closeClient(): Promise<void> {
    const c = this.client;
    const root = this.root;
    this.root = undefined;
    if (root !== undefined && !TERMINAL.has(root.state)) await root.close().catch(() => undefined);
    if (c !== undefined && !TERMINAL.has(c.state)) await c.close().catch(() => undefined);
  }

  // ------------------------------------------------------------------ running commands

  /** Runs one typed line (split into words like zkCli does); returns the exit status. */
  async executeLine(line: string): Promise<number> {
    const words = splitWords(line);
    if (words.length === 0) return EXIT.OK;
    this.history.set(this.commandCount, line);
    try {
      return await this.run(words);
    } finally {
      this.commandCount++;
    }
  }

  /** Runs one command given as words (argv of a one-shot invocation); returns the exit status. */
  async run(words: string[]): Promise<number> {
    try {
      await this.dispatch(words);
      return EXIT.OK;
    } catch (e) {
      const err =
        e instanceof ShellError ? e
        : e instanceof OptionParseError ? usageError(e.message)
        : new ShellError(e instanceof Error ? (e.stack ?? e.message) : String(e));
      if (err.message !== '') this.io.err(this.errStyle.error(err.message) + '\n');
      return err.status;
    }
  }

  private async dispatch(words: string[]): Promise<void> {
    const name = words[0]!;
    if (name === 'redo') return this.redo(words);
    const cmd = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (cmd === undefined) {
      if (NOT_YET.has(name)) throw new ShellError(`${name} is a zkCli command that kraal shell does not have yet`, EXIT.NOT_FOUND);
      throw new ShellError(`Command not found: ${name}`, EXIT.NOT_FOUND);
    }
    if (cmd.zk && !this.alive) throw notConnected();
    await cmd.run(this, parseOptions(words, cmd.options ?? {}), words);
  }

  private async redo(words: string[]): Promise<void> {
    const n = words.length >= 2 ? javaDecode(words[1]!) : undefined;
    if (n === undefined) throw usageError('redo cmdno');
    if (this.commandCount <= n || n < 0) throw usageError('Command index out of range');
    const line = this.history.get(n) ?? '';
    const again = splitWords(line);
    if (again.length === 0 || again[0] === 'redo') throw usageError('No redoing redos');
    this.history.set(this.commandCount, line);
    await this.dispatch(again);
  }

  /** Closes the session at the end (quit, end of input). */
  async end(): Promise<void> {
    await this.closeClient();
  }
}

/** Java's Integer.decode for the values redo accepts: decimal, 0x/#hex, 0-prefixed octal. */
function javaDecode(s: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|#[0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(s);
  if (m === null) return undefined;
  const body = m[2]!;
  let v: number;
  if (/^0[xX]/.test(body)) v = parseInt(body.slice(2), 16);
  else if (body.startsWith('#')) v = parseInt(body.slice(1), 16);
  else if (body.length > 1 && body.startsWith('0')) v = parseInt(body.slice(1), 8);
  else v = parseInt(body, 10);
  return m[1] === '-' ? -v : v;
}
