import { WS_PATH } from "@omnigate/oap";

export const OAP_SCHEME = "oap+tls:";
export const WSS_SCHEME = "wss:";
/** Default port of a node's TLS listener: what `oap+tls://host` means without a port. */
export const DEFAULT_PORT = 9443;
/** Default port of a node's WebSocket listener (ws.listen). */
export const DEFAULT_WS_PORT = 9444;
/** Environment variable naming the node when `connect()` is given no URL. */
export const NODE_URL_ENV = "RON_NODE_URL";
/** The node a client reaches when given no URL and no $RON_NODE_URL: a local node's default listener. */
export const DEFAULT_NODE_URL = `oap+tls://127.0.0.1:${DEFAULT_PORT}`;

const EXPECTED = "oap+tls://host:port or wss://host:port/oap";

/** Which transport carries OAP/1 to the node: TLS (oap+tls://) or secure WebSocket (wss://). */
export type NodeTransport = "tls" | "wss";

/** A node's URL, parsed: what parseNodeUrl returns and the client dials. */
export interface NodeAddress {
  /** TLS or secure WebSocket. */
  transport: NodeTransport;
  /** Host name or IP address, as written in the URL (IPv6 without brackets). */
  host: string;
  /** TCP port (the transport's default when the URL names none). */
  port: number;
}

/**
 * Parses `oap+tls://host[:port]` (port defaults to 9443) or `wss://host[:port][/oap]` (port
 * defaults to 9444; the path, if any, must be /oap).
 */
export function parseNodeUrl(url: string): NodeAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`"${url}" is not a valid URL; expected ${EXPECTED}`);
  }
  const transport = transportOf(parsed, url);
  if (parsed.hostname === "") throw new TypeError(`"${url}" names no host; expected ${EXPECTED}`);
  // OAP/1 gives no meaning to user information, a path, a query or a fragment (specs/oap-1.md §12).
  // An empty "@", "?" or "#" leaves no trace in the parsed fields, so the raw text is checked too.
  const authority = /^[^:]+:\/\/([^/?#]*)/.exec(url)?.[1] ?? "";
  if (parsed.username !== "" || parsed.password !== "" || authority.includes("@")) {
    throw new TypeError(
      `"${redact(parsed)}" has user information; an OAP node URL is only ${EXPECTED} (credentials travel as capabilities)`,
    );
  }
  if (parsed.search !== "" || url.includes("?")) {
    throw new TypeError(`"${url}" has a query; an OAP node URL is only ${EXPECTED}`);
  }
  if (parsed.hash !== "" || url.includes("#")) {
    throw new TypeError(`"${url}" has a fragment; an OAP node URL is only ${EXPECTED}`);
  }
  const paths = transport === "wss" ? ["/", WS_PATH] : ["", "/"];
  if (!paths.includes(parsed.pathname)) {
    throw new TypeError(
      transport === "wss"
        ? `"${url}" has the path ${parsed.pathname}; a node serves OAP/1 over WebSocket only on ${WS_PATH}`
        : `"${url}" has a path; an OAP node URL is only ${EXPECTED}`,
    );
  }
  // WHATWG URL keeps the brackets of an IPv6 literal; sockets want the bare address.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  return { transport, host, port: portOf(parsed, authority, transport) };
}

function transportOf(parsed: URL, url: string): NodeTransport {
  if (parsed.protocol === OAP_SCHEME) return "tls";
  if (parsed.protocol === WSS_SCHEME) return "wss";
  const scheme = parsed.protocol.replace(/:$/, "");
  if (scheme === "ws") {
    throw new TypeError(
      `"${url}" is plain WebSocket; a node speaks OAP/1 over WebSocket only with TLS: wss://host:port/oap`,
    );
  }
  throw new TypeError(
    `unsupported scheme "${scheme}" in "${url}"; an Omnigate node is reached at ${EXPECTED}`,
  );
}

/**
 * The port named in the URL, else the transport's default. wss is a special scheme, so the
 * URL parser drops an explicit :443; the raw authority still has it.
 */
function portOf(parsed: URL, authority: string, transport: NodeTransport): number {
  if (parsed.port !== "") return Number(parsed.port);
  const explicit = /:(\d+)$/.exec(authority)?.[1];
  if (explicit !== undefined) return Number(explicit);
  return transport === "wss" ? DEFAULT_WS_PORT : DEFAULT_PORT;
}

/** The URL a WebSocket to `address` opens: `wss://host:port/oap`. */
export function webSocketUrl(address: NodeAddress): string {
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return `wss://${host}:${address.port}${WS_PATH}`;
}

/** The node as named in messages: `host:port`. */
export function describeAddress(address: NodeAddress): string {
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

/** The URL without its password, for messages. */
function redact(parsed: URL): string {
  const copy = new URL(parsed.href);
  if (copy.password !== "") copy.password = "***";
  return copy.href;
}

/**
 * The URL to use: the one given, else $RON_NODE_URL, else the node `npm start` runs on this
 * machine (DEFAULT_NODE_URL).
 */
export function resolveNodeUrl(url: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return url || env[NODE_URL_ENV] || DEFAULT_NODE_URL;
}
