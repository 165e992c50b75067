import { formatAppProtoId } from "@omnigate/oap";
import { createClient, type OapClient } from "@omnigate/sdk";
import { type AppSettings, ConfigError } from "../config/index.js";
import type { Logger } from "../log.js";

/** A connect attempt to a backend never waits longer than this, even with a long timeout_ms. */
const MAX_CONNECT_TIMEOUT_MS = 10_000;

/**
 * `pool_size` SDK clients to one app backend, each one OAP connection that dials on first use
 * and again after it was lost (so a backend that comes back gets traffic without a node
 * restart). Each connection remaps corr_ids on its own and honours the backend's max_inflight.
 */
export class BackendPool {
  private next = 0;

  private constructor(private readonly clients: OapClient[]) {}

  static async open(app: AppSettings, log: Logger): Promise<BackendPool> {
    const trust = app.insecure
      ? { insecure: true }
      : {
          ...(app.caFile ? { caFile: app.caFile } : {}),
          ...(app.fingerprint ? { fingerprint: app.fingerprint } : {}),
        };
    const options = {
      ...trust,
      maxBufferedBytes: app.bufferBytes,
      connectTimeoutMs: Math.min(app.timeoutMs, MAX_CONNECT_TIMEOUT_MS),
      logger: log,
    };
    let clients: OapClient[];
    try {
      clients = await Promise.all(
        Array.from({ length: app.poolSize }, () => createClient(app.backend, options)),
      );
    } catch (err) {
      // The URL and fingerprint were checked with the config; what is left is reading ca_file.
      throw new ConfigError(
        `app ${formatAppProtoId(app.id)}: cannot use its backend trust settings: ${(err as Error).message}`,
      );
    }
    return new BackendPool(clients);
  }

  /** The connection for the next stream (round robin). */
  pick(): OapClient {
    const client = this.clients[this.next] as OapClient;
    this.next = (this.next + 1) % this.clients.length;
    return client;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.close()));
  }
}
