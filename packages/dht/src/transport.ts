import type { DhtId } from "./ids.js";
import type { Contact, ProviderRecord } from "./types.js";

/** What a `find_providers` answer holds: records for the key, and contacts closer to it. */
export interface FindProvidersAnswer {
  /** Unexpired provider records the callee holds for the key (bounded by its per-key limit). */
  providers: ProviderRecord[];
  /** The callee's k closest contacts to the key. */
  closer: Contact[];
}

/**
 * The four DHT RPCs, outbound. The node implements it over OAP/1, the simulation in memory;
 * the callee runs the matching `DhtNode.on*` handler with the authenticated caller. Every call
 * may reject (timeout, refusal, loss) and must stop when `signal` aborts (the core aborts
 * calls it stopped waiting for).
 */
export interface DhtTransport {
  /** Asks `to` for its k closest contacts to `target`. */
  findNode(to: Contact, target: DhtId, signal: AbortSignal): Promise<Contact[]>;
  /** Asks `to` for provider records of `key` and its k closest contacts to it. */
  findProviders(to: Contact, key: DhtId, signal: AbortSignal): Promise<FindProvidersAnswer>;
  /** Asks `to` to store `record` (rejects with the callee's refusal if it is refused). */
  addProvider(to: Contact, record: ProviderRecord, signal: AbortSignal): Promise<void>;
  /** Checks that `to` is alive. */
  ping(to: Contact, signal: AbortSignal): Promise<void>;
}
