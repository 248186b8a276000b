// The same command lists through zkCli.sh (ZooKeeper 3.8's own shell) and through `kraal shell`,
// one after the other against the same real ZooKeeper 3.8 server: the transcripts must be equal
// after normalization (zxids renumbered in order of appearance, times and session ids masked).
// Each list works under its own root node and deletes it at the end, so both runs start alike.
// Output is compared with stdout and stderr merged (zkCli prints some results on stderr, e.g.
// "Created /x", which `kraal shell` prints on stdout; merged, the text is the same).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startZooKeeper, type Target } from '../harness/servers.js';
import { kraalShellMerged, transcript, zkCliMerged, type Transcript } from './support.js';

let zk: Target;

async function compare(cmds: string[], check?: (zkCli: Transcript) => void): Promise<void> {
  const server = `${zk.host}:${zk.port}`;
  const expected = await transcript((input) => zkCliMerged(server, input), cmds, [zk.port]);
  if (check) check(expected);
  const actual = await transcript((input) => kraalShellMerged([server], input), cmds, [zk.port]);
  for (let i = 0; i < cmds.length; i++) {
    assert.deepStrictEqual(actual.segments[i], expected.segments[i], `output of \`${cmds[i]}\` (actual = kraal shell, expected = zkCli.sh)`);
  }
  assert.deepStrictEqual(actual.segments, expected.segments);
  assert.deepStrictEqual(actual.events, expected.events, 'watch events (actual = kraal shell, expected = zkCli.sh)');
}

const out = (t: Transcript, cmd: string) => {
  const g = t.segments.find((x) => x.cmd === cmd);
  if (!g) throw new Error(`no segment for ${cmd}`);
  return g.out;
};

describe('kraal shell prints what zkCli.sh prints (same commands, same ZooKeeper 3.8 server)', { concurrency: false }, () => {
  before(async () => {
    zk = await startZooKeeper({ portBase: 22850 });
  });
  after(async () => {
    await zk?.stop();
  });

  test('create variants, ls/ls -s/ls -R, get/get -s, stat, set -s, delete, getEphemerals, getAllChildrenNumber, whoami, config, sync, errors', { timeout: 120000 }, async () => {
    await compare([
      'create /sc1 hello', 'create /sc1/a adata', 'create -s /sc1/s-', 'create -s /sc1/s- sdata', 'create -e /sc1/e edata',
      'create -s -e /sc1/se-', 'create -c /sc1/ctr', 'create -t 5000 /sc1/ttl tdata', 'create -t 5000 -s /sc1/ttls- x',
      'create -t 5000 -e /sc1/bad', 'create -t 0 /sc1/bad0', 'create -t x /sc1/bad1', 'create -c -s /sc1/bad2', 'create /sc1/a',
      'create /sc1/missing/x', 'create sc1', 'create /sc1/', 'create /sc1//x', 'create /sc1/e/child', 'create /sc1/q "quoted data"',
      'create /sc1/nul', 'create', 'get /sc1/nul', 'get -s /sc1/nul', 'get /sc1/q', 'ls /sc1', 'ls -s /sc1', 'ls -R /sc1',
      'ls /sc1/missing', 'ls -R /sc1/missing', 'ls', 'ls -x /sc1', 'get /sc1/a', 'get -s /sc1/a', 'get /sc1/missing', 'get',
      'stat /sc1/a', 'stat /sc1/e', 'stat /sc1/ctr', 'stat /sc1/ttl', 'stat /sc1/missing', 'stat', 'set /sc1/a v2', 'set -s /sc1/a v3',
      'set -v 99 /sc1/a bad', 'set -s -v 2 /sc1/a v4', 'set /sc1/missing x', 'set /sc1/a', 'set -v', 'delete /sc1',
      'delete -v 5 /sc1/a', 'delete -v 3 /sc1/a', 'delete /sc1/a', 'delete /sc1/a', 'delete /', 'delete /zookeeper', 'delete sc1',
      'getEphemerals /sc1', 'getEphemerals', 'getEphemerals /sc1/s', 'getAllChildrenNumber /sc1', 'getAllChildrenNumber /sc1/missing',
      'getAllChildrenNumber', 'sync /sc1', 'sync /missing', 'sync', 'whoami', 'config', 'config -c', 'config -s', 'ls /zookeeper',
      'get /zookeeper/config', 'deleteall /sc1 -b 3', 'ls /sc1',
    ], (z) => {
      // the zkCli run itself did what the list intends
      assert.deepEqual(out(z, 'create -s /sc1/s- sdata'), ['Created /sc1/s-0000000002']);
      assert.deepEqual(out(z, 'get /sc1/nul'), ['null']);
      assert.deepEqual(out(z, 'set -v 99 /sc1/a bad'), ['version No is not valid : /sc1/a']);
      assert.deepEqual(out(z, 'ls /sc1'), ['[a, ctr, e, nul, q, s-0000000001, s-0000000002, se-0000000004, ttl, ttls-0000000007]']);
    });
  });

  test('watches (get/ls/stat -w, addWatch, removewatches and its errors, printwatches) and ACLs (getAcl, setAcl -s -v -R and its per-node errors, create with ACLs, addauth)', { timeout: 120000 }, async () => {
    await compare([
      'create /sc2 d', 'get -w /sc2', 'set /sc2 d2', 'ls -w /sc2', 'create /sc2/c', 'stat -w /sc2/c', 'delete /sc2/c', 'get -w /sc2',
      'removewatches /sc2 -d', 'removewatches /sc2 -d', 'ls -w /sc2', 'removewatches /sc2 -c', 'get -w /sc2', 'ls -w /sc2',
      'removewatches /sc2', 'removewatches /sc2/none', 'removewatches', 'addWatch /sc2', 'create /sc2/r1', 'set /sc2/r1 x',
      'create /sc2/r1/deep', 'delete /sc2/r1/deep', 'removewatches /sc2', 'addWatch -m PERSISTENT /sc2', 'set /sc2 p', 'create /sc2/r2',
      'removewatches /sc2 -a', 'addWatch -m BOGUS /sc2', 'addWatch', 'ls -s -w /sc2', 'get -s -w /sc2', 'delete /sc2/r2',
      'printwatches off', 'get -w /sc2', 'set /sc2 silent', 'printwatches', 'printwatches on',
      'create /sc2/a3 z digest:u2:gaVKnqIKcD9GQxW4nd0pnZZzMDk=:r,ip:127.0.0.1:cdrwa', 'getAcl /sc2/a3', 'getAcl -s /sc2/a3',
      'create /sc2/a5 z badscheme:a:r', 'create /sc2/a6 z world:anyone:rxya', 'getAcl /sc2/a6', 'create /sc2/a7 z bogus',
      'create /sc2/a8 z digest:nocolon:r', 'getAcl /sc2/missing', 'create /sc2/t z', 'create /sc2/t/x y', 'setAcl -R /sc2/t world:anyone:rwa',
      'getAcl /sc2/t/x', 'create /sc2/t/y', 'setAcl -R /sc2/t world:anyone:cdrwa', 'getAcl /sc2/t/x', 'setAcl /sc2/t world:anyone:ra',
      'set /sc2/t q', 'setAcl -v 9 /sc2/t world:anyone:cdrwa', 'setAcl /sc2/t bogus', 'setAcl -s -v 3 /sc2/t world:anyone:cdrwa',
      'setAcl /sc2/missing world:anyone:r', 'setAcl /sc2/t', 'addauth digest u1:p1', 'whoami', 'create /sc2/mine x auth::cdrwa', 'getAcl /sc2/mine',
      'create /sc2/r', 'create /sc2/r/a y', 'create /sc2/r/b z', 'setAcl /sc2/r/a world:anyone:r', 'setAcl -R /sc2/r world:anyone:rwa',
      'getAcl /sc2/r/b', 'setAcl /sc2/r world:anyone:cdrwa', 'config -w', 'create /sc2/e', 'create -e /sc2/e/x x', 'create -s -e /sc2/e/y- x', 'getEphemerals /sc2', 'getEphemerals /sc2/e/y',
      'getAllChildrenNumber /sc2', 'deleteall /sc2',
    ], (z) => {
      assert.ok(z.events.includes('WatchedEvent state:SyncConnected type:NodeCreated path:/sc2/r1/deep'), 'recursive watch');
      assert.deepEqual(out(z, 'set /sc2/t q'), ['Insufficient permission : /sc2/t']);
      assert.deepEqual(out(z, 'removewatches /sc2/none'), ['KeeperErrorCode = No such watcher for /sc2/none']);
      assert.deepEqual(out(z, 'setAcl -R /sc2/r world:anyone:rwa'), ['KeeperErrorCode = NoAuth for /sc2/r/a'], 'per-node failures of setAcl -R');
    });
  });

  test('argument parsing, quoting, deprecated forms, history and redo', { timeout: 120000 }, async () => {
    await compare([
      'create /sc3', 'create /sc3/p "hello world"', 'get /sc3/p', "create /sc3/p2 'single q'", 'get /sc3/p2', 'create /sc3/p3 a"b c"',
      'set -v', 'set -v5 /sc3/p x', 'set -sv 1 /sc3/p y', 'ls -sw /sc3/p', 'ls --s /sc3/p', 'ls -- /sc3/p', 'set -v -1 /sc3/p z',
      'get /sc3/p -s', 'ls -sx /sc3/p', 'ls -xs /sc3/p', 'set -s=x /sc3/p x', 'set -v=3 /sc3/p x', 'create -t', 'create /sc3/q -t 10',
      'deleteall /sc3/p -b x', 'get   /sc3/p', 'create /sc3/p4 "unterminated', 'get /sc3/p4', 'ls /sc3/p4 -w extra', 'ls -s /sc3 extra',
      'stat /sc3 w', 'get /sc3 w', 'delete /sc3/p4 5', 'ls -?', 'redo 0', 'redo 9999', 'history', 'ls -R -w /sc3', 'create /sc3/p4/c',
      'deleteall /sc3',
    ], (z) => {
      assert.deepEqual(out(z, 'get /sc3/p'), ['hello world']);
      assert.deepEqual(out(z, 'redo 0'), ['Node already exists: /sc3']);
    });
  });
});
