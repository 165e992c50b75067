/**
 * @omnigate/sdk in a browser (the package's "browser" export; `npm run build:browser` bundles
 * it): `connect("wss://host:port/oap")` over the page's WebSocket, with the same client as in
 * Node (request, stream, mailbox with SUBSCRIBE, storage with verified GET). It imports no
 * Node module: BLAKE3 is hash-wasm's, the page's TLS trust applies, and request bodies are
 * never zstd-compressed (COMP needs zstd-napi).
 *
 * @module @omnigate/sdk in a browser
 */
import { createWasmBlake3 } from "./blake3-wasm.js";
import { openBrowserWebSocket } from "./client/browser-wss-transport.js";
import type { OapClient } from "./client/client.js";
import { newClient } from "./client/new-client.js";
import { type ConnectOptions, resolveClientOptions } from "./client/options.js";
import type { ClientPlatform } from "./client/platform.js";
import type { PlatformWebSocketConstructor } from "./client/platform-websocket.js";
import { addressWith, type StorageAddress } from "./client/storage.js";
import { parseNodeUrl, webSocketUrl } from "./client/url.js";

/** Trust options of Node's connect(): a page's WebSocket trusts what the browser trusts. */
const NODE_TRUST_OPTIONS = ["ca", "caFile", "fingerprint", "insecure", "servername"] as const;

/**
 * connect() options in a browser: Node's, without the TLS trust options (`ca`, `caFile`,
 * `fingerprint`, `insecure`, `servername`), which the page's WebSocket cannot honour.
 */
export interface BrowserConnectOptions extends Omit<ConnectOptions, (typeof NODE_TRUST_OPTIONS)[number]> {
  /** The WebSocket class to dial with (default: the page's `WebSocket`). */
  WebSocket?: PlatformWebSocketConstructor;
}

const BROWSER_PLATFORM: ClientPlatform = {
  compress: undefined,
  createBlake3: createWasmBlake3,
  // Only Node warns about many listeners on one AbortSignal.
  allowManyListeners: () => {},
};

/**
 * Connects to a node at `wss://host:port/oap` (default port 9444) with subprotocol oap.1,
 * then HELLO. Resolves once the node has answered the HELLO; rejects with OapConnectionError.
 * Give a capability (`cap`) minted for this app, never a root key: a page's code and memory
 * are the user's to read.
 */
export async function connect(
  url: string | readonly string[],
  options: BrowserConnectOptions = {},
): Promise<OapClient> {
  const client = createClient(url, options);
  await client.start();
  return client;
}

/**
 * A client that dials on its first call (and again after the connection was lost). Given
 * several URLs (a cluster's nodes), it fails over among them as the Node client does.
 */
export function createClient(
  url: string | readonly string[],
  options: BrowserConnectOptions = {},
): OapClient {
  const urls: readonly string[] = typeof url === "string" ? [url] : url;
  const addresses = urls.map((each) => {
    const address = parseNodeUrl(each);
    if (address.transport !== "wss") {
      throw new TypeError(`"${each}" is not a wss:// URL; a page reaches a node only at wss://host:port/oap`);
    }
    return address;
  });
  for (const name of NODE_TRUST_OPTIONS) {
    if ((options as Record<string, unknown>)[name] !== undefined) {
      throw new TypeError(
        `${name} has no effect in a browser: the page's WebSocket trusts what the browser trusts`,
      );
    }
  }
  const WebSocketImpl =
    options.WebSocket ?? (globalThis as { WebSocket?: PlatformWebSocketConstructor }).WebSocket;
  if (!WebSocketImpl) throw new TypeError("this platform has no WebSocket; pass one as options.WebSocket");
  const resolved = resolveClientOptions(options, {});
  return newClient(
    (node) => {
      const nodeUrl = webSocketUrl(node);
      return (signal) => openBrowserWebSocket(nodeUrl, WebSocketImpl, signal);
    },
    addresses,
    options,
    resolved,
    BROWSER_PLATFORM,
  );
}

/** The address of some bytes (`b3:` + their BLAKE3 in hex). */
export function addressOf(bytes: Uint8Array): Promise<StorageAddress> {
  return addressWith(createWasmBlake3, bytes);
}

export { type Blake3, createWasmBlake3 as createBlake3 } from "./blake3-wasm.js";
export * from "./client/api.js";
export type {
  PlatformWebSocket,
  PlatformWebSocketConstructor,
  WebSocketEventLike,
  WebSocketEventType,
} from "./client/platform-websocket.js";
