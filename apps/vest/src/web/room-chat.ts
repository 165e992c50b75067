import type { MailboxMessage, OapClient } from "@omnigate/sdk";
import { ChatSessions, DuplicateMessageError, type PublicBundle } from "../crypto/index.js";
import { inboxTopic, type RoomMember } from "../shared/protocol.js";
import { BusyGate, isBusyRefusal } from "./busy-gate.js";
import type { ChatKeys } from "./chat-keys.js";
import type { ChatStore } from "./chat-store.js";
import { type ChatMessage, type ChatPayload, parsePayload } from "./chat-types.js";
import type { VestConnection } from "./vest-connection.js";

/** Budget of one send (every member), retries for load included. */
const SEND_BUDGET_MS = 60_000;
/** How often the member list is refreshed (new members' bundles). */
const MEMBERS_REFRESH_MS = 3_000;
/** A send refreshes a member list older than this first, so a member who just joined gets it. */
const MEMBERS_FRESH_MS = 1_000;
/** Pushed ahead of the page: enough to keep a burst flowing, small enough to redeliver little. */
const SUBSCRIBE_CREDIT = 32;
/**
 * Lease of a pushed message: short, so what a closed page had leased (a reload) comes back
 * within seconds. A slow page at worst sees a message twice, and drops it as seen.
 */
const VISIBILITY_MS = 5_000;
/** Wait before subscribing again after an error that named no retry time. */
const RESUBSCRIBE_MS = 1_000;

export interface RoomChatEvents {
  /** The room's messages (or their states) changed. */
  changed(room: string): void;
  /** Something the user should know (a message that could not be opened, a failed send). */
  notice(text: string): void;
}

/**
 * One room of the chat: joins it, receives the user's inbox by SUBSCRIBE, sends by sealing
 * each message once per member (pairwise Double Ratchet sessions) into that member's inbox
 * with APP_E2E set. At-least-once delivery is absorbed here: a mailbox id handled once is
 * acked again and dropped, a message id shown once is never shown twice, and the state is
 * saved before each ack so a reload resumes exactly.
 */
export class RoomChat {
  readonly sendGate = new BusyGate("chat");
  readonly inboxGate = new BusyGate("inbox");
  private members: RoomMember[] = [];
  private inbox: OapClient | undefined;
  private sender: OapClient | undefined;
  private readonly stop = new AbortController();
  private membersTimer: ReturnType<typeof setInterval> | undefined;
  private pendingReceipts = new Map<string, string[]>();
  private membersAt = -Infinity;
  private refreshing: Promise<void> | undefined;
  /** Members' verified bundles, by name. */
  private readonly resolved = new Map<string, PublicBundle>();
  private receiptsQueued = false;

  constructor(
    readonly room: string,
    private readonly conn: VestConnection,
    private readonly keys: ChatKeys,
    private readonly store: ChatStore,
    private readonly events: RoomChatEvents,
  ) {}

  get me(): string {
    return this.conn.user;
  }

  get memberNames(): string[] {
    return this.members.map((m) => m.user);
  }

  /** Each other member's safety number, for the user to compare out of band. */
  safetyNumbers(): Map<string, string> {
    const numbers = new Map<string, string>();
    for (const [user, bundle] of this.resolved) {
      if (user !== this.me) numbers.set(user, this.keys.safetyNumber(bundle));
    }
    return numbers;
  }

  messages(): ChatMessage[] {
    return this.store.messages(this.room);
  }

  async open(): Promise<void> {
    const bundle = await this.keys.publishBundle();
    const joined = await this.conn.join(this.room, bundle);
    this.members = joined.members;
    [this.inbox, this.sender] = await Promise.all([
      this.conn.openRail(joined.caps.inbox),
      this.conn.openRail(joined.caps.send),
    ]);
    await this.refreshMembers();
    this.membersTimer = setInterval(() => void this.refreshMembers(), MEMBERS_REFRESH_MS);
    void this.receiveLoop(this.inbox);
  }

  async close(): Promise<void> {
    this.stop.abort(new Error("left the room"));
    clearInterval(this.membersTimer);
    await Promise.allSettled([this.inbox?.close(), this.sender?.close()]);
  }

  /** Seals `text` for every other member and sends it; resolves when the node stored every copy. */
  async send(text: string): Promise<ChatMessage> {
    const message: ChatMessage = {
      id: randomId(),
      room: this.room,
      from: this.me,
      seq: this.store.takeSeq(this.room),
      sentAt: Date.now(),
      text,
      state: "sending",
      sentTo: [],
      deliveredTo: [],
    };
    this.store.addMessage(message);
    this.store.saveRoom(this.room);
    this.events.changed(this.room);
    const payload: ChatPayload = {
      k: "msg",
      id: message.id,
      room: this.room,
      seq: message.seq,
      at: message.sentAt,
      text,
    };
    if (performance.now() - this.membersAt > MEMBERS_FRESH_MS) await this.refreshMembers();
    const recipients = this.members.filter((m) => m.user !== this.me);
    try {
      await Promise.all(
        recipients.map((member) => this.deliver(member, payload, `${message.id}.${member.user}`)),
      );
      message.sentTo = recipients.map((m) => m.user);
      const delivered = new Set(message.deliveredTo);
      message.state =
        recipients.length > 0 && message.sentTo.every((user) => delivered.has(user)) ? "delivered" : "sent";
    } catch (err) {
      message.state = "failed";
      this.events.notice(`message not sent: ${(err as Error).message}`);
    }
    this.store.saveRoom(this.room);
    this.events.changed(this.room);
    return message;
  }

  /** Seals once (the ratchet moves once) and sends the same envelope until the node takes it. */
  private async deliver(member: RoomMember, payload: ChatPayload, idemKey: string): Promise<void> {
    const bundle = await this.keys.bundleAt(member.user, member.bundle);
    const envelope = this.keys.sessions.seal(bundle, new TextEncoder().encode(JSON.stringify(payload)));
    this.keys.persist();
    const sender = this.sender as OapClient;
    await this.sendGate.run(
      () => sender.mailbox.send(inboxTopic(this.room, member.user), envelope, { e2e: true, idemKey }),
      SEND_BUDGET_MS,
    );
  }

  private async receiveLoop(inbox: OapClient): Promise<void> {
    const topic = inboxTopic(this.room, this.me);
    const signal = this.stop.signal;
    while (!signal.aborted) {
      try {
        for await (const msg of inbox.mailbox.subscribe(topic, {
          credit: SUBSCRIBE_CREDIT,
          visibilityMs: VISIBILITY_MS,
          signal,
        })) {
          await this.receive(msg);
        }
      } catch (err) {
        if (signal.aborted) return;
        const waitMs = isBusyRefusal(err) ? (err.retryAfterMs ?? RESUBSCRIBE_MS) : RESUBSCRIBE_MS;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  private async receive(msg: MailboxMessage): Promise<void> {
    if (!this.store.hasSeen(this.room, msg.msgId)) {
      const sender = peekSender(msg);
      if (sender !== undefined && !this.resolved.has(sender)) await this.refreshMembers();
      if (sender !== undefined && !this.resolved.has(sender)) {
        // From someone the directory does not list (yet): hand it back for a later try.
        await msg.nack(RESUBSCRIBE_MS * 2).catch(() => {});
        return;
      }
      this.handle(msg);
      this.store.markSeen(this.room, msg.msgId);
      this.keys.persist();
      this.store.saveRoom(this.room);
      this.events.changed(this.room);
    }
    await this.inboxGate
      .run(() => msg.ack(), SEND_BUDGET_MS)
      .catch((err: unknown) => {
        // Not acked: the node delivers it again after the lease and it is dropped as seen.
        if (!this.stop.signal.aborted) this.events.notice(`ack failed: ${(err as Error).message}`);
      });
  }

  /** Opens one delivery; anything wrong with it is reported, never thrown at the loop. */
  private handle(msg: MailboxMessage): void {
    if (!msg.e2e) {
      this.events.notice("dropped a message that was not end-to-end encrypted");
      return;
    }
    let sender: string;
    try {
      sender = ChatSessions.senderOf(msg.body);
    } catch {
      this.events.notice("dropped a malformed message");
      return;
    }
    const bundle = this.resolved.get(sender);
    if (!bundle) return;
    let plaintext: Uint8Array;
    try {
      plaintext = this.keys.sessions.open(bundle, msg.body);
    } catch (err) {
      if (err instanceof DuplicateMessageError) return;
      this.events.notice(`could not open a message from ${sender}: ${(err as Error).message}`);
      return;
    }
    const payload = parsePayload(plaintext);
    if (!payload || payload.room !== this.room) {
      this.events.notice(`dropped an unreadable message from ${sender}`);
      return;
    }
    if (payload.k === "msg") {
      this.store.addMessage({
        id: payload.id,
        room: this.room,
        from: sender,
        seq: payload.seq,
        sentAt: payload.at,
        text: payload.text,
        state: "received",
      });
      this.queueReceipt(sender, payload.id);
    } else {
      for (const id of payload.ids) this.markDelivered(id, sender);
    }
  }

  private markDelivered(id: string, by: string): void {
    const message = this.store.findMessage(this.room, id);
    if (!message || message.from !== this.me) return;
    const delivered = new Set(message.deliveredTo ?? []);
    delivered.add(by);
    message.deliveredTo = [...delivered];
    if (message.state === "sent" && (message.sentTo ?? []).every((user) => delivered.has(user))) {
      message.state = "delivered";
    }
  }

  /** Receipts go out once per sender per turn, not once per message. */
  private queueReceipt(to: string, id: string): void {
    const ids = this.pendingReceipts.get(to) ?? [];
    ids.push(id);
    this.pendingReceipts.set(to, ids);
    if (this.receiptsQueued) return;
    this.receiptsQueued = true;
    setTimeout(() => void this.flushReceipts(), 0);
  }

  private async flushReceipts(): Promise<void> {
    this.receiptsQueued = false;
    const batch = this.pendingReceipts;
    this.pendingReceipts = new Map();
    await Promise.allSettled(
      [...batch].map(async ([to, ids]) => {
        const member = this.members.find((m) => m.user === to);
        if (!member) return;
        await this.deliver(member, { k: "rcpt", room: this.room, ids }, `rcpt.${ids[0]}.${ids.length}`);
      }),
    );
  }

  /** Fetches the member list and every bundle not resolved yet; concurrent calls share one fetch. */
  refreshMembers(): Promise<void> {
    this.refreshing ??= this.fetchMembers().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async fetchMembers(): Promise<void> {
    const started = performance.now();
    try {
      this.members = await this.conn.members(this.room);
      this.membersAt = started;
      await Promise.all(
        this.members.map(async (member) => {
          this.resolved.set(member.user, await this.keys.bundleAt(member.user, member.bundle));
        }),
      );
      this.events.changed(this.room);
    } catch (err) {
      if (!this.stop.signal.aborted) this.events.notice(`member list: ${(err as Error).message}`);
    }
  }
}

/** The envelope's claimed sender, or undefined for garbage (handled, and reported, later). */
function peekSender(msg: MailboxMessage): string | undefined {
  try {
    return ChatSessions.senderOf(msg.body);
  } catch {
    return undefined;
  }
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
