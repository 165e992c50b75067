import { CapError, CapVerifier, mintToken } from "@omnigate/caps";
import { type DhtId, idToHex } from "@omnigate/dht";
import { AppProtoId, OapError } from "@omnigate/oap";
import type { NetworkKey } from "./network-key.js";

/** How long a node capability is valid; a node mints a new one well before. */
const NODE_CAP_TTL_SECONDS = 3600;
const REMINT_BEFORE_SECONDS = 600;
const TOPIC = /^node:[0-9a-f]{64}$/;

/** The topic a node capability is bound to: the caller's DHT id. */
export function nodeTopic(id: DhtId): string {
  return `node:${idToHex(id)}`;
}

/**
 * Node capabilities (specs/oap-1.md §11.2): a token under the network key, for tenant 0, with
 * `apps = 0x0401` and `topics ^= node:<the node's id>`. Every node-to-node request carries the
 * caller's id as its topic, so the topic caveat binds the request to the node that minted the
 * token: a peer cannot speak (or announce a provider) for another node id without the network
 * key, and a token without the key is refused.
 */
export class NodeCapabilities {
  private readonly verifier: CapVerifier;
  private token: { bytes: Uint8Array; expiresAt: number } | undefined;

  constructor(
    private readonly network: NetworkKey,
    private readonly selfId: DhtId,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    const { key, keyId } = network;
    this.verifier = new CapVerifier({ keys: { get: (id) => (id === keyId ? key : undefined) }, now });
  }

  /** This node's own token, minted anew when it nears expiry. */
  own(): Uint8Array {
    const now = this.now();
    if (!this.token || this.token.expiresAt - REMINT_BEFORE_SECONDS <= now) {
      const expiresAt = now + NODE_CAP_TTL_SECONDS;
      const bytes = mintToken({
        rootKey: this.network.key,
        keyId: this.network.keyId,
        tenant: 0n,
        apps: [AppProtoId.DHT],
        topics: nodeTopic(this.selfId),
        expiresAt,
      });
      this.token = { bytes, expiresAt };
    }
    return this.token.bytes;
  }

  /**
   * Checks a request's token for `op` with the caller's topic; returns the caller's id (hex).
   * Refuses with 401 (no token, not under the network key, expired) or 403 (another node's).
   */
  check(token: Uint8Array | undefined, tenant: bigint, op: string, topic: unknown): string {
    if (typeof topic !== "string" || !TOPIC.test(topic)) {
      throw new OapError("bad_meta", 'meta "topic" must be "node:" and the caller\'s 64-hex-digit DHT id');
    }
    try {
      this.verifier.verify(token, { tenant, app: AppProtoId.DHT, op: `dht.${op}`, topic });
    } catch (error) {
      if (error instanceof CapError)
        throw new OapError(error.reason, `node capability refused: ${error.message}`);
      throw error;
    }
    return topic.slice("node:".length);
  }
}
