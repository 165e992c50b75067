import { type MailboxMessage, type OapClient, OapClientError } from "@omnigate/sdk";
import { ChatSessions, DecryptError, DuplicateMessageError, type PublicBundle } from "../crypto/index.js";
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
/**
 * Deliveries that fail to open for a reason a fresher bundle can cure (the peer re-keyed,
 * our directory is behind) are handed back this many times before they are given up.
 */
const OPEN_RETRIES = 5;
const OPEN_RETRY_DELAY_MS = 2_000;
/** Open failures a later try may cure: the directory lags behind the peer's keys. */
const CURABLE_OPEN_FAILURES = new Set([
  "sender_identity_mismatch",
  "unknown_session",
  "unknown_signed_prekey",
]);

export interface RoomChatEvents {
  /** The room's messages (or their states) changed. */
  changed(room: string): void;
  /** Something the user should know (a message that could not be opened, a failed send). */
  notice(text: string): void;
}

/** A delivery that must not be acked: the page's state could not be saved, or it will be retried. */
class KeepUnacked extends Error {}

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
  private receiptsQueued = false;
  private membersAt = -Infinity;
  private refreshing: Promise<void> | undefined;
  /** Members' verified bundles, by name. */
  private readonly resolved = new Map<string, PublicBundle>();

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
    // Sends a reload interrupted never went (or not to everyone): say so, never spin.
    if (this.store.failInterruptedSends(this.room)) this.store.saveRoom(this.room);
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
    // Receipts owed from before a reload.
    if (this.store.pendingReceipts(this.room).size > 0) this.scheduleReceipts();
  }

  async close(): Promise<void> {
    this.stop.abort(new Error("left the room"));
    clearInterval(this.membersTimer);
    await Promise.allSettled([this.inbox?.close(), this.sender?.close()]);
  }

  /**
   * Seals `text` for every other member and sends it. The message is `sent` when the node
   * stored a copy for every member, `failed` when some member could not be reached (the
   * others still get it).
   */
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
    if (!this.save()) {
      message.state = "failed";
      return message;
    }
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
    const outcomes = await Promise.allSettled(recipients.map((member) => this.deliver(member, payload)));
    const reached: string[] = [];
    const missed: string[] = [];
    outcomes.forEach((outcome, i) => {
      const user = (recipients[i] as RoomMember).user;
      if (outcome.status === "fulfilled") reached.push(user);
      else missed.push(`${user} (${(outcome.reason as Error).message})`);
    });
    message.sentTo = reached;
    const delivered = new Set(message.deliveredTo);
    if (missed.length > 0) {
      message.state = "failed";
      this.events.notice(`message not sent to ${missed.join(", ")}`);
    } else {
      message.state =
        reached.length > 0 && reached.every((user) => delivered.has(user)) ? "delivered" : "sent";
    }
    this.save();
    this.events.changed(this.room);
    return message;
  }

  /**
   * Seals once (the ratchet moves once) and sends the same envelope, under one random
   * idempotency key, until the node takes it: a retry can neither advance the ratchet nor
   * store the message twice, and the key tells the node nothing about the message.
   */
  private async deliver(member: RoomMember, payload: ChatPayload): Promise<void> {
    const bundle = await this.keys.bundleAt(member.user, member.bundle);
    const envelope = this.keys.sessions.seal(bundle, new TextEncoder().encode(JSON.stringify(payload)));
    this.keys.persist();
    const sender = this.sender;
    if (!sender) throw new Error("the room is still opening");
    const idemKey = randomId();
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
        if (err instanceof OapClientError && (err.code === 401 || err.code === 403)) {
          // Expired or refused capability: retrying cannot help, a new sign-in can.
          this.events.notice(`this room stopped receiving (${err.reason}): reload the page to sign in again`);
          return;
        }
        if (err instanceof KeepUnacked) return;
        const waitMs = isBusyRefusal(err) ? (err.retryAfterMs ?? RESUBSCRIBE_MS) : RESUBSCRIBE_MS;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  private async receive(msg: MailboxMessage): Promise<void> {
    if (!this.store.hasSeen(this.room, msg.msgId)) {
      const sender = peekSender(msg);
      if (sender !== undefined && !this.resolved.has(sender)) await this.refreshMembers();
      const outcome = this.handle(msg, sender);
      if (outcome === "retry") {
        // Fresher keys may open it: look the sender up again and have it back later.
        await this.refreshMembers();
        await msg.nack(OPEN_RETRY_DELAY_MS).catch(() => {});
        return;
      }
      this.store.markSeen(this.room, msg.msgId);
      if (!this.save()) {
        // Not saved, so not acked: a reload redelivers it from the last saved state.
        this.store.unmarkSeen(this.room, msg.msgId);
        this.stop.abort(new KeepUnacked("storage full"));
        throw new KeepUnacked("the page could not save its state");
      }
      this.events.changed(this.room);
      if (outcome === "receipt-owed") this.scheduleReceipts();
    }
    await this.inboxGate
      .run(() => msg.ack(), SEND_BUDGET_MS)
      .catch((err: unknown) => {
        // Not acked: the node delivers it again after the lease and it is dropped as seen.
        if (!this.stop.signal.aborted) this.events.notice(`ack failed: ${(err as Error).message}`);
      });
  }

  /**
   * Opens one delivery and applies it. Anything wrong with it is reported, never thrown at
   * the loop; "retry" asks for it again later (a fresher bundle may open it).
   */
  private handle(msg: MailboxMessage, sender: string | undefined): "done" | "retry" | "receipt-owed" {
    if (!msg.e2e) {
      this.events.notice("dropped a message that was not end-to-end encrypted");
      return "done";
    }
    if (sender === undefined) {
      this.events.notice("dropped a malformed message");
      return "done";
    }
    const bundle = this.resolved.get(sender);
    if (!bundle) {
      if (msg.attempt < OPEN_RETRIES) return "retry";
      this.events.notice(`dropped a message from ${sender}, who is not a member of #${this.room}`);
      return "done";
    }
    let plaintext: Uint8Array;
    try {
      plaintext = this.keys.sessions.open(bundle, msg.body);
    } catch (err) {
      if (err instanceof DuplicateMessageError) return "done";
      if (
        err instanceof DecryptError &&
        CURABLE_OPEN_FAILURES.has(err.reason) &&
        msg.attempt < OPEN_RETRIES
      ) {
        return "retry";
      }
      this.events.notice(`could not open a message from ${sender}: ${(err as Error).message}`);
      return "done";
    }
    const payload = parsePayload(plaintext);
    if (!payload || payload.room !== this.room) {
      this.events.notice(`dropped an unreadable message from ${sender}`);
      return "done";
    }
    if (payload.k === "rcpt") {
      for (const id of payload.ids) this.markDelivered(id, sender);
      return "done";
    }
    this.store.addMessage({
      id: payload.id,
      room: this.room,
      from: sender,
      seq: payload.seq,
      sentAt: payload.at,
      text: payload.text,
      state: "received",
    });
    // Owed in the saved state, so a reload before it goes out still sends it.
    this.store.oweReceipt(this.room, sender, payload.id);
    return "receipt-owed";
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
  private scheduleReceipts(): void {
    if (this.receiptsQueued) return;
    this.receiptsQueued = true;
    setTimeout(() => void this.flushReceipts(), 0);
  }

  private async flushReceipts(): Promise<void> {
    this.receiptsQueued = false;
    const owed = this.store.pendingReceipts(this.room);
    await Promise.allSettled(
      [...owed].map(async ([to, ids]) => {
        const member = this.members.find((m) => m.user === to);
        if (!member) return;
        await this.deliver(member, { k: "rcpt", room: this.room, ids });
        this.store.settleReceipts(this.room, to, ids);
      }),
    );
    this.save();
  }

  /** Saves the ratchet state and the room; false (and a notice) when the browser's storage refused. */
  private save(): boolean {
    try {
      this.keys.persist();
      this.store.saveRoom(this.room);
      return true;
    } catch (err) {
      this.events.notice(
        `this browser could not save the chat (${(err as Error).name}): free some site storage, then reload`,
      );
      return false;
    }
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
      const results = await Promise.allSettled(
        this.members.map(async (member) => {
          this.resolved.set(member.user, await this.keys.bundleAt(member.user, member.bundle));
        }),
      );
      const broken = this.members.filter((_, i) => results[i]?.status === "rejected").map((m) => m.user);
      if (broken.length > 0) this.events.notice(`no valid keys for ${broken.join(", ")} yet`);
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
