import type { ChatIdentityState, ChatSessionsState } from "../crypto/index.js";
import { type ChatMessage, compareMessages } from "./chat-types.js";

/** Mailbox message ids remembered per room to drop redeliveries (oldest forgotten first). */
const SEEN_LIMIT = 5_000;
/**
 * Messages kept per room in the page's storage. With texts of up to 2,000 characters that is
 * at most ~1 MB a room, within the ~5 MB a browser gives an origin.
 */
const HISTORY_LIMIT = 500;

interface RoomState {
  messages: ChatMessage[];
  seen: string[];
  nextSeq: number;
  /** Receipts owed, by sender: saved with the message they answer, so a reload still sends them. */
  receipts?: Record<string, string[]>;
}

/**
 * A user's chat state in the browser's localStorage: identity keys, ratchet sessions, and per
 * room the history, the mailbox ids already handled and the send counter. A reloaded page
 * continues from here. Saved as one unit per change, before the message is acknowledged, so
 * a reload can repeat a delivery (dropped as seen) but never lose one.
 */
export class ChatStore {
  private readonly rooms = new Map<string, RoomState>();
  private readonly seenSets = new Map<string, Set<string>>();

  constructor(
    readonly user: string,
    private readonly storage: Storage = localStorage,
  ) {}

  private key(name: string): string {
    return `vest/${this.user}/${name}`;
  }

  loadIdentity(): ChatIdentityState | undefined {
    return this.read<ChatIdentityState>("identity");
  }

  saveIdentity(state: ChatIdentityState): void {
    this.write("identity", state);
  }

  loadSessions(): ChatSessionsState | undefined {
    return this.read<ChatSessionsState>("sessions");
  }

  saveSessions(state: ChatSessionsState): void {
    this.write("sessions", state);
  }

  /** The identity signing key last seen for each peer (trust on first use). */
  pinnedIdentity(peer: string): string | undefined {
    return this.read<Record<string, string>>("pins")?.[peer];
  }

  pinIdentity(peer: string, identitySign: string): void {
    this.write("pins", { ...this.read<Record<string, string>>("pins"), [peer]: identitySign });
  }

  room(room: string): RoomState {
    let state = this.rooms.get(room);
    if (!state) {
      state = this.read<RoomState>(`room/${room}`) ?? { messages: [], seen: [], nextSeq: 1 };
      this.rooms.set(room, state);
      this.seenSets.set(room, new Set(state.seen));
    }
    return state;
  }

  messages(room: string): ChatMessage[] {
    return this.room(room).messages;
  }

  hasSeen(room: string, mailboxId: string): boolean {
    this.room(room);
    return this.seenSets.get(room)?.has(mailboxId) === true;
  }

  markSeen(room: string, mailboxId: string): void {
    const state = this.room(room);
    const set = this.seenSets.get(room) as Set<string>;
    if (set.has(mailboxId)) return;
    set.add(mailboxId);
    state.seen.push(mailboxId);
    while (state.seen.length > SEEN_LIMIT) set.delete(state.seen.shift() as string);
  }

  /** Forgets a mailbox id whose handling could not be saved (it will be delivered again). */
  unmarkSeen(room: string, mailboxId: string): void {
    const state = this.room(room);
    if (!this.seenSets.get(room)?.delete(mailboxId)) return;
    const at = state.seen.lastIndexOf(mailboxId);
    if (at !== -1) state.seen.splice(at, 1);
  }

  oweReceipt(room: string, to: string, messageId: string): void {
    const state = this.room(room);
    state.receipts ??= {};
    const ids = state.receipts[to] ?? [];
    if (!ids.includes(messageId)) ids.push(messageId);
    state.receipts[to] = ids;
  }

  pendingReceipts(room: string): Map<string, string[]> {
    return new Map(Object.entries(this.room(room).receipts ?? {}).map(([to, ids]) => [to, [...ids]]));
  }

  settleReceipts(room: string, to: string, ids: string[]): void {
    const receipts = this.room(room).receipts;
    const left = (receipts?.[to] ?? []).filter((id) => !ids.includes(id));
    if (!receipts) return;
    if (left.length === 0) delete receipts[to];
    else receipts[to] = left;
  }

  /** Marks sends a reload cut short as failed; true when there were any. */
  failInterruptedSends(room: string): boolean {
    let any = false;
    for (const message of this.room(room).messages) {
      if (message.state === "sending") {
        message.state = "failed";
        any = true;
      }
    }
    return any;
  }

  takeSeq(room: string): number {
    const state = this.room(room);
    return state.nextSeq++;
  }

  /** Adds a message unless one with its id is there; true when it was new. */
  addMessage(message: ChatMessage): boolean {
    const state = this.room(message.room);
    if (state.messages.some((m) => m.id === message.id)) return false;
    state.messages.push(message);
    state.messages.sort(compareMessages);
    if (state.messages.length > HISTORY_LIMIT)
      state.messages.splice(0, state.messages.length - HISTORY_LIMIT);
    return true;
  }

  findMessage(room: string, id: string): ChatMessage | undefined {
    return this.room(room).messages.find((m) => m.id === id);
  }

  saveRoom(room: string): void {
    this.write(`room/${room}`, this.room(room));
  }

  private read<T>(name: string): T | undefined {
    const text = this.storage.getItem(this.key(name));
    if (text === null) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch {
      return undefined;
    }
  }

  private write(name: string, value: unknown): void {
    this.storage.setItem(this.key(name), JSON.stringify(value));
  }
}
