import type { Logger } from "../log.js";
import type { StorageMetrics } from "../metrics/storage-metrics.js";
import type { BlockPool } from "./block-pool.js";
import type { StorageEngine } from "./engine.js";

/** What a GET (plain or chunk-verified) reads with and reports to. */
export interface GetDeps {
  engine: StorageEngine;
  metrics: StorageMetrics;
  log: Logger;
  chunkBytes: number;
  /** Where read blocks come from and go back to once written. */
  blocks: BlockPool;
}
