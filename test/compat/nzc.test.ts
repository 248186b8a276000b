// Differential scenarios through the unmodified node-zookeeper-client (devDependency).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { normalize } from '../harness/normalize.js';
import type { Target } from '../harness/servers.js';
import { setupPair } from '../harness/targets.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const require = createRequire(import.meta.url);
const zk: any = require('node-zookeeper-client');

const pair = setupPair({ name: 'nzc', portBase: 22300 });

type Steps = [string, unknown][];

function statObj(s: any): unknown {
  if (!s) return s ?? null;
  const f = ['czxid', 'mzxid', 'ctime', 'mtime', 'version', 'cversion', 'aversion', 'ephemeralOwner', 'dataLength', 'numChildren', 'pzxid'];
  const o: Record<string, unknown> = {};
  for (const k of f) o[k] = s[k];
  return o;
}

function errName(e: any): unknown {
  if (e && typeof e.getName === 'function') return { error: e.getName(), code: e.getCode() };
  return { error: String(e && e.message ? e.message : e) };
}

function connect(t: Target, opts: Record<string, unknown> = {}): Promise<any> {
  return new Promise((resolve, reject) => {
    const c = zk.createClient(`${t.host}:${t.port}`, { sessionTimeout: 10000, retries: 0, ...opts });
    const timer = setTimeout(() => reject(new Error('nzc connect timeout')), 15000);
    c.once('connected', () => { clearTimeout(timer); resolve(c); });
    c.connect();
  });
}

function call(c: any, method: string, ...args: unknown[]): Promise<unknown[]> {
  return new Promise((resolve) => {
    c[method](...args, (err: any, ...rest: unknown[]) => resolve(err ? [errName(err)] : rest));
  });
}

function clean(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return { data: v.toString('utf8') };
  if (Array.isArray(v)) return v.map(clean);
  if (v && typeof v === 'object') {
    const o = v as any;
    if ('czxid' in o && 'numChildren' in o) return statObj(o);
    if ('permission' in o && 'id' in o) return { perms: o.permission, scheme: o.id.scheme, id: o.id.id };
    if (typeof o.getType === 'function' && typeof o.getName === 'function' && 'path' in o) return { event: o.getName(), path: o.getPath() };
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = clean(x);
    return out;
  }
  return v;
}

async function scenario(t: Target, fn: (rec: (label: string, p: Promise<unknown[]> | unknown) => Promise<void>) => Promise<void>): Promise<Steps> {
  const steps: Steps = [];
  const rec = async (label: string, p: Promise<unknown[]> | unknown) => {
    const v = await p;
    steps.push([label, clean(v)]);
  };
  await fn(rec);
  return normalize(steps, [t.port]) as Steps;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('node-zookeeper-client', { concurrency: false }, () => {
  test('crud', { timeout: 60000 }, async () => {
    await pair.compare('crud', (t) => scenario(t, async (rec) => {
      const c = await connect(t);
      const b = '/nzc_crud';
      await rec('create', call(c, 'create', b, Buffer.from('root')));
      await rec('create child', call(c, 'create', b + '/a', Buffer.from('x'), zk.ACL.OPEN_ACL_UNSAFE, zk.CreateMode.PERSISTENT));
      await rec('create null data', call(c, 'create', b + '/n'));
      await rec('get null', call(c, 'getData', b + '/n'));
      await rec('create seq', call(c, 'create', b + '/s-', Buffer.from(''), zk.CreateMode.PERSISTENT_SEQUENTIAL));
      await rec('create eph seq', call(c, 'create', b + '/e-', Buffer.from(''), zk.CreateMode.EPHEMERAL_SEQUENTIAL));
      await rec('create exists', call(c, 'create', b + '/a'));
      await rec('create no parent', call(c, 'create', b + '/zz/a'));
      await rec('getData', call(c, 'getData', b + '/a'));
      await rec('exists', call(c, 'exists', b + '/a'));
      await rec('exists missing', call(c, 'exists', b + '/missing'));
      await rec('setData', call(c, 'setData', b + '/a', Buffer.from('yy'), 0));
      await rec('setData bad version', call(c, 'setData', b + '/a', Buffer.from('zz'), 0));
      await rec('getChildren', call(c, 'getChildren', b).then((r) => [(r[0] as string[]).slice().sort?.() ?? r[0], r[1]]));
      await rec('remove not empty', call(c, 'remove', b, -1));
      await rec('remove bad version', call(c, 'remove', b + '/a', 9));
      await rec('remove', call(c, 'remove', b + '/a', 1));
      await rec('remove missing', call(c, 'remove', b + '/a', -1));
      await rec('mkdirp', call(c, 'mkdirp', b + '/p/q/r', Buffer.from('deep')));
      await rec('listSubTreeBFS', call(c, 'listSubTreeBFS', b + '/p').then((r) => (Array.isArray(r[0]) ? [(r[0] as string[]).slice().sort()] : r)));
      await rec('big data', call(c, 'create', b + '/big', Buffer.alloc(1000000, 120)));
      await rec('stat big', call(c, 'exists', b + '/big'));
      await rec('parent', call(c, 'exists', b));
      c.close();
    }));
  });

  test('transactions', { timeout: 60000 }, async () => {
    await pair.compare('multi', (t) => scenario(t, async (rec) => {
      const c = await connect(t);
      const b = '/nzc_multi';
      await rec('create', call(c, 'create', b));
      await rec('ok', new Promise((res) => c.transaction().create(b + '/a', Buffer.from('1')).create(b + '/b').setData(b + '/a', Buffer.from('2'), 0)
        .check(b + '/b', 0).remove(b + '/b', -1).create(b + '/s-', null, zk.ACL.OPEN_ACL_UNSAFE, zk.CreateMode.PERSISTENT_SEQUENTIAL)
        .commit((e: any, r: unknown) => res([e ? errName(e) : null, r]))));
      await rec('fail', new Promise((res) => c.transaction().create(b + '/c').check(b + '/a', 7).remove(b + '/a')
        .commit((e: any, r: unknown) => res([e ? errName(e) : null, r]))));
      await rec('empty', new Promise((res) => c.transaction().commit((e: any, r: unknown) => res([e ? errName(e) : null, r]))));
      await rec('children', call(c, 'getChildren', b).then((r) => [(r[0] as string[]).sort(), r[1]]));
      c.close();
    }));
  });

  test('ACLs and auth', { timeout: 60000 }, async () => {
    await pair.compare('acl', (t) => scenario(t, async (rec) => {
      const b = '/nzc_acl';
      const owner = await connect(t);
      owner.addAuthInfo('digest', Buffer.from('bob:pw'));
      const anon = await connect(t);
      await rec('create base', call(owner, 'create', b));
      const digestAcl = [new zk.ACL(zk.Permission.ALL, new zk.Id('auth', ''))];
      await rec('create auth acl', call(owner, 'create', b + '/d', Buffer.from('s'), digestAcl, zk.CreateMode.PERSISTENT));
      await rec('getACL owner', call(owner, 'getACL', b + '/d'));
      await rec('anon get', call(anon, 'getData', b + '/d'));
      await rec('anon getACL', call(anon, 'getACL', b + '/d'));
      await rec('anon set', call(anon, 'setData', b + '/d', Buffer.from('x'), -1));
      await rec('anon exists', call(anon, 'exists', b + '/d'));
      await rec('anon create auth acl', call(anon, 'create', b + '/e', null, digestAcl, zk.CreateMode.PERSISTENT));
      await rec('setACL read', call(owner, 'setACL', b + '/d', [...digestAcl, new zk.ACL(zk.Permission.READ, new zk.Id('world', 'anyone'))], -1));
      await rec('anon get after', call(anon, 'getData', b + '/d'));
      await rec('anon getACL after (masked)', call(anon, 'getACL', b + '/d'));
      await rec('setACL bad version', call(owner, 'setACL', b + '/d', digestAcl, 5));
      await rec('ip acl', call(anon, 'create', b + '/ip', null, [new zk.ACL(zk.Permission.ALL, new zk.Id('ip', '127.0.0.1'))], zk.CreateMode.PERSISTENT));
      await rec('ip get', call(anon, 'getData', b + '/ip'));
      await rec('bad acl', call(anon, 'create', b + '/bad', null, [new zk.ACL(zk.Permission.ALL, new zk.Id('foo', 'bar'))], zk.CreateMode.PERSISTENT));
      anon.addAuthInfo('digest', Buffer.from('bob:pw'));
      await sleep(200);
      await rec('anon as bob get', call(anon, 'getData', b + '/d'));
      owner.close();
      anon.close();
    }), (s) => {
      assert.deepEqual((s.find((x) => x[0] === 'anon get')![1] as any[])[0].error, 'NO_AUTH');
    });
  });

  test('watches', { timeout: 60000 }, async () => {
    await pair.compare('watch', (t) => scenario(t, async (rec) => {
      const b = '/nzc_watch';
      const c = await connect(t);
      const o = await connect(t);
      const events: unknown[] = [];
      const w = (tag: string) => (ev: any) => events.push([tag, ev.getName(), ev.getPath()]);
      await rec('create', call(c, 'create', b, Buffer.from('0')));
      await rec('get w', call(c, 'getData', b, w('data')));
      await rec('children w', call(c, 'getChildren', b, w('child')));
      await rec('exists w missing', call(c, 'exists', b + '/x', w('exists')));
      await rec('set by other', call(o, 'setData', b, Buffer.from('1'), -1));
      await sleep(200);
      await rec('create child by other', call(o, 'create', b + '/x'));
      await sleep(200);
      // own write: event is queued before the reply of the write
      await rec('get w again', call(c, 'getData', b, w('data2')));
      const order: string[] = [];
      c.getData(b + '/x', () => order.push('event'), () => undefined);
      await new Promise((r) => c.setData(b + '/x', Buffer.from('z'), -1, () => { order.push('reply'); r(null); }));
      await rec('own write order', order.slice());
      await rec('delete by other', call(o, 'remove', b + '/x', -1));
      await rec('set by other 2', call(o, 'setData', b, Buffer.from('2'), -1));
      await sleep(300);
      await rec('events', events);
      c.close();
      o.close();
    }), (s) => {
      assert.deepEqual(s.find((x) => x[0] === 'own write order')![1], ['event', 'reply']);
    });
  });

  test('ephemeral vanishes on close', { timeout: 60000 }, async () => {
    await pair.compare('ephemeral', (t) => scenario(t, async (rec) => {
      const b = '/nzc_eph';
      const c = await connect(t);
      const e = await connect(t);
      await rec('create', call(c, 'create', b));
      await rec('eph', call(e, 'create', b + '/e', null, zk.CreateMode.EPHEMERAL));
      await rec('owner == session', call(c, 'exists', b + '/e').then((r: any) => [r[0].ephemeralOwner.equals(e.getSessionId())]));
      await rec('session timeout', e.getSessionTimeout());
      let fired: unknown = 'no event within 10s';
      const gone = new Promise<void>((res) => {
        c.exists(b + '/e', (ev: any) => { fired = ev.getName(); res(); }, () => undefined);
        setTimeout(res, 10000);
      });
      await sleep(100);
      e.close();
      await gone;
      await rec('event', fired);
      await rec('after', call(c, 'exists', b + '/e'));
      c.close();
    }));
  });
});
