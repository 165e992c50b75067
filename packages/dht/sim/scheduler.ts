/**
 * A discrete-event scheduler on virtual time: a binary heap of events ordered by (time, seq),
 * so the simulation is deterministic and 10,000 nodes run in seconds, not in wall-clock time.
 *
 * The DHT core is async (promises), so between two events every microtask the last one
 * triggered must run before time moves on, or a continuation would see the clock already past
 * the time it should have acted at. `run` therefore yields to the event loop (a MessageChannel
 * message, delivered only once the microtask queue is empty) after each event that settles a promise;
 * events marked `sync` (they only call synchronous code) skip that yield.
 */
export class VirtualScheduler {
  private heap: SimEvent[] = [];
  private readonly sleepers = new WeakMap<AbortSignal, Set<Sleeper>>();
  private seq = 0;
  private time = 0;
  /** Events run so far (for progress output). */
  executed = 0;

  /** The virtual time in ms. */
  now(): number {
    return this.time;
  }

  /** Runs `fn` at `now() + delayMs`. `sync` events must not settle promises (see the class doc). */
  schedule(delayMs: number, fn: () => void, sync = false): SimEvent {
    const ev: SimEvent = {
      time: this.time + Math.max(0, delayMs),
      seq: this.seq++,
      fn,
      sync,
      cancelled: false,
    };
    this.push(ev);
    return ev;
  }

  /** Cancels an event that has not run yet (it stays in the heap and is skipped). */
  cancel(ev: SimEvent | undefined): void {
    if (ev) ev.cancelled = true;
  }

  /**
   * Resolves after `ms` of virtual time; rejects when `signal` aborts first. One abort listener
   * per signal, however many sleeps share it (a lookup arms many timers on one signal).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (!signal) {
        this.schedule(ms, resolve);
        return;
      }
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      let sleepers = this.sleepers.get(signal);
      if (!sleepers) {
        const set = new Set<Sleeper>();
        sleepers = set;
        this.sleepers.set(signal, set);
        signal.addEventListener(
          "abort",
          () => {
            for (const s of set) {
              this.cancel(s.ev);
              s.reject(signal.reason);
            }
            set.clear();
          },
          { once: true },
        );
      }
      const set = sleepers;
      const sleeper: Sleeper = {
        reject,
        ev: this.schedule(ms, () => {
          set.delete(sleeper);
          resolve();
        }),
      };
      set.add(sleeper);
    });
  }

  /**
   * Runs events until `done` settles and returns its value. Throws if the queue empties while
   * `done` is still pending (a deadlock in the simulated program).
   */
  async run<T>(done: Promise<T>): Promise<T> {
    let settled = false;
    const watched = done.finally(() => {
      settled = true;
    });
    watched.catch(() => {});
    channel.port1.ref(); // keep the process alive while the simulation runs
    try {
      return await this.loop(done, () => settled);
    } finally {
      channel.port1.unref();
    }
  }

  private async loop<T>(done: Promise<T>, isSettled: () => boolean): Promise<T> {
    for (;;) {
      await yieldToEventLoop();
      if (isSettled()) return done;
      let ev = this.pop();
      // Synchronous events need no yield between them.
      while (ev && (ev.cancelled || ev.sync)) {
        if (!ev.cancelled) {
          this.time = ev.time;
          this.executed++;
          ev.fn();
        }
        ev = this.pop();
      }
      if (!ev) {
        await yieldToEventLoop();
        if (isSettled()) return done;
        throw new Error("virtual scheduler: no events left but the simulation is still waiting");
      }
      this.time = ev.time;
      this.executed++;
      ev.fn();
    }
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(ev, h[p] as SimEvent)) break;
      h[i] = h[p] as SimEvent;
      i = p;
    }
    h[i] = ev;
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (!top || !last || h.length === 0) return top;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r] as SimEvent, h[l] as SimEvent) ? r : l;
      if (!before(h[c] as SimEvent, last)) break;
      h[i] = h[c] as SimEvent;
      i = c;
    }
    h[i] = last;
    return top;
  }
}

interface Sleeper {
  ev: SimEvent;
  reject: (reason: unknown) => void;
}

/** One scheduled event. */
export interface SimEvent {
  time: number;
  seq: number;
  fn: () => void;
  sync: boolean;
  cancelled: boolean;
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/**
 * A macrotask boundary: the microtask queue is empty when it resolves. A MessageChannel round
 * trip costs about half a `setImmediate` here, and this runs once per event.
 */
const channel = new MessageChannel();
let pendingResolve: (() => void) | undefined;
channel.port1.on("message", () => {
  const r = pendingResolve;
  pendingResolve = undefined;
  r?.();
});
channel.port1.unref();
channel.port2.unref();

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    pendingResolve = resolve;
    channel.port2.postMessage(null);
  });
}
