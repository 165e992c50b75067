import { OapError } from "@omnigate/oap";

/**
 * Where the jetstream engine keeps things: three streams sharing one prefix, so several
 * mailboxes (or tests) share one NATS cluster. Subjects carry the tenant and the topic as
 * tokens; a topic may hold `.` and `/`, which NATS reads as token separators or refuses in
 * keys, so it travels base64url-encoded (its alphabet is safe in every subject token).
 */
export class JetStreamNames {
  /** Every stored message, subject `<prefix>.m.<tenant>.<topic>`; the stream sequence is the message's identity. */
  readonly messages: string;
  /** One record per (tenant, topic), subject `<prefix>.s.<tenant>.<topic>`: the topic's delivery state. */
  readonly state: string;
  /** One record per idempotency key, subject `<prefix>.i.<tenant>.<topic>.<key hash>`. */
  readonly idem: string;

  constructor(readonly prefix: string) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(prefix)) {
      throw new Error(`mailbox.jetstream_stream_prefix "${prefix}" must be 1-64 of A-Z a-z 0-9 _ -`);
    }
    this.messages = `${prefix}_msgs`;
    this.state = `${prefix}_state`;
    this.idem = `${prefix}_idem`;
  }

  messageSubject(tenant: string, topic: string): string {
    return `${this.prefix}.m.${tenantToken(tenant)}.${encodeTopic(topic)}`;
  }

  /** Every message subject of one tenant (its depth), or of all tenants. */
  tenantMessages(tenant?: string): string {
    return tenant === undefined ? `${this.prefix}.m.>` : `${this.prefix}.m.${tenantToken(tenant)}.>`;
  }

  stateSubject(tenant: string, topic: string): string {
    return `${this.prefix}.s.${tenantToken(tenant)}.${encodeTopic(topic)}`;
  }

  idemSubject(tenant: string, topic: string, keyHash: string): string {
    return `${this.prefix}.i.${tenantToken(tenant)}.${encodeTopic(topic)}.${keyHash}`;
  }

  /** The tenant and topic a message subject names, or undefined for another prefix's subject. */
  parseMessageSubject(subject: string): { tenant: string; topic: string } | undefined {
    const parts = subject.split(".");
    if (parts.length !== 4 || parts[0] !== this.prefix || parts[1] !== "m") return undefined;
    return { tenant: parseTenantToken(parts[2] ?? ""), topic: decodeTopic(parts[3] ?? "") };
  }
}

/** Tenants are hex ids; anything else is encoded so it cannot break out of its token. */
function tenantToken(tenant: string): string {
  return /^[0-9a-f]{1,64}$/.test(tenant) ? tenant : `~${Buffer.from(tenant).toString("base64url")}`;
}

function parseTenantToken(token: string): string {
  return token.startsWith("~") ? Buffer.from(token.slice(1), "base64url").toString() : token;
}

export function encodeTopic(topic: string): string {
  return Buffer.from(topic).toString("base64url");
}

export function decodeTopic(token: string): string {
  return Buffer.from(token, "base64url").toString();
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const SEQ_BITS = 80n;
const SEQ_MASK = (1n << SEQ_BITS) - 1n;

/**
 * A msg_id in ULID form whose time part is sent_at and whose random part is the stream
 * sequence: every node derives the same id from the stored message, a duplicate's PubAck
 * (which names the first copy's sequence) yields the first msg_id, and DELETE finds the
 * message by sequence without an index.
 */
export function msgIdOf(sentAt: number, seq: number): string {
  let value = (BigInt(sentAt) << SEQ_BITS) | BigInt(seq);
  let out = "";
  for (let i = 0; i < 26; i++) {
    out = CROCKFORD[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

/** The stream sequence a msg_id names, or undefined when it is not one of ours. */
export function seqOfMsgId(msgId: string): number | undefined {
  if (!/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(msgId)) return undefined;
  let value = 0n;
  for (const char of msgId) value = (value << 5n) | BigInt(CROCKFORD.indexOf(char));
  const seq = Number(value & SEQ_MASK);
  return seq >= 1 && Number.isSafeInteger(seq) ? seq : undefined;
}

/**
 * A receipt is `<seq>.<delivery>.<topic token>`: it names one delivery of one message, and
 * carries the topic so ACK/NACK/EXTEND go straight to that topic's state record.
 */
export function makeJetStreamReceipt(seq: number, delivery: number, topic: string): string {
  return `${seq}.${delivery}.${encodeTopic(topic)}`;
}

export function parseJetStreamReceipt(receipt: string): { seq: number; delivery: number; topic: string } {
  const match = /^([1-9][0-9]{0,15})\.([1-9][0-9]{0,15})\.([A-Za-z0-9_-]+)$/.exec(receipt);
  if (!match) {
    throw new OapError("bad_meta", "receipt is not one this mailbox issued: pass the receipt RECV returned");
  }
  return { seq: Number(match[1]), delivery: Number(match[2]), topic: decodeTopic(match[3] ?? "") };
}
