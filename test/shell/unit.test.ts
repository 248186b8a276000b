// The shell's pure parts: word splitting and option parsing (zkCli / commons-cli rules), path
// checks, ACL parsing, Stat and date layout, JSON pretty-printing, colours, argv resolution.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseAcl } from '../../src/shell/acl.js';
import { OptionParseError, parseOptions, splitWords } from '../../src/shell/args.js';
import { resolveInvocation } from '../../src/shell/cli.js';
import { historyFile, loadHistory, saveHistory } from '../../src/shell/history.js';
import { COLOURED, PLAIN, wantColour } from '../../src/shell/colors.js';
import { clientConfigString } from '../../src/shell/commands.js';
import { formatAcl, formatEvent, formatStat, javaDate, longHex, prettyJson, wrapperMessage, keeperMessage } from '../../src/shell/format.js';
import { validatePath } from '../../src/shell/paths.js';

describe('splitWords (ZooKeeperMain.parseCommand)', () => {
  test('blanks separate words; quoted strings are one word without their quotes', () => {
    assert.deepEqual(splitWords('  create   /a "hello world"  '), ['create', '/a', 'hello world']);
    assert.deepEqual(splitWords("set /a 'x y'"), ['set', '/a', 'x y']);
    assert.deepEqual(splitWords('set /a ""'), ['set', '/a', '']);
  });
  test('a quote inside a word does not start a string; an unmatched quote is skipped', () => {
    assert.deepEqual(splitWords('create /p3 a"b c"'), ['create', '/p3', 'a"b', 'c"']);
    assert.deepEqual(splitWords('create /p4 "unterminated'), ['create', '/p4', 'unterminated']);
  });
  test('tabs are blanks; an empty line has no words', () => {
    assert.deepEqual(splitWords('ls\t/'), ['ls', '/']);
    assert.deepEqual(splitWords('   '), []);
  });
});

describe('parseOptions (commons-cli DefaultParser)', () => {
  const spec = { flags: 'sw', valued: 'v' };
  test('flags, concatenated flags, valued options in both spellings, options after positionals', () => {
    const p = parseOptions(['set', '-sw', '-v', '3', '/a', 'x'], spec);
    assert.deepEqual(p.args, ['set', '/a', 'x']);
    assert.deepEqual([...p.opts], [['s', true], ['w', true], ['v', '3']]);
    assert.equal(parseOptions(['set', '-v5', '/a', 'x'], spec).opts.get('v'), '5');
    assert.equal(parseOptions(['set', '-sv', '7', '/a', 'x'], spec).opts.get('v'), '7');
    assert.equal(parseOptions(['set', '-v=8', '/a'], spec).opts.get('v'), '8');
    assert.equal(parseOptions(['get', '/a', '-s'], spec).opts.get('s'), true);
  });
  test('a negative number or an unknown dash word is an option value; -- ends options', () => {
    assert.equal(parseOptions(['set', '-v', '-1', '/a', 'x'], spec).opts.get('v'), '-1');
    assert.equal(parseOptions(['set', '-v', '--x', '/a', 'x'], spec).opts.get('v'), '--x');
    assert.deepEqual(parseOptions(['ls', '--', '-s'], spec).args, ['ls', '-s']);
  });
  test("errors carry commons-cli's messages", () => {
    const err = (words: string[]) => {
      try {
        parseOptions(words, spec);
      } catch (e) {
        assert.ok(e instanceof OptionParseError);
        return e.message;
      }
      return 'no error';
    };
    assert.equal(err(['set', '-v']), 'org.apache.commons.cli.MissingArgumentException: Missing argument for option: v');
    assert.equal(err(['set', '-v', '-s', '/a']), 'org.apache.commons.cli.MissingArgumentException: Missing argument for option: v');
    assert.equal(err(['ls', '-x']), 'org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x');
    assert.equal(err(['ls', '-sx']), 'org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -sx');
    assert.equal(err(['ls', '--s']), 'org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: --s');
    assert.equal(err(['ls', '-s=x']), 'org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -s=x');
  });
});

test('validatePath gives PathUtils messages', () => {
  const msg = (p: string, seq = false) => {
    try {
      validatePath(p, seq);
      return 'ok';
    } catch (e) {
      return (e as Error).message;
    }
  };
  assert.equal(msg('/'), 'ok');
  assert.equal(msg('/a/b'), 'ok');
  assert.equal(msg('/a/', true), 'ok');
  assert.equal(msg(''), 'Path length must be > 0');
  assert.equal(msg('a'), 'Path must start with / character');
  assert.equal(msg('/a/'), 'Path must not end with / character');
  assert.equal(msg('/a//b'), 'Invalid path string "/a//b" caused by empty node name specified @3');
  assert.equal(msg('/a/../b'), 'Invalid path string "/a/../b" caused by relative paths not allowed @4');
  assert.equal(msg('/a/./b'), 'Invalid path string "/a/./b" caused by relative paths not allowed @3');
  assert.equal(msg('/a\u0001'), 'Invalid path string "/a\u0001" caused by invalid character @2');
  assert.equal(msg('/a.b/..c'), 'ok');
});

test('parseAcl: id between the first and last colon, perms letters, warnings for bad entries', () => {
  assert.deepEqual(parseAcl('world:anyone:cdrwa'), { acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], warnings: [] });
  assert.deepEqual(parseAcl('digest:u:hash=:r,ip:10.0.0.0/8:rw'), {
    acl: [{ perms: 1, id: { scheme: 'digest', id: 'u:hash=' } }, { perms: 3, id: { scheme: 'ip', id: '10.0.0.0/8' } }],
    warnings: [],
  });
  assert.deepEqual(parseAcl('bogus,world:anyone:rxa'), {
    acl: [{ perms: 17, id: { scheme: 'world', id: 'anyone' } }],
    warnings: ['bogus does not have the form scheme:id:perm', 'Unknown perm type: x'],
  });
});

test('Stat block, dates, hex, ACL lines, events and error messages read like zkCli', () => {
  const stat = { czxid: 0x1a, mzxid: 0x1b, ctime: 0, mtime: 86400000, version: 2, cversion: 3, aversion: 1, ephemeralOwner: 0, dataLength: 5, numChildren: 4, pzxid: 0x1c };
  assert.equal(formatStat(stat, PLAIN), [
    'cZxid = 0x1a', `ctime = ${javaDate(0)}`, 'mZxid = 0x1b', `mtime = ${javaDate(86400000)}`, 'pZxid = 0x1c', 'cversion = 3',
    'dataVersion = 2', 'aclVersion = 1', 'ephemeralOwner = 0x0', 'dataLength = 5', 'numChildren = 4', '',
  ].join('\n'));
  assert.match(javaDate(Date.UTC(2026, 10, 25, 15, 43, 37)), /^Wed Nov 25 \d\d:\d\d:37 \S+ 2026$/);
  assert.equal(longHex(-1), 'ffffffffffffffff');
  assert.equal(longHex(0x100000001), '100000001');
  assert.equal(formatAcl({ perms: 31, id: { scheme: 'world', id: 'anyone' } }), "'world,'anyone\n: cdrwa\n");
  assert.equal(formatAcl({ perms: 1, id: { scheme: 'x', id: 'a,b%}' } }), "'x,'a%2Cb%25%7D\n: r\n");
  assert.equal(formatEvent('SyncConnected', 'NodeDataChanged', '/x'), 'WatchedEvent state:SyncConnected type:NodeDataChanged path:/x');
  assert.equal(formatEvent('Closed', 'None', null), 'WatchedEvent state:Closed type:None path:null');
  assert.equal(wrapperMessage(-101, '/x'), 'Node does not exist: /x');
  assert.equal(wrapperMessage(-110, '/x'), 'Node already exists: /x');
  assert.equal(wrapperMessage(-102, '/x'), 'Insufficient permission : /x');
  assert.equal(wrapperMessage(-103, '/x'), 'version No is not valid : /x');
  assert.equal(wrapperMessage(-114, null), 'Acl is not valid : null');
  assert.equal(wrapperMessage(-121, '/x'), 'KeeperErrorCode = No such watcher for /x');
  assert.equal(keeperMessage(-4, undefined), 'KeeperErrorCode = ConnectionLoss');
  assert.equal(keeperMessage(-111, '/x'), 'KeeperErrorCode = Directory not empty for /x');
});

test('prettyJson re-indents objects and arrays, keeps number digits, leaves other text alone', () => {
  assert.equal(prettyJson('{"a":1,"b":[true,null,{}],"c":[],"n":12345678901234567890}', PLAIN),
    '{\n  "a": 1,\n  "b": [\n    true,\n    null,\n    {}\n  ],\n  "c": [],\n  "n": 12345678901234567890\n}');
  assert.equal(prettyJson('{"s":"x,{y}:\\"z\\""}', PLAIN), '{\n  "s": "x,{y}:\\"z\\""\n}');
  assert.equal(prettyJson('plain text', PLAIN), undefined);
  assert.equal(prettyJson('{not json', PLAIN), undefined);
  assert.equal(prettyJson('42', PLAIN), undefined);
  assert.equal(prettyJson('{"k":"v"}', COLOURED), '{\n  \x1b[34m"k"\x1b[0m: \x1b[32m"v"\x1b[0m\n}');
});

test('colours: only on a TTY, never with NO_COLOR (even empty) or --no-color', () => {
  assert.equal(wantColour({ isTTY: true }, {}, true), true);
  assert.equal(wantColour({ isTTY: false }, {}, true), false);
  assert.equal(wantColour({}, {}, true), false);
  assert.equal(wantColour({ isTTY: true }, { NO_COLOR: '1' }, true), false);
  assert.equal(wantColour({ isTTY: true }, { NO_COLOR: '' }, true), false);
  assert.equal(wantColour({ isTTY: true }, {}, false), false);
});

test('config -c: version and client addresses of the dynamic config', () => {
  assert.equal(clientConfigString(''), ' ');
  assert.equal(clientConfigString('server.2=h2:2888:3888:participant;2182\nserver.1=h1:2888:3888:participant;10.0.0.1:2181\nversion=100000000\n'),
    '100000000 10.0.0.1:2181,0.0.0.0:2182');
});

describe('resolveInvocation (argv of kraal shell)', () => {
  test('server first unless it is a command name; default server', () => {
    assert.deepEqual(resolveInvocation(['h:1', 'ls', '-s', '/'], {}), { server: 'h:1', timeout: 30000, readonly: false, pretty: false, color: true, command: ['ls', '-s', '/'] });
    assert.deepEqual(resolveInvocation(['ls', '/'], {}).server, '127.0.0.1:2181');
    assert.deepEqual(resolveInvocation(['ls', '/'], {}).command, ['ls', '/']);
    assert.deepEqual(resolveInvocation([], {}).command, []);
    assert.equal(resolveInvocation(['h1:1,h2:2/app'], {}).server, 'h1:1,h2:2/app');
  });
  test("zkCli's -server, -timeout and -r, before or after the server; commander's flags", () => {
    const inv = resolveInvocation(['-timeout', '5000', '-server', 'h:2', '-r', 'get', '/x'], {});
    assert.deepEqual([inv.server, inv.timeout, inv.readonly, inv.command], ['h:2', 5000, true, ['get', '/x']]);
    const inv2 = resolveInvocation(['h:3', '--timeout=700', '--pretty', '--no-color', 'ls', '/'], {});
    assert.deepEqual([inv2.server, inv2.timeout, inv2.pretty, inv2.color, inv2.command], ['h:3', 700, true, false, ['ls', '/']]);
    const inv3 = resolveInvocation(['ls', '/'], { server: 'h:4', timeout: '900', pretty: true, color: false, readonly: true });
    assert.deepEqual([inv3.server, inv3.timeout, inv3.pretty, inv3.color, inv3.readonly], ['h:4', 900, true, false, true]);
  });
  test('bad options are refused', () => {
    assert.throws(() => resolveInvocation(['-timeout'], {}), /no argument found for option -timeout/);
    assert.throws(() => resolveInvocation(['-timeout', 'soon'], {}), /milliseconds/);
    assert.throws(() => resolveInvocation(['-bogus'], {}), /unknown option -bogus/);
  });
});

test('history file: location, oldest first on disk, newest first in memory, no addauth lines, private', () => {
  assert.equal(historyFile({ KRAAL_SHELL_HISTORY: '' }), undefined);
  assert.equal(historyFile({ KRAAL_SHELL_HISTORY: '/tmp/h' }), '/tmp/h');
  assert.equal(historyFile({}), path.join(os.homedir(), '.kraal_shell_history'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kraal-shell-hist-'));
  try {
    const f = path.join(dir, 'h');
    assert.deepEqual(loadHistory(f), []);
    saveHistory(f, ['ls /b', 'addauth digest u:secret', 'ls /a']);
    assert.equal(readFileSync(f, 'utf8'), 'ls /a\nls /b\n');
    assert.equal(statSync(f).mode & 0o777, 0o600);
    assert.deepEqual(loadHistory(f), ['ls /b', 'ls /a']);
    saveHistory(undefined, ['x']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
