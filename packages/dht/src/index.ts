/**
 * @omnigate/dht: a Kademlia DHT core. 256-bit ids, a k-bucket routing table, iterative
 * lookups with per-contact adaptive timeouts and hedging, and a bounded provider store. It does
 * no I/O: the transport (OAP/1 in the node, in-memory in the simulation), the clock and the
 * random source are injected, and the owner schedules maintenance.
 *
 * @module @omnigate/dht
 */
export { DhtRefusal, type DhtRefusalReason } from "./errors.js";
export {
  bucketIndex,
  type DhtId,
  distanceCompare,
  ID_BITS,
  ID_BYTES,
  idEquals,
  idFromHex,
  idKey,
  idToHex,
  isDhtId,
  randomId,
  randomIdInBucket,
  shortId,
  xorDistance,
} from "./ids.js";
export {
  iterativeLookup,
  type LookupEvent,
  type LookupOutcome,
  type LookupParams,
  type QueryAnswer,
} from "./lookup.js";
export {
  DhtNode,
  type DhtNodeOptions,
  type DhtNodeStats,
  type FindProvidersOptions,
  type FindProvidersResult,
  type MaintenanceReport,
} from "./node.js";
export { ProviderStore, type ProviderStoreOptions, type ProviderStoreStats } from "./provider-store.js";
export { seededRandom } from "./random.js";
export { RoutingTable, type RoutingTableOptions, type UpdateResult } from "./routing-table.js";
export { type ContactRtt, RttEstimator, type TimeoutPolicy } from "./rtt.js";
export type { DhtTransport, FindProvidersAnswer } from "./transport.js";
export type { Contact, DhtClock, ProviderRecord } from "./types.js";
