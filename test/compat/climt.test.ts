// Differential scenarios through the unmodified ZooKeeper C client shell `cli_mt`
// (Debian zookeeper-bin, /usr/lib/zookeeper/bin/cli_mt). cli_mt prints everything on STDERR
// and runs requests asynchronously, so commands are written one at a time, each followed by a
// marker request (`exists` on a missing node, which prints "Error -101 for <marker>"): replies
// come back in order on the connection and cli_mt prints them from one completion thread, so
// once the marker's line is out, everything the command produced (replies and the watch events
// sent before them) is out too, however slow the machine is.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Normalizer, sortRuns } from '../harness/normalize.js';
import type { Target } from '../harness/servers.js';
import { setupPair } from '../harness/targets.js';

const CLI_MT = process.env.KRAAL_COMPAT_CLI_MT ?? ['/usr/lib/zookeeper/bin/cli_mt', '/usr/bin/cli_mt'].find((p) => existsSync(p)) ?? 'cli_mt';

const pair = setupPair({ name: 'climt', portBase: 22500 });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run { connect: string[]; commands: { cmd: string; out: string[] }[] }

async function climt(t: Target, cmds: string[]): Promise<Run> {
  const child = spawn(CLI_MT, ['-h', `${t.host}:${t.port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = '';
  let lastData = Date.now();
  child.stdout.on('data', (d) => { buf += d; lastData = Date.now(); });
  child.stderr.on('data', (d) => { buf += d; lastData = Date.now(); });
  const take = () => { const s = buf; buf = ''; return s; };
  const quiet = async (minMs: number, maxMs: number, until?: RegExp) => {
    const start = Date.now();
    for (;;) {
      await sleep(20);
      const now = Date.now();
      if (until && until.test(buf) && now - lastData >= 60) return;
      if (!until && now - start >= minMs && now - lastData >= minMs) return;
      if (now - start >= maxMs) return;
    }
  };
  const norm = new Normalizer([t.port]);
  // children come in the server's hash order: sort each run of "\t<name>" lines
  const clean = (s: string) => sortRuns(s.split('\n'), /^\t[^\s=]+$/)
    .filter((l) => l.trim() && !/^time = \d+ msec$/.test(l) && !/:ZOO_(DEBUG|INFO|WARN|ERROR)@/.test(l))
    .map((l) => norm.text(l
      .replace(/\b(ctime|mtime) ?= ?.*/, '$1 = <time>')
      .replace(/ephemeralOwner = ([0-9a-f]{6,})/, 'ephemeralOwner = 0x$1')
      .replace(/\b(czxid|mzxid)=([0-9a-f]+)\b/g, '$1=0x$2') // printed as %llx without 0x
      .replace(/session Id = ([0-9a-f]+)/, 'session Id = 0x$1')));
  try {
    await quiet(0, 10000, /Got a new session id/);
    const connect = clean(take());
    const commands: Run['commands'] = [];
    for (const [i, c] of cmds.entries()) {
      const marker = `/kraal_cli_mt_marker_${i}`;
      // Not anchored to a line start: cli_mt's watcher prints an event line with three separate
      // fprintf calls on unbuffered stderr, so the completion thread's marker line can land in the
      // middle of it ("...for path /cw/xError -101 for <marker>\n" then the event's own "\n").
      // Cutting the marker out wherever it is leaves the event line whole.
      const markerLine = new RegExp(`Error -101 for ${marker}\\n?`);
      child.stdin.write(`${c}\nexists ${marker}\n`);
      await quiet(0, 15000, markerLine);
      commands.push({ cmd: c, out: clean(take().replace(markerLine, '')) });
    }
    child.stdin.write('quit\n');
    await new Promise((r) => { child.once('close', r); setTimeout(r, 3000); });
    commands.push({ cmd: 'quit', out: clean(take()) });
    return { connect, commands };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

describe('cli_mt (C client)', { concurrency: false }, () => {
  test('sync and async commands', { timeout: 120000 }, async () => {
    await pair.compare('commands', (t) => climt(t, [
      'create /cm', 'create /cm/a', 'create +e /cm/e', 'create +s /cm/s-', 'create +es /cm/es-', 'create +c /cm/ctr',
      'create +t=5000 /cm/ttl', 'create2 /cm/b', 'create2 +s /cm/s2-', 'create /cm/a', 'create /none/x', 'create +e /cm/e/x',
      'set /cm/a hello', 'get /cm/a', 'get /cm/none', 'ls /cm', 'ls2 /cm', 'exists /cm/a', 'exists /cm/none',
      'wexists /cm/w', 'create /cm/w', 'sync /cm', 'aget /cm/a', 'als /cm', 'aset /cm/a again', 'aget /cm/a', 'aexists /cm/a',
      'adelete /cm/nope', 'delete /cm', 'delete /cm/a', 'ls /cm', 'addauth digest u:p', 'get /zookeeper', 'config', 'myid',
    ]), (r) => {
      const created = r.commands.find((c) => c.cmd === 'create +s /cm/s-')!.out.join('\n');
      assert.match(created, /name = \/cm\/s-0000000002/);
    });
  });

  test('watch events from another client', { timeout: 60000 }, async () => {
    await pair.compare('watch', async (t) => {
      const r = await climt(t, ['create /cw', 'wexists /cw/x', 'create /cw/x', 'wexists /cw/x', 'set /cw/x v', 'wexists /cw/x', 'delete /cw/x', 'ls /cw']);
      return r;
    }, (r) => {
      assert.ok(r.commands.some((c) => c.out.some((l) => /CREATED_EVENT.*\/cw\/x/.test(l))), 'created event');
    });
  });
});
