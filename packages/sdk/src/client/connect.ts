import type { OapClient } from "./client.js";
import type { EndpointOpener } from "./endpoints.js";
import { withLocalDevCredentials } from "./local-node.js";
import { newClient } from "./new-client.js";
import { NODE_PLATFORM } from "./node-platform.js";
import { type ConnectOptions, resolveClientOptions } from "./options.js";
import { openTls } from "./tls-transport.js";
import { resolveTrust, type TrustSettings } from "./trust.js";
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
 *
 * Given several URLs (the nodes of a cluster, specs/oap-1.md §8.2), it connects to the first
 * that answers, and after a lost connection to the next: idempotent requests are retried there
 * and subscriptions opened again. The trust options apply to every node.
 */
export async function connect(url?: string | readonly string[], options?: ConnectOptions): Promise<OapClient>;
export async function connect(options: ConnectOptions): Promise<OapClient>;
export async function connect(
  urlOrOptions?: string | readonly string[] | ConnectOptions,
  maybeOptions: ConnectOptions = {},
): Promise<OapClient> {
  const [url, options] =
    typeof urlOrOptions === "object" && !isUrlList(urlOrOptions)
      ? [undefined, urlOrOptions]
      : [urlOrOptions, maybeOptions];
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
export async function createClient(
  url?: string | readonly string[],
  options: ConnectOptions = {},
): Promise<OapClient> {
  const urls = isUrlList(url) ? url : [resolveNodeUrl(url)];
  const addresses = urls.map(parseNodeUrl);
  const first = addresses[0];
  if (!first) throw new TypeError("give at least one node URL");
  const local = withLocalDevCredentials(options, first.host, process.env);
  const resolved = resolveClientOptions(local, process.env);
  // Trust is resolved up front for the URLs given (a bad CA file fails here), and on first use
  // for the nodes a cluster's HELLO adds.
  const trustByHost = new Map<string, Promise<TrustSettings>>();
  const trustFor = (host: string) => {
    let trust = trustByHost.get(host);
    if (!trust) {
      trust = resolveTrust(local, host);
      trust.catch(() => {});
      trustByHost.set(host, trust);
    }
    return trust;
  };
  await Promise.all(addresses.map((address) => trustFor(address.host)));
  const opener: EndpointOpener = (address) =>
    address.transport === "wss"
      ? async (signal) => openNodeWebSocket(address, await trustFor(address.host), signal)
      : async (signal) => openTls(address, await trustFor(address.host), signal);
  return newClient(opener, addresses, local, resolved, NODE_PLATFORM);
}

function isUrlList(value: unknown): value is readonly string[] {
  return Array.isArray(value);
}
