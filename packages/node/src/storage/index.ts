import { join } from "node:path";
import type { NodeConfig } from "../config/index.js";
import type { Logger } from "../log.js";
import type { StorageMetrics } from "../metrics/storage-metrics.js";
import type { StorageEngine } from "./engine.js";
import { FsEngine } from "./fs-engine.js";
import { MemoryEngine } from "./memory-engine.js";
import { StorageService } from "./service.js";

export * from "./address.js";
export * from "./engine.js";
export { FsEngine } from "./fs-engine.js";
export { MemoryEngine } from "./memory-engine.js";
export { type LocatedObject, PUBLIC_NAMESPACE, tenantNamespace } from "./namespaces.js";
export { StorageService } from "./service.js";

/** The engine `storage.engine` names: files under data_dir/storage, or memory. */
export function createStorageEngine(config: NodeConfig): StorageEngine {
  if (config.storageEngine === "memory") return new MemoryEngine(config.storageMemoryMaxBytes);
  return new FsEngine(join(config.dataDir, "storage"));
}

export function createStorageService(
  config: NodeConfig,
  metrics: StorageMetrics,
  log: Logger,
): StorageService {
  return new StorageService(
    createStorageEngine(config),
    { maxObjectBytes: config.storageMaxObjectBytes, chunkBytes: config.storageChunkBytes },
    metrics,
    log,
  );
}
