/** One chat message as the page keeps and shows it. */
export interface ChatMessage {
  /** Random id made by the sender: what deduplicates a message shown once. */
  id: string;
  room: string;
  from: string;
  /** The sender's counter in this room: orders one sender's messages. */
  seq: number;
  /** Sender's clock, ms since the epoch. */
  sentAt: number;
  text: string;
  /** Outgoing: sending → sent (the node stored it for every member) → delivered (every member got it). */
  state: "sending" | "sent" | "delivered" | "failed" | "received";
  /** Outgoing: members that confirmed receipt. */
  deliveredTo?: string[];
  /** Outgoing: members it was sent to. */
  sentTo?: string[];
}

/** What travels inside an envelope (after decryption): a message or receipts. */
export type ChatPayload =
  | { k: "msg"; id: string; room: string; seq: number; at: number; text: string }
  | { k: "rcpt"; room: string; ids: string[] };

/** Orders a room's messages: by the sender's clock, then sender, then its counter. */
export function compareMessages(a: ChatMessage, b: ChatMessage): number {
  return a.sentAt - b.sentAt || a.from.localeCompare(b.from) || a.seq - b.seq;
}

export function parsePayload(bytes: Uint8Array): ChatPayload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (
    v.k === "msg" &&
    typeof v.id === "string" &&
    typeof v.room === "string" &&
    typeof v.seq === "number" &&
    typeof v.at === "number" &&
    typeof v.text === "string"
  ) {
    return { k: "msg", id: v.id, room: v.room, seq: v.seq, at: v.at, text: v.text };
  }
  if (
    v.k === "rcpt" &&
    typeof v.room === "string" &&
    Array.isArray(v.ids) &&
    v.ids.every((id) => typeof id === "string")
  ) {
    return { k: "rcpt", room: v.room, ids: v.ids as string[] };
  }
  return undefined;
}
