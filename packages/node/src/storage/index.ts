import { join } from "node:path";
import { checkStorageSettings, type NodeConfig } from "../config/index.js";
import type { Logger } from "../log.js";
import type { StorageMetrics } from "../metrics/storage-metrics.js";
import type { StorageEngine } from "./engine.js";
import { FsEngine } from "./fs-engine.js";
import { MemoryEngine } from "./memory-engine.js";
import { LazyS3Engine } from "./s3-lazy.js";
import { StorageService } from "./service.js";

export * from "./address.js";
export * from "./engine.js";
export { FsEngine } from "./fs-engine.js";
export { MemoryEngine } from "./memory-engine.js";
export { type LocatedObject, PUBLIC_NAMESPACE, tenantNamespace } from "./namespaces.js";
export { StorageService } from "./service.js";

/**
 * The engine `storage.engine` names: files under data_dir/storage, memory, or an S3 bucket (its
 * SDK loaded only when the engine opens).
 */
export function createStorageEngine(config: NodeConfig): StorageEngine {
  checkStorageSettings(config);
  if (config.storageEngine === "memory") return new MemoryEngine(config.storageMemoryMaxBytes);
  if (config.storageEngine === "s3") {
    return new LazyS3Engine({
      endpoint: config.storageS3Endpoint,
      bucket: config.storageS3Bucket,
      region: config.storageS3Region,
      accessKeyId: config.storageS3AccessKeyId,
      secretAccessKey: config.storageS3SecretAccessKey,
      forcePathStyle: config.storageS3ForcePathStyle === "true",
    });
  }
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
