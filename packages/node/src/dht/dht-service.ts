import { type Contact, type DhtNode, DhtRefusal, idFromHex, type ProviderRecord } from "@omnigate/dht";
import { AppProtoId, OapError } from "@omnigate/oap";
import type { IncomingRequest, ResponseWriter } from "@omnigate/sdk";
import type { ManagedService } from "../kernel/lifecycle.js";
import type { StorageService } from "../storage/index.js";
import type { DhtMetrics } from "./metrics.js";
import type { NodeCapabilities } from "./node-capability.js";
import { contactToWire, idFromMeta, providerToWire, urlFromMeta } from "./wire.js";

/** The ops of the node-to-node app id, as meta `op` names them. */
const OPS = ["ping", "find_node", "find_providers", "add_provider", "fetch"] as const;
type Op = (typeof OPS)[number];

/**
 * The node-to-node app id 0x0401 (specs/oap-1.md §11.2): the DHT's four RPCs and `fetch`, a
 * chunk-verified read of a public object. Every request carries a node capability (minted
 * under the network key, bound to the caller's id by its topic); the node's tenant capability
 * check does not apply here. Only an authenticated caller reaches the DHT core, so only real
 * peers enter the routing table.
 */
export class DhtService implements ManagedService {
  readonly appProtoId = AppProtoId.DHT;
  readonly name = "dht";
  private node: DhtNode | undefined;

  constructor(
    private readonly caps: NodeCapabilities,
    private readonly storage: StorageService,
    private readonly metrics: DhtMetrics,
    private readonly now: () => number = Date.now,
  ) {}

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  /** The DHT core this service answers for (set once the node knows its own URL). */
  attach(node: DhtNode): void {
    this.node = node;
  }

  async handle(req: IncomingRequest, res: ResponseWriter): Promise<void> {
    const op = req.meta.op as Op;
    if (!OPS.includes(op)) {
      this.metrics.refused("unsupported");
      throw new OapError(
        "unsupported",
        `the node-to-node app has no op ${JSON.stringify(req.meta.op ?? null)}; meta "op" must be one of ${OPS.join(", ")}`,
      );
    }
    let caller: Contact;
    try {
      const callerHex = this.caps.check(
        req.cap.byteLength > 0 ? req.cap : req.connection.boundCap,
        req.tenantId,
        op,
        req.meta.topic,
      );
      caller = { id: idFromHex(callerHex), address: urlFromMeta(req.meta) };
    } catch (error) {
      if (error instanceof OapError) this.metrics.refused(error.reason);
      throw error;
    }
    const node = this.node;
    if (!node) throw new OapError("not_ready", "this node's DHT is still starting", { retryAfterMs: 1000 });
    this.metrics.served(op);
    if (op === "fetch") return this.storage.peerFetch(req, res);
    try {
      res.reply(200, this.answer(node, op, caller, req.meta));
    } catch (error) {
      if (!(error instanceof DhtRefusal)) throw error;
      this.metrics.refused(error.reason);
      throw refusal(error);
    }
  }

  private answer(node: DhtNode, op: Exclude<Op, "fetch">, caller: Contact, meta: Record<string, unknown>) {
    switch (op) {
      case "ping":
        node.onPing(caller);
        return { id: contactToWire(node.self).id, url: node.self.address };
      case "find_node":
        return { closer: node.onFindNode(caller, idFromMeta(meta, "target")).map(contactToWire) };
      case "find_providers": {
        const answer = node.onFindProviders(caller, idFromMeta(meta, "key"));
        const now = this.now();
        return {
          providers: answer.providers.map((record) => providerToWire(record, now)),
          closer: answer.closer.map(contactToWire),
        };
      }
      case "add_provider": {
        const ttl = meta.ttl_ms;
        if (typeof ttl !== "number" || !Number.isSafeInteger(ttl) || ttl <= 0) {
          throw new OapError("bad_meta", 'meta "ttl_ms" must be a positive integer');
        }
        // The record's provider is the caller itself: the wire has no field to name another.
        const record: ProviderRecord = {
          key: idFromMeta(meta, "key"),
          provider: caller,
          expiresAt: this.now() + ttl,
        };
        node.onAddProvider(caller, record);
        return { stored: true };
      }
    }
  }
}

function refusal(error: DhtRefusal): OapError {
  switch (error.reason) {
    case "forged_provider":
      return new OapError("forbidden", error.message);
    case "store_full":
      return new OapError("quota", `provider store is full: ${error.message}`, { retryAfterMs: 60_000 });
    default:
      return new OapError("bad_meta", `${error.reason}: ${error.message}`);
  }
}
