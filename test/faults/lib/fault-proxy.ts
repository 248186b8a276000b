// A controllable TCP proxy for injecting network faults between processes on 127.0.0.1, and a
// mesh of them for partitioning a cluster.
//
// Why a proxy and not iptables or network namespaces: it needs no privileges, runs in the test
// process (so faults switch synchronously with the test's own steps), and works on any CI box.
//
// Semantics, chosen to look like a real network to the endpoints:
//  - A block never closes anything. Bytes of existing connections are either dropped ('drop', the
//    default: a partition that outlasts TCP's patience) or held back and delivered on unblock
//    ('stall': a short partition that TCP retransmission rides out). Endpoints notice only
//    through their own timeouts, exactly as in a real partition.
//  - TCP cannot lose bytes in the middle of a stream and carry on, so a connection that lost
//    anything (data, a FIN, an RST) while blocked is reset when the block lifts — as a real
//    connection whose retransmissions timed out would be. Forwarding after a hole would hand the
//    endpoints a corrupted stream, a fault no real network produces.
//  - While both directions are blocked, new connections 'hang' (accepted, never connected
//    onwards until unblock: a SYN that gets no answer) or are 'refuse'd (reset at once; a
//    user-space proxy cannot send a real ECONNREFUSED once the kernel has accepted).
//  - Directions are named from the connecting side: 'out' is client → target, 'in' is target →
//    client. With only one direction blocked, new connections are made and that direction is
//    blackholed, so an asymmetric partition is visible to a protocol's handshake as it would be.
//  - delay() holds each chunk for ms ± jitter but never reorders a stream (TCP does not).
//
// Usage, for an ensemble whose members dial each other on a peer port:
//   const mesh = await ProxyMesh.start({ nodes: [{ id: 1, port: p1 }, { id: 2, port: p2 }, { id: 3, port: p3 }] });
//   // configure member i to reach member j at mesh.port(i, j) (or mesh.peersOf(i)), start them, then:
//   mesh.isolate(leaderId); …; mesh.bridge(2); …; mesh.partition([[1, 2], [3]]); …; mesh.heal();
// and for one client ↔ member path: const p = await FaultProxy.start({ target: { host, port } }); p.block();

import net from 'node:net';
import { rng } from '../../support/prng.js';

export type Direction = 'in' | 'out';
export type BlackholeMode = 'drop' | 'stall';
export type BlockedConnect = 'hang' | 'refuse';

export interface FaultProxyOptions {
  /** Port to listen on; 0 (default) = any free port (see `port`). */
  listenPort?: number;
  listenHost?: string;
  target: { host: string; port: number };
  /** Default for block(): what happens to bytes of existing connections. Default 'drop'. */
  blackhole?: BlackholeMode;
  /** Default for block(): what happens to new connections. Default 'hang'. */
  blockedConnect?: BlockedConnect;
  /** Seed for delay jitter, so a failing run can be replayed. */
  seed?: number;
  /** For messages. */
  name?: string;
}

export interface BlockOptions {
  blackhole?: BlackholeMode;
  newConnections?: BlockedConnect;
}

export interface ProxyStats {
  accepted: number;
  active: number;
  /** Connections that got no further than the proxy because of a block ('refuse'). */
  refused: number;
  /** Connections reset: by reset(), after losing bytes in a block, or because the target was down. */
  reset: number;
  upstreamFailures: number;
  forwardedBytes: Record<Direction, number>;
  droppedBytes: Record<Direction, number>;
}

// Above this much queued (delayed or stalled) data per direction we stop reading the source, so
// the kernel's flow control pushes back on the sender as a slow network would.
const HIGH_WATER = 1 << 20;

type Item = { due: number; chunk: Buffer | null }; // null = the source's FIN

/** One direction of one connection. */
class Pipe {
  dst: net.Socket | null = null;
  private queue: Item[] = [];
  private head = 0;
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private drainWait = false;
  ended = false; // FIN delivered
  /** Bytes of this direction were dropped: nothing more may pass (the stream has a hole). */
  lost = false;

  constructor(
    private readonly link: Link,
    readonly dir: Direction,
    readonly src: net.Socket,
  ) {
    src.on('data', (d: Buffer) => this.push(d));
    src.on('end', () => this.push(null));
  }

  private get proxy(): FaultProxy {
    return this.link.proxy;
  }

  push(chunk: Buffer | null): void {
    const p = this.proxy;
    if (this.lost || (p.isBlocked(this.dir) && p.currentBlackhole === 'drop')) {
      if (chunk !== null) p.noteDropped(this.dir, chunk.length);
      this.lost = true;
      return;
    }
    const { ms, jitter } = p.delayFor(this.dir);
    // Delivery is head-of-line (flush never passes the head), so jitter cannot reorder.
    this.queue.push({ due: Date.now() + ms + (jitter > 0 ? p.random() * jitter : 0), chunk });
    if (chunk !== null) this.queuedBytes += chunk.length;
    this.flush();
  }

  /** Drops whatever is queued (a partition swallows packets in flight). */
  discard(): void {
    for (let k = this.head; k < this.queue.length; k++) {
      const c = this.queue[k]!.chunk;
      if (c !== null) this.proxy.noteDropped(this.dir, c.length);
      this.lost = true;
    }
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.clearTimer();
  }

  flush(): void {
    this.clearTimer();
    if (this.link.closed) return;
    const dst = this.dst;
    if (dst === null || this.proxy.isBlocked(this.dir)) return this.updateFlow();
    const now = Date.now();
    while (this.head < this.queue.length) {
      const it = this.queue[this.head]!;
      if (it.due > now) {
        this.timer = setTimeout(() => this.flush(), it.due - now);
        break;
      }
      this.head++;
      if (it.chunk === null) {
        this.ended = true;
        if (!dst.destroyed) dst.end();
        continue;
      }
      this.queuedBytes -= it.chunk.length;
      if (dst.destroyed || dst.writableEnded) {
        // The receiving socket is gone: the sender's bytes would meet an RST in real life.
        this.link.reset();
        return;
      }
      this.proxy.noteForwarded(this.dir, it.chunk.length);
      if (!dst.write(it.chunk) && !this.drainWait) {
        this.drainWait = true;
        dst.once('drain', () => {
          this.drainWait = false;
          this.updateFlow();
        });
      }
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.updateFlow();
  }

  /** Read from the source unless something downstream cannot take more. */
  updateFlow(): void {
    if (this.link.closed || this.src.destroyed) return;
    const p = this.proxy;
    const dropping = this.lost || (p.isBlocked(this.dir) && p.currentBlackhole === 'drop');
    const hold = !dropping && (this.dst === null || p.isBlocked(this.dir) || this.drainWait || this.queuedBytes > HIGH_WATER);
    if (hold) this.src.pause();
    else this.src.resume();
  }

  clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** One accepted connection and, once made, its upstream connection. */
class Link {
  upstream: net.Socket | null = null;
  readonly out: Pipe;
  in: Pipe | null = null;
  closed = false;
  hung = false;
  private closedSides = 0;

  constructor(
    readonly proxy: FaultProxy,
    readonly client: net.Socket,
  ) {
    client.on('error', () => undefined);
    this.out = new Pipe(this, 'out', client);
    client.on('close', (hadError) => this.sideClosed('out', hadError));
  }

  connect(): void {
    this.hung = false;
    const { host, port } = this.proxy.target;
    const up = net.connect({ host, port, allowHalfOpen: true });
    up.pause();
    this.upstream = up;
    up.on('error', () => undefined);
    let connected = false;
    up.once('connect', () => {
      connected = true;
      if (this.closed) return void up.destroy();
      this.in = new Pipe(this, 'in', up);
      this.out.dst = up;
      this.in.dst = this.client;
      this.out.flush();
      this.in.flush();
    });
    up.on('close', (hadError) => {
      if (!connected) {
        // Target down: what the client would see connecting straight to a closed port is a
        // refusal; after the kernel accepted on our side, a reset is the closest we can give.
        this.proxy.noteUpstreamFailure();
        this.reset();
        return;
      }
      this.sideClosed('in', hadError);
    });
  }

  /** A socket closed; `dir` is the direction whose source it is. */
  private sideClosed(dir: Direction, hadError: boolean): void {
    if (this.closed) return;
    this.closedSides++;
    if (this.proxy.isBlocked(dir)) {
      // Neither the FIN nor the RST crosses a partition: the peer learns when it heals.
      (dir === 'out' ? this.out : this.in!).lost = true;
      return;
    }
    const other = dir === 'out' ? this.upstream : this.client;
    // A close without a FIN read first was abortive (RST, EPIPE…) and propagates as one; after a
    // FIN, the FIN is queued or delivered and the link ends when the other side closes too.
    if (hadError || other === null || !this.sourceEnded(dir)) return this.reset();
    if (this.closedSides >= 2) this.finish();
  }

  private sourceEnded(dir: Direction): boolean {
    const s = dir === 'out' ? this.client : this.upstream;
    return s !== null && s.readableEnded;
  }

  get lost(): boolean {
    return this.out.lost || (this.in?.lost ?? false);
  }

  /** Called after a block lifts (fully or in part). */
  unblocked(): void {
    if (this.closed) return;
    if (this.lost && !this.proxy.isBlocked('in') && !this.proxy.isBlocked('out')) return this.reset();
    if (this.hung && !this.proxy.isFullyBlocked()) {
      // Bytes sent into a hung connection were dropped: the target would see a stream missing
      // its start, so the connection attempt fails instead.
      if (this.lost) return this.reset();
      this.connect();
    }
    // A lossy link stays up while a direction is still cut (half-broken, as a real connection
    // would be until a timeout): its intact direction keeps flowing, its lossy one stays dark.
    this.out.flush();
    this.in?.flush();
  }

  /** Blocking just started: in 'drop' mode, what was in flight is lost. */
  blocked(): void {
    if (this.closed || this.proxy.currentBlackhole !== 'drop') {
      this.out.updateFlow();
      this.in?.updateFlow();
      return;
    }
    if (this.proxy.isBlocked('out')) this.out.discard();
    if (this.proxy.isBlocked('in')) this.in?.discard();
    this.out.updateFlow();
    this.in?.updateFlow();
  }

  reset(): void {
    if (this.closed) return;
    this.proxy.noteReset();
    for (const s of [this.client, this.upstream]) {
      if (s === null || s.destroyed) continue;
      try {
        s.resetAndDestroy();
      } catch {
        s.destroy();
      }
    }
    this.finish();
  }

  finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.clearTimer();
    this.in?.clearTimer();
    if (!this.client.destroyed) this.client.destroy();
    if (this.upstream !== null && !this.upstream.destroyed) this.upstream.destroy();
    this.proxy.forget(this);
  }
}

export class FaultProxy {
  readonly target: { host: string; port: number };
  readonly name: string;
  private readonly server: net.Server;
  private readonly links = new Set<Link>();
  private readonly blockedDirs: Record<Direction, boolean> = { in: false, out: false };
  private blackhole: BlackholeMode;
  private blockedConnect: BlockedConnect;
  private readonly delays: Record<Direction, { ms: number; jitter: number }> = { in: { ms: 0, jitter: 0 }, out: { ms: 0, jitter: 0 } };
  private readonly rand: () => number;
  private readonly counters = { accepted: 0, refused: 0, reset: 0, upstreamFailures: 0 };
  private readonly forwarded: Record<Direction, number> = { in: 0, out: 0 };
  private readonly dropped: Record<Direction, number> = { in: 0, out: 0 };
  private listening: number | undefined;
  private closing = false;

  constructor(private readonly opts: FaultProxyOptions) {
    this.target = { ...opts.target };
    this.name = opts.name ?? `proxy→${opts.target.host}:${opts.target.port}`;
    this.blackhole = opts.blackhole ?? 'drop';
    this.blockedConnect = opts.blockedConnect ?? 'hang';
    this.rand = rng(opts.seed ?? 0x5eed);
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => this.accept(s));
    this.server.on('error', () => undefined);
  }

  /** Creates a proxy and waits until it listens. */
  static async start(opts: FaultProxyOptions): Promise<FaultProxy> {
    return new FaultProxy(opts).listen();
  }

  /** Starts listening; resolves with the proxy once the port is bound. */
  listen(): Promise<this> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once('error', onError);
      this.server.listen(this.opts.listenPort ?? 0, this.opts.listenHost ?? '127.0.0.1', () => {
        this.server.off('error', onError);
        this.listening = (this.server.address() as net.AddressInfo).port;
        resolve(this);
      });
    });
  }

  /** The port clients should connect to. */
  get port(): number {
    if (this.listening === undefined) throw new Error(`${this.name}: not listening yet (await listen())`);
    return this.listening;
  }

  get host(): string {
    return this.opts.listenHost ?? '127.0.0.1';
  }

  // -- controls ----------------------------------------------------------------------------------

  /** Partitions both directions: see the file comment for what happens to each kind of traffic. */
  block(opts: BlockOptions = {}): void {
    this.setBlocked({ in: true, out: true }, opts);
  }

  unblock(): void {
    this.setBlocked({ in: false, out: false });
  }

  /** Blackholes one direction only ('out': client → target, 'in': target → client). */
  blockDirection(dir: Direction, opts: BlockOptions = {}): void {
    this.setBlocked({ ...this.blockedDirs, [dir]: true }, opts);
  }

  unblockDirection(dir: Direction): void {
    this.setBlocked({ ...this.blockedDirs, [dir]: false });
  }

  /** Sets both directions at once (what ProxyMesh uses); options apply from now on. */
  setBlocked(dirs: Record<Direction, boolean>, opts: BlockOptions = {}): void {
    if (opts.blackhole !== undefined) this.blackhole = opts.blackhole;
    if (opts.newConnections !== undefined) this.blockedConnect = opts.newConnections;
    const was = { ...this.blockedDirs };
    this.blockedDirs.in = dirs.in;
    this.blockedDirs.out = dirs.out;
    const newlyBlocked = (dirs.in && !was.in) || (dirs.out && !was.out);
    const newlyOpen = (!dirs.in && was.in) || (!dirs.out && was.out);
    for (const l of [...this.links]) {
      if (newlyBlocked) l.blocked();
      if (newlyOpen) l.unblocked();
    }
  }

  get blocked(): Readonly<Record<Direction, boolean>> {
    return { ...this.blockedDirs };
  }

  /** Adds latency to each chunk (both directions unless one is named); delay(0) removes it. */
  delay(ms: number, jitterMs = 0, dir?: Direction): void {
    if (!(ms >= 0) || !(jitterMs >= 0)) throw new RangeError('delay and jitter must be ≥ 0');
    for (const d of dir === undefined ? (['in', 'out'] as const) : [dir]) this.delays[d] = { ms, jitter: jitterMs };
  }

  /** Resets (RST) every current connection, both sides; returns how many. New ones are unaffected. */
  reset(): number {
    const n = this.links.size;
    for (const l of [...this.links]) l.reset();
    return n;
  }

  /** Stops listening and resets every connection. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.reset();
    if (this.listening === undefined) return;
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  stats(): ProxyStats {
    return {
      ...this.counters,
      active: this.links.size,
      forwardedBytes: { ...this.forwarded },
      droppedBytes: { ...this.dropped },
    };
  }

  // -- internals shared with Link/Pipe ----------------------------------------------------------

  /** @internal */ isBlocked(dir: Direction): boolean {
    return this.blockedDirs[dir];
  }
  /** @internal */ isFullyBlocked(): boolean {
    return this.blockedDirs.in && this.blockedDirs.out;
  }
  /** @internal */ get currentBlackhole(): BlackholeMode {
    return this.blackhole;
  }
  /** @internal */ delayFor(dir: Direction): { ms: number; jitter: number } {
    return this.delays[dir];
  }
  /** @internal */ random(): number {
    return this.rand();
  }
  /** @internal */ noteDropped(dir: Direction, n: number): void {
    this.dropped[dir] += n;
  }
  /** @internal */ noteForwarded(dir: Direction, n: number): void {
    this.forwarded[dir] += n;
  }
  /** @internal */ noteReset(): void {
    this.counters.reset++;
  }
  /** @internal */ noteUpstreamFailure(): void {
    this.counters.upstreamFailures++;
  }
  /** @internal */ forget(l: Link): void {
    this.links.delete(l);
  }

  private accept(s: net.Socket): void {
    if (this.closing) return void s.destroy();
    this.counters.accepted++;
    if (this.isFullyBlocked() && this.blockedConnect === 'refuse') {
      this.counters.refused++;
      s.on('error', () => undefined);
      s.resetAndDestroy();
      return;
    }
    const l = new Link(this, s);
    this.links.add(l);
    if (this.isFullyBlocked()) {
      l.hung = true;
      l.out.updateFlow();
    } else {
      l.connect();
    }
  }
}

// -------------------------------------------------------------------------------------------------
// A mesh of proxies for a cluster

export interface MeshNode {
  id: number;
  /** The node's peer port (what other nodes would dial without the mesh). */
  port: number;
  host?: string;
}

export interface ProxyMeshOptions {
  nodes: MeshNode[];
  blackhole?: BlackholeMode;
  blockedConnect?: BlockedConnect;
  seed?: number;
}

/**
 * One proxy per ordered pair (i, j): node i reaches node j's peer port through proxy(i, j), so
 * configure node i with `mesh.peersOf(i)`. The mesh keeps a who-can-send-to-whom matrix;
 * proxy(i, j)'s 'out' direction carries i's bytes to j and its 'in' direction j's bytes back to i,
 * so each is blocked exactly when the matrix says the sender cannot reach the receiver. That holds
 * whichever connections a protocol opens: one per pair, one per direction, or several.
 */
export class ProxyMesh {
  readonly ids: readonly number[];
  private readonly proxies = new Map<string, FaultProxy>();
  private readonly reach = new Map<string, boolean>();

  private constructor(ids: number[]) {
    this.ids = ids;
  }

  static async start(opts: ProxyMeshOptions): Promise<ProxyMesh> {
    const ids = opts.nodes.map((n) => n.id);
    if (new Set(ids).size !== ids.length) throw new Error(`duplicate node ids: ${ids.join(', ')}`);
    const mesh = new ProxyMesh(ids);
    try {
      let k = 0;
      for (const from of opts.nodes) {
        for (const to of opts.nodes) {
          if (from.id === to.id) continue;
          const p = await FaultProxy.start({
            target: { host: to.host ?? '127.0.0.1', port: to.port },
            name: `mesh ${from.id}→${to.id}`,
            ...(opts.blackhole === undefined ? {} : { blackhole: opts.blackhole }),
            ...(opts.blockedConnect === undefined ? {} : { blockedConnect: opts.blockedConnect }),
            seed: (opts.seed ?? 1) * 7919 + k++,
          });
          mesh.proxies.set(`${from.id}>${to.id}`, p);
          mesh.reach.set(`${from.id}>${to.id}`, true);
        }
      }
    } catch (e) {
      await mesh.close();
      throw e;
    }
    return mesh;
  }

  /** The proxy node `from` uses to reach node `to`. */
  proxy(from: number, to: number): FaultProxy {
    const p = this.proxies.get(`${from}>${to}`);
    if (p === undefined) throw new Error(`no proxy ${from}→${to} (nodes: ${this.ids.join(', ')})`);
    return p;
  }

  /** The port node `from` should dial to reach node `to`. */
  port(from: number, to: number): number {
    return this.proxy(from, to).port;
  }

  /** Where node `from` should find each of its peers. */
  peersOf(from: number): Map<number, { host: string; port: number }> {
    const m = new Map<number, { host: string; port: number }>();
    for (const to of this.ids) if (to !== from) m.set(to, { host: this.proxy(from, to).host, port: this.port(from, to) });
    return m;
  }

  /** Whether bytes sent by `from` currently reach `to`. */
  canSend(from: number, to: number): boolean {
    if (from === to) return true;
    this.check(from);
    this.check(to);
    return this.reach.get(`${from}>${to}`)!;
  }

  /**
   * Splits the cluster: nodes talk only within their group. Nodes not named form one group each.
   * Replaces whatever faults were set before.
   */
  partition(groups: number[][]): void {
    const groupOf = new Map<number, number>();
    groups.forEach((g, k) => {
      for (const id of g) {
        this.check(id);
        if (groupOf.has(id)) throw new Error(`node ${id} is in two groups`);
        groupOf.set(id, k);
      }
    });
    let next = groups.length;
    for (const id of this.ids) if (!groupOf.has(id)) groupOf.set(id, next++);
    this.setReachability((a, b) => groupOf.get(a) === groupOf.get(b));
  }

  /** Cuts the given nodes off from everyone (and each other); the rest talk freely. */
  isolate(...ids: number[]): void {
    const set = new Set(ids);
    this.partition([this.ids.filter((id) => !set.has(id)), ...ids.map((id) => [id])]);
  }

  /**
   * Two sides that cannot see each other, and `node` that sees both (Jepsen's "bridge"): a
   * majority can form on either side through it. Without sides given, the other nodes are split
   * in two halves in id order.
   */
  bridge(node: number, sideA?: number[], sideB?: number[]): void {
    this.check(node);
    const others = this.ids.filter((id) => id !== node);
    const a = new Set(sideA ?? others.slice(0, Math.ceil(others.length / 2)));
    const b = new Set(sideB ?? others.filter((id) => !a.has(id)));
    for (const id of [...a, ...b]) {
      this.check(id);
      if (id === node) throw new Error(`bridge node ${node} cannot also be on a side`);
      if (a.has(id) && b.has(id)) throw new Error(`node ${id} is on both sides of the bridge`);
    }
    this.setReachability((x, y) => x === node || y === node || (a.has(x) && a.has(y)) || (b.has(x) && b.has(y)));
  }

  /** One-way cut: `from`'s bytes no longer reach `to` (incremental: other faults stay). */
  cut(from: number, to: number): void {
    this.setOne(from, to, false);
  }

  /** Undoes cut(from, to). */
  restore(from: number, to: number): void {
    this.setOne(from, to, true);
  }

  /** Everyone reaches everyone again. Delays stay (see delay()). */
  heal(): void {
    this.setReachability(() => true);
  }

  /** Sets the whole matrix from a predicate (from, to) → can send. */
  setReachability(canSend: (from: number, to: number) => boolean): void {
    for (const a of this.ids) for (const b of this.ids) if (a !== b) this.reach.set(`${a}>${b}`, canSend(a, b));
    this.apply();
  }

  /** Latency on every link (ms ± jitter per chunk, per hop). */
  delay(ms: number, jitterMs = 0): void {
    for (const p of this.proxies.values()) p.delay(ms, jitterMs);
  }

  /** Resets every connection in the mesh; returns how many. */
  reset(): number {
    let n = 0;
    for (const p of this.proxies.values()) n += p.reset();
    return n;
  }

  async close(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
  }

  /** The matrix as text, rows = senders, for test logs: `1→ 2:✓ 3:✗`. */
  describe(): string {
    return this.ids.map((a) => `${a}→ ${this.ids.filter((b) => b !== a).map((b) => `${b}:${this.canSend(a, b) ? '✓' : '✗'}`).join(' ')}`).join('\n');
  }

  private setOne(from: number, to: number, v: boolean): void {
    this.check(from);
    this.check(to);
    if (from === to) throw new Error('a node always reaches itself');
    this.reach.set(`${from}>${to}`, v);
    this.apply();
  }

  private apply(): void {
    for (const a of this.ids) {
      for (const b of this.ids) {
        if (a === b) continue;
        this.proxy(a, b).setBlocked({ out: !this.reach.get(`${a}>${b}`)!, in: !this.reach.get(`${b}>${a}`)! });
      }
    }
  }

  private check(id: number): void {
    if (!this.ids.includes(id)) throw new Error(`unknown node ${id} (nodes: ${this.ids.join(', ')})`);
  }
}
