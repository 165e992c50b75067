import {
  AppProtoId,
  FLAGS_SUPPORTED,
  type HelloReply,
  MAX_META_LEN,
  type Meta,
  OAP_VERSION,
} from "@omnigate/oap";
import type { IncomingRequest, ResponseWriter, Service } from "@omnigate/sdk";
import type { NodeConfig } from "../config/index.js";
import type { Router } from "../gateway/router.js";

/** HELLO on app_proto_id 0: what this node speaks and the limits a client must honour. */
export class HelloService implements Service {
  readonly appProtoId = AppProtoId.CONTROL;
  readonly name = "control";

  constructor(
    private readonly config: NodeConfig,
    private readonly router: Router,
  ) {}

  reply(): HelloReply {
    const c = this.config;
    return {
      versions: [OAP_VERSION],
      max_frame: c.maxFrame,
      max_inflight: c.maxInflight,
      flags_supported: FLAGS_SUPPORTED,
      transports: ["tls"],
      node_id: c.nodeId,
      rev_seq: 0,
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
  }

  handle(_req: IncomingRequest, res: ResponseWriter): void {
    res.reply(200, this.reply() as unknown as Meta);
  }
}
