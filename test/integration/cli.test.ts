// The `kraal server` executable: config errors, warnings, flags and clean shutdown.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseZooCfg } from '../../src/server/config.js';
import { Op } from '../../src/jute/constants.js';
import { RawClient, fourLetter } from '../support/raw-client.js';
import { KRAAL_BIN, REPO_ROOT, freePort, spawnServer } from '../support/process.js';
import { tempDir } from '../support/server.js';

test('a bad value in zoo.cfg is refused with a message naming the key, and exit status 78', () => {
  const dir = tempDir();
  const cfg = path.join(dir, 'zoo.cfg');
  writeFileSync(cfg, `tickTime=2000\ndataDir=${dir}\nclientPort=notaport\n`);
  const r = spawnSync(process.execPath, [KRAAL_BIN, 'server', cfg], { encoding: 'utf8' });
  assert.equal(r.status, 78);
  assert.match(r.stderr, /clientPort/);
  assert.match(r.stderr, /notaport/);
  rmSync(dir, { recursive: true, force: true });
});

test('an ensemble configuration (several server.N lines) is refused, not run as unrelated standalone servers', async () => {
  const dir = tempDir();
  const cfg = path.join(dir, 'zoo.cfg');
  writeFileSync(path.join(dir, 'myid'), '1\n');
  writeFileSync(cfg, `tickTime=2000\ndataDir=${dir}\nclientPort=21888\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890\n`);
  const r = spawnSync(process.execPath, [KRAAL_BIN, 'server', cfg], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 78, r.stderr);
  assert.match(r.stderr, /3 servers are configured \(server\.1, server\.2, server\.3\), but this Kraal version runs standalone only/);
  // One server.N line is standalone, as in ZooKeeper.
  writeFileSync(cfg, `tickTime=2000\ndataDir=${dir}\nclientPort=21888\nadmin.enableServer=false\nserver.1=127.0.0.1:2888:3888\n`);
  const one = spawnSync(process.execPath, [KRAAL_BIN, 'server', cfg, '--port', String(await freePort())], { encoding: 'utf8', timeout: 3000 });
  // It served until the timeout's SIGTERM, then stopped cleanly.
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, /"msg":"serving clients"/, one.stdout.slice(0, 2000));
  rmSync(dir, { recursive: true, force: true });
});

test('unknown keys are warned about, flags override the file, SIGINT stops the server cleanly', async () => {
  const dir = tempDir();
  const filePort = await freePort();
  const port = await freePort();
  // the file says filePort, the flag wins; spawnServer waits on the flag's port
  const p = await spawnServer(dir, port, { someUnknownKey: 'x', clientPort: filePort }, ['--port', String(port), '-D', 'maxClientCnxns=5']);
  const conf = await fourLetter(port, 'conf');
  assert.match(conf, new RegExp(`clientPort=${port}\n`));
  assert.match(conf, /maxClientCnxns=5\n/);
  assert.match(p.output(), /someUnknownKey/);
  const c = await RawClient.connect(port);
  assert.equal((await c.request(Op.create, { path: '/cli', data: null, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 })).header.err, 0);
  c.destroy();
  p.child.kill('SIGINT');
  assert.equal(await p.exited, 0);
  rmSync(dir, { recursive: true, force: true });
});

test("the README's `npm start` configuration parses without warnings", () => {
  const text = readFileSync(path.join(REPO_ROOT, 'conf', 'zoo.cfg'), 'utf8');
  const { config, warnings } = parseZooCfg(text, { baseDir: REPO_ROOT });
  assert.deepEqual(warnings, []);
  assert.equal(config.clientPort, 2181);
  assert.equal(config.clientPortAddress, '127.0.0.1');
  assert.equal(config.dataDir, path.join(REPO_ROOT, 'data', 'zookeeper'));
});
