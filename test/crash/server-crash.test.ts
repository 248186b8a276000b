// Crash tests with a real `kraal server` process: kill -9 under write load, a
// truncated log tail, and a corrupted record in the middle of the log.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { CreateMode, Err, Op } from '../../src/jute/constants.js';
import { OPEN_ACL_UNSAFE } from '../../src/zk/acl.js';
import { RawClient } from '../support/raw-client.js';
import { freePort, spawnServer, spawnExpectingFailure, KRAAL_BIN } from '../support/process.js';
import { spawnSync } from 'node:child_process';
import { tempDir } from '../support/server.js';

const acl = [...OPEN_ACL_UNSAFE];
const root = tempDir('kraal-crash-');
after(() => rmSync(root, { recursive: true, force: true }));

function newDataDir(name: string): string {
  const d = path.join(root, name);
  mkdirSync(d, { recursive: true });
  return d;
}

/** Log segment files (everything in the data dir that is not a snapshot). */
function logFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (!/snap|myid|tmp|hardstate/i.test(f)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Offset just past the last non-zero byte (preallocated segments end in zeros). */
function dataEnd(file: string): number {
  const b = readFileSync(file);
  let i = b.length;
  while (i > 0 && b[i - 1] === 0) i--;
  return i;
}

/** Drives `clients` sessions that create znodes as fast as acknowledgements come back; returns acknowledged paths. */
async function writeLoad(port: number, parent: string, clients: number, inflight: number, stop: { now: boolean }): Promise<Set<string>> {
  const acked = new Set<string>();
  const conns = await Promise.all(Array.from({ length: clients }, () => RawClient.connect(port)));
  await conns[0]!.request(Op.create, { path: parent, data: null, acl, flags: 0 });
  await Promise.all(
    conns.map(async (c, ci) => {
      let n = 0;
      const lane = async () => {
        while (!stop.now && !c.closed) {
          const p = `${parent}/c${ci}-${n++}`;
          try {
            const r = await c.request(Op.create, { path: p, data: Buffer.from(p), acl, flags: CreateMode.PERSISTENT });
            if (r.header.err === 0) acked.add(p);
          } catch {
            return; // connection died with the server
          }
        }
      };
      await Promise.all(Array.from({ length: inflight }, lane));
    }),
  );
  return acked;
}

async function assertAllPresent(port: number, paths: Iterable<string>): Promise<number> {
  const c = await RawClient.connect(port);
  let n = 0;
  const all = [...paths];
  for (let i = 0; i < all.length; i += 200) {
    const batch = all.slice(i, i + 200);
    const replies = await Promise.all(batch.map((p) => c.request(Op.getData, { path: p, watch: false })));
    replies.forEach((r, j) => {
      assert.equal(r.header.err, 0, `acknowledged create of ${batch[j]} was lost`);
      assert.equal(r.body.data.toString(), batch[j]);
    });
    n += batch.length;
  }
  c.destroy();
  return n;
}

describe('a real server process', () => {
  test('kill -9 during a write load loses no acknowledged write (3 rounds)', async () => {
    const dataDir = newDataDir('kill9');
    const port = await freePort();
    const everAcked = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const p = await spawnServer(dataDir, port, { snapCount: 500 });
      const stop = { now: false };
      const load = writeLoad(p.port, `/load${round}`, 4, 8, stop);
      await new Promise((r) => setTimeout(r, 700 + 300 * round));
      p.child.kill('SIGKILL');
      await p.exited;
      stop.now = true;
      const acked = await load;
      assert.ok(acked.size > 50, `load made progress (${acked.size})`);
      for (const a of acked) everAcked.add(a);
      // every write acknowledged in this round and all earlier ones survives the restart
      const q = await spawnServer(dataDir, port, { snapCount: 500 });
      assert.equal(await assertAllPresent(q.port, everAcked), everAcked.size);
      q.child.kill('SIGTERM');
      assert.equal(await q.exited, 0, 'SIGTERM shuts down cleanly');
    }
  });

  test('a truncated last log record is cut off and the server starts with everything before it', async () => {
    const dataDir = newDataDir('torn');
    const port = await freePort();
    const p = await spawnServer(dataDir, port);
    const c = await RawClient.connect(p.port);
    for (let i = 0; i < 20; i++) {
      const r = await c.request(Op.create, { path: `/t${i}`, data: Buffer.from('x'.repeat(100)), acl, flags: 0 });
      assert.equal(r.header.err, 0);
    }
    c.destroy();
    p.child.kill('SIGKILL');
    await p.exited;
    const files = logFiles(dataDir);
    assert.ok(files.length > 0, 'there is a log file');
    const last = files.at(-1)!;
    truncateSync(last, dataEnd(last) - 30); // cut into the last record (/t19)
    const q = await spawnServer(dataDir, port);
    assert.match(q.output(), /torn|truncat/i, 'the repair is logged');
    const r = await RawClient.connect(q.port);
    for (let i = 0; i < 19; i++) assert.equal((await r.request(Op.exists, { path: `/t${i}`, watch: false })).header.err, 0);
    assert.equal((await r.request(Op.exists, { path: '/t19', watch: false })).header.err, Err.NoNode);
    // and it keeps working: new writes land after the repaired tail and survive another restart
    assert.equal((await r.request(Op.create, { path: '/after-repair', data: null, acl, flags: 0 })).header.err, 0);
    r.destroy();
    q.child.kill('SIGKILL');
    await q.exited;
    const q2 = await spawnServer(dataDir, port);
    const r2 = await RawClient.connect(q2.port);
    assert.equal((await r2.request(Op.exists, { path: '/after-repair', watch: false })).header.err, 0);
    r2.destroy();
    q2.child.kill('SIGKILL');
    await q2.exited;
  });

  test('a flipped byte in a middle record stops startup with a message that says what to do', async () => {
    const dataDir = newDataDir('flip');
    const port = await freePort();
    const p = await spawnServer(dataDir, port);
    const c = await RawClient.connect(p.port);
    for (let i = 0; i < 40; i++) await c.request(Op.create, { path: `/f${i}`, data: Buffer.from('y'.repeat(100)), acl, flags: 0 });
    c.destroy();
    p.child.kill('SIGKILL');
    await p.exited;
    const last = logFiles(dataDir).at(-1)!;
    const b = readFileSync(last);
    const mid = Math.floor(dataEnd(last) / 2);
    b[mid] = b[mid]! ^ 0x5a;
    writeFileSync(last, b);
    const { code, output } = await spawnExpectingFailure(dataDir, port);
    assert.notEqual(code, 0);
    assert.match(output, /corrupt/i);
    assert.ok(output.includes(path.basename(last)), 'names the damaged file');
    assert.match(output, /backup|restore|truncate/i, 'says what to do');
    // The operator accepts the loss and runs the repair the message names; the server then starts.
    const m = /kraal repair --truncate (\S+)@(\d+)/.exec(output);
    assert.ok(m, 'the message names the repair command');
    const r = spawnSync(process.execPath, [KRAAL_BIN, 'repair', '--truncate', `${m[1]}@${m[2]}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const q = await spawnServer(dataDir, port);
    const c2 = await RawClient.connect(q.port);
    assert.equal((await c2.request(Op.exists, { path: '/f0', watch: false })).header.err, 0, 'records before the damage survive');
    c2.destroy();
    q.child.kill('SIGKILL');
    await q.exited;
  });
});
