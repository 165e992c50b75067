import { SILENT_LOGGER } from "../logger.js";
import { OapClient } from "./client.js";
import { type EndpointOpener, Endpoints } from "./endpoints.js";
import type { ConnectOptions, ResolvedClientOptions } from "./options.js";
import type { ClientPlatform } from "./platform.js";
import type { NodeAddress } from "./url.js";

/**
 * A client that dials `addresses` (one node, or several of a cluster) with `opener`: what
 * createClient() in Node and in a page share.
 */
export function newClient(
  opener: EndpointOpener,
  addresses: readonly NodeAddress[],
  options: ConnectOptions,
  resolved: ResolvedClientOptions,
  platform: ClientPlatform,
): OapClient {
  if (addresses.length === 0) throw new TypeError("give at least one node URL");
  return new OapClient(
    {
      endpoints: new Endpoints(addresses, opener),
      discoverNodes: options.discoverNodes ?? true,
      connectTimeoutMs: resolved.connectTimeoutMs,
      tenant: resolved.tenant,
      helloCap: () => resolved.cap,
      shaping: resolved.shaping,
      maxBufferedBytes: resolved.maxBufferedBytes,
      unreadGraceMs: resolved.defaultDeadlineMs,
      logger: options.logger ?? SILENT_LOGGER,
    },
    resolved,
    platform,
  );
}
