// AdminServer differential scenarios: ZooKeeper 3.8's Jetty AdminServer (admin.enableServer=true)
// against Kraal's (adminEnableServer), compared by JSON key names (values depend on timing and
// on each implementation's internals), plus Kraal's own Prometheus endpoint GET /metrics.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labelledSession, req } from '../harness/raw.js';
import { fourLetterWord, type Target } from '../harness/servers.js';
import { SELFTEST, setupPair } from '../harness/targets.js';

const pair = setupPair({
  name: 'admin',
  portBase: 22700,
  zk: { adminPortBase: 22780 },
  kraal: { adminPortBase: 22790 },
});

async function getJson(t: Target, name: string): Promise<Record<string, unknown>> {
  if (t.adminPort === undefined) throw new Error(`${t.kind} was started without an AdminServer`);
  const r = await fetch(`http://127.0.0.1:${t.adminPort}/commands/${name}`);
  const text = await r.text();
  try {
    return { httpStatus: r.status, ...(JSON.parse(text) as Record<string, unknown>) };
  } catch {
    throw new Error(`${t.kind} /commands/${name}: HTTP ${r.status}, not JSON: ${text.slice(0, 500)}`);
  }
}

/** Every key path of a JSON value: "a", "a.b", "list[].c" (array elements merged). */
function keyPaths(v: unknown, prefix = ''): string[] {
  const out = new Set<string>();
  const walk = (x: unknown, p: string) => {
    if (Array.isArray(x)) {
      for (const e of x) walk(e, `${p}[]`);
    } else if (x !== null && typeof x === 'object') {
      for (const [k, y] of Object.entries(x)) {
        const q = p === '' ? k : `${p}.${k}`;
        out.add(q);
        walk(y, q);
      }
    }
  };
  walk(v, prefix);
  return [...out].sort();
}

/**
 * ZooKeeper's system_properties lists the JVM's system properties; Kraal runs no JVM and does
 * not offer the command. This is the only accepted difference in the command list.
 */
const ADMIN_ZOOKEEPER_ONLY = ['system_properties'];

describe('AdminServer', { concurrency: false }, () => {
  test('command JSON key names, unknown command, command list', { timeout: 60000 }, async () => {
    await pair.compare('commands', async (t) => {
      // One session holding one data-table watch (exists on a missing node: no namespace is read,
      // so the monitor key set is the fixed one; test/compat/wire.test.ts covers the dynamic keys).
      const s = await labelledSession(t);
      s.r.write(req(1, 3, (w) => w.str('/admin_missing').bool(true)));
      await s.r.next();
      const out: Record<string, unknown> = {};
      for (const name of ['ruok', 'monitor', 'server_stats', 'srvr', 'configuration', 'connections', 'watch_summary', 'stats', 'dirs', 'is_read_only', 'get_trace_mask']) {
        const body = await getJson(t, name);
        out[name] = { keys: keyPaths(body), command: body.command, error: body.error, httpStatus: body.httpStatus };
      }
      out['watch_summary values'] = await getJson(t, 'watch_summary');
      out['ruok body'] = await getJson(t, 'ruok');
      out['is_read_only body'] = await getJson(t, 'is_read_only');
      out.unknown = await getJson(t, 'x');
      // monitor = mntr without the zk_ prefix
      const mntr = (await fourLetterWord(t.host, t.port, 'mntr'))
        .split('\n').filter(Boolean).map((l) => l.slice(3, l.indexOf('\t')));
      const monitorKeys = keyPaths(await getJson(t, 'monitor')).filter((k) => k !== 'command' && k !== 'error' && k !== 'httpStatus');
      out['monitor keys = mntr keys'] = JSON.stringify(monitorKeys) === JSON.stringify([...mntr].sort());
      const listing = await (await fetch(`http://127.0.0.1:${t.adminPort}/commands`)).text();
      out.list = [...listing.matchAll(/>([a-z_]+)<\/a>/g)].map((m) => m[1]!).filter((n) => !ADMIN_ZOOKEEPER_ONLY.includes(n)).sort();
      s.r.close();
      return out;
    }, (o: any) => {
      assert.deepEqual(o.unknown, { httpStatus: 200, command: 'x', error: 'Unknown command: x' });
      assert.equal(o.srvr.command, 'server_stats', 'aliases answer with the primary name');
      assert.deepEqual(o['watch_summary values'], { httpStatus: 200, num_connections: 1, num_paths: 1, num_total_watches: 1, command: 'watch_summary', error: null });
      assert.equal(o['monitor keys = mntr keys'], true);
      assert.ok(o.connections.keys.includes('connections[].session_id'));
    });
  });

  test('set_trace_mask / get_trace_mask', { timeout: 60000 }, async () => {
    await pair.compare('tracemask', async (t) => {
      const out: unknown[] = [];
      for (const q of ['get_trace_mask', 'set_trace_mask', 'set_trace_mask?traceMask=abc', 'set_trace_mask?traceMask=16', 'gtmk',
        'stmk?traceMask=306', 'get_trace_mask']) {
        out.push([q, await getJson(t, q)]);
      }
      out.push(['4lw gtmk', await fourLetterWord(t.host, t.port, 'gtmk')]);
      return out;
    }, (o: any) => {
      assert.deepEqual(o[4][1], { httpStatus: 200, tracemask: 16, command: 'get_trace_mask', error: null });
    });
  });

  test('Kraal GET /metrics is Prometheus text with the kraal_* series', { timeout: 60000, skip: SELFTEST ? 'Kraal-only' : false }, async () => {
    const k = await pair.kraal();
    const s = await labelledSession(k);
    s.r.write(req(1, 4, (w) => w.str('/zookeeper').bool(false)));
    await s.r.next();
    const r = await fetch(`http://127.0.0.1:${k.adminPort}/metrics`);
    const text = await r.text();
    s.r.close();
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    for (const name of ['kraal_request_latency_seconds', 'kraal_outstanding_requests', 'kraal_znode_count', 'kraal_watch_count',
      'kraal_ephemerals_count', 'kraal_sessions', 'kraal_fsync_seconds', 'kraal_snapshot_seconds']) {
      assert.match(text, new RegExp(`^# TYPE ${name} (gauge|counter|histogram|summary)$`, 'm'), `${name} is exposed`);
    }
    assert.match(text, /^kraal_znode_count \d+$/m);
    assert.match(text, /^kraal_request_latency_seconds_count\{op="getData"\} [1-9]\d*$/m);
    assert.match(text, /^kraal_packets_received_total [1-9]\d*$/m, 'frames received are counted');
    assert.match(text, /^kraal_process_cpu_user_seconds_total /m, 'process metrics (loaded on the first scrape)');
  });
});
