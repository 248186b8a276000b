// The interactive shell driven as a person would, on a real pseudo-terminal: tmux (private server
// socket) runs `kraal shell`, keys are sent with send-keys, the screen is read with capture-pane and
// polled until what a person would wait for shows up.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { KRAAL_BIN, Tmux } from './support.js';

const skip = Tmux.available() ? false : 'tmux is not installed (looked for /usr/bin/tmux): the pseudo-terminal test needs it';

let srv: TestServer;
let server: string;
let zk: ZooKeeperClient;
let dir: string;
let historyFile: string;

/** Non-empty screen lines. */
const lines = (screen: string) => screen.split('\n').map((l) => l.replace(/\s+$/, '')).filter((l) => l !== '');
const lastLine = (screen: string) => lines(screen).at(-1) ?? '';
const count = (screen: string, line: string) => lines(screen).filter((l) => l === line).length;
const PROMPT = (n: number, state = 'CONNECTED') => `[zk: ${server}(${state}) ${n}]`;
const ESC = '\x1b[';

/** The shell in tmux; NO_COLOR is removed from (or set in) its environment explicitly. */
async function startShell(tm: Tmux, opts: { noColor?: string; args?: string[] } = {}): Promise<void> {
  const env = opts.noColor === undefined ? ['env', '-u', 'NO_COLOR'] : ['env', `NO_COLOR=${opts.noColor}`];
  await tm.start([...env, `KRAAL_SHELL_HISTORY=${historyFile}`, process.execPath, KRAAL_BIN, 'shell', ...(opts.args ?? []), server], {});
  await tm.waitFor((s) => lastLine(s) === PROMPT(0), 'the first prompt, connected');
}

describe('interactive shell on a pseudo-terminal (tmux)', { skip, concurrency: false }, () => {
  before(async () => {
    srv = await startTestServer();
    server = `127.0.0.1:${srv.port}`;
    zk = await ZooKeeperClient.connect(server);
    await zk.create('/shelltest', null);
    await zk.create('/shelltest/alpha', 'hello-alpha');
    await zk.create('/shelltest/beta', 'hello-beta');
    await zk.create('/shelltest/json', '{"broker":1,"endpoints":["PLAINTEXT://b1:9092"]}');
    dir = mkdtempSync(path.join(os.tmpdir(), 'kraal-shell-pty-'));
    historyFile = path.join(dir, 'history');
  });

  after(async () => {
    await zk?.close();
    await srv?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('typing commands, Tab completion, Up-arrow history, a watch event, colours, quit', { timeout: 60000 }, async () => {
    const tm = new Tmux();
    try {
      await startShell(tm);
      // zkCli's opening: the session event, then the prompt
      let screen = await tm.screen();
      assert.ok(screen.includes('WatchedEvent state:SyncConnected type:None path:null'), screen);

      await tm.type('ls /shelltest');
      await tm.waitFor((s) => s.includes('[alpha, beta, json]') && lastLine(s) === PROMPT(1), 'ls output');

      // Tab completes a command name...
      await tm.send('getAllC');
      await tm.send('Tab', true);
      await tm.waitFor((s) => lastLine(s) === `${PROMPT(1)} getAllChildrenNumber`, 'the completed command name');
      await tm.type('/shelltest');
      await tm.waitFor((s) => lastLine(s) === PROMPT(2) && lines(s).at(-2) === '3', 'getAllChildrenNumber output');

      // ... and a path, from the children of the typed parent
      await tm.send('get /shelltest/al');
      await tm.send('Tab', true);
      await tm.waitFor((s) => lastLine(s) === `${PROMPT(2)} get /shelltest/alpha`, 'the completed path');
      await tm.send('Enter', true);
      await tm.waitFor((s) => lastLine(s) === PROMPT(3) && count(s, 'hello-alpha') === 1, 'get output');

      // Up-arrow recalls earlier lines; Down goes back; Enter runs the recalled line
      await tm.send('Up', true);
      await tm.waitFor((s) => lastLine(s) === `${PROMPT(3)} get /shelltest/alpha`, 'the last line recalled');
      await tm.send('Up', true);
      await tm.waitFor((s) => lastLine(s) === `${PROMPT(3)} getAllChildrenNumber /shelltest`, 'the line before recalled');
      await tm.send('Down', true);
      await tm.waitFor((s) => lastLine(s) === `${PROMPT(3)} get /shelltest/alpha`, 'Down');
      await tm.send('Enter', true);
      await tm.waitFor((s) => lastLine(s) === PROMPT(4) && count(s, 'hello-alpha') === 2, 'the recalled command ran');

      // a watch event arriving while a line is being typed: printed as zkCli prints it, and the
      // prompt comes back with the half-typed line, which can still be completed and run
      await tm.type('get -w /shelltest/beta');
      await tm.waitFor((s) => lastLine(s) === PROMPT(5) && count(s, 'hello-beta') === 1, 'get -w output');
      await tm.send('ls /shelltest/j');
      await tm.waitFor((s) => lastLine(s) === `${PROMPT(5)} ls /shelltest/j`, 'the half-typed line');
      await zk.setData('/shelltest/beta', 'changed');
      screen = await tm.waitFor((s) => s.includes('WatchedEvent state:SyncConnected type:NodeDataChanged path:/shelltest/beta'), 'the watch event');
      screen = await tm.waitFor((s) => lastLine(s) === `${PROMPT(5)} ls /shelltest/j`, 'the prompt redrawn with the typed line');
      const ls = lines(screen);
      assert.deepEqual(ls.slice(-4, -1), [`${PROMPT(5)} ls /shelltest/j`, 'WATCHER::', 'WatchedEvent state:SyncConnected type:NodeDataChanged path:/shelltest/beta'], screen);
      await tm.send('Tab', true);
      await tm.waitFor((s) => lastLine(s) === `${PROMPT(5)} ls /shelltest/json`, 'completion after the event');
      await tm.send('Enter', true);
      await tm.waitFor((s) => lastLine(s) === PROMPT(6) && lines(s).at(-2) === '[]', 'ls of the completed path');

      // colours on a terminal: the prompt's state, errors, pretty-printed JSON
      await tm.type('get /nope');
      await tm.waitFor((s) => lastLine(s) === PROMPT(7) && s.includes('Node does not exist: /nope'), 'the error');
      await tm.type('pretty on');
      await tm.type('get /shelltest/json');
      await tm.waitFor((s) => lastLine(s) === PROMPT(9) && s.includes('"PLAINTEXT://b1:9092"'), 'pretty JSON');
      screen = await tm.screen(true);
      assert.ok(screen.includes(`${ESC}32mCONNECTED`), `green CONNECTED in the prompt:\n${JSON.stringify(screen.slice(-2000))}`);
      assert.ok(/\x1b\[31mNode does not exist: \/nope/.test(screen), 'red error');
      assert.ok(/\x1b\[34m"broker"/.test(screen), 'coloured JSON key');
      assert.ok(lines(await tm.screen()).includes('  "endpoints": ['), 'indented JSON');

      // a password typed at the prompt can be recalled but is not written to the history file
      await tm.type('addauth digest me:secret');
      await tm.waitFor((s) => lastLine(s) === PROMPT(10), 'addauth');
      await tm.send('Up', true);
      await tm.waitFor((s) => lastLine(s) === `${PROMPT(10)} addauth digest me:secret`, 'addauth recalled');
      await tm.send('C-u', true);

      await tm.type('quit');
      await tm.waitFor((s) => s.includes('[exit status 0]'), 'the shell to exit with status 0');
      const history = readFileSync(historyFile, 'utf8').split('\n');
      assert.deepEqual(history.slice(-6), ['ls /shelltest/json', 'get /nope', 'pretty on', 'get /shelltest/json', 'quit', '']);
      assert.ok(!history.some((l) => l.includes('secret')), 'no password in the history file');
      assert.ok(history.includes('getAllChildrenNumber /shelltest'));
    } finally {
      await tm.kill();
    }
  });

  test('NO_COLOR (any value) and --no-color: no colours; history survives; Ctrl-C', { timeout: 60000 }, async () => {
    for (const opts of [{ noColor: '1' }, { noColor: '' }, { args: ['--no-color'] }]) {
      const tm = new Tmux();
      try {
        await startShell(tm, opts);
        // the previous session's last line comes back with Up
        await tm.send('Up', true);
        await tm.waitFor((s) => lastLine(s).startsWith(`${PROMPT(0)} `), 'a line from the history file');
        await tm.send('C-u', true);
        await tm.type('get /nope');
        await tm.waitFor((s) => lastLine(s) === PROMPT(1) && s.includes('Node does not exist: /nope'), 'the error');
        await tm.type('pretty on');
        await tm.type('get /shelltest/json');
        await tm.waitFor((s) => lastLine(s) === PROMPT(3) && s.includes('"PLAINTEXT://b1:9092"'), 'pretty JSON');
        const screen = await tm.screen(true);
        assert.ok(!screen.includes(ESC), `no escape sequences with ${JSON.stringify(opts)}:\n${JSON.stringify(screen)}`);
        // Ctrl-C drops a half-typed line; on an empty line it leaves
        await tm.send('ls /never-run');
        await tm.send('C-c', true);
        await tm.waitFor((s) => lastLine(s) === PROMPT(3) && s.includes('ls /never-run^C'), 'the dropped line');
        await tm.send('C-c', true);
        await tm.waitFor((s) => s.includes('[exit status 0]'), 'the shell to exit after Ctrl-C on an empty line');
      } finally {
        await tm.kill();
      }
    }
  });
});
