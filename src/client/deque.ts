// A growable ring buffer used for the client's FIFOs (requests on the wire, requests waiting).

export class Deque<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private len = 0;

  constructor(capacity = 64) {
    let c = 16;
    while (c < capacity) c *= 2;
    this.buf = new Array(c);
  }

  get length(): number {
    return this.len;
  }

  push(v: T): void {
    if (this.len === this.buf.length) this.grow();
    this.buf[(this.head + this.len) & (this.buf.length - 1)] = v;
    this.len++;
  }

  shift(): T | undefined {
    if (this.len === 0) return undefined;
    const v = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & (this.buf.length - 1);
    this.len--;
    return v;
  }

  peek(): T | undefined {
    return this.len === 0 ? undefined : this.buf[this.head];
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    for (let v = this.shift(); v !== undefined; v = this.shift()) out.push(v);
    return out;
  }

  private grow(): void {
    const nb: (T | undefined)[] = new Array(this.buf.length * 2);
    for (let i = 0; i < this.len; i++) nb[i] = this.buf[(this.head + i) & (this.buf.length - 1)];
    this.buf = nb;
    this.head = 0;
  }
}

/** A single-consumer async queue: the base of state and persistent-watch iterators. */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items = new Deque<T>();
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private ended = false;
  private error: unknown;
  private onReturn: (() => void) | undefined;

  constructor(onReturn?: () => void) {
    this.onReturn = onReturn;
  }

  get closed(): boolean {
    return this.ended;
  }

  push(v: T): void {
    if (this.ended) return;
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: v, done: false });
    } else this.items.push(v);
  }

  /** Ends the iterator after the queued items; with an error, next() then rejects with it. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    if (this.waiter !== undefined && this.items.length === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      if (error !== undefined) w.reject(error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.ended) {
      if (this.error !== undefined) {
        const e = this.error;
        this.error = undefined; // report once, then plain done
        return Promise.reject(e);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.waiter !== undefined) return Promise.reject(new Error('concurrent next() on a single-consumer iterator'));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    const cb = this.onReturn;
    this.onReturn = undefined;
    this.error = undefined;
    this.end();
    this.items.drain();
    cb?.();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
