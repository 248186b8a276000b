// The command table: every zkCli 3.8 command (same names, options, usage lines, checks in the same
// order, same output) plus `help` and `pretty`. Each entry declares its options for args.ts and
// whether it needs a live session; session.ts checks that and parses before calling `run`.

import { ZooKeeperError } from '../client/errors.js';
import { CreateMode, Err, MAX_TTL } from '../jute/constants.js';
import { OPEN_ACL_UNSAFE, type ACL, type CreateModeCode, type WatcherKind } from '../client/types.js';
import { KRAAL_VERSION } from '../server/version.js';
import { parseAcl } from './acl.js';
import { parseOptions, type OptionSpec, type ParsedArgs } from './args.js';
import { EXIT, ShellError, fromOperation, usageError } from './errors.js';
import { dataText, formatAcl, javaList, keeperMessage, prettyJson } from './format.js';
import { childPath, validatePath } from './paths.js';
import type { ShellSession } from './session.js';

export interface ShellCommand {
  /** zkCli's option string, shown after the name in usage lines and help. */
  usage: string;
  options?: OptionSpec;
  /** Needs a live session ("Not connected" otherwise). */
  zk: boolean;
  /** What it does, under the usage line in `help` (zkCli's list shows only the usage). */
  summary: string;
  run(s: ShellSession, p: ParsedArgs, words: string[]): Promise<void>;
}

const usageOf = (name: string) => `${name} ${COMMANDS[name]!.usage}`;
const need = (p: ParsedArgs, n: number, name: string) => {
  if (p.args.length < n) throw usageError(usageOf(name));
};

/** A path argument checked with PathUtils' rules and messages (zkCli's MalformedPathException). */
function checkPath(path: string, sequential = false): string {
  try {
    validatePath(path, sequential);
  } catch (e) {
    throw usageError((e as Error).message);
  }
  return path;
}

/** Java's Integer.parseInt, or a usage error naming the option. */
function intOption(p: ParsedArgs, opt: string, fallback: number): number {
  const v = p.opts.get(opt);
  if (v === undefined || v === true) return fallback;
  if (/^[+-]?\d+$/.test(v)) {
    const n = Number(v);
    if (n >= -2147483648 && n <= 2147483647) return n;
  }
  throw usageError(`-${opt} argument must be an int value`);
}

/** zkCli's retainCompatibility for `cmd path watch`: the third word becomes -w, and a warning. */
function oldWatchSyntax(p: ParsedArgs, words: string[], spec: OptionSpec, warning: string, s: ShellSession): ParsedArgs {
  if (p.args.length <= 2) return p;
  const rewritten = words.slice();
  rewritten[2] = '-w';
  s.io.err(s.errStyle.error(warning) + '\n');
  return parseOptions(rewritten, spec);
}

async function op<T>(promise: Promise<T>, path?: string | null): Promise<T> {
  try {
    return await promise;
  } catch (e) {
    throw fromOperation(e, path);
  }
}

function printData(s: ShellSession, data: Buffer | null): void {
  const text = dataText(data);
  const pretty = s.pretty ? prettyJson(text, s.style) : undefined;
  s.io.out((pretty ?? text) + '\n');
}

/** ZKUtil.visitSubTreeDFS: the node, then each level's children (sorted) before descending. */
async function visitSubTree(s: ShellSession, path: string, watch: boolean, visit: (p: string) => Promise<void> | void): Promise<void> {
  const zk = s.zk();
  const w = watch ? s.watcher : undefined;
  await op(zk.getData(path, w));
  await visit(path);
  const helper = async (p: string): Promise<void> => {
    let children: string[];
    try {
      children = await zk.getChildren(p, w);
    } catch (e) {
      if (e instanceof ZooKeeperError && e.is('NoNode')) return; // deleted meanwhile
      throw fromOperation(e);
    }
    children.sort();
    for (const c of children) await visit(childPath(p, c));
    for (const c of children) await helper(childPath(p, c));
  };
  await helper(path);
}

function onOff(s: ShellSession, p: ParsedArgs, name: string, get: () => boolean, set: (v: boolean) => void): void {
  if (p.args.length === 1) s.io.out(`${name} is ${get() ? 'on' : 'off'}\n`);
  else set(p.args[1] === 'on');
}

/** ConfigUtils.getClientConfigStr: "<version> host:port,host:port" from the dynamic config. */
export function clientConfigString(config: string): string {
  let version = '';
  const servers: [string, string][] = [];
  for (const raw of config.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m === null) continue;
    const key = m[1]!.trim();
    const value = m[2]!.trim();
    if (key === 'version') version = value;
    if (!key.startsWith('server.')) continue;
    const semi = value.indexOf(';');
    if (semi < 0) continue;
    const client = value.slice(semi + 1).trim();
    const colon = client.lastIndexOf(':');
    servers.push([key, colon < 0 ? `0.0.0.0:${client}` : client]);
  }
  servers.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `${version} ${servers.map((x) => x[1]).join(',')}`;
}

const LS_OPTS: OptionSpec = { flags: '?swR' };
const GET_OPTS: OptionSpec = { flags: 'sw' };
const STAT_OPTS: OptionSpec = { flags: 'w' };
const DELETE_OPTS: OptionSpec = { valued: 'v' };
const ADD_WATCH_MODES = ['PERSISTENT', 'PERSISTENT_RECURSIVE'];

export const COMMANDS: Record<string, ShellCommand> = {
  addWatch: {
    usage: `[-m mode] path # optional mode is one of [${ADD_WATCH_MODES.join(', ')}] - default is PERSISTENT_RECURSIVE`,
    options: { valued: 'm' },
    zk: true,
    summary: 'add a persistent (recursive) watch',
    async run(s, p) {
      if (p.args.length !== 2) throw usageError(usageOf('addWatch'));
      const m = p.opts.get('m');
      const mode = typeof m === 'string' ? m.toUpperCase() : 'PERSISTENT_RECURSIVE';
      if (!ADD_WATCH_MODES.includes(mode)) throw usageError(usageOf('addWatch'));
      const path = checkPath(p.args[1]!);
      const w = await op(s.zk().addWatch(path, mode === 'PERSISTENT' ? 'persistent' : 'recursive', s.watcher));
      // events reach s.watcher; drain the iterator so that it does not hold them all
      void (async () => {
        try {
          for await (const _ of w) {
            // printed by the callback
          }
        } catch {
          // ends with the session
        }
      })();
    },
  },
  addauth: {
    usage: 'scheme auth',
    zk: true,
    summary: 'add an identity to the session, e.g. addauth digest user:password',
    async run(s, p) {
      need(p, 2, 'addauth');
      await op(s.zk().addAuth(p.args[1]!, p.args.length >= 3 ? Buffer.from(p.args[2]!, 'utf8') : Buffer.alloc(0)), null);
    },
  },
  close: {
    usage: '',
    zk: true,
    summary: 'end the session (connect opens a new one)',
    async run(s) {
      await s.closeClient();
    },
  },
  config: {
    usage: '[-c] [-w] [-s]',
    options: { flags: 'swc' },
    zk: true,
    summary: 'the ensemble configuration (/zookeeper/config); -c: only the client addresses',
    async run(s, p) {
      const w = p.opts.has('w') ? s.watcher : undefined;
      const zk = await op(s.rootClient());
      const r = await op(zk.getData('/zookeeper/config', w), '/zookeeper/config');
      const text = dataText(r.data);
      s.io.out((p.opts.has('c') ? clientConfigString(text) : text) + '\n');
      if (p.opts.has('s')) s.io.out(s.formatStat(r.stat));
    },
  },
  connect: {
    usage: 'host:port',
    zk: false,
    summary: 'open a new session, to this server (or again to the current one)',
    async run(s, p) {
      await s.connect(p.args.length >= 2 ? p.args[1]! : s.host);
    },
  },
  create: {
    usage: '[-s] [-e] [-c] [-t ttl] path [data] [acl]',
    options: { flags: 'esc', valued: 't' },
    zk: true,
    summary: 'create a node: -s sequential, -e ephemeral, -c container, -t ttl (ms)',
    async run(s, p) {
      need(p, 2, 'create');
      const hasE = p.opts.has('e');
      const hasS = p.opts.has('s');
      const hasC = p.opts.has('c');
      const hasT = p.opts.has('t');
      if (hasC && (hasE || hasS)) throw usageError('-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.');
      let ttl = 0;
      if (hasT) {
        const v = String(p.opts.get('t'));
        if (!/^[+-]?\d+$/.test(v) || BigInt(v) > 9223372036854775807n || BigInt(v) < -9223372036854775808n) throw usageError('-t argument must be a long value');
        ttl = Number(v);
      }
      if (hasT && hasE) throw usageError('TTLs cannot be used with Ephemeral znodes');
      if (hasT && hasC) throw usageError('TTLs cannot be used with Container znodes');
      let mode: CreateModeCode;
      if (hasE && hasS) mode = CreateMode.EPHEMERAL_SEQUENTIAL;
      else if (hasE) mode = CreateMode.EPHEMERAL;
      else if (hasS) mode = hasT ? CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL : CreateMode.PERSISTENT_SEQUENTIAL;
      else if (hasC) mode = CreateMode.CONTAINER;
      else mode = hasT ? CreateMode.PERSISTENT_WITH_TTL : CreateMode.PERSISTENT;
      if (hasT && (ttl <= 0 || ttl > MAX_TTL)) throw usageError(`ttl must be positive and cannot be larger than: ${MAX_TTL}`);
      const path = p.args[1]!;
      const data = p.args.length > 2 ? Buffer.from(p.args[2]!, 'utf8') : null;
      let acl: ACL[] = OPEN_ACL_UNSAFE;
      if (p.args.length > 3) {
        const parsed = parseAcl(p.args[3]!);
        for (const w of parsed.warnings) s.io.err(s.errStyle.error(w) + '\n');
        acl = parsed.acl;
      }
      checkPath(path, hasS);
      const zk = s.zk();
      if (acl.length === 0) {
        // ZooKeeper's client refuses an empty ACL itself, without a path in the error
        s.io.err(s.errStyle.error(keeperMessage(Err.InvalidACL, null)) + '\n');
        throw fromOperation(new ZooKeeperError(Err.InvalidACL, 'create'), null);
      }
      let created: string;
      try {
        created = await zk.create(path, data, hasT ? { mode, acl, ttl } : { mode, acl });
      } catch (e) {
        if (e instanceof ZooKeeperError && e.is('InvalidACL')) s.io.err(s.errStyle.error(keeperMessage(e.code, e.path)) + '\n');
        throw fromOperation(e);
      }
      s.io.out(`${s.style.created('Created')} ${created}\n`);
    },
  },
  delete: {
    usage: '[-v version] path',
    options: DELETE_OPTS,
    zk: true,
    summary: 'delete a node (-v: only at this version)',
    async run(s, p) {
      need(p, 2, 'delete');
      if (p.args.length > 2) s.io.err(s.errStyle.error("'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.") + '\n');
      const version = intOption(p, 'v', -1);
      const path = checkPath(p.args[1]!);
      await op(s.zk().delete(path, version));
    },
  },
  deleteall: {
    usage: 'path [-b batch size]',
    options: { valued: 'b' },
    zk: true,
    summary: 'delete a node and everything below it (in multi batches of -b, default 1000)',
    async run(s, p) {
      need(p, 2, 'deleteall');
      const batch = intOption(p, 'b', 1000);
      const root = checkPath(p.args[1]!);
      const zk = s.zk();
      // ZKUtil.listSubTreeBFS, then deletes from the deepest up in multi batches
      const tree = [root];
      for (let i = 0; i < tree.length; i++) {
        const node = tree[i]!;
        const children = await op(zk.getChildren(node));
        for (const c of children) tree.push(childPath(node, c));
      }
      let ok = true;
      let ops: { type: 'delete'; path: string; version: number }[] = [];
      for (let i = tree.length - 1; i >= 0; i--) {
        ops.push({ type: 'delete', path: tree[i]!, version: -1 });
        if (ops.length === batch || i === 0) {
          try {
            await zk.multi(ops);
          } catch {
            ok = false;
            break;
          }
          ops = [];
        }
      }
      if (!ok) throw new ShellError('Failed to delete some node(s) in the subtree!');
    },
  },
  get: {
    usage: '[-s] [-w] path',
    options: GET_OPTS,
    zk: true,
    summary: "a node's data (-s: and its Stat; -w: watch it)",
    async run(s, p0, words) {
      need(p0, 2, 'get');
      const p = oldWatchSyntax(p0, words, GET_OPTS, "'get path [watch]' has been deprecated. Please use 'get [-s] [-w] path' instead.", s);
      const path = checkPath(p.args[1]!);
      const r = await op(s.zk().getData(path, p.opts.has('w') ? s.watcher : undefined));
      printData(s, r.data);
      if (p.opts.has('s')) s.io.out(s.formatStat(r.stat));
    },
  },
  getAcl: {
    usage: '[-s] path',
    options: { flags: 's' },
    zk: true,
    summary: "a node's ACL (-s: and its Stat)",
    async run(s, p) {
      need(p, 2, 'getAcl');
      const path = checkPath(p.args[1]!);
      const r = await op(s.zk().getACL(path));
      s.io.out(r.acl.map(formatAcl).join(''));
      if (p.opts.has('s')) s.io.out(s.formatStat(r.stat));
    },
  },
  getAllChildrenNumber: {
    usage: 'path',
    zk: true,
    summary: 'how many nodes are below a node',
    async run(s, p) {
      need(p, 2, 'getAllChildrenNumber');
      const path = checkPath(p.args[1]!);
      s.io.out(`${await op(s.zk().getAllChildrenNumber(path))}\n`);
    },
  },
  getEphemerals: {
    usage: 'path',
    zk: true,
    summary: "this session's ephemeral nodes (under a path prefix)",
    async run(s, p) {
      const prefix = p.args.length < 2 ? '/' : checkPath(p.args[1]!);
      s.io.out(javaList(await op(s.zk().getEphemerals(prefix), null)) + '\n');
    },
  },
  help: {
    usage: '',
    zk: false,
    summary: 'this list',
    async run(s) {
      const names = Object.keys(COMMANDS).sort();
      let text = 'kraal shell [options] [host:port[,host:port...][/chroot]] [command [args...]]\n';
      for (const n of names) text += `\t${n} ${COMMANDS[n]!.usage}\n\t\t${COMMANDS[n]!.summary}\n`;
      s.io.out(text);
    },
  },
  history: {
    usage: '',
    zk: false,
    summary: 'the last commands, numbered for redo',
    async run(s) {
      let text = '';
      for (let i = s.commandCount - 10; i <= s.commandCount; i++) {
        if (i < 0) continue;
        text += `${i} - ${s.history.get(i) ?? 'null'}\n`;
      }
      s.io.out(text);
    },
  },
  ls: {
    usage: '[-s] [-w] [-R] path',
    options: LS_OPTS,
    zk: true,
    summary: 'the children of a node (-s: and its Stat; -R: the whole subtree; -w: watch)',
    async run(s, p0, words) {
      if (p0.opts.has('?')) s.io.out('usage: ls [options] path\n -?   help\n -R   recurse\n -s   stat\n -w   watch\n');
      const p = oldWatchSyntax(p0, words, LS_OPTS, "'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.", s);
      need(p, 2, 'ls');
      const path = checkPath(p.args[1]!);
      const watch = p.opts.has('w');
      if (p.opts.has('R')) {
        await visitSubTree(s, path, watch, (x) => s.io.out(x + '\n'));
        return;
      }
      const zk = s.zk();
      const w = watch ? s.watcher : undefined;
      if (p.opts.has('s')) {
        const r = await op(zk.getChildren2(path, w));
        s.io.out(javaList(r.children.sort()) + '\n' + s.formatStat(r.stat));
      } else {
        s.io.out(javaList((await op(zk.getChildren(path, w))).sort()) + '\n');
      }
    },
  },
  pretty: {
    usage: 'on|off',
    zk: false,
    summary: 'pretty-print JSON data in get (also --pretty)',
    async run(s, p) {
      onOff(s, p, 'pretty', () => s.pretty, (v) => (s.pretty = v));
    },
  },
  printwatches: {
    usage: 'on|off',
    zk: false,
    summary: 'print watch events as they arrive (default on)',
    async run(s, p) {
      onOff(s, p, 'printwatches', () => s.printWatches, (v) => (s.printWatches = v));
    },
  },
  quit: {
    usage: '',
    zk: false,
    summary: 'end the session and leave',
    async run(s) {
      s.quitRequested = true;
      await s.end();
    },
  },
  redo: {
    usage: 'cmdno',
    zk: false,
    summary: 'run command number cmdno of history again',
    async run() {
      // handled by the session (it re-dispatches another line)
    },
  },
  removewatches: {
    usage: 'path [-c|-d|-a] [-l]',
    options: { flags: 'cdal' },
    zk: true,
    summary: 'remove watches: -c child, -d data, -a any (default); -l also locally without a server',
    async run(s, p) {
      need(p, 2, 'removewatches');
      let kind: WatcherKind = 'any';
      if (p.opts.has('c')) kind = 'children';
      else if (p.opts.has('d')) kind = 'data';
      const path = checkPath(p.args[1]!);
      await op(s.zk().removeWatches(path, kind, { local: p.opts.has('l') }));
    },
  },
  set: {
    usage: '[-s] [-v version] path data',
    options: { flags: 's', valued: 'v' },
    zk: true,
    summary: "set a node's data (-v: only at this version; -s: print the new Stat)",
    async run(s, p) {
      need(p, 3, 'set');
      const version = intOption(p, 'v', -1);
      const path = checkPath(p.args[1]!);
      const stat = await op(s.zk().setData(path, Buffer.from(p.args[2]!, 'utf8'), version));
      if (p.opts.has('s')) s.io.out(s.formatStat(stat));
    },
  },
  setAcl: {
    usage: '[-s] [-v version] [-R] path acl',
    options: { flags: 'sR', valued: 'v' },
    zk: true,
    summary: "set a node's ACL (-R: of the whole subtree)",
    async run(s, p) {
      need(p, 3, 'setAcl');
      const path = p.args[1]!;
      const parsed = parseAcl(p.args[2]!);
      for (const w of parsed.warnings) s.io.err(s.errStyle.error(w) + '\n');
      const acl = parsed.acl;
      const version = intOption(p, 'v', -1);
      checkPath(path);
      const zk = s.zk();
      if (p.opts.has('R')) {
        let failed = false;
        await visitSubTree(s, path, false, async (x) => {
          // zkCli prints these messages without a line end
          if (acl.length === 0) {
            failed = true;
            s.io.out(keeperMessage(Err.InvalidACL, null));
            return;
          }
          try {
            await zk.setACL(x, acl, version);
          } catch (e) {
            failed = true;
            s.io.out(e instanceof ZooKeeperError ? keeperMessage(e.code, e.path) : String(e));
          }
        });
        if (failed) throw new ShellError('');
        return;
      }
      if (acl.length === 0) throw fromOperation(new ZooKeeperError(Err.InvalidACL, 'setACL'), null);
      const stat = await op(zk.setACL(path, acl, version));
      if (p.opts.has('s')) s.io.out(s.formatStat(stat));
    },
  },
  stat: {
    usage: '[-w] path',
    options: STAT_OPTS,
    zk: true,
    summary: "a node's Stat (-w: watch it)",
    async run(s, p0, words) {
      need(p0, 2, 'stat');
      const p = oldWatchSyntax(p0, words, STAT_OPTS, "'stat path [watch]' has been deprecated. Please use 'stat [-w] path' instead.", s);
      const path = checkPath(p.args[1]!);
      const stat = await op(s.zk().exists(path, p.opts.has('w') ? s.watcher : undefined));
      if (stat === null) throw fromOperation(new ZooKeeperError(Err.NoNode, 'exists', path));
      s.io.out(s.formatStat(stat));
    },
  },
  sync: {
    usage: 'path',
    zk: true,
    summary: 'wait until the server has caught up with the leader',
    async run(s, p) {
      need(p, 2, 'sync');
      const path = checkPath(p.args[1]!);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ShellError('Sync timed out after 30000 ms')), 30000);
      });
      try {
        await Promise.race([s.zk().sync(path), timeout]);
        s.io.out('Sync is OK\n');
      } catch (e) {
        if (!(e instanceof ZooKeeperError)) throw fromOperation(e);
        s.io.out(`Sync has failed. rc=${e.code}\n`);
        throw new ShellError('', EXIT.FAILED);
      } finally {
        clearTimeout(timer);
      }
    },
  },
  version: {
    usage: '',
    zk: false,
    summary: 'the shell version',
    async run(s, p) {
      if (p.args.length > 1) throw usageError(usageOf('version'));
      s.io.out(`Kraal shell version: ${KRAAL_VERSION} (zkCli 3.8 commands)\n`);
    },
  },
  whoami: {
    usage: '',
    zk: true,
    summary: 'the identities of this session',
    async run(s) {
      const infos = await op(s.zk().whoAmI(), null);
      s.io.out('Auth scheme: User\n' + infos.map((i) => `${i.authScheme}: ${i.user}\n`).join(''));
    },
  },
};

/** Command names, sorted (completion, help). */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS).sort();
