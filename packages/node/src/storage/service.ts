import { AppProtoId, OapError } from "@omnigate/oap";
import type { IncomingRequest, ResponseWriter } from "@omnigate/sdk";
import type { ManagedService } from "../kernel/lifecycle.js";
import type { Logger } from "../log.js";
import type { StorageMetrics } from "../metrics/storage-metrics.js";
import type { ObjectAddress } from "./address.js";
import { BlockPool } from "./block-pool.js";
import type { StorageEngine } from "./engine.js";
import { toOapError } from "./errors.js";
import { get, has, type ObjectFinder, peerGet } from "./get.js";
import type { GetDeps } from "./get-deps.js";
import { tenantNamespace } from "./namespaces.js";
import { put, storeBytes } from "./put.js";

/** How storage reaches other nodes (the DHT): announce public objects, find missing ones. */
export interface StorageNetwork {
  /** A public object is stored here now (PUT or fetched): tell the network this node has it. */
  announce(addr: ObjectAddress): void;
  /** Fetch-through: finds, verifies and stores an object this node lacks. */
  findElsewhere: ObjectFinder;
}

export interface StorageSettings {
  maxObjectBytes: number;
  chunkBytes: number;
}

/** The operations, named by meta `op` (capability ops `storage.put|get|has`). */
const OPS = ["put", "get", "has"] as const;

/**
 * Content-addressed storage on app id 0x0301 (docs/storage.md): PUT, HAS and GET of objects
 * addressed by the BLAKE3 digest of their bytes, per tenant, streamed in chunks.
 */
export class StorageService implements ManagedService {
  readonly appProtoId = AppProtoId.STORAGE;
  readonly name = "storage";
  /** Read blocks of GETs, reused; at most 32 MiB of them idle. */
  readonly blocks = new BlockPool(32 * 1024 * 1024);
  private network: StorageNetwork | undefined;

  constructor(
    readonly engine: StorageEngine,
    private readonly settings: StorageSettings,
    private readonly metrics: StorageMetrics,
    private readonly log: Logger,
  ) {
    metrics.readTotalsFrom(() => engine.totals());
  }

  async start(): Promise<void> {
    await this.engine.open();
  }

  async stop(): Promise<void> {
    await this.engine.close();
  }

  /**
   * Stores bytes the node itself made (a settlement record) in a tenant's namespace, as a PUT
   * by that tenant would; returns the object's address.
   */
  storeForTenant(tenantId: bigint, bytes: Uint8Array): Promise<ObjectAddress> {
    if (bytes.byteLength > this.settings.maxObjectBytes) {
      return Promise.reject(new Error(`${bytes.byteLength} bytes is over storage.max_object_bytes`));
    }
    return storeBytes(this.engine, tenantNamespace(tenantId), bytes);
  }

  /** A peer's chunk-verified read of a public object (op `fetch` of the node-to-node app id). */
  async peerFetch(req: IncomingRequest, res: ResponseWriter): Promise<void> {
    try {
      return await peerGet(this.getDeps(), req, res);
    } catch (error) {
      if (req.signal.aborted) return;
      throw toOapError(error, this.log, "fetch");
    }
  }

  private getDeps(): GetDeps {
    return {
      engine: this.engine,
      metrics: this.metrics,
      log: this.log,
      chunkBytes: this.settings.chunkBytes,
      blocks: this.blocks,
    };
  }

  /** Joins storage to the node network (set once the DHT is up). */
  connect(network: StorageNetwork): void {
    this.network = network;
  }

  async handle(req: IncomingRequest, res: ResponseWriter): Promise<void> {
    const op = req.meta.op;
    try {
      switch (op) {
        case "put":
          return await put(this.engine, this.settings.maxObjectBytes, req, res, (addr) =>
            this.network?.announce(addr),
          );
        case "get":
          return await get(this.getDeps(), req, res, this.network?.findElsewhere);
        case "has":
          return await has(this.engine, req, res);
        default:
          throw new OapError(
            "unsupported",
            `storage has no op ${JSON.stringify(op ?? null)}; meta "op" must be one of ${OPS.join(", ")}`,
          );
      }
    } catch (error) {
      // A torn-down stream (client gone, deadline passed) surfaces here as an abort; the
      // session already answered it.
      if (req.signal.aborted) return;
      throw toOapError(error, this.log, String(op));
    }
  }
}
