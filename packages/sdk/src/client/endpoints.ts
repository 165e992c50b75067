import type { TransportOpener } from "./transport.js";
import { describeAddress, type NodeAddress, parseNodeUrl } from "./url.js";

/** One node the client may dial. */
export interface Endpoint {
  readonly address: NodeAddress;
  /** The node as messages name it: host:port. */
  readonly target: string;
  /** Opens its transport (TLS, or a WebSocket upgrade) with the trust checks done. */
  readonly open: TransportOpener;
}

/** How a client opens a transport to one address (the platform's TLS or WebSocket opener). */
export type EndpointOpener = (address: NodeAddress) => TransportOpener;

/**
 * The nodes a client dials (specs/oap-1.md §8.2): the URLs it was given, then those a cluster's
 * HELLO lists. A dial starts at the node the client was last connected to; after that
 * connection is lost it starts at the next one, so traffic leaves a dead node at once instead
 * of waiting for its dial to fail.
 */
export class Endpoints {
  private readonly list: Endpoint[] = [];
  private readonly keys = new Set<string>();
  /** Index of the endpoint a dial tries first. */
  private first = 0;

  /** `addresses` is never empty: the URLs the client was created with. */
  constructor(
    addresses: readonly NodeAddress[],
    private readonly opener: EndpointOpener,
  ) {
    for (const address of addresses) this.add(address);
  }

  get size(): number {
    return this.list.length;
  }

  /** Every endpoint once, in the order a dial tries them. */
  inDialOrder(): Endpoint[] {
    return [...this.list.slice(this.first), ...this.list.slice(0, this.first)];
  }

  /** The client is connected to `endpoint`: later dials try it first. */
  connected(endpoint: Endpoint): void {
    const index = this.list.indexOf(endpoint);
    if (index >= 0) this.first = index;
  }

  /** The connection to `endpoint` was lost: the next dial tries the node after it first. */
  lost(endpoint: Endpoint): void {
    const index = this.list.indexOf(endpoint);
    if (index >= 0 && index === this.first) this.first = (index + 1) % this.list.length;
  }

  /**
   * Adds the nodes a cluster's HELLO lists (`nodes`). Only those on the transport of the first
   * URL are taken: a client set up for WebSocket (a page, a network that passes only HTTPS) must
   * not switch to raw TLS. URLs that do not parse are skipped. Returns how many were added.
   */
  learn(urls: readonly unknown[] | undefined): number {
    if (!Array.isArray(urls)) return 0;
    const transport = this.list[0]?.address.transport;
    let added = 0;
    for (const url of urls) {
      if (typeof url !== "string") continue;
      let address: NodeAddress;
      try {
        address = parseNodeUrl(url);
      } catch {
        continue;
      }
      if (address.transport === transport && this.add(address)) added++;
    }
    return added;
  }

  private add(address: NodeAddress): boolean {
    const key = `${address.transport}://${address.host.toLowerCase()}:${address.port}`;
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    this.list.push({ address, target: describeAddress(address), open: this.opener(address) });
    return true;
  }
}
