import { OapClient } from "./client.js";
import { SILENT_LOGGER } from "./logger.js";
import { type ConnectOptions, resolveClientOptions } from "./options.js";
import { resolveTrust } from "./trust.js";
import { parseNodeUrl, resolveNodeUrl } from "./url.js";

/**
 * Connects to an Omnigate node at `oap+tls://host:port` (default port 9443; default URL from
 * $RON_NODE_URL): TLS 1.3 with ALPN oap/1, then HELLO. Resolves once the node has answered the
 * HELLO; rejects with OapConnectionError (reason "tls_untrusted" when the certificate is not trusted).
 */
export async function connect(url?: string, options?: ConnectOptions): Promise<OapClient>;
export async function connect(options: ConnectOptions): Promise<OapClient>;
export async function connect(
  urlOrOptions?: string | ConnectOptions,
  maybeOptions: ConnectOptions = {},
): Promise<OapClient> {
  const [url, options] =
    typeof urlOrOptions === "object" ? [undefined, urlOrOptions] : [urlOrOptions, maybeOptions];
  const client = await createClient(url, options);
  await client.start();
  return client;
}

/**
 * A client that has not connected yet: the first call dials (TLS and HELLO), and so does every
 * call after the connection was lost. For callers that must exist before their peer is up, such
 * as the node's connections to app backends. Rejects only on bad options (URL, trust files).
 */
export async function createClient(url?: string, options: ConnectOptions = {}): Promise<OapClient> {
  const address = parseNodeUrl(resolveNodeUrl(url));
  const resolved = resolveClientOptions(options);
  const trust = await resolveTrust(options, address.host);
  return new OapClient(
    {
      address,
      trust,
      connectTimeoutMs: resolved.connectTimeoutMs,
      tenant: resolved.tenant,
      helloCap: () => resolved.cap,
      maxBufferedBytes: resolved.maxBufferedBytes,
      unreadGraceMs: resolved.defaultDeadlineMs,
      logger: options.logger ?? SILENT_LOGGER,
    },
    resolved,
  );
}
