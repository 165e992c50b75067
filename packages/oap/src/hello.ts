/** Meta of a HELLO request (app_proto_id 0, REQ|START|END). All fields optional. */
export interface HelloRequest {
  /** Versions the client speaks, newest first. */
  versions?: number[];
  /** Free-form client identifier, e.g. "omnigate-sdk-ts/0.1.0". */
  client?: string;
  /**
   * Traffic shaping the client asks the node to apply to the node's sends (§10.1). Its presence
   * also says the client discards PAD frames. A key left out takes its default (§10.1).
   */
  shaping?: Partial<HelloShaping>;
}

/**
 * Traffic shaping of one direction of a connection (specs/oap-1.md §10.1): in a HELLO request,
 * what the client asks for; in the reply, what the node applies to its sends (and the client to
 * its own) from then on.
 */
export interface HelloShaping {
  /** How each write burst is padded with PAD frames: Padmé buckets, powers of two, or not at all. */
  padding: "padme" | "pow2" | "off";
  /** Each burst is held for a uniformly random 0..jitter_ms ms, coalescing what comes meanwhile; 0 = none. */
  jitter_ms: number;
  /** Mean rate of cover bursts (PAD frames only), per second, at exponential intervals; 0 = none. */
  cover_hz: number;
  /** Cover bursts are drawn uniformly from 55..cover_max_bytes bytes, then padded. */
  cover_max_bytes: number;
}

export interface HelloService {
  app_proto_id: number;
  name: string;
}

/** The bounds a node inflates COMP bodies within: a client sends bodies that break them plain. */
export interface CompLimits {
  max_output_bytes: number;
  max_ratio: number;
  ratio_grace_bytes: number;
}

/** Meta of the HELLO reply (specs/oap-1.md §8). */
export interface HelloReply {
  versions: number[];
  max_frame: number;
  max_inflight: number;
  /** Bitmask of the flags this node accepts. */
  flags_supported: number;
  transports: string[];
  node_id: string;
  /** Capability revocation sequence: grows with every revocation; fetch the diff with the control op `revocations`. */
  rev_seq: number;
  /** Whether requests need a capability on this node. */
  auth?: "on" | "off";
  /** The outcome of a capability sent with the HELLO (bound as the connection's default when `bound`). */
  cap?: HelloCapResult;
  /**
   * Only when the HELLO asked for shaping and the node grants it: what the node applies to its
   * sends on this connection, and the client to its own (§10.1). The client may send PAD frames.
   */
  shaping?: HelloShaping;
  /**
   * Only on a node of a cluster (`cluster.nodes`): the OAP URLs of the cluster's nodes, this one
   * included. A client may fail over to any of them (§8.2).
   */
  nodes?: string[];
  services: HelloService[];
  limits: {
    max_cap_len: number;
    max_meta_len: number;
    /** Deadline applied when a request names none, in ms. */
    default_deadline_ms: number;
    /** The caps COMP request bodies are inflated within (§10); absent from nodes without COMP. */
    comp?: CompLimits;
  };
}

export type HelloCapResult =
  | { bound: true; token_id: string; expires_at?: number }
  | { bound: false; code: number; reason: string; message: string };

/** Meta of the control EVENT a node pushes when its revocation sequence moves. */
export interface RevokedEvent {
  event: "revoked";
  rev_seq: number;
}

export function isHelloReply(value: unknown): value is HelloReply {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    Array.isArray(v.versions) &&
    typeof v.max_frame === "number" &&
    typeof v.max_inflight === "number" &&
    typeof v.flags_supported === "number"
  );
}
