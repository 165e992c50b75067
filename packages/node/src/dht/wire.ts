import { type Contact, type DhtId, idFromHex, idToHex, type ProviderRecord } from "@omnigate/dht";
import { OapError } from "@omnigate/oap";

/**
 * The meta of node-to-node requests and replies (specs/oap-1.md §11.2). Ids and keys travel as
 * 64 lowercase hex digits, contacts as `{ id, url }`, provider records as `{ id, url, ttl_ms }`
 * (a relative time: the two nodes' clocks need not agree). Everything read from a peer is
 * checked and bounded here before the DHT core sees it.
 */
export interface WireContact {
  id: string;
  url: string;
}

/** Contacts or records read from one answer, at most: k = 20 is what a peer should send. */
export const MAX_WIRE_CONTACTS = 32;
const HEX_ID = /^[0-9a-f]{64}$/;
const URL = /^oap\+tls:\/\/[^\s/?#]{1,255}$/;

export function contactToWire(contact: Contact): WireContact {
  return { id: idToHex(contact.id), url: contact.address };
}

export function providerToWire(record: ProviderRecord, now: number): WireContact & { ttl_ms: number } {
  return { ...contactToWire(record.provider), ttl_ms: Math.max(0, Math.round(record.expiresAt - now)) };
}

/** A DHT id (or key) from meta `name`, or 400 bad_meta. */
export function idFromMeta(meta: Record<string, unknown>, name: string): DhtId {
  const value = meta[name];
  if (typeof value !== "string" || !HEX_ID.test(value)) {
    throw new OapError("bad_meta", `meta "${name}" must be 64 lowercase hex digits`);
  }
  return idFromHex(value);
}

/** The caller's OAP URL from meta `from_url`, or 400 bad_meta. */
export function urlFromMeta(meta: Record<string, unknown>): string {
  const value = meta.from_url;
  if (!isNodeUrl(value)) throw new OapError("bad_meta", 'meta "from_url" must be an oap+tls://host:port URL');
  return value;
}

export function isNodeUrl(value: unknown): value is string {
  return typeof value === "string" && URL.test(value);
}

/** Contacts from a peer's answer: malformed entries are dropped, the list is cut at MAX_WIRE_CONTACTS. */
export function contactsFromWire(value: unknown): Contact[] {
  if (!Array.isArray(value)) return [];
  const contacts: Contact[] = [];
  for (const entry of value.slice(0, MAX_WIRE_CONTACTS)) {
    const contact = contactFromWire(entry);
    if (contact) contacts.push(contact);
  }
  return contacts;
}

/** Provider records from a peer's answer, with their expiry on this node's clock. */
export function providersFromWire(
  value: unknown,
  key: DhtId,
  now: number,
  maxTtlMs: number,
): ProviderRecord[] {
  if (!Array.isArray(value)) return [];
  const records: ProviderRecord[] = [];
  for (const entry of value.slice(0, MAX_WIRE_CONTACTS)) {
    const provider = contactFromWire(entry);
    const ttl = (entry as { ttl_ms?: unknown })?.ttl_ms;
    if (!provider || typeof ttl !== "number" || !(ttl > 0)) continue;
    records.push({ key, provider, expiresAt: now + Math.min(ttl, maxTtlMs) });
  }
  return records;
}

function contactFromWire(entry: unknown): Contact | undefined {
  if (typeof entry !== "object" || entry === null) return undefined;
  const { id, url } = entry as { id?: unknown; url?: unknown };
  if (typeof id !== "string" || !HEX_ID.test(id) || !isNodeUrl(url)) return undefined;
  return { id: idFromHex(id), address: url };
}
