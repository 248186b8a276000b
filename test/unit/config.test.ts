// zoo.cfg parsing: the configs /work/shared/bench/run-zookeeper.sh writes, defaults and their
// derivations, Java-properties syntax, warnings, every error class, server.N forms, myid
// resolution and command-line overrides.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyOverrides,
  ConfigError,
  defaultConfig,
  parseMyid,
  parseZooCfg,
  type ServerConfig,
  type ServerEntry,
} from '../../src/server/config.js';

const MIN = 'dataDir=/var/lib/kraal\nclientPort=2181\ntickTime=2000\n';

/** The zoo.cfg run-zookeeper.sh writes for server i of n (reconstructed from the script). */
function benchCfg(i: number, n: number, fsync: boolean): string {
  const lines = [
    'tickTime=2000',
    'initLimit=10',
    'syncLimit=5',
    `dataDir=/tmp/zkbench-zk/s${i}/data`,
    `clientPort=${[21810, 21811, 21812][i - 1]}`,
    'clientPortAddress=127.0.0.1',
    'maxClientCnxns=0',
    'admin.enableServer=false',
    '4lw.commands.whitelist=*',
    'autopurge.purgeInterval=0',
  ];
  if (!fsync) lines.push('forceSync=no');
  if (n > 1) for (let j = 1; j <= 3; j++) lines.push(`server.${j}=127.0.0.1:${21818 + 2 * j}:${21819 + 2 * j}`);
  return lines.join('\n') + '\n';
}

function parseErr(text: string, opts?: { baseDir?: string; myid?: number }): ConfigError {
  try {
    parseZooCfg(text, opts);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected a ConfigError for:\n${text}`);
}

describe('the bench configs (run-zookeeper.sh)', () => {
  test('standalone', () => {
    const { config: c, warnings } = parseZooCfg(benchCfg(1, 1, true));
    assert.deepEqual(warnings, []);
    assert.equal(c.tickTime, 2000);
    assert.equal(c.initLimit, 10);
    assert.equal(c.syncLimit, 5);
    assert.equal(c.dataDir, '/tmp/zkbench-zk/s1/data');
    assert.equal(c.dataLogDir, '/tmp/zkbench-zk/s1/data');
    assert.equal(c.clientPort, 21810);
    assert.equal(c.clientPortAddress, '127.0.0.1');
    assert.equal(c.maxClientCnxns, 0);
    assert.equal(c.adminEnableServer, false);
    assert.equal(c.fourLetterWhitelist, '*');
    assert.equal(c.autopurgePurgeInterval, 0);
    assert.equal(c.autopurgeSnapRetainCount, 3);
    assert.equal(c.forceSync, true);
    assert.equal(c.minSessionTimeout, 4000);
    assert.equal(c.maxSessionTimeout, 40000);
    assert.deepEqual(c.servers, []);
    assert.equal(c.serverId, undefined);
    assert.equal(c.raw['4lw.commands.whitelist'], '*');
    assert.equal(Object.keys(c.raw).length, 10);
  });

  test('standalone --no-fsync', () => {
    const { config: c, warnings } = parseZooCfg(benchCfg(1, 1, false));
    assert.deepEqual(warnings, []);
    assert.equal(c.forceSync, false);
  });

  test('ensemble, server 2 with myid', () => {
    const { config: c, warnings } = parseZooCfg(benchCfg(2, 3, true), { myid: 2 });
    assert.deepEqual(warnings, []);
    assert.equal(c.serverId, 2);
    assert.equal(c.clientPort, 21811);
    assert.deepEqual(c.servers, [
      { id: 1, host: '127.0.0.1', peerPort: 21820, electionPort: 21821, role: 'participant' },
      { id: 2, host: '127.0.0.1', peerPort: 21822, electionPort: 21823, role: 'participant' },
      { id: 3, host: '127.0.0.1', peerPort: 21824, electionPort: 21825, role: 'participant' },
    ]);
  });

  test('ensemble parsed before myid is known (to find dataDir) still parses', () => {
    const { config: c } = parseZooCfg(benchCfg(3, 3, false));
    assert.equal(c.serverId, undefined);
    assert.equal(c.dataDir, '/tmp/zkbench-zk/s3/data');
    assert.equal(c.servers.length, 3);
  });
});

describe('defaults', () => {
  test('defaultConfig has ZooKeeper defaults', () => {
    const c = defaultConfig();
    const want: Partial<ServerConfig> = {
      tickTime: 2000,
      initLimit: 10,
      syncLimit: 5,
      clientPort: 2181,
      clientPortAddress: '',
      maxClientCnxns: 60,
      maxCnxns: 0,
      minSessionTimeout: 4000,
      maxSessionTimeout: 40000,
      snapCount: 100000,
      autopurgeSnapRetainCount: 3,
      autopurgePurgeInterval: 0,
      adminEnableServer: true,
      adminServerAddress: '0.0.0.0',
      adminServerPort: 8080,
      adminCommandUrl: '/commands',
      extendedTypesEnabled: false,
      juteMaxBuffer: 1048575,
      forceSync: true,
      globalOutstandingLimit: 1000,
      superDigest: undefined,
      skipACL: false,
      reconfigEnabled: false,
      standaloneEnabled: true,
      readonlyModeEnabled: false,
      containerCheckIntervalMs: 60000,
      containerMaxPerMinute: 10000,
      containerMaxNeverUsedIntervalMs: 0,
      metricsPort: undefined,
      serverId: undefined,
    };
    for (const [k, v] of Object.entries(want)) assert.deepEqual(c[k as keyof ServerConfig], v, k);
    assert.deepEqual(c.fourLetterWhitelist, new Set(['srvr']));
    assert.deepEqual(c.servers, []);
    assert.deepEqual(c.raw, {});
  });

  test('defaultConfig derives timeouts from tickTime and dataLogDir from dataDir', () => {
    const c = defaultConfig({ tickTime: 500, dataDir: '/d' });
    assert.equal(c.minSessionTimeout, 1000);
    assert.equal(c.maxSessionTimeout, 10000);
    assert.equal(c.dataLogDir, '/d');
    const d = defaultConfig({ tickTime: 500, minSessionTimeout: 300, dataDir: '/d', dataLogDir: '/l' });
    assert.equal(d.minSessionTimeout, 300);
    assert.equal(d.maxSessionTimeout, 10000);
    assert.equal(d.dataLogDir, '/l');
    assert.ok(defaultConfig({ readonlyModeEnabled: true }).fourLetterWhitelist !== '*');
    assert.deepEqual(defaultConfig({ readonlyModeEnabled: true }).fourLetterWhitelist, new Set(['srvr', 'isro']));
  });

  test('defaultConfig returns independent objects', () => {
    const a = defaultConfig();
    (a.fourLetterWhitelist as Set<string>).add('ruok');
    a.raw['x'] = 'y';
    const b = defaultConfig();
    assert.deepEqual(b.fourLetterWhitelist, new Set(['srvr']));
    assert.deepEqual(b.raw, {});
  });

  test('no tickTime: ZooKeeper code default 3000, with a warning', () => {
    const { config: c, warnings } = parseZooCfg('dataDir=/d\nclientPort=2181\n');
    assert.equal(c.tickTime, 3000);
    assert.equal(c.minSessionTimeout, 6000);
    assert.equal(c.maxSessionTimeout, 60000);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /tickTime is not set/);
  });

  test('session timeouts: derived from tickTime unless set; -1 means derived', () => {
    const ROWS: { cfg: string; min: number; max: number }[] = [
      { cfg: 'tickTime=1000', min: 2000, max: 20000 },
      { cfg: 'tickTime=1000\nminSessionTimeout=500', min: 500, max: 20000 },
      { cfg: 'tickTime=1000\nmaxSessionTimeout=90000', min: 2000, max: 90000 },
      { cfg: 'tickTime=1000\nminSessionTimeout=-1\nmaxSessionTimeout=-1', min: 2000, max: 20000 },
      { cfg: 'tickTime=100\nminSessionTimeout=3000\nmaxSessionTimeout=3000', min: 3000, max: 3000 },
    ];
    for (const r of ROWS) {
      const { config: c } = parseZooCfg(`dataDir=/d\nclientPort=1\n${r.cfg}\n`);
      assert.equal(c.minSessionTimeout, r.min, r.cfg);
      assert.equal(c.maxSessionTimeout, r.max, r.cfg);
    }
  });

  test('dataLogDir defaults to dataDir; relative dirs resolve against baseDir', () => {
    const ROWS: { cfg: string; baseDir?: string; dataDir: string; dataLogDir: string }[] = [
      { cfg: 'dataDir=/abs/d', dataDir: '/abs/d', dataLogDir: '/abs/d' },
      { cfg: 'dataDir=/abs/d\ndataLogDir=/abs/l', dataDir: '/abs/d', dataLogDir: '/abs/l' },
      { cfg: 'dataDir=rel/d', baseDir: '/etc/kraal', dataDir: '/etc/kraal/rel/d', dataLogDir: '/etc/kraal/rel/d' },
      { cfg: 'dataDir=../d\ndataLogDir=./l', baseDir: '/etc/kraal', dataDir: '/etc/d', dataLogDir: '/etc/kraal/l' },
      { cfg: 'dataDir=/abs/d\ndataLogDir=l', baseDir: '/b', dataDir: '/abs/d', dataLogDir: '/b/l' },
      { cfg: 'dataDir=rel/d', dataDir: 'rel/d', dataLogDir: 'rel/d' },
    ];
    for (const r of ROWS) {
      const opts = r.baseDir === undefined ? {} : { baseDir: r.baseDir };
      const { config: c } = parseZooCfg(`clientPort=2181\ntickTime=2000\n${r.cfg}\n`, opts);
      assert.equal(c.dataDir, r.dataDir, r.cfg);
      assert.equal(c.dataLogDir, r.dataLogDir, r.cfg);
    }
  });
});

describe('syntax', () => {
  test('Windows line endings, trailing spaces, tabs, BOM, comments and blank lines', () => {
    const text =
      '\uFEFF# a comment\r\n' +
      '   ! another comment\r\n' +
      '\r\n' +
      'tickTime = 1000   \r\n' +
      '\tdataDir=/var/kraal \t\r\n' +
      'clientPort=2182 \r\n' +
      '4lw.commands.whitelist = ruok , stat,mntr  \r\n';
    const { config: c, warnings } = parseZooCfg(text);
    assert.deepEqual(warnings, []);
    assert.equal(c.tickTime, 1000);
    assert.equal(c.dataDir, '/var/kraal');
    assert.equal(c.clientPort, 2182);
    assert.deepEqual(c.fourLetterWhitelist, new Set(['srvr', 'ruok', 'stat', 'mntr']));
    assert.equal(c.raw['tickTime'], '1000');
  });

  test('old Mac line ends and no final newline', () => {
    const { config: c } = parseZooCfg('tickTime=1000\rdataDir=/d\rclientPort=3000');
    assert.equal(c.clientPort, 3000);
    assert.equal(c.dataDir, '/d');
  });

  test('java.util.Properties separators, continuation lines and escapes', () => {
    const text = [
      'tickTime: 1000',
      'clientPort 2183',
      'dataDir=/very/long/\\',
      '        path',
      'admin.commandURL=/cmd\\u0073',
      'clientPortAddress=127.0.0.1',
      'DigestAuthenticationProvider.superDigest=super\\:abc=',
    ].join('\n');
    const { config: c, warnings } = parseZooCfg(text);
    assert.deepEqual(warnings, []);
    assert.equal(c.tickTime, 1000);
    assert.equal(c.clientPort, 2183);
    assert.equal(c.dataDir, '/very/long/path');
    assert.equal(c.adminCommandUrl, '/cmds');
    assert.equal(c.superDigest, 'super:abc=');
  });

  test('a duplicate key warns with both line numbers; the last value wins', () => {
    const { config: c, warnings } = parseZooCfg(`${MIN}clientPort=2190\n`);
    assert.equal(c.clientPort, 2190);
    assert.deepEqual(warnings, ['line 4: clientPort is set again (first on line 2); the last value wins']);
  });
});

describe('warnings', () => {
  test('unknown keys: a warning naming the key and line, not an error; kept in raw', () => {
    const { config: c, warnings } = parseZooCfg(`${MIN}fooBar=1\n\nticktime=5\n`);
    assert.deepEqual(warnings, [
      'line 4: unknown key "fooBar"; ignored',
      'line 6: unknown key "ticktime" (did you mean tickTime?); ignored',
    ]);
    assert.equal(c.raw['fooBar'], '1');
    assert.equal(c.tickTime, 2000);
  });

  test('ZooKeeper settings Kraal does not implement yet: a warning', () => {
    for (const key of ['secureClientPort', 'dynamicConfigFile', 'group.1', 'weight.2', 'authProvider.1', 'enforceQuota']) {
      const { warnings } = parseZooCfg(`${MIN}${key}=x\n`);
      assert.deepEqual(warnings, [`line 4: ${key} is a ZooKeeper setting Kraal does not implement yet; ignored`], key);
    }
  });

  test('accepted ZooKeeper settings are ignored silently', () => {
    const keys = [
      'preAllocSize=65536',
      'snapSizeLimitInKb=4194304',
      'clientPortListenBacklog=-1',
      'electionAlg=3',
      'quorumListenOnAllIPs=true',
      'admin.idleTimeout=30000',
      'digest.enabled=true',
      'audit.enable=false',
      'localSessionsEnabled=false',
      'localSessionsUpgradingEnabled=false',
      'maxResponseCacheSize=400',
      'maxGetChildrenResponseCacheSize=400',
      'metricsProvider.className=org.apache.zookeeper.metrics.impl.DefaultMetricsProvider',
      'metricsProvider.exportJvmInfo=true',
      'cnxTimeout=5000',
      'syncEnabled=true',
      'peerType=participant',
      'connectToLearnerMasterLimit=10',
      'serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory',
      'jute.maxbuffer.extrasize=1024',
      'emulate353TTLNodes=false',
      'requestThrottleLimit=0',
      'largeRequestMaxBytes=104857600',
      'ssl.clientAuth=none',
      'multiAddress.enabled=false',
      'jvm.pause.monitor=false',
      'nio.numWorkerThreads=8',
      'connection_throttle_tokens=0',
      'fsync.warningthresholdms=1000',
    ];
    const { warnings } = parseZooCfg(MIN + keys.join('\n') + '\n');
    assert.deepEqual(warnings, []);
  });

  test('4lw whitelist: *, lists, srvr always, isro in read-only mode, unknown words warned', () => {
    const ROWS: { v: string; ro?: boolean; want: '*' | string[]; warn?: RegExp }[] = [
      { v: '*', want: '*' },
      { v: 'ruok, *', want: '*' },
      { v: 'ruok', want: ['srvr', 'ruok'] },
      { v: 'srvr,stat', want: ['srvr', 'stat'] },
      { v: '', want: ['srvr'] },
      { v: 'ruok', ro: true, want: ['srvr', 'ruok', 'isro'] },
      { v: 'ruok,bogus', want: ['srvr', 'ruok', 'bogus'], warn: /line 4: 4lw.commands.whitelist names unknown command "bogus"/ },
    ];
    for (const r of ROWS) {
      const text = `${MIN}4lw.commands.whitelist=${r.v}\n${r.ro ? 'readonlymode.enabled=true\n' : ''}`;
      const { config: c, warnings } = parseZooCfg(text);
      assert.deepEqual(c.fourLetterWhitelist, r.want === '*' ? '*' : new Set(r.want), r.v);
      if (r.warn) assert.match(warnings.join('\n'), r.warn);
      else assert.deepEqual(warnings, []);
    }
    const { config: dflt } = parseZooCfg(`${MIN}readonlymode.enabled=true\n`);
    assert.deepEqual(dflt.fourLetterWhitelist, new Set(['srvr', 'isro']));
  });

  test('clamped values: autopurge.snapRetainCount (min 3), snapCount (min 2), purgeInterval <= 0 is off', () => {
    const ROWS: { line: string; field: keyof ServerConfig; want: number; warned: boolean }[] = [
      { line: 'autopurge.snapRetainCount=1', field: 'autopurgeSnapRetainCount', want: 3, warned: true },
      { line: 'autopurge.snapRetainCount=3', field: 'autopurgeSnapRetainCount', want: 3, warned: false },
      { line: 'autopurge.snapRetainCount=10', field: 'autopurgeSnapRetainCount', want: 10, warned: false },
      { line: 'snapCount=1', field: 'snapCount', want: 2, warned: true },
      { line: 'snapCount=5000', field: 'snapCount', want: 5000, warned: false },
      { line: 'autopurge.purgeInterval=-1', field: 'autopurgePurgeInterval', want: 0, warned: false },
      { line: 'autopurge.purgeInterval=24', field: 'autopurgePurgeInterval', want: 24, warned: false },
    ];
    for (const r of ROWS) {
      const { config: c, warnings } = parseZooCfg(`${MIN}${r.line}\n`);
      assert.equal(c[r.field], r.want, r.line);
      assert.equal(warnings.length, r.warned ? 1 : 0, r.line);
      if (r.warned) assert.match(warnings[0]!, /^line 4: /);
    }
  });
});

describe('typed keys', () => {
  const ROWS: { line: string; field: keyof ServerConfig; want: unknown }[] = [
    { line: 'maxCnxns=500', field: 'maxCnxns', want: 500 },
    { line: 'maxClientCnxns=0', field: 'maxClientCnxns', want: 0 },
    { line: 'admin.enableServer=false', field: 'adminEnableServer', want: false },
    { line: 'admin.enableServer=TRUE', field: 'adminEnableServer', want: true },
    { line: 'admin.serverAddress=127.0.0.1', field: 'adminServerAddress', want: '127.0.0.1' },
    { line: 'admin.serverPort=9090', field: 'adminServerPort', want: 9090 },
    { line: 'admin.commandURL=/zk', field: 'adminCommandUrl', want: '/zk' },
    { line: 'extendedTypesEnabled=true', field: 'extendedTypesEnabled', want: true },
    { line: 'jute.maxbuffer=4194304', field: 'juteMaxBuffer', want: 4194304 },
    { line: 'jute.maxbuffer=0xfffff', field: 'juteMaxBuffer', want: 0xfffff },
    { line: 'forceSync=no', field: 'forceSync', want: false },
    { line: 'forceSync=YES', field: 'forceSync', want: true },
    { line: 'globalOutstandingLimit=5000', field: 'globalOutstandingLimit', want: 5000 },
    { line: 'DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=', field: 'superDigest', want: 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=' },
    { line: 'skipACL=yes', field: 'skipACL', want: true },
    { line: 'skipACL=no', field: 'skipACL', want: false },
    { line: 'reconfigEnabled=true', field: 'reconfigEnabled', want: true },
    { line: 'standaloneEnabled=false', field: 'standaloneEnabled', want: false },
    { line: 'readonlymode.enabled=true', field: 'readonlyModeEnabled', want: true },
    { line: 'znode.container.checkIntervalMs=1000', field: 'containerCheckIntervalMs', want: 1000 },
    { line: 'znode.container.maxPerMinute=100', field: 'containerMaxPerMinute', want: 100 },
    { line: 'znode.container.maxNeverUsedIntervalMs=3600000', field: 'containerMaxNeverUsedIntervalMs', want: 3600000 },
    { line: 'metricsPort=7001', field: 'metricsPort', want: 7001 },
    { line: 'initLimit=20', field: 'initLimit', want: 20 },
    { line: 'syncLimit=2', field: 'syncLimit', want: 2 },
    { line: 'clientPortAddress=::1', field: 'clientPortAddress', want: '::1' },
    { line: 'kraal.walInlineSyncBytes=0', field: 'walInlineSyncBytes', want: 0 },
    { line: 'kraal.walInlineSyncBytes=65536', field: 'walInlineSyncBytes', want: 65536 },
  ];
  for (const r of ROWS) {
    test(r.line, () => {
      const { config: c, warnings } = parseZooCfg(`${MIN}${r.line}\n`);
      assert.deepEqual(warnings, []);
      assert.deepEqual(c[r.field], r.want);
    });
  }

  test("ZooKeeper's Prometheus provider port becomes metricsPort", () => {
    const prom = 'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n';
    assert.equal(parseZooCfg(`${MIN}${prom}metricsProvider.httpPort=7070\n`).config.metricsPort, 7070);
    assert.equal(parseZooCfg(`${MIN}${prom}`).config.metricsPort, 7000, "the provider's default port");
    assert.equal(parseZooCfg(`${MIN}${prom}metricsPort=9100\n`).config.metricsPort, 9100, 'metricsPort wins');
    assert.equal(parseZooCfg(`${MIN}metricsProvider.httpPort=7070\n`).config.metricsPort, undefined, 'other providers');
  });
});

describe('errors', () => {
  // Each row: the config text, the key the error must name, and a pattern for the message.
  const ROWS: { name: string; text: string; key: string; msg: RegExp; line?: number }[] = [
    { name: 'non-numeric clientPort', text: 'dataDir=/d\nclientPort=abc\n', key: 'clientPort', msg: /line 2: clientPort="abc" is invalid: expected a TCP port, an integer from 1 to 65535/, line: 2 },
    { name: 'clientPort 0', text: 'dataDir=/d\nclientPort=0\n', key: 'clientPort', msg: /clientPort="0" is invalid/ },
    { name: 'negative inline write size', text: 'dataDir=/d\nkraal.walInlineSyncBytes=-1\n', key: 'kraal.walInlineSyncBytes', msg: /kraal.walInlineSyncBytes="-1" is invalid: expected an integer from 0 to 1048576/ },
    { name: 'clientPort 65536', text: 'dataDir=/d\nclientPort=65536\n', key: 'clientPort', msg: /clientPort="65536" is invalid: expected a TCP port/ },
    { name: 'clientPort 21.5', text: 'dataDir=/d\nclientPort=21.5\n', key: 'clientPort', msg: /clientPort="21.5"/ },
    { name: 'admin.serverPort -1', text: `${MIN}admin.serverPort=-1\n`, key: 'admin.serverPort', msg: /admin.serverPort="-1" is invalid: expected a TCP port/ },
    { name: 'metricsPort 70000', text: `${MIN}metricsPort=70000\n`, key: 'metricsPort', msg: /metricsPort="70000"/ },
    { name: 'negative tickTime', text: 'dataDir=/d\nclientPort=1\ntickTime=-2000\n', key: 'tickTime', msg: /line 3: tickTime="-2000" is invalid: expected a positive number of milliseconds/, line: 3 },
    { name: 'zero tickTime', text: 'dataDir=/d\nclientPort=1\ntickTime=0\n', key: 'tickTime', msg: /tickTime="0"/ },
    { name: 'tickTime with unit', text: 'dataDir=/d\nclientPort=1\ntickTime=2s\n', key: 'tickTime', msg: /tickTime="2s"/ },
    { name: 'tickTime beyond int', text: 'dataDir=/d\nclientPort=1\ntickTime=3000000000\n', key: 'tickTime', msg: /tickTime="3000000000"/ },
    { name: 'min > max timeout', text: `${MIN}minSessionTimeout=30000\nmaxSessionTimeout=10000\n`, key: 'minSessionTimeout', msg: /minSessionTimeout \(30000\) is larger than maxSessionTimeout \(10000\)/ },
    { name: 'min > derived max', text: `${MIN}minSessionTimeout=50000\n`, key: 'minSessionTimeout', msg: /minSessionTimeout \(50000\) is larger than maxSessionTimeout \(40000\)/ },
    { name: 'zero session timeout', text: `${MIN}maxSessionTimeout=0\n`, key: 'maxSessionTimeout', msg: /maxSessionTimeout="0"/ },
    { name: 'dataDir missing', text: 'clientPort=2181\ntickTime=2000\n', key: 'dataDir', msg: /dataDir is not set/ },
    { name: 'dataDir empty', text: 'dataDir=\nclientPort=2181\n', key: 'dataDir', msg: /dataDir="" is invalid: expected a directory path/ },
    { name: 'clientPort missing', text: 'dataDir=/d\ntickTime=2000\n', key: 'clientPort', msg: /clientPort is not set/ },
    { name: 'negative maxClientCnxns', text: `${MIN}maxClientCnxns=-1\n`, key: 'maxClientCnxns', msg: /maxClientCnxns="-1" is invalid: expected an integer >= 0/ },
    { name: 'initLimit 0', text: `${MIN}initLimit=0\n`, key: 'initLimit', msg: /initLimit="0"/ },
    { name: 'jute.maxbuffer text', text: `${MIN}jute.maxbuffer=1MB\n`, key: 'jute.maxbuffer', msg: /jute.maxbuffer="1MB"/ },
    { name: 'snapCount text', text: `${MIN}snapCount=lots\n`, key: 'snapCount', msg: /snapCount="lots"/ },
    { name: 'forceSync=true (ZooKeeper reads yes/no)', text: `${MIN}forceSync=true\n`, key: 'forceSync', msg: /forceSync="true" is invalid: expected yes or no/ },
    { name: 'skipACL=true (would not skip on ZooKeeper)', text: `${MIN}skipACL=true\n`, key: 'skipACL', msg: /skipACL="true" is invalid: expected yes or no/ },
    { name: 'admin.enableServer=yes', text: `${MIN}admin.enableServer=yes\n`, key: 'admin.enableServer', msg: /expected true or false/ },
    { name: 'standaloneEnabled=1', text: `${MIN}standaloneEnabled=1\n`, key: 'standaloneEnabled', msg: /expected true or false/ },
    { name: 'admin.commandURL without /', text: `${MIN}admin.commandURL=commands\n`, key: 'admin.commandURL', msg: /expected a URL path starting with '\/'/ },
    { name: 'superDigest without user', text: `${MIN}DigestAuthenticationProvider.superDigest=abc\n`, key: 'DigestAuthenticationProvider.superDigest', msg: /expected user:base64/ },
    { name: 'electionAlg 1', text: `${MIN}electionAlg=1\n`, key: 'electionAlg', msg: /expected 3/ },
    { name: 'peerType bad', text: `${MIN}peerType=leader\n`, key: 'peerType', msg: /expected participant or observer/ },
    { name: 'znode.container.maxPerMinute 0', text: `${MIN}znode.container.maxPerMinute=0\n`, key: 'znode.container.maxPerMinute', msg: /maxPerMinute="0"/ },
    { name: 'server.N two fields', text: `${MIN}server.1=host:2888\n`, key: 'server.1', msg: /server.1="host:2888" is invalid: expected host:peerPort:electionPort.*3 or 4 fields/ },
    { name: 'server.N five fields', text: `${MIN}server.1=h:1:2:observer:x\n`, key: 'server.1', msg: /3 or 4 fields/ },
    { name: 'server.N port text', text: `${MIN}server.1=h:abc:3888\n`, key: 'server.1', msg: /peer port "abc" is not a port/ },
    { name: 'server.N election port 0', text: `${MIN}server.1=h:2888:0\n`, key: 'server.1', msg: /election port "0"/ },
    { name: 'server.N same ports', text: `${MIN}server.1=h:2888:2888\n`, key: 'server.1', msg: /must differ/ },
    { name: 'server.N bad role', text: `${MIN}server.1=h:2888:3888:leader\n`, key: 'server.1', msg: /role "leader" is not participant or observer/ },
    { name: 'server.N empty host', text: `${MIN}server.1=:2888:3888\n`, key: 'server.1', msg: /empty host/ },
    { name: 'server.N two semicolons', text: `${MIN}server.1=h:1:2;2181;x\n`, key: 'server.1', msg: /more than one ';'/ },
    { name: 'server.N bad client port', text: `${MIN}server.1=h:1:2;h:x\n`, key: 'server.1', msg: /client port "x"/ },
    { name: 'server.N client with 3 parts', text: `${MIN}server.1=h:1:2;a:b:2181\n`, key: 'server.1', msg: /client part must be/ },
    { name: 'server.N multi-address', text: `${MIN}server.1=h:1:2|g:1:2\n`, key: 'server.1', msg: /multiAddress/ },
    { name: 'server.N unclosed [', text: `${MIN}server.1=[::1:1:2\n`, key: 'server.1', msg: /server.1=/ },
    { name: 'server.x', text: `${MIN}server.x=h:1:2\n`, key: 'server.x', msg: /line 4: server.x is invalid: the server id after 'server.' must be an integer from 1 to 255/ },
    { name: 'server.0', text: `${MIN}server.0=h:1:2\n`, key: 'server.0', msg: /integer from 1 to 255/ },
    { name: 'server.256', text: `${MIN}server.256=h:1:2\n`, key: 'server.256', msg: /integer from 1 to 255/ },
  ];
  for (const r of ROWS) {
    test(r.name, () => {
      const e = parseErr(r.text);
      assert.match(e.message, r.msg);
      assert.equal(e.key, r.key);
      assert.equal(e.name, 'ConfigError');
      assert.ok(e instanceof Error);
      if (r.line !== undefined) assert.equal(e.line, r.line);
    });
  }

  test('myid errors: not among server.N, out of range, > 254 with extendedTypesEnabled', () => {
    const ens = `${MIN}server.1=h:1:2\nserver.2=h:3:4\n`;
    assert.match(parseErr(ens, { myid: 3 }).message, /myid 3 has no server.3 entry: expected one of server.1, server.2/);
    assert.match(parseErr(MIN, { myid: 0 }).message, /expected a server id, an integer from 1 to 255/);
    assert.match(parseErr(MIN, { myid: 300 }).message, /from 1 to 255/);
    assert.match(parseErr(`${MIN}extendedTypesEnabled=true\n`, { myid: 255 }).message, /from 1 to 254/);
    assert.equal(parseZooCfg(`${MIN}extendedTypesEnabled=true\n`, { myid: 254 }).config.serverId, 254);
  });
});

describe('server.N forms', () => {
  const ROWS: { v: string; want: Omit<ServerEntry, 'id'> }[] = [
    { v: 'zk1:2888:3888', want: { host: 'zk1', peerPort: 2888, electionPort: 3888, role: 'participant' } },
    { v: 'zk1:2888:3888:participant', want: { host: 'zk1', peerPort: 2888, electionPort: 3888, role: 'participant' } },
    { v: 'zk1:2888:3888:observer', want: { host: 'zk1', peerPort: 2888, electionPort: 3888, role: 'observer' } },
    { v: 'zk1:2888:3888:OBSERVER', want: { host: 'zk1', peerPort: 2888, electionPort: 3888, role: 'observer' } },
    { v: 'zk1:2888:3888;2181', want: { host: 'zk1', peerPort: 2888, electionPort: 3888, role: 'participant', clientPort: 2181 } },
    {
      v: 'zk1:2888:3888;10.0.0.1:2181',
      want: { host: 'zk1', peerPort: 2888, electionPort: 3888, role: 'participant', clientHost: '10.0.0.1', clientPort: 2181 },
    },
    {
      v: 'zk1:2888:3888:observer;0.0.0.0:2181',
      want: { host: 'zk1', peerPort: 2888, electionPort: 3888, role: 'observer', clientHost: '0.0.0.0', clientPort: 2181 },
    },
    {
      v: '[2001:db8::1]:2888:3888;[::1]:2181',
      want: { host: '2001:db8::1', peerPort: 2888, electionPort: 3888, role: 'participant', clientHost: '::1', clientPort: 2181 },
    },
    { v: ' zk1 : 2888 : 3888 ; 2181 ', want: { host: 'zk1', peerPort: 2888, electionPort: 3888, role: 'participant', clientPort: 2181 } },
  ];
  for (const r of ROWS) {
    test(`server.7=${r.v}`, () => {
      const { config: c, warnings } = parseZooCfg(`${MIN}server.7=${r.v}\n`);
      assert.deepEqual(warnings, []);
      assert.deepEqual(c.servers, [{ id: 7, ...r.want }]);
    });
  }

  test('servers are sorted by id; a repeated id is replaced', () => {
    const { config: c } = parseZooCfg(`${MIN}server.3=c:1:2\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=d:1:2\n`);
    assert.deepEqual(
      c.servers.map((s) => `${s.id}=${s.host}`),
      ['1=a', '2=b', '3=d'],
    );
  });

  test("myid picks this server's client address from its server.N line", () => {
    const text = 'tickTime=2000\ndataDir=/d\nserver.1=a:1:2;2181\nserver.2=b:1:2;10.0.0.2:2182\nserver.3=c:1:2:observer\n';
    const one = parseZooCfg(text, { myid: 1 }).config;
    assert.equal(one.clientPort, 2181);
    assert.equal(one.clientPortAddress, '');
    const two = parseZooCfg(text, { myid: 2 }).config;
    assert.equal(two.clientPort, 2182);
    assert.equal(two.clientPortAddress, '10.0.0.2');
    // server.3 has no client part and there is no clientPort: nowhere to listen.
    assert.match(parseErr(text, { myid: 3 }).message, /clientPort is not set/);
    assert.equal(parseZooCfg(`${text}clientPort=2183\n`, { myid: 3 }).config.clientPort, 2183);
  });

  test('without myid, client ports on server.N lines leave clientPort 0 with a warning', () => {
    const { config: c, warnings } = parseZooCfg('tickTime=2000\ndataDir=/d\nserver.1=a:1:2;2181\n');
    assert.equal(c.clientPort, 0);
    assert.match(warnings.join('\n'), /pass myid/);
  });

  test('clientPort / clientPortAddress must agree with the server.N line', () => {
    const base = 'tickTime=2000\ndataDir=/d\nserver.1=a:1:2;10.0.0.1:2181\n';
    assert.equal(parseZooCfg(`${base}clientPort=2181\n`, { myid: 1 }).config.clientPort, 2181);
    assert.equal(parseZooCfg(`${base}clientPortAddress=0.0.0.0\n`, { myid: 1 }).config.clientPortAddress, '10.0.0.1');
    const e = parseErr(`${base}clientPort=2999\n`, { myid: 1 });
    assert.match(e.message, /clientPort=2999 disagrees with server.1, whose client port is 2181/);
    assert.equal(e.key, 'clientPort');
    const f = parseErr(`${base}clientPortAddress=10.0.0.9\n`, { myid: 1 });
    assert.match(f.message, /clientPortAddress=10.0.0.9 disagrees with server.1/);
  });
});

describe('applyOverrides', () => {
  const file = `${MIN}minSessionTimeout=5000\n`;

  test('flags override file values and are recorded in raw; the input is not mutated', () => {
    const { config: base } = parseZooCfg(file);
    const snapshot = structuredClone(base);
    const c = applyOverrides(base, { clientPort: '2999', forceSync: 'no', '4lw.commands.whitelist': 'ruok' });
    assert.equal(c.clientPort, 2999);
    assert.equal(c.forceSync, false);
    assert.deepEqual(c.fourLetterWhitelist, new Set(['srvr', 'ruok']));
    assert.equal(c.raw['clientPort'], '2999');
    assert.equal(c.raw['tickTime'], '2000');
    assert.deepEqual(base, snapshot);
  });

  test('tickTime override re-derives timeouts that were not set explicitly', () => {
    const { config: base } = parseZooCfg(file);
    const c = applyOverrides(base, { tickTime: '500' });
    assert.equal(c.minSessionTimeout, 5000, 'explicit in the file');
    assert.equal(c.maxSessionTimeout, 10000, '20 x 500');
    assert.throws(() => applyOverrides(base, { tickTime: '200' }), /minSessionTimeout \(5000\) is larger than maxSessionTimeout \(4000\)/);
    const e = applyOverrides(parseZooCfg(MIN).config, { tickTime: '100' });
    assert.equal(e.minSessionTimeout, 200);
    assert.equal(e.maxSessionTimeout, 2000);
    const d = applyOverrides(defaultConfig({ dataDir: '/d', minSessionTimeout: 1234 }), { tickTime: '1000' });
    assert.equal(d.minSessionTimeout, 1234, 'a programmatic value differs from the derived one, so it stays');
    assert.equal(d.maxSessionTimeout, 20000);
  });

  test('dataDir override moves a derived dataLogDir, not an explicit one', () => {
    const { config: a } = parseZooCfg(MIN);
    assert.equal(applyOverrides(a, { dataDir: '/new' }).dataLogDir, '/new');
    const { config: b } = parseZooCfg(`${MIN}dataLogDir=/logs\n`);
    assert.equal(applyOverrides(b, { dataDir: '/new' }).dataLogDir, '/logs');
    assert.equal(applyOverrides(a, { dataDir: 'rel' }, { baseDir: '/cwd' }).dataDir, '/cwd/rel');
  });

  test('the CLI pattern: defaults plus flags', () => {
    const c = applyOverrides(defaultConfig({ dataDir: '/d', dataLogDir: '/d' }), { clientPort: '2281', 'admin.serverPort': '8181' });
    assert.equal(c.clientPort, 2281);
    assert.equal(c.adminServerPort, 8181);
    assert.equal(c.dataLogDir, '/d');
  });

  test('a command-line clientPort wins over the server.N client port', () => {
    const { config: base } = parseZooCfg('tickTime=2000\ndataDir=/d\nserver.1=a:1:2;10.0.0.1:2181\n', { myid: 1 });
    const c = applyOverrides(base, { clientPort: '3181', clientPortAddress: '127.0.0.1' });
    assert.equal(c.clientPort, 3181);
    assert.equal(c.clientPortAddress, '127.0.0.1');
  });

  test('bad values and unknown keys throw ConfigError naming the flag', () => {
    const { config: base } = parseZooCfg(MIN);
    const ROWS: { flags: Record<string, string>; msg: RegExp; key: string }[] = [
      { flags: { clientPort: 'x' }, msg: /command-line override: clientPort="x" is invalid: expected a TCP port/, key: 'clientPort' },
      { flags: { tickTime: '-5' }, msg: /tickTime="-5"/, key: 'tickTime' },
      { flags: { skipACL: 'true' }, msg: /expected yes or no/, key: 'skipACL' },
      { flags: { clientport: '1' }, msg: /unknown key "clientport" \(did you mean clientPort\?\)/, key: 'clientport' },
      { flags: { secureClientPort: '2281' }, msg: /does not implement/, key: 'secureClientPort' },
      { flags: { 'server.1': 'nope' }, msg: /server.1="nope"/, key: 'server.1' },
      { flags: { dataDir: '' }, msg: /dataDir="" is invalid/, key: 'dataDir' },
    ];
    for (const r of ROWS) {
      try {
        applyOverrides(base, r.flags);
        assert.fail(`no error for ${JSON.stringify(r.flags)}`);
      } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        assert.match(e.message, r.msg);
        assert.equal(e.key, r.key);
      }
    }
  });

  test('accepted ZooKeeper keys are fine as flags', () => {
    const { config: base } = parseZooCfg(MIN);
    assert.equal(applyOverrides(base, { preAllocSize: '1024' }).raw['preAllocSize'], '1024');
  });
});

describe('parseMyid', () => {
  const ROWS: { text: string; want: number | RegExp }[] = [
    { text: '1', want: 1 },
    { text: '2\n', want: 2 },
    { text: '  17 \r\n', want: 17 },
    { text: '255', want: 255 },
    { text: '3\nextra', want: 3 },
    { text: '', want: /expected the server id/ },
    { text: 'abc', want: /"abc" is invalid/ },
    { text: '0', want: /from 1 to 255/ },
    { text: '256', want: /from 1 to 255/ },
    { text: '-1', want: /expected the server id/ },
  ];
  for (const r of ROWS) {
    test(JSON.stringify(r.text), () => {
      if (typeof r.want === 'number') assert.equal(parseMyid(r.text), r.want);
      else assert.throws(() => parseMyid(r.text), (e: unknown) => e instanceof ConfigError && (r.want as RegExp).test(e.message));
    });
  }
});
