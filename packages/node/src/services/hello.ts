import {
  AppProtoId,
  FLAGS_SUPPORTED,
  type HelloCapResult,
  type HelloReply,
  MAX_META_LEN,
  type Meta,
  OAP_VERSION,
  OapError,
  type RevokedEvent,
} from "@omnigate/oap";
import type { ConnectionContext, IncomingRequest, ResponseWriter, Service } from "@omnigate/sdk/internal";
import type { Authority } from "../auth/authority.js";
import { clusterNodeUrls } from "../config/cluster-nodes.js";
import type { NodeConfig } from "../config/index.js";
import type { Router } from "../gateway/router.js";
import type { ShapingMetrics } from "../metrics/shaping-metrics.js";
import { grantShaping, shapingSettings } from "./shaping-grant.js";

/**
 * The control service on app_proto_id 0:
 * - HELLO (no `op`): what this node speaks, the limits a client must honour, `rev_seq`, the
 *   binding of a capability sent with it as the connection's default, and the traffic shaping
 *   granted (specs/oap-1.md §10.1), applied to the node's sends right after the reply;
 * - `op: "revocations", since: n`: the revocations after `rev_seq` n (needs a capability);
 * and it pushes `{event: "revoked", rev_seq}` EVENTs to every connection that said HELLO
 * when the revocation sequence moves.
 */
export class HelloService implements Service {
  readonly appProtoId = AppProtoId.CONTROL;
  readonly name = "control";
  private readonly listeners = new Set<ConnectionContext>();
  /** `cluster.nodes`, checked when the config was loaded. */
  private readonly clusterNodes: string[];

  constructor(
    private readonly config: NodeConfig,
    private readonly router: Router,
    private readonly authority?: Authority,
    private readonly shapingMetrics?: ShapingMetrics,
  ) {
    authority?.revocations.onRevoked((r) => this.announce(r.seq));
    this.clusterNodes = clusterNodeUrls(config.clusterNodes);
  }

  reply(): HelloReply {
    const c = this.config;
    const reply: HelloReply = {
      versions: [OAP_VERSION],
      max_frame: c.maxFrame,
      max_inflight: c.maxInflight,
      flags_supported: FLAGS_SUPPORTED,
      transports: c.wsListen === "" ? ["tls"] : ["tls", "wss"],
      node_id: c.nodeId,
      rev_seq: this.authority?.revSeq ?? 0,
      auth: this.authority?.enabled ? "on" : "off",
      services: this.router.list().map((s) => ({ app_proto_id: s.appProtoId, name: s.name })),
      limits: {
        max_cap_len: c.maxCapLen,
        max_meta_len: MAX_META_LEN,
        default_deadline_ms: c.defaultDeadlineMs,
        comp: {
          max_output_bytes: c.compMaxOutputBytes,
          max_ratio: c.compMaxRatio,
          ratio_grace_bytes: c.compRatioGraceBytes,
        },
      },
    };
    if (this.clusterNodes.length > 0) reply.nodes = this.clusterNodes;
    return reply;
  }

  handle(req: IncomingRequest, res: ResponseWriter): void {
    if (req.meta.op === "revocations") return this.revocations(req, res);
    if (req.meta.op !== undefined) {
      throw new OapError("unsupported", `the control service has no op ${JSON.stringify(req.meta.op)}`);
    }
    const reply = this.reply();
    if (req.cap.length > 0 && this.authority?.enabled) reply.cap = this.bind(req);
    this.listen(req.connection);
    const shaping = this.grant(req, reply.cap?.bound === true);
    if (shaping) reply.shaping = shaping;
    res.reply(200, reply as unknown as Meta);
    // After the reply, so the reply itself goes out unshaped; a later HELLO replaces the shaping.
    req.connection.shapeOutput(
      shaping && shapingSettings(shaping, this.config.maxFrame),
      this.shapingMetrics?.observer,
    );
  }

  /**
   * The shaping this HELLO is granted: none when the node has it off or the transport is
   * WebSocket. Cover traffic spends the node's bandwidth for as long as the connection stays
   * open, so with capabilities checked it goes only to a HELLO that bound one.
   */
  private grant(req: IncomingRequest, capBound: boolean): HelloReply["shaping"] {
    const c = this.config;
    if (c.shapingEnabled !== "true" || !req.connection.canShape) return undefined;
    const mayCover = capBound || !this.authority?.enabled;
    const granted = grantShaping(req.meta.shaping, {
      maxJitterMs: c.shapingMaxJitterMs,
      maxCoverHz: mayCover ? c.shapingMaxCoverHz : 0,
      maxCoverBytes: c.shapingMaxCoverBytes,
    });
    if (granted) this.shapingMetrics?.grantedShaping();
    return granted;
  }

  /** Verifies a HELLO's capability and makes it the connection's default; a bad one is reported, not fatal. */
  private bind(req: IncomingRequest): HelloCapResult {
    try {
      const cap = (this.authority as Authority).verifyBinding(req.cap, req.tenantId);
      // A copy: req.cap views the received chunk, which the connection must not pin for its lifetime.
      req.connection.boundCap = Uint8Array.from(req.cap);
      return { bound: true, token_id: cap.tokenId, ...(cap.expiresAt ? { expires_at: cap.expiresAt } : {}) };
    } catch (err) {
      if (!(err instanceof OapError)) throw err;
      req.connection.boundCap = undefined;
      return { bound: false, code: err.code, reason: err.reason, message: err.message };
    }
  }

  private revocations(req: IncomingRequest, res: ResponseWriter): void {
    const authority = this.authority;
    if (!authority) throw new OapError("unsupported", "this node keeps no revocations");
    // Who was revoked is not public: only a holder of a valid capability may ask.
    const cap = req.cap.length > 0 ? req.cap : req.connection.boundCap;
    if (authority.enabled) {
      if (!cap) throw new OapError("unauthenticated", "fetching revocations needs a capability");
      authority.verifyBinding(cap, req.tenantId);
    }
    const since = req.meta.since ?? 0;
    if (typeof since !== "number" || !Number.isSafeInteger(since) || since < 0) {
      throw new OapError("bad_meta", "since must be a rev_seq (an integer ≥ 0)");
    }
    res.reply(200, { rev_seq: authority.revSeq, revocations: authority.revocations.since(since) } as Meta);
  }

  private listen(connection: ConnectionContext): void {
    if (this.listeners.has(connection) || connection.closed) return;
    this.listeners.add(connection);
    connection.onClose(() => this.listeners.delete(connection));
  }

  private announce(revSeq: number): void {
    const event: RevokedEvent = { event: "revoked", rev_seq: revSeq };
    for (const connection of this.listeners) connection.pushEvent({ meta: event as unknown as Meta });
  }
}
