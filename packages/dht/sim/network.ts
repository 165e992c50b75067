import {
  type Contact,
  type DhtClock,
  DhtNode,
  type DhtNodeOptions,
  type DhtTransport,
  type FindProvidersAnswer,
  randomId,
} from "../src/index.js";
import { VirtualScheduler } from "./scheduler.js";

/** The latency and loss model of the simulated network. */
export interface LinkModel {
  /** Lowest round-trip time of a pair, ms. Default 10. */
  rttMinMs: number;
  /** Highest round-trip time of a pair, ms. Default 150. */
  rttMaxMs: number;
  /** Each message's one-way delay is rtt/2 × a uniform factor in [1 − jitter, 1 + jitter]. Default 0.1. */
  jitter: number;
  /** Probability that any one message (request or response) is lost. Default 0.01. */
  loss: number;
}

/** Node options the network fills in itself. */
export type SimNodeOptions = Omit<DhtNodeOptions, "self" | "transport" | "clock" | "random">;

/**
 * An in-memory network of `DhtNode`s over virtual time. Latency model: every pair of nodes has
 * a fixed base RTT drawn uniformly from [rttMinMs, rttMaxMs] (a hash of the pair and the seed,
 * so nothing is stored per pair); each message takes rtt/2 ± jitter; each message is lost with
 * probability `loss` (a lost request or response shows as a timeout to the caller). A dead
 * node never answers: its callers wait for their per-contact timeout. The callee's handler
 * runs when the request arrives (half an RTT after sending), the answer arrives half an RTT
 * later. `Contact.address` is the node's index. A call whose signal has aborted is dropped
 * (never settled): the core always races its calls against its own timers.
 */
export class SimNetwork {
  /** The virtual clock and event queue. */
  readonly scheduler = new VirtualScheduler();
  /** The clock handed to every node. */
  readonly clock: DhtClock;
  /** Every node ever created, by index (dead ones included). */
  readonly nodes: DhtNode[] = [];
  /** Whether node `i` is up. */
  readonly alive: boolean[] = [];
  private readonly link: LinkModel;

  constructor(
    /** The network's PRNG: ids, loss, jitter. */
    readonly random: () => number,
    private readonly seed: number,
    link: Partial<LinkModel> = {},
    private readonly nodeOptions: SimNodeOptions = {},
  ) {
    this.link = { rttMinMs: 10, rttMaxMs: 150, jitter: 0.1, loss: 0.01, ...link };
    this.clock = {
      now: () => this.scheduler.now(),
      sleep: (ms, signal) => this.scheduler.sleep(ms, signal),
    };
  }

  /** Creates a node with a random id (not yet bootstrapped) and returns its index. */
  addNode(overrides: SimNodeOptions = {}): number {
    const index = this.nodes.length;
    const self: Contact = { id: randomId(this.random), address: String(index) };
    const node = new DhtNode({
      ...this.nodeOptions,
      ...overrides,
      self,
      transport: this.transportFor(index),
      clock: this.clock,
      random: this.random,
    });
    this.nodes.push(node);
    this.alive.push(true);
    return index;
  }

  /** The node at `index`. */
  node(index: number): DhtNode {
    const node = this.nodes[index];
    if (!node) throw new RangeError(`no node ${index}`);
    return node;
  }

  /** Takes node `index` down without notice. */
  kill(index: number): void {
    this.alive[index] = false;
  }

  /** Indexes of the live nodes. */
  liveIndexes(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.alive.length; i++) if (this.alive[i]) out.push(i);
    return out;
  }

  /** The base RTT of a pair, ms (symmetric, fixed for the run). */
  rtt(a: number, b: number): number {
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(hi + 0x7f4a7c15, 0xc2b2ae35) ^ this.seed;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
    h ^= h >>> 16;
    const u = (h >>> 0) / 4294967296;
    return this.link.rttMinMs + (this.link.rttMaxMs - this.link.rttMinMs) * u;
  }

  /** Runs the simulated program `main` on virtual time. */
  run<T>(main: Promise<T>): Promise<T> {
    return this.scheduler.run(main);
  }

  private transportFor(from: number): DhtTransport {
    const rpc = <T>(to: Contact, signal: AbortSignal, handle: (node: DhtNode, caller: Contact) => T) =>
      this.rpc(from, to, signal, handle);
    return {
      findNode: (to, target, signal) => rpc(to, signal, (n, caller) => n.onFindNode(caller, target)),
      findProviders: (to, key, signal) =>
        rpc<FindProvidersAnswer>(to, signal, (n, caller) => n.onFindProviders(caller, key)),
      addProvider: (to, record, signal) => rpc(to, signal, (n, caller) => n.onAddProvider(caller, record)),
      ping: (to, signal) => rpc(to, signal, (n, caller) => n.onPing(caller)),
    };
  }

  private oneWay(base: number): number {
    const j = this.link.jitter;
    return (base / 2) * (1 - j + 2 * j * this.random());
  }

  private rpc<T>(
    from: number,
    to: Contact,
    signal: AbortSignal,
    handle: (node: DhtNode, caller: Contact) => T,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const target = Number(to.address);
      const callee = this.nodes[target];
      const caller = this.nodes[from];
      if (!callee || !caller) {
        reject(new Error(`unknown address ${to.address}`));
        return;
      }
      const base = this.rtt(from, target);
      // No abort listener (AbortSignal listeners are costly at this scale): a call the caller
      // stopped waiting for is simply never settled, and its answer is dropped on arrival.
      if (this.random() < this.link.loss) return; // request lost: only the caller's timeout ends it
      this.scheduler.schedule(
        this.oneWay(base),
        () => {
          if (!this.alive[target] || !this.alive[from] || signal.aborted) return;
          let ok = true;
          let value: T | undefined;
          let error: unknown;
          try {
            value = handle(callee, caller.self);
          } catch (err) {
            ok = false;
            error = err;
          }
          if (this.random() < this.link.loss) return; // response lost
          this.scheduler.schedule(this.oneWay(base), () => {
            if (signal.aborted) return;
            if (ok) resolve(value as T);
            else reject(error);
          });
        },
        true,
      );
    });
  }
}
