import { ConfigError } from "./error.js";
import type { NodeConfig } from "./schema.js";

/** The largest object S3's CopyObject copies in one request. */
const S3_MAX_COPY_BYTES = 5 * 1024 ** 3;

/** `mailbox.nats_urls`: comma-separated, blanks ignored. */
export function natsUrls(list: string): string[] {
  return list
    .split(",")
    .map((url) => url.trim())
    .filter((url) => url.length > 0);
}

/**
 * What the chosen engines cannot start without. Config load calls it, so a file or flag that
 * misses a setting is refused at start; each engine opener calls its half too, for configs
 * built in code. One place, so both say the same.
 */
export function checkEngineSettings(config: MailboxEngineSettings & StorageEngineSettings): void {
  checkMailboxSettings(config);
  checkStorageSettings(config);
}

type MailboxEngineSettings = Pick<NodeConfig, "mailboxEngine" | "mailboxRedisUrl" | "mailboxNatsUrls">;
type StorageEngineSettings = Pick<
  NodeConfig,
  "storageEngine" | "storageS3Endpoint" | "storageMaxObjectBytes"
>;

/** What `mailbox.engine` cannot start without. */
export function checkMailboxSettings(config: MailboxEngineSettings): void {
  if (config.mailboxEngine === "redis" && !config.mailboxRedisUrl) {
    throw new ConfigError("mailbox.engine = redis needs mailbox.redis_url (redis://host:port)");
  }
  if (config.mailboxEngine === "jetstream" && natsUrls(config.mailboxNatsUrls).length === 0) {
    throw new ConfigError(
      "mailbox.engine = jetstream needs mailbox.nats_urls (comma-separated nats://host:port of the cluster)",
    );
  }
}

/** What `storage.engine` cannot start without. */
export function checkStorageSettings(config: StorageEngineSettings): void {
  if (config.storageEngine !== "s3") return;
  if (!config.storageS3Endpoint) {
    throw new ConfigError(
      "storage.engine = s3 needs storage.s3_endpoint (http(s)://host:port of the S3 API)",
    );
  }
  // An object is moved to its address with CopyObject, which S3 limits to 5 GiB.
  if (config.storageMaxObjectBytes > S3_MAX_COPY_BYTES) {
    throw new ConfigError(
      `storage.engine = s3 stores objects of at most 5 GiB (${S3_MAX_COPY_BYTES} bytes): ` +
        `storage.max_object_bytes is ${config.storageMaxObjectBytes}`,
    );
  }
}
