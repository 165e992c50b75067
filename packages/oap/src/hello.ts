/** Meta of a HELLO request (app_proto_id 0, REQ|START|END). All fields optional. */
export interface HelloRequest {
  /** Versions the client speaks, newest first. */
  versions?: number[];
  /** Free-form client identifier, e.g. "omnigate-sdk-ts/0.1.0". */
  client?: string;
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
