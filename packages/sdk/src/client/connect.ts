import type { OapClient } from "./client.js";
import { withLocalDevCredentials } from "./local-node.js";
import { newClient } from "./new-client.js";
import { NODE_PLATFORM } from "./node-platform.js";
import { type ConnectOptions, resolveClientOptions } from "./options.js";
import { openTls } from "./tls-transport.js";
import type { TransportOpener } from "./transport.js";
import { resolveTrust } from "./trust.js";
import { parseNodeUrl, resolveNodeUrl } from "./url.js";
import { openNodeWebSocket } from "./wss-transport.js";

/**
 * Connects to an Omnigate node at `oap+tls://host:port` (default port 9443: TLS 1.3 with
 * ALPN oap/1) or `wss://host:port/oap` (default port 9444: a secure WebSocket with
 * subprotocol oap.1), then HELLO. Without a URL it is $RON_NODE_URL, else the local default
 * oap+tls://127.0.0.1:9443; for a node on this machine with no trust option or cap given, the
 * dev CA and dev capability in its data dir (`$OMNIGATE_DATA_DIR`, else defaultDataDir()) are
 * used. Both transports take the same trust options. Resolves once the node has answered the
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
 * A client that has not connected yet: the first call dials (TLS or WebSocket, and HELLO), and
 * so does every call after the connection was lost. For callers that must exist before their
 * peer is up, such as the node's connections to app backends. Rejects only on bad options
 * (URL, trust files).
 */
export async function createClient(url?: string, options: ConnectOptions = {}): Promise<OapClient> {
  const address = parseNodeUrl(resolveNodeUrl(url));
  const local = withLocalDevCredentials(options, address.host, process.env);
  const resolved = resolveClientOptions(local, process.env);
  const trust = await resolveTrust(local, address.host);
  const open: TransportOpener =
    address.transport === "wss"
      ? (signal) => openNodeWebSocket(address, trust, signal)
      : (signal) => openTls(address, trust, signal);
  return newClient(open, address, local, resolved, NODE_PLATFORM);
}
