import { DhtRefusal, type DhtRefusalReason } from "./errors.js";
import { type DhtId, distanceCompare, idEquals, idToHex, isDhtId, randomIdInBucket } from "./ids.js";
import { iterativeLookup, type LookupEvent, type LookupOutcome, type QueryAnswer } from "./lookup.js";
import { ProviderStore, type ProviderStoreStats } from "./provider-store.js";
import { RoutingTable } from "./routing-table.js";
import { RttEstimator } from "./rtt.js";
import type { DhtTransport, FindProvidersAnswer } from "./transport.js";
import type { Contact, DhtClock, ProviderRecord } from "./types.js";

const HOUR = 3_600_000;

/** Shared abort reason for calls we stop waiting for (no DOMException with a stack per call). */
const CALL_DONE = Object.freeze({ name: "AbortError", message: "call no longer awaited" });

/** Everything a `DhtNode` needs; all I/O, time and randomness are injected. */
export interface DhtNodeOptions {
  /** Our own contact (id and the address peers reach us at). */
  self: Contact;
  transport: DhtTransport;
  clock: DhtClock;
  /** Floats in [0, 1); used for bucket-refresh targets. Inject a seeded one for determinism. */
  random: () => number;
  /** Bucket size and lookup result size. Default 20. */
  k?: number;
  /** Queries in flight per lookup (slow ones not counted, see hedging). Default 3. */
  alpha?: number;
  /** Per-contact timeout before any RTT is known, and the ceiling of adaptive ones. Default 1000 ms. */
  contactTimeoutMs?: number;
  /** Floor of adaptive timeouts. Default 100 ms. */
  minContactTimeoutMs?: number;
  /** Adapt per-contact timeouts to observed RTTs (see `RttEstimator`). Default true. */
  adaptiveTimeouts?: boolean;
  /**
   * Start one more query when one has not answered after this many ms (the slow one is not
   * cancelled). A number fixes it, `null` disables hedging, undefined adapts it to observed RTTs
   * (1.5 × network p90; half the timeout before enough samples).
   */
  hedgeAfterMs?: number | null;
  /** Consecutive failures that evict a contact. Default 2. */
  maxFailures?: number;
  /** Lifetime of the records we publish, and the longest we accept. Default 24 h. */
  providerTtlMs?: number;
  /** Accepted slack between our clock and a publisher's. Default 60 s. */
  maxClockSkewMs?: number;
  /** How often `maintain` re-publishes our own keys. Default providerTtlMs / 2. */
  republishMs?: number;
  /** Distinct keys in the provider store. Default 100,000. */
  maxProviderKeys?: number;
  /** Records per key in the provider store, and per `find_providers` answer. Default 20. */
  maxProvidersPerKey?: number;
  /** Records naming one provider in the store. Default 2,000. */
  maxRecordsPerProvider?: number;
  /** Keys we provide ourselves (kept for republishing). Default 100,000. */
  maxOwnKeys?: number;
  /** Buckets refreshed by `bootstrap` after the self-lookup, nearest first. Default 16. */
  refreshBuckets?: number;
}

/** What `findProviders` found and what it cost. */
export interface FindProvidersResult {
  /** Provider records found (up to `limit`, at least all of the answer that reached it). */
  providers: ProviderRecord[];
  /**
   * Lookup-tree depth of the contact whose answer held the first provider record: 1 = a
   * contact from our own table, 2 = one learnt from a depth-1 answer, and so on; 0 when our own
   * store held the key; null when nothing was found.
   */
  hops: number | null;
  /** Queries sent, hedges included. */
  rpcs: number;
  /** Time from the call to the result, on the injected clock. */
  elapsedMs: number;
  /** Queries that hit their per-contact timeout. */
  timeouts: number;
  /** Queries started because another was slow. */
  hedges: number;
}

/** Options of one `findProviders`. */
export interface FindProvidersOptions {
  /** Stop once this many distinct providers are known. Default 1. */
  limit?: number;
  signal?: AbortSignal;
}

/** Counters and sizes of a node, for metrics. */
export interface DhtNodeStats {
  /** Contacts in the routing table. */
  contacts: number;
  /** Lookups started (bootstrap and refresh lookups included). */
  lookups: number;
  /** Outbound calls sent, hedges included. */
  rpcsSent: number;
  /** Outbound calls that hit their per-contact timeout while still awaited. */
  timeouts: number;
  /** Outbound calls that failed otherwise (transport error). */
  errors: number;
  /** Lookup queries started because another query was slow. */
  hedges: number;
  /** Contacts evicted after consecutive failures. */
  evictions: number;
  /** Inbound calls handled, by RPC. */
  inbound: { findNode: number; findProviders: number; addProvider: number; ping: number };
  /** Inbound calls refused, by reason. */
  refused: Record<DhtRefusalReason, number>;
  /** Keys we provide ourselves (re-published by `maintain`). */
  ownKeys: number;
  /** The provider store's counters. */
  store: ProviderStoreStats;
}

/** What one `maintain` run did. */
export interface MaintenanceReport {
  /** Provider records dropped because they expired. */
  expired: number;
  /** Keys re-published (0 when republishing was not due). */
  republished: number;
}

/**
 * One DHT participant: the routing table, the provider store, the inbound handlers a
 * transport's server side calls, and the outbound operations (bootstrap, lookup, provide,
 * findProviders). It owns no timer and does no I/O: the owner calls `maintain` when
 * `nextMaintenanceAt()` comes, and all network traffic goes through the injected transport.
 */
export class DhtNode {
  /** Our contact. */
  readonly self: Contact;
  /** The routing table (exposed for inspection and tests). */
  readonly table: RoutingTable;
  private readonly transport: DhtTransport;
  private readonly clock: DhtClock;
  private readonly random: () => number;
  private readonly k: number;
  private readonly alpha: number;
  private readonly rtt: RttEstimator;
  private readonly hedgeAfterMs: number | null | undefined;
  private readonly store: ProviderStore;
  private readonly ttlMs: number;
  private readonly skewMs: number;
  private readonly republishMs: number;
  private readonly maxPerKey: number;
  private readonly maxOwnKeys: number;
  private readonly refreshBuckets: number;
  private readonly ownKeys = new Map<string, DhtId>();
  private nextRepublishAt = Number.POSITIVE_INFINITY;
  private counters = { lookups: 0, rpcsSent: 0, timeouts: 0, errors: 0, hedges: 0, evictions: 0 };
  private inbound = { findNode: 0, findProviders: 0, addProvider: 0, ping: 0 };
  private refused: Record<DhtRefusalReason, number> = {
    forged_provider: 0,
    ttl_too_long: 0,
    expired: 0,
    bad_id: 0,
    store_full: 0,
  };

  constructor(options: DhtNodeOptions) {
    if (!isDhtId(options.self.id)) throw new TypeError("self.id must be a 32-byte Uint8Array");
    this.self = options.self;
    this.transport = options.transport;
    this.clock = options.clock;
    this.random = options.random;
    this.k = options.k ?? 20;
    this.alpha = options.alpha ?? 3;
    this.table = new RoutingTable(options.self.id, { k: this.k, maxFailures: options.maxFailures ?? 2 });
    this.rtt = new RttEstimator({
      contactTimeoutMs: options.contactTimeoutMs ?? 1000,
      minContactTimeoutMs: options.minContactTimeoutMs ?? 100,
      adaptive: options.adaptiveTimeouts ?? true,
    });
    this.hedgeAfterMs = options.hedgeAfterMs;
    this.maxPerKey = options.maxProvidersPerKey ?? 20;
    this.store = new ProviderStore({
      maxKeys: options.maxProviderKeys ?? 100_000,
      maxProvidersPerKey: this.maxPerKey,
      maxRecordsPerProvider: options.maxRecordsPerProvider ?? 2_000,
    });
    this.ttlMs = options.providerTtlMs ?? 24 * HOUR;
    this.skewMs = options.maxClockSkewMs ?? 60_000;
    this.republishMs = options.republishMs ?? this.ttlMs / 2;
    this.maxOwnKeys = options.maxOwnKeys ?? 100_000;
    this.refreshBuckets = options.refreshBuckets ?? 16;
  }

  // ---- inbound: called by the transport's server side with the authenticated caller ----

  /** `find_node`: our k closest contacts to `target`. */
  onFindNode(from: Contact, target: DhtId): Contact[] {
    this.inbound.findNode++;
    this.seen(from);
    if (!isDhtId(target)) this.refuse("bad_id", "target is not a 32-byte id");
    return this.table.closest(target, this.k);
  }

  /** `find_providers`: the records we hold for `key`, and our k closest contacts to it. */
  onFindProviders(from: Contact, key: DhtId): FindProvidersAnswer {
    this.inbound.findProviders++;
    this.seen(from);
    if (!isDhtId(key)) this.refuse("bad_id", "key is not a 32-byte id");
    return {
      providers: this.store.get(key, this.clock.now(), this.maxPerKey),
      closer: this.table.closest(key, this.k),
    };
  }

  /**
   * `add_provider`: stores `record` for its key. Refused (`DhtRefusal`) when the record names
   * a provider other than the caller (`forged_provider`: a node may only announce itself), has
   * expired, expires later than now + TTL + skew (`ttl_too_long`), or a store bound is reached
   * (`store_full`, see `ProviderStore` for the policy). The provider's address is kept as given.
   */
  onAddProvider(from: Contact, record: ProviderRecord): void {
    this.inbound.addProvider++;
    this.seen(from);
    if (!isDhtId(record.key) || !isDhtId(record.provider.id)) this.refuse("bad_id", "key or provider id");
    if (!idEquals(record.provider.id, from.id)) {
      this.refuse("forged_provider", "a node may only announce itself as a provider");
    }
    const now = this.clock.now();
    if (record.expiresAt <= now) this.refuse("expired", "record already expired");
    if (record.expiresAt > now + this.ttlMs + this.skewMs)
      this.refuse("ttl_too_long", "ttl beyond the maximum");
    try {
      this.store.put({ key: record.key, provider: record.provider, expiresAt: record.expiresAt });
    } catch (err) {
      if (err instanceof DhtRefusal) this.refused[err.reason]++;
      throw err;
    }
  }

  /** `ping`: answers, and notes the caller. */
  onPing(from: Contact): void {
    this.inbound.ping++;
    this.seen(from);
  }

  // ---- outbound ----

  /**
   * Joins the network through `seeds`: a lookup of our own id starting from them (which fills
   * the buckets near us and announces us to our neighbours), then a lookup of a random id in
   * each of up to `refreshBuckets` buckets farther than our nearest neighbour, nearest first.
   * Returns the number of contacts in the table afterwards.
   */
  async bootstrap(seeds: Contact[], signal?: AbortSignal): Promise<number> {
    const valid = seeds.filter((s) => isDhtId(s.id) && !idEquals(s.id, this.self.id));
    await this.runLookup(this.self.id, "findNode", valid, signal);
    const deepest = this.table.deepestBucket();
    for (let i = deepest - 1, n = 0; i >= 0 && n < this.refreshBuckets; i--, n++) {
      if (signal?.aborted) break;
      await this.runLookup(randomIdInBucket(this.self.id, i, this.random), "findNode", [], signal);
    }
    return this.table.size;
  }

  /** The k closest live nodes to `target` (iterative, α in flight, per-contact timeouts, hedging). */
  async lookup(target: DhtId, signal?: AbortSignal): Promise<Contact[]> {
    return (await this.runLookup(target, "findNode", [], signal)).outcome.closest;
  }

  /**
   * Finds providers of `key`: checks our own store, then looks the key up, stopping at the
   * first answer that brings the count of distinct providers to `limit`.
   */
  async findProviders(key: DhtId, options: FindProvidersOptions = {}): Promise<FindProvidersResult> {
    const limit = Math.max(1, options.limit ?? 1);
    const start = this.clock.now();
    const found = new Map<string, ProviderRecord>();
    for (const r of this.store.get(key, start, this.maxPerKey)) found.set(idToHex(r.provider.id), r);
    if (found.size >= limit) {
      return { providers: [...found.values()], hops: 0, rpcs: 0, elapsedMs: 0, timeouts: 0, hedges: 0 };
    }
    let hops: number | null = found.size > 0 ? 0 : null;
    const { outcome } = await this.runLookup(
      key,
      "findProviders",
      [],
      options.signal,
      (answer, _c, depth) => {
        const now = this.clock.now();
        for (const r of (answer as FindProvidersAnswer).providers) {
          if (!isDhtId(r.provider?.id) || !isDhtId(r.key) || !idEquals(r.key, key) || r.expiresAt <= now)
            continue;
          const hex = idToHex(r.provider.id);
          if (found.has(hex)) continue;
          found.set(hex, r);
          if (hops === null) hops = depth;
        }
        return found.size >= limit;
      },
    );
    return {
      providers: [...found.values()],
      hops,
      rpcs: outcome.rpcs,
      elapsedMs: this.clock.now() - start,
      timeouts: outcome.timeouts,
      hedges: outcome.hedges,
    };
  }

  /**
   * Announces us as a provider of `key`: finds the k closest nodes and stores a record on each
   * (and in our own store when we are among the k closest). Remembers the key for `republish`.
   * Returns how many nodes accepted the record.
   */
  async provide(key: DhtId, signal?: AbortSignal): Promise<number> {
    if (!isDhtId(key)) throw new TypeError("key must be a 32-byte Uint8Array");
    const hex = idToHex(key);
    if (!this.ownKeys.has(hex) && this.ownKeys.size >= this.maxOwnKeys) {
      throw new RangeError(`already providing ${this.maxOwnKeys} keys`);
    }
    this.ownKeys.set(hex, key);
    if (this.nextRepublishAt === Number.POSITIVE_INFINITY)
      this.nextRepublishAt = this.clock.now() + this.republishMs;
    return this.announce(key, signal);
  }

  /** Stops re-publishing `key` (records already stored expire on their own). */
  unprovide(key: DhtId): void {
    this.ownKeys.delete(idToHex(key));
  }

  /** Re-announces every key we provide; returns how many keys. */
  async republish(signal?: AbortSignal): Promise<number> {
    const keys = [...this.ownKeys.values()];
    for (const key of keys) {
      if (signal?.aborted) break;
      await this.announce(key, signal);
    }
    this.nextRepublishAt = this.clock.now() + this.republishMs;
    return keys.length;
  }

  /** Drops expired provider records; returns how many. */
  expire(now: number = this.clock.now()): number {
    return this.store.expire(now);
  }

  /** When `maintain` next has work to do (earliest record expiry or republish), or undefined. */
  nextMaintenanceAt(): number | undefined {
    const expiry = this.store.nextExpiry();
    const republish = this.ownKeys.size > 0 ? this.nextRepublishAt : undefined;
    if (expiry === undefined) return republish;
    if (republish === undefined) return expiry;
    return Math.min(expiry, republish);
  }

  /** Expires records and, when due, re-publishes our keys. The owner calls it on its own timer. */
  async maintain(now: number = this.clock.now(), signal?: AbortSignal): Promise<MaintenanceReport> {
    const expired = this.store.expire(now);
    let republished = 0;
    if (this.ownKeys.size > 0 && now >= this.nextRepublishAt) republished = await this.republish(signal);
    return { expired, republished };
  }

  /** Counters and sizes, for metrics. */
  stats(): DhtNodeStats {
    return {
      contacts: this.table.size,
      ...this.counters,
      inbound: { ...this.inbound },
      refused: { ...this.refused },
      ownKeys: this.ownKeys.size,
      store: this.store.stats(),
    };
  }

  // ---- internals ----

  private async announce(key: DhtId, signal?: AbortSignal): Promise<number> {
    const { outcome } = await this.runLookup(key, "findNode", [], signal);
    const record: ProviderRecord = { key, provider: this.self, expiresAt: this.clock.now() + this.ttlMs };
    const closest = outcome.closest;
    let accepted = 0;
    const last = closest[this.k - 1];
    if (!last || distanceCompare(key, this.self.id, last.id) < 0) {
      try {
        this.store.put(record);
        accepted++;
      } catch {
        // Our own store is full: the remote copies still count.
      }
    }
    // One signal for all the calls (AbortSignals are costly): aborted once every call settled.
    const ac = new AbortController();
    const onAbort = () => ac.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const results = await Promise.all(
        closest.map((c) => this.call(c, (s) => this.transport.addProvider(c, record, s), ac.signal)),
      );
      for (const ok of results) if (ok) accepted++;
    } finally {
      ac.abort(CALL_DONE);
      signal?.removeEventListener("abort", onAbort);
    }
    return accepted;
  }

  /**
   * One call outside a lookup, raced against the contact's timeout, with the table
   * bookkeeping. `signal` is shared by the caller's batch and aborted by it when done.
   * Resolves true on an answer, false on a refusal, timeout or error.
   */
  private async call(
    contact: Contact,
    send: (signal: AbortSignal) => Promise<unknown>,
    signal: AbortSignal,
  ): Promise<boolean> {
    const sentAt = this.clock.now();
    this.counters.rpcsSent++;
    const timer = this.clock.sleep(this.timeoutFor(contact), signal).then(
      () => "timeout" as const,
      () => "aborted" as const,
    );
    const result = await Promise.race([
      send(signal).then(
        () => "answer" as const,
        (error: unknown) => (error instanceof DhtRefusal ? ("refused" as const) : ("error" as const)),
      ),
      timer,
    ]);
    if (result === "answer" || result === "refused") {
      this.answered(contact, this.clock.now() - sentAt);
      return result === "answer";
    }
    if (result === "timeout") this.counters.timeouts++;
    else this.counters.errors++;
    this.failed(contact);
    return false;
  }

  private async runLookup(
    target: DhtId,
    kind: "findNode" | "findProviders",
    extraSeeds: Contact[],
    signal: AbortSignal | undefined,
    onAnswer?: (answer: QueryAnswer, contact: Contact, depth: number) => boolean,
  ): Promise<{ outcome: LookupOutcome }> {
    this.counters.lookups++;
    const seeds = [...this.table.closest(target, this.k), ...extraSeeds];
    const outcome = await iterativeLookup<QueryAnswer>({
      target,
      self: this.self.id,
      seeds,
      k: this.k,
      alpha: this.alpha,
      clock: this.clock,
      signal,
      query: async (contact, s) => {
        if (kind === "findNode")
          return { closer: this.sanitize(await this.transport.findNode(contact, target, s)) };
        const answer = await this.transport.findProviders(contact, target, s);
        return {
          providers: Array.isArray(answer.providers) ? answer.providers.slice(0, this.maxPerKey) : [],
          closer: this.sanitize(answer.closer),
        } as FindProvidersAnswer;
      },
      timeoutFor: (contact) => this.timeoutFor(contact),
      hedgeAfter: (_contact, timeoutMs) => {
        if (this.hedgeAfterMs === null) return undefined;
        if (this.hedgeAfterMs !== undefined) return this.hedgeAfterMs;
        return this.rtt.hedgeDelay(timeoutMs) ?? timeoutMs / 2;
      },
      onAnswer,
      onEvent: (event: LookupEvent) => {
        switch (event.type) {
          case "query":
            this.counters.rpcsSent++;
            if (event.hedge) this.counters.hedges++;
            break;
          case "answer":
            this.answered(event.contact, event.rttMs);
            break;
          case "timeout":
            this.counters.timeouts++;
            this.failed(event.contact);
            break;
          case "error":
            this.counters.errors++;
            this.failed(event.contact);
            break;
        }
      },
    });
    return { outcome };
  }

  /** Keeps only well-formed contacts, at most k, never ourselves. */
  private sanitize(list: unknown): Contact[] {
    if (!Array.isArray(list)) return [];
    const out: Contact[] = [];
    for (const c of list as Contact[]) {
      if (out.length >= this.k) break;
      if (c && isDhtId(c.id) && typeof c.address === "string" && !idEquals(c.id, this.self.id)) out.push(c);
    }
    return out;
  }

  private seen(from: Contact): void {
    if (isDhtId(from.id) && !idEquals(from.id, this.self.id)) this.table.update(from);
  }

  private timeoutFor(contact: Contact): number {
    return this.rtt.timeoutFor(this.table.rttOf(contact.id));
  }

  private answered(contact: Contact, rttMs: number): void {
    this.table.update(contact);
    this.table.recordRtt(contact.id, rttMs);
    this.rtt.observe(rttMs);
  }

  private failed(contact: Contact): void {
    if (this.table.recordFailure(contact.id)) this.counters.evictions++;
  }

  private refuse(reason: DhtRefusalReason, message: string): never {
    this.refused[reason]++;
    throw new DhtRefusal(reason, message);
  }
}
