/**
 * Which web pages may open an OAP/1 WebSocket, by their `Origin` header. A browser always
 * sends it, so this is what stops a page of another site from using a visitor's browser (and
 * its network position) against the node; a client that sends none is not a browser.
 */
export type OriginPolicy =
  /** Pages whose host name is the one the client dialled (any scheme or port). */
  | { kind: "same_host" }
  | { kind: "any" }
  /** Exactly these origins (scheme://host[:port]). */
  | { kind: "list"; origins: ReadonlySet<string> };

/**
 * Parses the `ws.allowed_origins` setting: empty = same host only, `*` = any, else a
 * comma-separated list of origins. Throws a TypeError naming an entry that is not an origin.
 */
export function parseOriginPolicy(setting: string): OriginPolicy {
  const text = setting.trim();
  if (text === "") return { kind: "same_host" };
  if (text === "*") return { kind: "any" };
  const origins = new Set<string>();
  for (const entry of text
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "")) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new TypeError(
        `"${entry}" is not an origin; expected scheme://host[:port], e.g. https://app.example`,
      );
    }
    if (url.origin === "null" || (url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
      throw new TypeError(`"${entry}" is not an origin; expected scheme://host[:port] with nothing after it`);
    }
    origins.add(url.origin);
  }
  return { kind: "list", origins };
}

/** Whether a page of `origin` may connect, given the `Host` the client asked for. */
export function originAllowed(
  policy: OriginPolicy,
  origin: string | undefined,
  host: string | undefined,
): boolean {
  if (origin === undefined) return true;
  switch (policy.kind) {
    case "any":
      return true;
    case "list":
      return policy.origins.has(origin);
    case "same_host": {
      const pageHost = hostnameOf(origin);
      return pageHost !== undefined && host !== undefined && pageHost === hostnameOf(`wss://${host}`);
    }
  }
}

function hostnameOf(url: string): string | undefined {
  try {
    const hostname = new URL(url).hostname;
    return hostname === "" ? undefined : hostname.toLowerCase();
  } catch {
    return undefined;
  }
}
