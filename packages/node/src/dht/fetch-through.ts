import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type Contact,
  type DhtId,
  distanceCompare,
  idEquals,
  idFromHex,
  idToHex,
  type ProviderRecord,
} from "@omnigate/dht";
import { OapError } from "@omnigate/oap";
import type { OapStream } from "@omnigate/sdk";
import {
  Blake3TreeBuilder,
  GROUP_BYTES,
  GroupVerificationError,
  groupCount,
  type VerifiedGroup,
  VerifiedGroupReader,
} from "@omnigate/sdk/internal";
import type { Logger } from "../log.js";
import {
  digestOf,
  type LocatedObject,
  type ObjectAddress,
  PUBLIC_NAMESPACE,
  type StorageEngine,
  StoreFullError,
} from "../storage/index.js";
import { BoundedLru } from "../util/bounded-lru.js";
import type { DhtMetrics } from "./metrics.js";

/** Providers asked for; the fetch tries them nearest first until one delivers. */
const PROVIDERS_WANTED = 3;
/**
 * An address no provider was found for is not looked up again for this long: one GET of a
 * made-up address costs a lookup (several RPCs), and a loop of them must not turn into a
 * flood on the network.
 */
const NOT_FOUND_TTL_MS = 30_000;
const NOT_FOUND_REMEMBERED = 10_000;

/** What fetch-through needs of the DHT: provider lookups. */
export interface ProviderFinder {
  findProviders(
    key: DhtId,
    options: { limit: number; signal?: AbortSignal },
  ): Promise<{ providers: ProviderRecord[]; hops: number | null; rpcs: number }>;
}

/** Opens a chunk-verified read of a public object on a peer (op `fetch`). */
export type PeerFetch = (
  url: string,
  meta: Record<string, unknown>,
  signal: AbortSignal,
) => Promise<OapStream>;

export interface FetchThroughOptions {
  self: Contact;
  dht: ProviderFinder;
  fetch: PeerFetch;
  engine: StorageEngine;
  /** Announces the object once stored, so this node serves it too. */
  announce: (addr: ObjectAddress) => void;
  /** With no verified group from the first provider by then, a second one is asked too. */
  hedgeAfterMs: number;
  /** A provider that delivers no verified group for this long is dropped. */
  idleTimeoutMs: number;
  maxObjectBytes: number;
  metrics: DhtMetrics;
  log: Logger;
}

/** One read from one provider: its verified groups, in order, from `fromGroup`. */
interface Attempt {
  provider: Contact;
  groups: AsyncGenerator<VerifiedGroup, void>;
  /** The next group, asked for once (the race for the first group keeps it). */
  next: Promise<IteratorResult<VerifiedGroup, void>>;
  abort: AbortController;
}

/**
 * Fetch-through (docs/dht.md): a GET for a public object this node lacks asks the DHT for
 * providers, reads from the nearest (a second one is started when the first has not delivered a
 * verified group after `hedgeAfterMs`; the first to deliver wins), checks every 64 KiB group
 * against the address before storing it, and stores the object in the public namespace. A
 * provider whose group fails its proof is dropped at that group and the fetch goes on from
 * the same group with the next provider. One fetch per address at a time; other GETs wait for it.
 */
export class FetchThrough {
  private readonly inFlight = new Map<string, Promise<LocatedObject | undefined>>();
  /** Addresses no provider was found for lately, with when that stops holding. */
  private readonly notFound = new BoundedLru<string, number>(NOT_FOUND_REMEMBERED);

  constructor(private readonly options: FetchThroughOptions) {}

  readonly find = (addr: ObjectAddress, signal: AbortSignal): Promise<LocatedObject | undefined> => {
    const missUntil = this.notFound.get(addr);
    if (missUntil !== undefined && missUntil > Date.now()) return Promise.resolve(undefined);
    let running = this.inFlight.get(addr);
    if (!running) {
      // Not the first caller's signal: a waiting second GET must not lose the fetch with it.
      running = this.fetchObject(addr).finally(() => this.inFlight.delete(addr));
      this.inFlight.set(addr, running);
    }
    return raceAbort(running, signal);
  };

  private async fetchObject(addr: ObjectAddress): Promise<LocatedObject | undefined> {
    const { dht, log, metrics } = this.options;
    const key = idFromHex(digestOf(addr));
    const started = performance.now();
    let lookup: Awaited<ReturnType<ProviderFinder["findProviders"]>>;
    try {
      lookup = await dht.findProviders(key, { limit: PROVIDERS_WANTED });
    } catch (error) {
      metrics.lookup((performance.now() - started) / 1000, false);
      log.warn({ addr, err: describe(error) }, "dht lookup for fetch-through failed");
      return undefined;
    }
    const lookupMs = performance.now() - started;
    const providers = nearestFirst(key, lookup.providers, this.options.self);
    metrics.lookup(lookupMs / 1000, providers.length > 0);
    log.info(
      { addr, providers: providers.length, hops: lookup.hops, rpcs: lookup.rpcs, lookup_ms: round(lookupMs) },
      "dht lookup for fetch-through",
    );
    if (providers.length === 0) {
      this.notFound.set(addr, Date.now() + NOT_FOUND_TTL_MS);
      return undefined;
    }
    const fetchStarted = performance.now();
    const located = await this.fetchFrom(addr, key, providers);
    const fetchMs = performance.now() - fetchStarted;
    metrics.fetched(located.size);
    log.info(
      { addr, size: located.size, lookup_ms: round(lookupMs), fetch_ms: round(fetchMs) },
      "fetched through from the network, every group verified",
    );
    this.options.announce(addr);
    return located;
  }

  private async fetchFrom(addr: ObjectAddress, key: DhtId, providers: Contact[]): Promise<LocatedObject> {
    const { engine, log, metrics } = this.options;
    const pending = await engine.create(PUBLIC_NAMESPACE);
    const tree = new Blake3TreeBuilder();
    const waiting = [...providers];
    let nextGroup = 0;
    let size: number | undefined;
    try {
      while (waiting.length > 0) {
        const attempt = await this.firstToDeliver(waiting, addr, key, nextGroup, (s) => {
          if (size !== undefined && s !== size)
            throw new Error(`announced ${s} bytes, another provider ${size}`);
          size = s;
        });
        if (!attempt) break;
        try {
          const idle = this.options.idleTimeoutMs;
          for (let step = await attempt.next; !step.done; step = await idleBound(attempt, idle)) {
            tree.update(step.value.bytes);
            await pending.write(step.value.bytes);
            nextGroup = step.value.index + 1;
          }
          const finished = tree.finish();
          await pending.commit(digestOf(addr), finished.outboard);
          return { namespace: PUBLIC_NAMESPACE, size: finished.size };
        } catch (error) {
          attempt.abort.abort();
          // This node has no room for the object: no other provider changes that.
          if (error instanceof StoreFullError) throw error;
          if (error instanceof GroupVerificationError) metrics.badChunk();
          log.warn(
            { addr, provider: attempt.provider.address, group: nextGroup, err: describe(error) },
            error instanceof GroupVerificationError
              ? "provider sent a group that failed its proof; dropped, going on with the next"
              : "provider failed mid-fetch; going on with the next",
          );
        }
      }
    } finally {
      await pending.abort();
    }
    metrics.fetchFailed();
    throw new OapError(
      "backend_unavailable",
      `object ${addr} has providers on the network, but none delivered it verified; try again later`,
    );
  }

  /**
   * Starts the nearest waiting provider; when it has delivered no verified group after
   * hedgeAfterMs, starts the next too. Returns the first to deliver (the others are stopped),
   * or undefined when every provider failed before delivering.
   */
  private async firstToDeliver(
    waiting: Contact[],
    addr: ObjectAddress,
    key: DhtId,
    fromGroup: number,
    onSize: (size: number) => void,
  ): Promise<Attempt | undefined> {
    const running: Attempt[] = [];
    const start = () => {
      const provider = waiting.shift();
      if (provider) running.push(this.open(provider, addr, key, fromGroup, onSize));
    };
    start();
    while (running.length > 0) {
      // Nothing left to hedge with: wait for the running attempts alone.
      const hedge =
        waiting.length > 0 ? [sleep(this.options.hedgeAfterMs, "hedge" as const, { ref: false })] : [];
      const settled = await Promise.race([
        ...hedge,
        ...running.map((attempt) =>
          attempt.next.then(
            () => attempt,
            (error: unknown) => ({ attempt, error }),
          ),
        ),
      ]);
      if (settled === "hedge") {
        start();
        continue;
      }
      if ("error" in settled) {
        running.splice(running.indexOf(settled.attempt), 1);
        if (settled.error instanceof GroupVerificationError) this.options.metrics.badChunk();
        this.options.log.warn(
          {
            addr,
            provider: settled.attempt.provider.address,
            group: fromGroup,
            err: describe(settled.error),
          },
          "provider failed before its first verified group; trying the next",
        );
        if (running.length === 0) start();
        continue;
      }
      for (const other of running) if (other !== settled) other.abort.abort();
      return settled;
    }
    return undefined;
  }

  private open(
    provider: Contact,
    addr: ObjectAddress,
    key: DhtId,
    fromGroup: number,
    onSize: (size: number) => void,
  ): Attempt {
    const abort = new AbortController();
    const groups = this.verifiedGroups(provider, addr, key, fromGroup, onSize, abort.signal);
    const next = groups.next();
    next.catch(() => {});
    return { provider, groups, next, abort };
  }

  private async *verifiedGroups(
    provider: Contact,
    addr: ObjectAddress,
    key: DhtId,
    fromGroup: number,
    onSize: (size: number) => void,
    signal: AbortSignal,
  ): AsyncGenerator<VerifiedGroup, void> {
    const meta = { addr, ...(fromGroup > 0 ? { range: `${fromGroup * GROUP_BYTES}-` } : {}) };
    const stream = await this.options.fetch(provider.address, meta, signal);
    try {
      const head = await stream.response;
      const size = head.meta.size;
      if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
        throw new Error(`the provider's reply has no valid size (${String(size)})`);
      }
      if (size > this.options.maxObjectBytes) {
        throw new Error(`the provider announces ${size} bytes, over storage.max_object_bytes`);
      }
      onSize(size);
      const reader = new VerifiedGroupReader({
        root: key,
        size,
        firstGroup: fromGroup,
        lastGroup: groupCount(size) - 1,
      });
      for await (const chunk of stream) yield* reader.push(chunk);
      reader.end();
    } finally {
      stream.discard();
    }
  }
}

/** The attempt's next group, or a failure when none arrives within `ms` (the provider stalled). */
async function idleBound(attempt: Attempt, ms: number): Promise<IteratorResult<VerifiedGroup, void>> {
  const stalled = new AbortController();
  const timer = sleep(ms, undefined, { signal: stalled.signal, ref: false }).then(() => {
    throw new Error(`no verified group for ${ms} ms`);
  });
  timer.catch(() => {});
  try {
    return await Promise.race([attempt.groups.next(), timer]);
  } finally {
    stalled.abort();
  }
}

/** Providers other than this node, once each, nearest to the key first (deterministic). */
function nearestFirst(key: DhtId, records: ProviderRecord[], self: Contact): Contact[] {
  const seen = new Set<string>();
  const contacts: Contact[] = [];
  for (const record of records) {
    const hex = idToHex(record.provider.id);
    if (idEquals(record.provider.id, self.id) || seen.has(hex)) continue;
    seen.add(hex);
    contacts.push(record.provider);
  }
  return contacts.sort((a, b) => distanceCompare(key, a.id, b.id));
}

async function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw signal.reason;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
