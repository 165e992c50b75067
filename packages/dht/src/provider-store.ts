import { DhtRefusal } from "./errors.js";
import { idKey } from "./ids.js";
import type { ProviderRecord } from "./types.js";

/** Bounds of the provider store. */
export interface ProviderStoreOptions {
  /** Distinct keys held. Default 100,000. */
  maxKeys?: number;
  /** Records held per key. Default 20. */
  maxProvidersPerKey?: number;
  /** Records held for one provider across all keys, so one peer cannot fill the store. Default 2,000. */
  maxRecordsPerProvider?: number;
}

/** Counters of the provider store, for metrics. */
export interface ProviderStoreStats {
  /** Records held now. */
  records: number;
  /** Keys held now. */
  keys: number;
  /** Records accepted (new or refreshed). */
  stored: number;
  /** Records dropped because a bound was reached (the store-full policy). */
  droppedFull: number;
  /** Records removed by `expire` or found expired on read. */
  expired: number;
}

/**
 * Provider records held for other nodes, bounded in every dimension. The policy when a bound
 * is reached keeps what is already stored and refuses the newcomer (`store_full`, counted in
 * `droppedFull`), except that inside one key a record that expires later replaces the one that
 * expires first: old records cannot be flushed by a flood of new keys or providers, and every
 * record leaves by its expiry at the latest (republishing keeps live ones fresh).
 * - `maxKeys` distinct keys;
 * - `maxProvidersPerKey` records per key;
 * - `maxRecordsPerProvider` records naming one provider, across keys.
 * Memory is therefore at most maxKeys × maxProvidersPerKey records.
 */
export class ProviderStore {
  private readonly maxKeys: number;
  private readonly maxPerKey: number;
  private readonly maxPerProvider: number;
  private readonly byKey = new Map<string, Map<string, ProviderRecord>>();
  private readonly perProvider = new Map<string, number>();
  private counters = { records: 0, stored: 0, droppedFull: 0, expired: 0 };

  constructor(options: ProviderStoreOptions = {}) {
    this.maxKeys = options.maxKeys ?? 100_000;
    this.maxPerKey = options.maxProvidersPerKey ?? 20;
    this.maxPerProvider = options.maxRecordsPerProvider ?? 2_000;
  }

  /** Stores `record` (already validated by the caller), or throws `DhtRefusal("store_full")`. */
  put(record: ProviderRecord): void {
    const key = idKey(record.key);
    const provider = idKey(record.provider.id);
    let records = this.byKey.get(key);
    const existing = records?.get(provider);
    if (records && existing) {
      records.set(provider, record);
      this.counters.stored++;
      return;
    }
    if ((this.perProvider.get(provider) ?? 0) >= this.maxPerProvider) {
      this.counters.droppedFull++;
      throw new DhtRefusal("store_full", "too many records for this provider");
    }
    if (!records) {
      if (this.byKey.size >= this.maxKeys) {
        this.counters.droppedFull++;
        throw new DhtRefusal("store_full", "provider store holds its maximum number of keys");
      }
      records = new Map();
      this.byKey.set(key, records);
    }
    if (records.size >= this.maxPerKey) {
      let soonest: ProviderRecord | undefined;
      for (const r of records.values()) if (!soonest || r.expiresAt < soonest.expiresAt) soonest = r;
      if (!soonest || soonest.expiresAt >= record.expiresAt) {
        this.counters.droppedFull++;
        throw new DhtRefusal("store_full", "key holds its maximum number of providers");
      }
      this.removeRecord(key, records, soonest);
      this.counters.droppedFull++;
    }
    records.set(provider, record);
    this.perProvider.set(provider, (this.perProvider.get(provider) ?? 0) + 1);
    this.counters.records++;
    this.counters.stored++;
  }

  /** Up to `limit` unexpired records for `key` (expired ones met on the way are dropped). */
  get(key: Uint8Array, now: number, limit = this.maxPerKey): ProviderRecord[] {
    const hex = idKey(key);
    const records = this.byKey.get(hex);
    if (!records) return [];
    const out: ProviderRecord[] = [];
    for (const r of [...records.values()]) {
      if (r.expiresAt <= now) {
        this.removeRecord(hex, records, r);
        this.counters.expired++;
      } else if (out.length < limit) out.push(r);
    }
    return out;
  }

  /** Removes every record expired at `now`; returns how many. */
  expire(now: number): number {
    let removed = 0;
    for (const [hex, records] of [...this.byKey]) {
      for (const r of [...records.values()]) {
        if (r.expiresAt <= now) {
          this.removeRecord(hex, records, r);
          removed++;
        }
      }
    }
    this.counters.expired += removed;
    return removed;
  }

  /** The earliest expiry of any record held, or undefined when empty (for scheduling `expire`). */
  nextExpiry(): number | undefined {
    let soonest: number | undefined;
    for (const records of this.byKey.values())
      for (const r of records.values())
        if (soonest === undefined || r.expiresAt < soonest) soonest = r.expiresAt;
    return soonest;
  }

  /** Current counters. */
  stats(): ProviderStoreStats {
    return { ...this.counters, keys: this.byKey.size };
  }

  private removeRecord(hex: string, records: Map<string, ProviderRecord>, record: ProviderRecord): void {
    const provider = idKey(record.provider.id);
    if (!records.delete(provider)) return;
    this.counters.records--;
    const n = (this.perProvider.get(provider) ?? 1) - 1;
    if (n <= 0) this.perProvider.delete(provider);
    else this.perProvider.set(provider, n);
    if (records.size === 0) this.byKey.delete(hex);
  }
}
