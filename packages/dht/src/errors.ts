/**
 * Why an inbound DHT call was refused:
 * - `forged_provider`: an `add_provider` record names a provider other than the caller
 *   (a node may only announce itself)
 * - `ttl_too_long`: the record expires later than now + the maximum TTL
 * - `expired`: the record has already expired
 * - `bad_id`: a key or id is not 32 bytes
 * - `store_full`: the provider store is at one of its bounds (see `ProviderStore`)
 */
export type DhtRefusalReason = "forged_provider" | "ttl_too_long" | "expired" | "bad_id" | "store_full";

/** Thrown by the inbound handlers; the transport sends `reason` back instead of the message. */
export class DhtRefusal extends Error {
  /** `"DhtRefusal"`, as logs and `error.name` checks see it. */
  override readonly name = "DhtRefusal";
  constructor(
    /** Which rule refused the call (see {@link DhtRefusalReason}). */
    readonly reason: DhtRefusalReason,
    message: string,
  ) {
    super(message);
  }
}
