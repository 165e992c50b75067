import {
  type Contact,
  type DhtId,
  type DhtTransport,
  type FindProvidersAnswer,
  idToHex,
  type ProviderRecord,
} from "@omnigate/dht";
import { AppProtoId, type Meta } from "@omnigate/oap";
import type { OapStream } from "@omnigate/sdk";
import type { PeerClients } from "./peer-clients.js";
import { contactsFromWire, idFromMeta, isNodeUrl, providersFromWire } from "./wire.js";

export interface OapDhtTransportOptions {
  peers: PeerClients;
  /** This node's id and URL, sent with every call (`topic`, `from_url`). */
  self: Contact;
  /** The capability each call carries. */
  capability: () => Uint8Array;
  /** Longest TTL believed in a peer's provider record. */
  maxProviderTtlMs: number;
  now: () => number;
}

/**
 * The DHT's RPCs as OAP/1 requests on the node-to-node app id 0x0401 (specs/oap-1.md §11.2).
 * The caller's id rides in meta `topic` (`node:<hex>`), which its node capability is bound to.
 */
export class OapDhtTransport implements DhtTransport {
  private readonly topic: string;

  constructor(private readonly options: OapDhtTransportOptions) {
    this.topic = `node:${idToHex(options.self.id)}`;
  }

  async findNode(to: Contact, target: DhtId, signal: AbortSignal): Promise<Contact[]> {
    const reply = await this.call(to.address, { op: "find_node", target: idToHex(target) }, signal);
    return contactsFromWire(reply.closer);
  }

  async findProviders(to: Contact, key: DhtId, signal: AbortSignal): Promise<FindProvidersAnswer> {
    const reply = await this.call(to.address, { op: "find_providers", key: idToHex(key) }, signal);
    return {
      providers: providersFromWire(reply.providers, key, this.options.now(), this.options.maxProviderTtlMs),
      closer: contactsFromWire(reply.closer),
    };
  }

  async addProvider(to: Contact, record: ProviderRecord, signal: AbortSignal): Promise<void> {
    const ttl = Math.max(1, Math.round(record.expiresAt - this.options.now()));
    await this.call(to.address, { op: "add_provider", key: idToHex(record.key), ttl_ms: ttl }, signal);
  }

  async ping(to: Contact, signal: AbortSignal): Promise<void> {
    await this.probe(to.address, signal);
  }

  /** Pings a URL and learns the id of the node behind it (how a bootstrap address becomes a contact). */
  async probe(url: string, signal: AbortSignal): Promise<Contact> {
    const reply = await this.call(url, { op: "ping" }, signal);
    const id = idFromMeta(reply, "id");
    return { id, address: isNodeUrl(reply.url) ? reply.url : url };
  }

  /**
   * A chunk-verified read of a public object from a peer (op `fetch`): the reply is the
   * verified GET body of docs/storage.md, from `range` on.
   */
  async fetch(url: string, meta: Meta, signal: AbortSignal): Promise<OapStream> {
    const client = await this.options.peers.get(url);
    const stream = client.stream(AppProtoId.DHT, {
      meta: { ...meta, op: "fetch", topic: this.topic, from_url: this.options.self.address },
      cap: this.options.capability(),
      signal,
      deadlineMs: Number.POSITIVE_INFINITY,
    });
    stream.end().catch(() => {});
    return stream;
  }

  private async call(url: string, meta: Meta, signal: AbortSignal): Promise<Meta> {
    const client = await this.options.peers.get(url);
    const reply = await client.request(AppProtoId.DHT, {
      meta: { ...meta, topic: this.topic, from_url: this.options.self.address },
      cap: this.options.capability(),
      signal,
    });
    return reply.meta;
  }
}
