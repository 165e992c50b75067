export const OAP_SCHEME = "oap+tls:";
export const DEFAULT_PORT = 9443;
/** Environment variable naming the node when `connect()` is given no URL. */
export const NODE_URL_ENV = "RON_NODE_URL";

export interface NodeAddress {
  host: string;
  port: number;
}

/** Parses `oap+tls://host[:port]` (port defaults to 9443). */
export function parseNodeUrl(url: string): NodeAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`"${url}" is not a valid URL; expected oap+tls://host:port`);
  }
  if (parsed.protocol !== OAP_SCHEME) {
    throw new TypeError(
      `unsupported scheme "${parsed.protocol.replace(/:$/, "")}" in "${url}"; an Omnigate node is reached at oap+tls://host:port`,
    );
  }
  if (parsed.hostname === "") throw new TypeError(`"${url}" names no host; expected oap+tls://host:port`);
  // OAP/1 gives no meaning to user information, a path, a query or a fragment (specs/oap-1.md §12).
  // An empty "@", "?" or "#" leaves no trace in the parsed fields, so the raw text is checked too.
  const authority = /^[^:]+:\/\/([^/?#]*)/.exec(url)?.[1] ?? "";
  if (parsed.username !== "" || parsed.password !== "" || authority.includes("@")) {
    throw new TypeError(
      `"${redact(parsed)}" has user information; an OAP node URL is only oap+tls://host:port (credentials travel as capabilities)`,
    );
  }
  if (parsed.search !== "" || url.includes("?")) {
    throw new TypeError(`"${url}" has a query; an OAP node URL is only oap+tls://host:port`);
  }
  if (parsed.hash !== "" || url.includes("#")) {
    throw new TypeError(`"${url}" has a fragment; an OAP node URL is only oap+tls://host:port`);
  }
  if (parsed.pathname !== "" && parsed.pathname !== "/") {
    throw new TypeError(`"${url}" has a path; an OAP node URL is only oap+tls://host:port`);
  }
  // WHATWG URL keeps the brackets of an IPv6 literal; sockets want the bare address.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = parsed.port === "" ? DEFAULT_PORT : Number(parsed.port);
  return { host, port };
}

/** The URL without its password, for messages. */
function redact(parsed: URL): string {
  const copy = new URL(parsed.href);
  if (copy.password !== "") copy.password = "***";
  return copy.href;
}

/** The URL to use: the one given, else $RON_NODE_URL. */
export function resolveNodeUrl(url: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = url ?? env[NODE_URL_ENV];
  if (chosen === undefined || chosen === "") {
    throw new TypeError(`no node URL given and ${NODE_URL_ENV} is not set; pass oap+tls://host:port`);
  }
  return chosen;
}
