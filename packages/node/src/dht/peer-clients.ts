import { readFile } from "node:fs/promises";
import { createClient, type OapClient } from "@omnigate/sdk";

/** Peers kept connected at once; the least recently used beyond are closed. */
const MAX_PEERS = 64;

export interface PeerClientOptions {
  /** PEM files of the CAs peers' certificates are checked against (read at each dial; missing ones skipped). */
  caFiles: string[];
  /** The node capability each call carries (fresh per call: it is re-minted before expiry). */
  capability: () => Uint8Array;
  connectTimeoutMs: number;
}

/**
 * One OAP/1 client per peer URL, made on first use and redialled by the SDK after a lost
 * connection. The pool is bounded so a flood of contacts cannot pile up sockets.
 */
export class PeerClients {
  private readonly clients = new Map<string, Promise<OapClient>>();
  private closed = false;

  constructor(private readonly options: PeerClientOptions) {}

  get(url: string): Promise<OapClient> {
    if (this.closed) return Promise.reject(new Error("the node is stopping"));
    const known = this.clients.get(url);
    if (known) {
      // Most recently used last: Map iteration order is insertion order.
      this.clients.delete(url);
      this.clients.set(url, known);
      return known;
    }
    const made = this.dial(url);
    made.catch(() => this.clients.delete(url));
    this.clients.set(url, made);
    if (this.clients.size > MAX_PEERS) {
      const [oldest, client] = this.clients.entries().next().value as [string, Promise<OapClient>];
      this.clients.delete(oldest);
      client.then((c) => c.close()).catch(() => {});
    }
    return made;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.then((client) => client.close()).catch(() => {})));
  }

  private async dial(url: string): Promise<OapClient> {
    // Read at each dial, skipping files not there yet: a peer's dev CA appears at its first start.
    const read = await Promise.all(
      this.options.caFiles.map((file) => readFile(file, "utf8").catch(() => "")),
    );
    const ca = read.filter((pem) => pem.length > 0);
    if (ca.length === 0)
      throw new Error(`none of dht.ca_files can be read (${this.options.caFiles.join(", ")})`);
    return createClient(url, {
      ca,
      cap: this.options.capability(),
      connectTimeoutMs: this.options.connectTimeoutMs,
      // The DHT core decides what to retry and where; the client must not resend on its own.
      retry: { maxAttempts: 1 },
    });
  }
}
