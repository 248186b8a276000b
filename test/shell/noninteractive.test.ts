// `kraal shell` without a terminal, against an in-process Kraal server: one command from argv
// (exit statuses), scripts on stdin (every command, watch events, history/redo, close/connect),
// --pretty, no colours when piped, zkCli-style options, chroot; and tab completion candidates.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/client.js';
import { PLAIN } from '../../src/shell/colors.js';
import { complete } from '../../src/shell/completion.js';
import { ShellSession } from '../../src/shell/session.js';
import { freePort } from '../support/process.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { kraalShell, kraalShellMerged, shellEnv, transcript } from './support.js';

let srv: TestServer;
let server: string;
let zk: ZooKeeperClient;

const STATE = '{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1,2],"big":12345678901234567890}';

before(async () => {
  srv = await startTestServer({ extendedTypesEnabled: true });
  server = `127.0.0.1:${srv.port}`;
  zk = await ZooKeeperClient.connect(server);
  // what a Kafka cluster leaves in ZooKeeper
  await zk.mkdirp('/brokers/ids');
  await zk.create('/brokers/ids/1', '{"host":"b1","port":9092}');
  await zk.create('/brokers/ids/2', '{"host":"b2","port":9092}');
  await zk.mkdirp('/brokers/topics/my-topic/partitions/0');
  await zk.create('/brokers/topics/my-topic/partitions/0/state', STATE);
});

after(async () => {
  await zk.close();
  await srv.destroy();
});

describe('one command from argv', () => {
  test("prints the result on stdout and exits 0 (the seed's Kafka commands)", async () => {
    const ls = await kraalShell([server, 'ls', '/brokers/ids']);
    assert.deepEqual([ls.code, ls.stdout, ls.stderr], [0, '[1, 2]\n', '']);
    const get = await kraalShell([server, 'get', '/brokers/topics/my-topic/partitions/0/state']);
    assert.deepEqual([get.code, get.stdout, get.stderr], [0, STATE + '\n', '']);
  });

  test('--pretty indents JSON data (exact number digits), other data is printed as it is', async () => {
    const r = await kraalShell(['--pretty', server, 'get', '/brokers/topics/my-topic/partitions/0/state']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, [
      '{', '  "controller_epoch": 1,', '  "leader": 1,', '  "version": 1,', '  "leader_epoch": 0,', '  "isr": [', '    1,', '    2', '  ],',
      '  "big": 12345678901234567890', '}', '',
    ].join('\n'));
    const plain = await kraalShell(['--pretty', server, 'get', '/brokers']);
    assert.deepEqual([plain.code, plain.stdout], [0, 'null\n']);
  });

  test('exit statuses: 1 the server said no, 2 usage, 127 unknown command, 3 no server', async () => {
    const missing = await kraalShell([server, 'get', '/nope']);
    assert.deepEqual([missing.code, missing.stdout, missing.stderr], [1, '', 'Node does not exist: /nope\n']);
    const exists = await kraalShell([server, 'create', '/brokers']);
    assert.deepEqual([exists.code, exists.stderr], [1, 'Node already exists: /brokers\n']);
    const badVersion = await kraalShell([server, 'set', '-v', '42', '/brokers', 'x']);
    assert.deepEqual([badVersion.code, badVersion.stderr], [1, 'version No is not valid : /brokers\n']);
    const usage = await kraalShell([server, 'get']);
    assert.deepEqual([usage.code, usage.stderr], [2, 'get [-s] [-w] path\n']);
    const badOpt = await kraalShell([server, 'ls', '-x', '/']);
    assert.deepEqual([badOpt.code, badOpt.stderr], [2, 'org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x\n']);
    const badPath = await kraalShell([server, 'ls', 'brokers']);
    assert.deepEqual([badPath.code, badPath.stderr], [2, 'Path must start with / character\n']);
    const unknown = await kraalShell([server, 'frobnicate', '/']);
    assert.deepEqual([unknown.code, unknown.stderr], [127, 'Command not found: frobnicate\n']);
    const notYet = await kraalShell([server, 'listquota', '/']);
    assert.deepEqual([notYet.code, notYet.stderr], [127, 'listquota is a zkCli command that kraal shell does not have yet\n']);
    const port = await freePort();
    const t0 = Date.now();
    const down = await kraalShell(['-timeout', '500', `127.0.0.1:${port}`, 'ls', '/']);
    assert.equal(down.code, 3);
    assert.match(down.stderr, new RegExp(`^Unable to connect to 127\\.0\\.0\\.1:${port}: .*500 ms\\n$`));
    assert.ok(Date.now() - t0 < 10000);
    const badArgv = await kraalShell(['-timeout', 'soon', server, 'ls', '/']);
    assert.equal(badArgv.code, 2);
    assert.match(badArgv.stderr, /-timeout expects a number of milliseconds/);
  });

  test("zkCli's -server/-timeout/-r, --server, and a chroot in the connect string", async () => {
    const z = await kraalShell(['-server', server, '-timeout', '5000', '-r', 'ls', '/brokers']);
    assert.deepEqual([z.code, z.stdout], [0, '[ids, topics]\n']);
    const s = await kraalShell(['--server', server, 'getAllChildrenNumber', '/brokers']);
    assert.deepEqual([s.code, s.stdout], [0, '8\n']);
    const c = await kraalShell([`${server}/brokers`, 'ls', '/ids']);
    assert.deepEqual([c.code, c.stdout], [0, '[1, 2]\n']);
  });

  test('no colours when stdout is not a terminal, whether or not NO_COLOR is set', async () => {
    for (const env of [shellEnv({ NO_COLOR: undefined, FORCE_COLOR: '1' }), shellEnv({ NO_COLOR: '1' })]) {
      const ok = await kraalShell(['--pretty', server, 'get', '/brokers/topics/my-topic/partitions/0/state'], { env });
      const bad = await kraalShell([server, 'get', '/nope'], { env });
      for (const text of [ok.stdout, bad.stderr]) assert.ok(!text.includes('\x1b'), `escape sequence in ${JSON.stringify(text)}`);
    }
  });

  test('--help describes the command', async () => {
    const r = await kraalShell(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: kraal shell \[options\] \[host:port\[,host:port\.\.\.\]\[\/chroot\]\] \[command \[args\.\.\.\]\]/);
    assert.match(r.stdout, /--pretty/);
    assert.match(r.stdout, /Exit status: 0 ok, 1 the operation failed, 2 usage error, 3 not connected, 127 unknown command/);
  });
});

describe('a script on stdin', () => {
  test('every command, with zkCli output, and watch events as they arrive', async () => {
    const cmds = [
      `create /ni ${STATE}`, 'create -s /ni/seq- a', 'create -e /ni/eph e', 'create -c /ni/ctr', 'create -t 60000 /ni/ttl t',
      'create -s -e /ni/eseq- x', 'create /ni/acl x world:anyone:cdra', 'create /ni', 'create /ni/x/y', 'create ni',
      'create -c -e /ni/z', 'create -t 0 /ni/z', 'create /ni/bad x nocolons', 'ls /ni', 'ls -s /ni', 'ls -R /ni', 'get /ni', 'get -s /ni/eph',
      'pretty on', 'pretty', 'get /brokers/ids/1', 'pretty off', 'get /brokers/ids/1', 'set /ni/seq-0000000000 b',
      'set -s /ni/seq-0000000000 c', 'set -v 7 /ni/seq-0000000000 d', 'stat /ni/seq-0000000000', 'stat /ni/missing',
      'getAcl /ni/acl', 'getAcl -s /ni/acl', 'setAcl /ni/acl world:anyone:ra', 'set /ni/acl q', 'setAcl -s -v 1 /ni/acl world:anyone:cdrwa',
      'setAcl -R /ni world:anyone:cdrwa', 'getAcl /ni/ctr', 'addauth digest user:pw', 'whoami', 'sync /ni', 'getEphemerals /ni', 'getEphemerals',
      'getAllChildrenNumber /ni', 'config', 'config -s', 'get -w /ni/seq-0000000000', 'set /ni/seq-0000000000 e', 'ls -w /ni',
      'stat -w /ni/acl', 'removewatches /ni -c', 'removewatches /ni/acl -d', 'removewatches /ni', 'addWatch -m PERSISTENT_RECURSIVE /ni',
      'create /ni/ctr/kid', 'addWatch -m bogus /ni', 'removewatches /ni -a', 'printwatches off', 'get -w /ni/ctr/kid',
      'set /ni/ctr/kid silent', 'printwatches', 'printwatches on', 'delete -v 9 /ni/ctr/kid', 'delete /ni/ctr/kid', 'delete /ni',
      'version', 'deleteall /ni -b 2', 'ls /ni',
    ];
    const t = await transcript((input) => kraalShellMerged([server], input), cmds, [srv.port]);
    const seg = (cmd: string, nth = 0) => {
      const g = t.segments.filter((x) => x.cmd === cmd)[nth];
      assert.ok(g, `no output segment for ${cmd}`);
      return g.out;
    };
    const statLines = (out: string[]) => Object.fromEntries(out.filter((l) => l.includes(' = ')).map((l) => l.split(' = ') as [string, string]));
    assert.deepEqual(seg(`create /ni ${STATE}`), ['Created /ni']);
    assert.deepEqual(seg('create -s /ni/seq- a'), ['Created /ni/seq-0000000000']);
    assert.deepEqual(seg('create -s -e /ni/eseq- x'), ['Created /ni/eseq-0000000004']);
    assert.deepEqual(seg('create /ni'), ['Node already exists: /ni']);
    assert.deepEqual(seg('create /ni/x/y'), ['Node does not exist: /ni/x/y']);
    assert.deepEqual(seg('create ni'), ['Path must start with / character']);
    assert.deepEqual(seg('create -c -e /ni/z'), ['-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.']);
    assert.deepEqual(seg('create -t 0 /ni/z'), ['ttl must be positive and cannot be larger than: 1099511627775']);
    assert.deepEqual(seg('create /ni/bad x nocolons'), ['nocolons does not have the form scheme:id:perm', 'KeeperErrorCode = InvalidACL', 'Acl is not valid : null']);
    assert.deepEqual(seg('ls /ni'), ['[acl, ctr, eph, eseq-0000000004, seq-0000000000, ttl]']);
    assert.equal(seg('ls -s /ni')[0], '[acl, ctr, eph, eseq-0000000004, seq-0000000000, ttl]');
    assert.equal(statLines(seg('ls -s /ni')).numChildren, '6');
    assert.deepEqual(seg('ls -R /ni'), ['/ni', '/ni/acl', '/ni/ctr', '/ni/eph', '/ni/eseq-0000000004', '/ni/seq-0000000000', '/ni/ttl']);
    assert.deepEqual(seg('get /ni'), [STATE]);
    const eph = seg('get -s /ni/eph');
    assert.equal(eph[0], 'e');
    assert.deepEqual(eph.slice(1).map((l) => l.split(' = ')[0]), ['cZxid', 'ctime', 'mZxid', 'mtime', 'pZxid', 'cversion', 'dataVersion', 'aclVersion', 'ephemeralOwner', 'dataLength', 'numChildren']);
    assert.match(statLines(eph).ephemeralOwner!, /^<session#\d+>$/);
    assert.equal(statLines(eph).dataLength, '1');
    assert.deepEqual(seg('pretty'), ['pretty is on']);
    assert.deepEqual(seg('get /brokers/ids/1'), ['{', '  "host": "b1",', '  "port": 9092', '}']);
    assert.deepEqual(seg('get /brokers/ids/1', 1), ['{"host":"b1","port":9092}']);
    assert.deepEqual(seg('set /ni/seq-0000000000 b'), []);
    assert.equal(statLines(seg('set -s /ni/seq-0000000000 c')).dataVersion, '2');
    assert.deepEqual(seg('set -v 7 /ni/seq-0000000000 d'), ['version No is not valid : /ni/seq-0000000000']);
    assert.equal(statLines(seg('stat /ni/seq-0000000000')).dataLength, '1');
    assert.deepEqual(seg('stat /ni/missing'), ['Node does not exist: /ni/missing']);
    assert.deepEqual(seg('getAcl /ni/acl'), ["'world,'anyone", ': cdra']);
    assert.equal(statLines(seg('getAcl -s /ni/acl')).aclVersion, '0');
    assert.deepEqual(seg('set /ni/acl q'), ['Insufficient permission : /ni/acl']);
    assert.equal(statLines(seg('setAcl -s -v 1 /ni/acl world:anyone:cdrwa')).aclVersion, '2');
    assert.deepEqual(seg('setAcl -R /ni world:anyone:cdrwa'), []);
    assert.deepEqual(seg('getAcl /ni/ctr'), ["'world,'anyone", ': cdrwa']);
    // (the order of the identities is the server's)
    assert.deepEqual([seg('whoami')[0], ...seg('whoami').slice(1).sort()], ['Auth scheme: User', 'digest: user', 'ip: 127.0.0.1']);
    assert.deepEqual(seg('sync /ni'), ['Sync is OK']);
    assert.deepEqual(seg('getEphemerals /ni'), ['[/ni/eph, /ni/eseq-0000000004]']);
    assert.deepEqual(seg('getEphemerals'), ['[/ni/eph, /ni/eseq-0000000004]']);
    assert.deepEqual(seg('getAllChildrenNumber /ni'), ['6']);
    assert.deepEqual(seg('config'), []);
    assert.equal(statLines(seg('config -s')).aclVersion, '-1');
    assert.deepEqual(seg('removewatches /ni'), ['KeeperErrorCode = No such watcher for /ni']);
    assert.deepEqual(seg('create /ni/ctr/kid'), ['Created /ni/ctr/kid']);
    assert.deepEqual(seg('addWatch -m bogus /ni'), ['addWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE']);
    assert.deepEqual(seg('printwatches'), ['printwatches is off']);
    assert.deepEqual(seg('delete -v 9 /ni/ctr/kid'), ['version No is not valid : /ni/ctr/kid']);
    assert.deepEqual(seg('delete /ni/ctr/kid'), []);
    assert.deepEqual(seg('delete /ni'), ['Node not empty: /ni']);
    assert.match(seg('version')[0]!, /^Kraal shell version: /);
    assert.deepEqual(seg('deleteall /ni -b 2'), []);
    assert.deepEqual(seg('ls /ni', 1), ['Node does not exist: /ni']);
    // watch events, in order; none while printwatches was off; no session events in a script
    assert.deepEqual(t.events, [
      'WatchedEvent state:SyncConnected type:NodeDataChanged path:/ni/seq-0000000000',
      'WatchedEvent state:SyncConnected type:ChildWatchRemoved path:/ni',
      'WatchedEvent state:SyncConnected type:DataWatchRemoved path:/ni/acl',
      'WatchedEvent state:SyncConnected type:NodeCreated path:/ni/ctr/kid',
      'WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:/ni',
    ]);
    assert.ok(t.raw.includes('\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/ni/seq-0000000000\n'), 'zkCli layout of an event');
  });

  test('the exit status is the first failure; quit stops reading; blank lines are skipped', async () => {
    const r = await kraalShell([server], { input: 'ls /brokers\n\n   \nget /nope\nfrob\nquit\nls /\n' });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '[ids, topics]\n');
    assert.equal(r.stderr, 'Node does not exist: /nope\nCommand not found: frob\n');
    const ok = await kraalShell([server], { input: 'ls /brokers/ids\nstat /brokers\n' });
    assert.equal(ok.code, 0);
  });

  test('history, redo, help and printwatches are local commands', async () => {
    const r = await kraalShell([server], { input: 'ls /brokers/ids\nget /nope\nredo 0\nredo 7\nredo\nhistory\nhelp\n' });
    assert.equal(r.code, 1);
    const out = r.stdout.split('\n');
    assert.deepEqual(out.slice(0, 2), ['[1, 2]', '[1, 2]']);
    assert.deepEqual(out.slice(2, 8), ['0 - ls /brokers/ids', '1 - get /nope', '2 - ls /brokers/ids', '3 - redo 7', '4 - redo', '5 - history']);
    assert.equal(out[8], 'kraal shell [options] [host:port[,host:port...][/chroot]] [command [args...]]');
    for (const c of ['ls [-s] [-w] [-R] path', 'create [-s] [-e] [-c] [-t ttl] path [data] [acl]', 'removewatches path [-c|-d|-a] [-l]', 'printwatches on|off', 'pretty on|off']) {
      assert.ok(out.includes(`\t${c}`), `help lists ${c}`);
    }
    assert.equal(r.stderr, 'Node does not exist: /nope\nCommand index out of range\nredo cmdno\n');
  });

  test('close ends the session ("Not connected", status 3); connect opens another', async () => {
    const r = await kraalShell([server], { input: `create -e /brokers/e x\nclose\nls /brokers\nstat /brokers/e\nconnect ${server}\nls /brokers\n` });
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'Created /brokers/e\n[ids, topics]\n');
    assert.equal(r.stderr, 'Not connected\nNot connected\n');
    assert.equal(await zk.exists('/brokers/e'), null, 'the ephemeral went with the closed session');
  });
});

test('tab completion: command names, then children of the typed parent', async () => {
  const io = { out: () => undefined, err: () => undefined, event: () => undefined };
  const s = new ShellSession(server, { timeout: 5000, readonly: false, pretty: false, sessionEvents: false, style: PLAIN, errStyle: PLAIN }, io);
  await s.connect(server);
  try {
    assert.deepEqual(await complete(s, 'getAllC'), [['getAllChildrenNumber '], 'getAllC']);
    assert.deepEqual(await complete(s, 'get'), [['get', 'getAcl', 'getAllChildrenNumber', 'getEphemerals'], 'get']);
    assert.deepEqual(await complete(s, 'ls /br'), [['brokers'], 'br']);
    assert.deepEqual(await complete(s, 'ls /'), [['brokers', 'zookeeper'], '']);
    assert.deepEqual(await complete(s, 'get -s /brokers/topics/my-topic/partitions/'), [['0'], '']);
    assert.deepEqual(await complete(s, 'ls /brokers/ids/'), [['1', '2'], '']);
    assert.deepEqual(await complete(s, 'ls /nope/x'), [[], 'x']);
    assert.deepEqual(await complete(s, 'ls -'), [[], '-']);
  } finally {
    await s.end();
  }
});
