import type { ChatIdentityState, ChatSessionsState } from "../crypto/index.js";
import { type ChatMessage, compareMessages } from "./chat-types.js";

/** Mailbox message ids remembered per room to drop redeliveries (oldest forgotten first). */
const SEEN_LIMIT = 5_000;
/** Messages kept per room in the page's storage. */
const HISTORY_LIMIT = 1_000;

interface RoomState {
  messages: ChatMessage[];
  seen: string[];
  nextSeq: number;
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
