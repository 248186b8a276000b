#!/usr/bin/python3
"""Kraal differential compatibility scenarios driven through the unmodified kazoo client.

Usage: /usr/bin/python3 kazoo_scenarios.py <host:port> <scenario>

Prints one JSON document on stdout: {"scenario": ..., "steps": [[label, value], ...]}.
Values are raw (zxids as ints, session ids as "0x.." hex strings, times as ints); the
TypeScript side (test/harness/normalize.ts) replaces zxids/times/session ids with
placeholders. Errors are recorded as {"error": "<kazoo exception class name>"}.

Every scenario works below its own base path so several scenarios can share a server.
"""
import json
import struct
import sys
import threading
import time
import traceback
from collections import namedtuple

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, ZookeeperError
from kazoo.protocol.serialization import (Create, int_struct, long_struct, read_string,
                                          stat_struct, write_buffer, write_string)
from kazoo.protocol.states import ZnodeStat, KazooState
from kazoo.security import (ACL, Id, Permissions, make_acl, make_digest_acl,
                            make_digest_acl_credential, OPEN_ACL_UNSAFE,
                            READ_ACL_UNSAFE)

HOSTS = sys.argv[1]
SCENARIO = sys.argv[2]
STEPS = []
TIMEOUT = 10.0


def rec(label, value):
    STEPS.append([label, val(value)])


def stat_d(st):
    if st is None:
        return None
    return {
        "czxid": st.czxid, "mzxid": st.mzxid, "pzxid": st.pzxid,
        "ctime": st.ctime, "mtime": st.mtime,
        "version": st.version, "cversion": st.cversion, "aversion": st.aversion,
        "ephemeralOwner": hex(st.ephemeralOwner) if st.ephemeralOwner else 0,
        "dataLength": st.dataLength, "numChildren": st.numChildren,
    }


def val(v):
    """Turn a kazoo return value into JSON."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, bytes):
        try:
            return {"bytes": v.decode("utf-8")}
        except UnicodeDecodeError:
            return {"hex": v.hex()}
    if isinstance(v, ZnodeStat):
        return stat_d(v)
    if isinstance(v, ACL):
        return {"perms": v.perms, "scheme": v.id.scheme, "id": v.id.id}
    if isinstance(v, BaseException):
        return {"error": type(v).__name__}
    if isinstance(v, (list, tuple)):
        return [val(x) for x in v]
    if isinstance(v, dict):
        return {str(k): val(x) for k, x in v.items()}
    return repr(v)


def do(label, fn, *args, **kw):
    """Run one client call, record its (normalizable) result or its exception class."""
    try:
        r = fn(*args, **kw)
        out = val(r)
    except (KazooException, ZookeeperError) as e:
        out = {"error": type(e).__name__}
    except Exception as e:  # client-side validation errors (TypeError, ValueError) matter too
        out = {"error": type(e).__name__}
    rec(label, out)
    return out


def client(**kw):
    c = KazooClient(hosts=HOSTS, timeout=TIMEOUT, **kw)
    c.start(timeout=TIMEOUT)
    return c


def wait_for(pred, timeout=TIMEOUT, step=0.02):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


# --- request classes kazoo 2.8 lacks (sent through the unmodified client's _call) ----------

def _read_path_stat(bytes_, offset):
    path, offset = read_string(bytes_, offset)
    st = ZnodeStat._make(stat_struct.unpack_from(bytes_, offset))
    return path, st


class CreateContainer(namedtuple("CreateContainer", "path data acl flags")):
    type = 19

    def serialize(self):
        return Create(self.path, self.data, self.acl, self.flags).serialize()

    @classmethod
    def deserialize(cls, bytes_, offset):
        return _read_path_stat(bytes_, offset)


class CreateTTL(namedtuple("CreateTTL", "path data acl flags ttl")):
    type = 21

    def serialize(self):
        b = Create(self.path, self.data, self.acl, self.flags).serialize()
        b.extend(long_struct.pack(self.ttl))
        return b

    @classmethod
    def deserialize(cls, bytes_, offset):
        return _read_path_stat(bytes_, offset)


class GetEphemerals(namedtuple("GetEphemerals", "path")):
    type = 103

    def serialize(self):
        return write_string(self.path)

    @classmethod
    def deserialize(cls, bytes_, offset):
        count = int_struct.unpack_from(bytes_, offset)[0]
        offset += int_struct.size
        out = []
        for _ in range(max(count, 0)):
            p, offset = read_string(bytes_, offset)
            out.append(p)
        return sorted(out)


class GetAllChildrenNumber(namedtuple("GetAllChildrenNumber", "path")):
    type = 104

    def serialize(self):
        return write_string(self.path)

    @classmethod
    def deserialize(cls, bytes_, offset):
        return int_struct.unpack_from(bytes_, offset)[0]


def raw_call(c, request):
    ar = c.handler.async_result()
    c._call(request, ar)
    return ar.get(timeout=TIMEOUT)


# --- scenarios -----------------------------------------------------------------------------

def s_crud():
    c = client()
    b = "/kz_crud"
    do("create base", c.create, b, b"base")
    do("create child", c.create, b + "/a", b"hello")
    do("create child include_data", c.create, b + "/b", b"", include_data=True)
    do("create null data", c.create, b + "/nul", None)
    do("get null data", c.get, b + "/nul")
    do("get", c.get, b + "/a")
    do("exists", c.exists, b + "/a")
    do("exists missing", c.exists, b + "/missing")
    do("get missing", c.get, b + "/missing")
    do("set", c.set, b + "/a", b"world")
    do("set version 1", c.set, b + "/a", b"again", version=1)
    do("set bad version", c.set, b + "/a", b"x", version=7)
    do("set missing", c.set, b + "/missing", b"x")
    do("create exists", c.create, b + "/a", b"")
    do("create no parent", c.create, b + "/x/y", b"")
    do("create makepath", c.create, b + "/m/n/o", b"deep", makepath=True)
    do("get_children", lambda: sorted(c.get_children(b)))
    do("get_children include_data", lambda: (lambda r: [sorted(r[0]), val(r[1])])(
        c.get_children(b, include_data=True)))
    do("get parent stat", c.exists, b)
    do("delete not empty", c.delete, b + "/m")
    do("delete bad version", c.delete, b + "/a", version=5)
    do("delete ok version", c.delete, b + "/a", version=2)
    do("delete missing", c.delete, b + "/a")
    do("delete recursive", c.delete, b + "/m", recursive=True)
    do("children after", lambda: sorted(c.get_children(b)))
    do("create ephemeral", c.create, b + "/eph", b"e", ephemeral=True)
    do("stat ephemeral", c.exists, b + "/eph")
    do("child of ephemeral", c.create, b + "/eph/c", b"")
    for bad in ["", "a", b + "/", b + "//x", b + "/./x", b + "/../x", b + "/.", b + "/..",
                b + "/x\x00y", b + "/\u0001"]:
        do("invalid path %r" % bad, c.create, bad, b"")
    do("delete root", c.delete, "/")
    do("delete /zookeeper", c.delete, "/zookeeper")
    do("create under /zookeeper", c.create, "/zookeeper/kz", b"")
    do("root children", lambda: sorted(x for x in c.get_children("/") if x in ("zookeeper", "kz_crud")))
    do("get /zookeeper/quota", c.get, "/zookeeper/quota")
    do("sync", c.sync, b)
    do("sync missing", c.sync, b + "/missing")
    do("big data 1MB", c.create, b + "/big", b"x" * (1024 * 1024))
    do("state after big", lambda: c.state)
    wait_for(lambda: c.connected)
    do("data 1000000", c.create, b + "/big2", b"y" * 1000000)
    do("stat big2", c.exists, b + "/big2")
    do("getEphemerals", raw_call, c, GetEphemerals(b))
    do("getAllChildrenNumber", raw_call, c, GetAllChildrenNumber(b))
    do("server_version", lambda: list(c.server_version())[:2])
    c.stop()
    c.close()


def s_sequential():
    c = client()
    b = "/kz_seq"
    do("create base", c.create, b, b"")
    do("create a", c.create, b + "/a", b"")
    do("create b", c.create, b + "/b", b"")
    do("delete a", c.delete, b + "/a")
    do("parent stat", c.exists, b)
    do("seq 1", c.create, b + "/s-", b"", sequence=True)
    do("seq 2", c.create, b + "/s-", b"", sequence=True)
    do("seq eph", c.create, b + "/e-", b"", sequence=True, ephemeral=True)
    do("seq bare", c.create, b + "/", b"", sequence=True)
    do("seq fail then", c.create, b + "/nope/x", b"", sequence=True)
    do("seq after fail", c.create, b + "/s-", b"", sequence=True)
    do("children", lambda: sorted(c.get_children(b)))
    do("parent stat 2", c.exists, b)
    c.stop()
    c.close()


def s_ephemeral():
    b = "/kz_eph"
    c1 = client()
    c2 = client()
    do("create base", c1.create, b, b"")
    do("c2 ephemeral", c2.create, b + "/e1", b"x", ephemeral=True)
    do("c2 ephemeral seq", c2.create, b + "/e-", b"", ephemeral=True, sequence=True)
    st = c1.exists(b + "/e1")
    rec("owner is c2", hex(st.ephemeralOwner) == hex(c2.client_id[0]))
    rec("c2 session", {"session": hex(c2.client_id[0])})
    do("c1 stat e1", c1.exists, b + "/e1")
    do("getEphemerals c2", raw_call, c2, GetEphemerals("/"))
    do("getEphemerals c1", raw_call, c1, GetEphemerals("/"))
    do("getEphemerals c2 prefix", raw_call, c2, GetEphemerals(b + "/e"))
    events = []
    got = threading.Event()

    def w(ev):
        events.append([ev.type, ev.path])
        got.set()
    c1.exists(b + "/e1", watch=w)
    c2.stop()
    c2.close()
    got.wait(TIMEOUT)
    rec("events", events)
    do("children after close", lambda: sorted(c1.get_children(b)))
    do("parent stat", c1.exists, b)
    c1.stop()
    c1.close()


def s_container_ttl():
    c = client()
    b = "/kz_ctr"
    do("create base", c.create, b, b"")
    do("create container", raw_call, c, CreateContainer(b + "/ctr", b"c", OPEN_ACL_UNSAFE, 4))
    do("create container flags0", raw_call, c, CreateContainer(b + "/ctr0", b"", OPEN_ACL_UNSAFE, 0))
    do("container stat", c.exists, b + "/ctr")
    do("create in container", c.create, b + "/ctr/child", b"")
    do("create in ctr0", c.create, b + "/ctr0/child", b"")
    do("ttl node", raw_call, c, CreateTTL(b + "/ttl", b"t", OPEN_ACL_UNSAFE, 5, 300))
    do("ttl seq node", raw_call, c, CreateTTL(b + "/ttls-", b"t", OPEN_ACL_UNSAFE, 6, 300))
    do("ttl zero", raw_call, c, CreateTTL(b + "/ttl0", b"", OPEN_ACL_UNSAFE, 5, 0))
    do("ttl negative", raw_call, c, CreateTTL(b + "/ttln", b"", OPEN_ACL_UNSAFE, 5, -5))
    do("ttl too big", raw_call, c, CreateTTL(b + "/ttlb", b"", OPEN_ACL_UNSAFE, 5, 1 << 40))
    do("ttl max", raw_call, c, CreateTTL(b + "/ttlm", b"", OPEN_ACL_UNSAFE, 5, (1 << 40) - 1))
    do("ttl wrong mode", raw_call, c, CreateTTL(b + "/ttlw", b"", OPEN_ACL_UNSAFE, 0, 100))
    do("ttl ephemeral mode", raw_call, c, CreateTTL(b + "/ttle", b"", OPEN_ACL_UNSAFE, 1, 100))
    do("ttl stat", c.exists, b + "/ttl")
    do("ttl with child", raw_call, c, CreateTTL(b + "/ttlc", b"", OPEN_ACL_UNSAFE, 5, 300))
    do("child of ttl", c.create, b + "/ttlc/x", b"")
    do("children", lambda: sorted(c.get_children(b)))
    # containers are reaped only once they have had a child and became empty
    do("delete container child", c.delete, b + "/ctr/child")
    do("container reaped", lambda: wait_for(lambda: c.exists(b + "/ctr") is None, 15))
    do("ttl reaped", lambda: wait_for(lambda: c.exists(b + "/ttl") is None, 15))
    do("ttl with child kept", lambda: c.exists(b + "/ttlc") is not None)
    do("ctr0 kept (has child)", lambda: c.exists(b + "/ctr0") is not None)
    do("children after reap", lambda: sorted(c.get_children(b)))
    c.stop()
    c.close()


def s_multi():
    c = client()
    b = "/kz_multi"
    do("create base", c.create, b, b"")
    t = c.transaction()
    t.create(b + "/a", b"1")
    t.create(b + "/b", b"2")
    t.set_data(b + "/a", b"11")
    t.check(b + "/b", 0)
    t.create(b + "/s-", b"", sequence=True)
    t.delete(b + "/b")
    do("commit ok", t.commit)
    do("children", lambda: sorted(c.get_children(b)))
    do("stat a", c.exists, b + "/a")
    t = c.transaction()
    t.create(b + "/c", b"")
    t.check(b + "/a", 99)
    t.delete(b + "/a")
    do("commit bad version", t.commit)
    do("c not created", c.exists, b + "/c")
    t = c.transaction()
    t.create(b + "/a", b"")
    do("commit node exists", t.commit)
    t = c.transaction()
    t.delete(b + "/zz")
    t.create(b + "/d", b"")
    do("commit nonode first", t.commit)
    t = c.transaction()
    t.create(b + "/e", b"")
    t.create(b + "/e/f", b"")
    t.set_data(b + "/e/f", b"x", version=0)
    t.delete(b + "/e/f")
    t.delete(b + "/e", version=0)
    do("commit dependent ops", t.commit)
    t = c.transaction()
    do("commit empty", t.commit)
    t = c.transaction()
    t.create(b + "/p", b"")
    t.create(b + "/p/eph", b"", ephemeral=True)
    t.create(b + "/p/eph/x", b"")
    do("commit child of ephemeral", t.commit)
    t = c.transaction()
    t.create(b + "/bad/", b"")
    do("commit invalid path", t.commit)
    do("parent stat", c.exists, b)
    c.stop()
    c.close()


def s_acl():
    b = "/kz_acl"
    admin = client(auth_data=[("digest", "admin:secret")])
    anon = client()
    alice_acl = make_digest_acl("alice", "pw", all=True)
    admin_acl = make_digest_acl("admin", "secret", all=True)
    rec("digest acl id", alice_acl.id.id)
    do("create base", admin.create, b, b"")
    do("create digest node", admin.create, b + "/d", b"secret", acl=[alice_acl])
    do("anon get", anon.get, b + "/d")
    do("anon exists (no acl check)", anon.exists, b + "/d")
    do("anon getacl", anon.get_acls, b + "/d")
    do("anon set", anon.set, b + "/d", b"x")
    do("anon set bad version (NoAuth first)", anon.set, b + "/d", b"x", version=42)
    do("anon children", anon.get_children, b + "/d")
    do("anon create child", anon.create, b + "/d/c", b"")
    do("anon delete missing child (NoAuth beats NoNode)", anon.delete, b + "/d/zz")
    do("admin getacl (no admin perm on node)", admin.get_acls, b + "/d")
    do("add_auth alice", anon.add_auth, "digest", "alice:pw")
    do("alice get", anon.get, b + "/d")
    do("alice getacl", anon.get_acls, b + "/d")
    do("alice set acl read-only world", anon.set_acls, b + "/d",
       [alice_acl, make_acl("world", "anyone", read=True)])
    do("alice set acl bad version", anon.set_acls, b + "/d", [alice_acl], version=7)
    do("stat after setacl", anon.exists, b + "/d")
    do("admin get now", admin.get, b + "/d")
    do("admin set now", admin.set, b + "/d", b"y")
    # auth scheme
    do("create auth acl (admin authed)", admin.create, b + "/auth", b"",
       acl=[make_acl("auth", "", all=True)])
    do("getacl auth node", admin.get_acls, b + "/auth")
    fresh = client()
    do("create auth acl (no auth)", fresh.create, b + "/auth2", b"",
       acl=[make_acl("auth", "", all=True)])
    do("create world acl empty list", fresh.create, b + "/empty", b"", acl=[])
    do("create bad scheme", fresh.create, b + "/bs", b"", acl=[ACL(31, Id("nope", "x"))])
    do("create bad digest id", fresh.create, b + "/bd", b"", acl=[ACL(31, Id("digest", "nocolon"))])
    do("create bad ip", fresh.create, b + "/bi", b"", acl=[ACL(31, Id("ip", "300.1.1.1"))])
    do("create ip ok", fresh.create, b + "/ip", b"", acl=[make_acl("ip", "127.0.0.1", all=True)])
    do("ip get", fresh.get, b + "/ip")
    do("create ip other net", fresh.create, b + "/ip2", b"ipdata",
       acl=[make_acl("ip", "10.0.0.0/8", all=True), make_acl("world", "anyone", read=True)])
    do("ip2 set (NoAuth)", fresh.set, b + "/ip2", b"z")
    do("ip2 get", fresh.get, b + "/ip2")
    do("create ip cidr local", fresh.create, b + "/ip3", b"",
       acl=[make_acl("ip", "127.0.0.0/8", read=True, write=True)])
    do("ip3 set", fresh.set, b + "/ip3", b"w")
    do("ip3 delete child missing", fresh.delete, b + "/ip3/x")
    do("perms 0xff", fresh.create, b + "/ff", b"", acl=[ACL(0xff, Id("world", "anyone"))])
    do("getacl ff", fresh.get_acls, b + "/ff")
    do("perms 0", fresh.create, b + "/p0", b"", acl=[ACL(0, Id("world", "anyone"))])
    do("get p0", fresh.get, b + "/p0")
    do("delete p0", fresh.delete, b + "/p0")
    do("world read-only create", fresh.create, b + "/ro", b"r", acl=READ_ACL_UNSAFE)
    do("ro set", fresh.set, b + "/ro", b"w")
    do("ro create child", fresh.create, b + "/ro/c", b"")
    do("ro setacl", fresh.set_acls, b + "/ro", OPEN_ACL_UNSAFE)
    do("ro getacl", fresh.get_acls, b + "/ro")
    do("super digest acl form", lambda: make_digest_acl_credential("alice", "pw"))
    states = []
    fresh.add_listener(lambda s: states.append(str(s)))
    do("add_auth unknown scheme", fresh.add_auth, "nosuchscheme", "x")
    wait_for(lambda: len(states) > 0, 5)
    rec("states after bad auth", states[:1])
    for cl in (admin, anon):
        cl.stop()
        cl.close()
    try:
        fresh.stop()
        fresh.close()
    except Exception:
        pass


def s_superdigest():
    # requires DigestAuthenticationProvider.superDigest=super:<digest of "super:superpw">
    b = "/kz_super"
    owner = client(auth_data=[("digest", "o:pw")])
    do("create locked", owner.create, b, b"locked", acl=[make_digest_acl("o", "pw", all=True)])
    sup = client(auth_data=[("digest", "super:superpw")])
    do("super get", sup.get, b)
    do("super getacl", sup.get_acls, b)
    do("super set", sup.set, b, b"by super")
    do("super delete", sup.delete, b)
    for cl in (owner, sup):
        cl.stop()
        cl.close()


def s_watches():
    b = "/kz_watch"
    c = client()
    other = client()
    events = []
    lock = threading.Lock()

    def w(tag):
        def f(ev):
            with lock:
                events.append([tag, ev.type, ev.state, ev.path])
        return f
    do("create base", c.create, b, b"")
    do("create a", c.create, b + "/a", b"1")
    do("get watch a", c.get, b + "/a", watch=w("data a"))
    do("children watch base", lambda: sorted(c.get_children(b, watch=w("child base"))))
    do("exists watch missing", c.exists, b + "/new", watch=w("exists new"))
    do("exists watch a", c.exists, b + "/a", watch=w("exists a"))
    seen = [0]

    def drain(label, n):
        # kazoo keeps watcher callbacks in sets: callbacks for one notification run in
        # arbitrary order, so events are recorded sorted per trigger
        wait_for(lambda: len(events) - seen[0] >= n)
        time.sleep(0.2)
        with lock:
            rec(label, sorted(events[seen[0]:]))
            seen[0] = len(events)
    do("other set a", other.set, b + "/a", b"2")
    drain("events after set a", 2)
    do("other create new", other.create, b + "/new", b"")
    drain("events after create new", 2)
    do("other set a again (no watch left)", other.set, b + "/a", b"3")
    drain("events after set again", 0)
    do("get watch a again", c.get, b + "/a", watch=w("data a 2"))
    do("children watch again", lambda: sorted(c.get_children(b, watch=w("child base 2"))))
    do("exists watch new", c.exists, b + "/new", watch=w("exists new 2"))
    do("other delete new", other.delete, b + "/new")
    drain("events after delete new", 2)
    do("other delete a", other.delete, b + "/a")
    drain("events after delete a", 1)
    # own write: the event arrives before the reply of the write
    order = []
    c.get(b + "/new2", watch=None) if c.exists(b + "/new2") else None
    c.create(b + "/o", b"")
    c.get(b + "/o", watch=lambda ev: order.append(["event", ev.type]))
    c.set(b + "/o", b"x")
    order.append(["set returned"])
    wait_for(lambda: len(order) >= 2)
    rec("own write watch fired", sorted(map(json.dumps, order)))
    # watch on a node deleted via a parent child watch + data watch on the same node
    ev2 = []
    c.create(b + "/z", b"")
    c.get(b + "/z", watch=lambda ev: ev2.append(["data", ev.type, ev.path]))
    c.exists(b + "/z", watch=lambda ev: ev2.append(["exists", ev.type, ev.path]))
    c.get_children(b + "/z", watch=lambda ev: ev2.append(["child", ev.type, ev.path]))
    c.delete(b + "/z")
    wait_for(lambda: len(ev2) >= 2)
    time.sleep(0.3)
    rec("delete fires data+child watchers", sorted(map(json.dumps, ev2)))
    for cl in (c, other):
        cl.stop()
        cl.close()


def s_recipes_lock():
    b = "/kz_lock"
    n_threads, n_iter = 4, 5
    state = {"inside": 0, "max": 0, "total": 0, "errors": []}
    mtx = threading.Lock()

    def worker(i):
        c = client()
        try:
            lk = c.Lock(b, "w%d" % i)
            for _ in range(n_iter):
                with lk:
                    with mtx:
                        state["inside"] += 1
                        state["max"] = max(state["max"], state["inside"])
                    time.sleep(0.005)
                    with mtx:
                        state["total"] += 1
                        state["inside"] -= 1
        except Exception as e:
            state["errors"].append(type(e).__name__)
        finally:
            c.stop()
            c.close()
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    rec("lock", {"max_concurrent": state["max"], "total": state["total"], "errors": state["errors"]})
    c = client()
    lk = c.Lock(b, "me")
    rec("acquire", lk.acquire(timeout=5))
    rec("contenders", c.Lock(b).contenders())
    c2 = client()
    lk2 = c2.Lock(b, "other")
    rec("second acquire nonblocking", lk2.acquire(blocking=False))
    lk.release()
    rec("second acquire after release", lk2.acquire(timeout=5))
    lk2.release()
    # semaphore
    sem_state = {"inside": 0, "max": 0}
    m2 = threading.Lock()

    def sem_worker():
        cc = client()
        try:
            s = cc.Semaphore(b + "_sem", max_leases=2)
            with s:
                with m2:
                    sem_state["inside"] += 1
                    sem_state["max"] = max(sem_state["max"], sem_state["inside"])
                time.sleep(0.1)
                with m2:
                    sem_state["inside"] -= 1
        finally:
            cc.stop()
            cc.close()
    ts = [threading.Thread(target=sem_worker) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    rec("semaphore max concurrent", sem_state["max"])
    # read/write lock
    rl = c.ReadLock(b + "_rw", "r1")
    rl2 = c2.ReadLock(b + "_rw", "r2")
    rec("read lock 1", rl.acquire(timeout=5))
    rec("read lock 2 shared", rl2.acquire(timeout=5))
    c3 = client()
    wl = c3.WriteLock(b + "_rw", "w")
    rec("write lock blocked", wl.acquire(blocking=False))
    rl.release()
    rl2.release()
    rec("write lock after readers", wl.acquire(timeout=5))
    wl.release()
    for cl in (c, c2, c3):
        cl.stop()
        cl.close()


def s_recipes_election():
    b = "/kz_elect"
    leaders = []
    mtx = threading.Lock()
    cur = {"n": 0, "max": 0}
    clients = [client() for _ in range(3)]
    stop = threading.Event()

    def lead(name):
        def f():
            with mtx:
                cur["n"] += 1
                cur["max"] = max(cur["max"], cur["n"])
                leaders.append(name)
            time.sleep(0.2)
            with mtx:
                cur["n"] -= 1
        return f
    ts = []
    for i, c in enumerate(clients):
        e = c.Election(b, "id%d" % i)
        t = threading.Thread(target=e.run, args=(lead("id%d" % i),))
        t.start()
        ts.append(t)
    for t in ts:
        t.join(30)
    rec("elections", {"count": len(leaders), "distinct": len(set(leaders)), "max_concurrent": cur["max"]})
    c = clients[0]
    e = c.Election(b + "2", "solo")
    rec("contenders empty", e.contenders())
    for cl in clients:
        cl.stop()
        cl.close()


def s_recipes_barrier():
    b = "/kz_barrier"
    c = client()
    bar = c.Barrier(b)
    bar.create()
    released = []

    def waiter():
        cc = client()
        try:
            released.append(cc.Barrier(b).wait(10))
        finally:
            cc.stop()
            cc.close()
    ts = [threading.Thread(target=waiter) for _ in range(2)]
    for t in ts:
        t.start()
    time.sleep(0.5)
    rec("released before remove", len(released))
    bar.remove()
    for t in ts:
        t.join(15)
    rec("released after remove", sorted(released))
    # double barrier with 3 participants
    order = []
    mtx = threading.Lock()

    def participant(i):
        cc = client()
        try:
            db = cc.DoubleBarrier(b + "_double", 3, identifier="p%d" % i)
            db.enter()
            with mtx:
                order.append("enter")
            time.sleep(0.1)
            db.leave()
            with mtx:
                order.append("leave")
        except Exception as e:
            with mtx:
                order.append(type(e).__name__)
        finally:
            cc.stop()
            cc.close()
    ts = [threading.Thread(target=participant, args=(i,)) for i in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    rec("double barrier order", order)
    c.stop()
    c.close()


def s_recipes_counter_queue():
    b = "/kz_cq"
    errs = []

    def inc(n):
        cc = client()
        try:
            cnt = cc.Counter(b + "/counter")
            for _ in range(n):
                cnt += 1
        except Exception as e:
            errs.append(type(e).__name__)
        finally:
            cc.stop()
            cc.close()
    ts = [threading.Thread(target=inc, args=(10,)) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    c = client()
    cnt = c.Counter(b + "/counter")
    rec("counter total", cnt.value)
    rec("counter errors", errs)
    fc = c.Counter(b + "/fcounter", default=0.0)
    fc += 2.5
    fc -= 1.0
    rec("float counter", fc.value)
    # Queue: FIFO and priorities
    q = c.Queue(b + "/q")
    for i in range(5):
        q.put(("item%d" % i).encode())
    q.put(b"urgent", priority=1)
    rec("queue len", len(q))
    rec("queue gets", [q.get().decode() for _ in range(6)])
    rec("queue empty get", q.get())
    # concurrent consumers: every item exactly once
    for i in range(20):
        q.put(("x%02d" % i).encode())
    got = []
    mtx = threading.Lock()

    def consumer():
        cc = client()
        try:
            qq = cc.Queue(b + "/q")
            while True:
                v = qq.get()
                if v is None:
                    break
                with mtx:
                    got.append(v.decode())
        finally:
            cc.stop()
            cc.close()
    ts = [threading.Thread(target=consumer) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    rec("concurrent consumers", sorted(got))
    # LockingQueue
    lq = c.LockingQueue(b + "/lq")
    lq.put(b"one")
    lq.put(b"two")
    lq.put_all([b"three", b"four"], priority=50)
    rec("lq len", len(lq))
    first = lq.get(timeout=5)
    rec("lq get", first)
    rec("lq holds lock", lq.holds_lock())
    rec("lq consume", lq.consume())
    rest = []
    for _ in range(3):
        rest.append(lq.get(timeout=5))
        lq.consume()
    rec("lq rest", rest)
    c2 = client()
    lq2 = c2.LockingQueue(b + "/lq")
    lq.put(b"five")
    v = lq.get(timeout=5)
    rec("lq1 got", v)
    rec("lq2 get while locked by lq1", lq2.get(timeout=0.5))
    rec("lq release", lq.release())
    rec("lq2 get after release", lq2.get(timeout=5))
    rec("lq2 consume", lq2.consume())
    rec("lq len end", len(lq))
    for cl in (c, c2):
        cl.stop()
        cl.close()


def s_recipes_party_cache():
    b = "/kz_party"
    c = client()
    c2 = client()
    p1 = c.Party(b, "alice")
    p2 = c2.Party(b, "bob")
    p1.join()
    p2.join()
    rec("party members", sorted(p1))
    rec("party len", len(p1))
    sp = c.ShallowParty(b + "_shallow", "carol")
    sp.join()
    rec("shallow party", sorted(sp))
    p2.leave()
    rec("after leave", sorted(p1))
    c2.stop()
    c2.close()
    # TreeCache
    from kazoo.recipe.cache import TreeCache, TreeEvent
    tb = "/kz_tree"
    c.create(tb + "/a", b"A", makepath=True)
    evs = []
    mtx = threading.Lock()
    tc = TreeCache(c, tb)

    names = {TreeEvent.NODE_ADDED: "NODE_ADDED", TreeEvent.NODE_UPDATED: "NODE_UPDATED",
             TreeEvent.NODE_REMOVED: "NODE_REMOVED", TreeEvent.CONNECTION_SUSPENDED: "SUSPENDED",
             TreeEvent.CONNECTION_RECONNECTED: "RECONNECTED", TreeEvent.CONNECTION_LOST: "LOST",
             TreeEvent.INITIALIZED: "INITIALIZED"}

    def listener(ev):
        with mtx:
            evs.append([names.get(ev.event_type, ev.event_type),
                        ev.event_data.path if ev.event_data else None])
    tc.listen(listener)
    tc.start()
    wait_for(lambda: any(e[0] == "INITIALIZED" for e in evs))
    c.create(tb + "/a/b", b"B")
    wait_for(lambda: tc.get_data(tb + "/a/b") is not None)
    c.set(tb + "/a", b"A2")
    wait_for(lambda: tc.get_data(tb + "/a") is not None and tc.get_data(tb + "/a").data == b"A2")
    c.delete(tb + "/a/b")
    wait_for(lambda: tc.get_data(tb + "/a/b") is None)
    time.sleep(0.3)
    with mtx:
        init = sorted(map(json.dumps, [e for e in evs[:evs.index(next(x for x in evs if x[0] == "INITIALIZED"))]]))
        rest = evs[evs.index(next(x for x in evs if x[0] == "INITIALIZED")):]
    rec("tree initial", init)
    rec("tree events", rest)
    rec("tree data a", tc.get_data(tb + "/a").data)
    rec("tree stat a", val(tc.get_data(tb + "/a").stat))
    rec("tree children", sorted(tc.get_children(tb)))
    tc.close()
    c.stop()
    c.close()


def s_session():
    b = "/kz_session"
    c = client()
    do("create base", c.create, b, b"")
    sid, pw = c.client_id
    do("create ephemeral", c.create, b + "/e", b"", ephemeral=True)
    # wrong password -> expired, real session untouched
    bad = KazooClient(hosts=HOSTS, timeout=TIMEOUT, client_id=(sid, b"\x00" * 16),
                      connection_retry={"max_tries": 0})
    states = []
    bad.add_listener(lambda s: states.append(str(s)))
    try:
        bad.start(timeout=5)
        rec("bad password start", "started")
    except Exception as e:
        rec("bad password start", type(e).__name__)
    wait_for(lambda: len(states) > 0, 3)
    rec("bad password states", states[:1])
    try:
        bad.stop()
        bad.close()
    except Exception:
        pass
    wait_for(lambda: c.connected, 10)
    do("ephemeral survives", lambda: c.exists(b + "/e") is not None)
    try:
        c.stop()
        c.close()
    except Exception:
        pass
    c3 = client()
    do("ephemeral gone after close", c3.exists, b + "/e")
    c3.stop()
    c3.close()


SCENARIOS = {k[2:]: v for k, v in globals().items() if k.startswith("s_")}


def main():
    if SCENARIO == "list":
        print(json.dumps(sorted(SCENARIOS)))
        return
    fn = SCENARIOS[SCENARIO]
    try:
        fn()
    except Exception as e:
        rec("SCENARIO CRASHED", {"error": type(e).__name__, "trace": traceback.format_exc()})
    print(json.dumps({"scenario": SCENARIO, "steps": STEPS}, default=repr))


if __name__ == "__main__":
    main()
