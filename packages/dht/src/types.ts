import type { DhtId } from "./ids.js";

/**
 * A peer as the DHT knows it. `address` is opaque to the core: an `oap+tls://host:port` URL
 * for the OAP/1 transport, an index for the simulated network.
 */
export interface Contact {
  /** The peer's 256-bit node id. */
  id: DhtId;
  /** Where the transport reaches the peer; the core only passes it through. */
  address: string;
}

/** "`provider` can serve `key` until `expiresAt`": what `provide` stores on the k closest nodes. */
export interface ProviderRecord {
  /** The 256-bit key (a content hash or a derived id). */
  key: DhtId;
  /** Who serves the key; must be the node that announced it (see `onAddProvider`). */
  provider: Contact;
  /** Expiry in ms on the injected clock. */
  expiresAt: number;
}

/** The time source the core runs on: wall time in a node, virtual time in the simulation. */
export interface DhtClock {
  /** Current time in ms. */
  now(): number;
  /**
   * Resolves after `ms`. When `signal` aborts first it settles early (rejecting is fine: the
   * core only uses it to stop waiting and ignores the rejection).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
