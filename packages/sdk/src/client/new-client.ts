import { SILENT_LOGGER } from "../logger.js";
import { OapClient } from "./client.js";
import type { ConnectOptions, ResolvedClientOptions } from "./options.js";
import type { ClientPlatform } from "./platform.js";
import type { TransportOpener } from "./transport.js";
import { describeAddress, type NodeAddress } from "./url.js";

/** A client that dials `address` with `open`: what createClient() in Node and in a page share. */
export function newClient(
  open: TransportOpener,
  address: NodeAddress,
  options: ConnectOptions,
  resolved: ResolvedClientOptions,
  platform: ClientPlatform,
): OapClient {
  return new OapClient(
    {
      open,
      target: describeAddress(address),
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
