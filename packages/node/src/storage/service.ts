import { AppProtoId, OapError } from "@omnigate/oap";
import type { IncomingRequest, ResponseWriter } from "@omnigate/sdk";
import type { ManagedService } from "../kernel/lifecycle.js";
import type { Logger } from "../log.js";
import type { StorageMetrics } from "../metrics/storage-metrics.js";
import { BlockPool } from "./block-pool.js";
import type { StorageEngine } from "./engine.js";
import { toOapError } from "./errors.js";
import { get, has } from "./get.js";
import { put } from "./put.js";

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

  async handle(req: IncomingRequest, res: ResponseWriter): Promise<void> {
    const op = req.meta.op;
    try {
      switch (op) {
        case "put":
          return await put(this.engine, this.settings.maxObjectBytes, req, res);
        case "get":
          return await get(
            {
              engine: this.engine,
              metrics: this.metrics,
              log: this.log,
              chunkBytes: this.settings.chunkBytes,
              blocks: this.blocks,
            },
            req,
            res,
          );
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
