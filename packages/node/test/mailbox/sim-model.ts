import type { Delivery, DepthByState } from "../../src/mailbox/engine.js";

/** What the simulation believes about one accepted message. */
export interface ModelMessage {
  msgId: string;
  /** Acceptance order: the engine's FIFO order. */
  order: number;
  topic: string;
  body: string;
  state: "waiting" | "leased" | "dead" | "gone";
  /** Waiting: visible from then; leased: the lease ends then. */
  visibleAt: number;
  attempt: number;
  receipt: string | undefined;
  lastError: string | undefined;
}

/**
 * The mailbox rules as a plain model (docs/mailbox.md), fed the same operations as the engine
 * in the same order, so each answer of the engine can be compared with what the rules say.
 */
export class MailboxModel {
  readonly messages = new Map<string, ModelMessage>();
  readonly idem = new Map<string, { msgId: string; body: string; expiresAt: number }>();
  private order = 0;

  constructor(
    private readonly maxAttempts: number,
    private readonly dedupeWindowMs: number,
    private readonly maxDepth: number,
  ) {}

  /** What SEND must answer: a duplicate's msg_id, "conflict", "quota" or "new". */
  expectSend(topic: string, body: string, idemKey: string | undefined, now: number): string {
    if (idemKey !== undefined) {
      const seen = this.idem.get(`${topic}/${idemKey}`);
      if (seen && seen.expiresAt > now) return seen.body === body ? seen.msgId : "conflict";
    }
    return this.depth() >= this.maxDepth ? "quota" : "new";
  }

  accept(msgId: string, topic: string, body: string, idemKey: string | undefined, now: number): void {
    this.messages.set(msgId, {
      msgId,
      order: this.order++,
      topic,
      body,
      state: "waiting",
      visibleAt: now,
      attempt: 0,
      receipt: undefined,
      lastError: undefined,
    });
    if (idemKey !== undefined) {
      this.idem.set(`${topic}/${idemKey}`, { msgId, body, expiresAt: now + this.dedupeWindowMs });
    }
  }

  /**
   * Applies RECV: every lease of the topic that ran out on its last allowed attempt is
   * dead-lettered, then the oldest visible messages are delivered, in acceptance order.
   */
  recv(topic: string, max: number, visibilityMs: number, now: number): ModelMessage[] {
    const candidates = [...this.messages.values()]
      .filter(
        (m) => m.topic === topic && (m.state === "waiting" || m.state === "leased") && m.visibleAt <= now,
      )
      .sort((a, b) => a.order - b.order);
    const out: ModelMessage[] = [];
    for (const m of candidates) {
      if (m.state === "leased" && m.attempt >= this.maxAttempts) {
        m.state = "dead";
        m.receipt = undefined;
        m.lastError = "visibility timeout expired";
        continue;
      }
      if (out.length >= max) continue;
      m.state = "leased";
      m.attempt += 1;
      m.visibleAt = now + visibilityMs;
      m.receipt = undefined;
      out.push(m);
    }
    return out;
  }

  /** Records the receipts the engine gave (the model cannot guess their text). */
  leased(delivery: Delivery): void {
    const m = this.messages.get(delivery.msgId);
    if (m) m.receipt = delivery.receipt;
  }

  /** The message a receipt names while its lease is live. */
  live(receipt: string, now: number): ModelMessage | undefined {
    for (const m of this.messages.values()) {
      if (m.receipt === receipt && m.state === "leased" && m.visibleAt > now) return m;
    }
    return undefined;
  }

  ack(m: ModelMessage): void {
    m.state = "gone";
    m.receipt = undefined;
  }

  nack(m: ModelMessage, delayMs: number, error: string, now: number): void {
    m.receipt = undefined;
    if (m.attempt >= this.maxAttempts) {
      m.state = "dead";
      m.lastError = error;
      return;
    }
    m.state = "waiting";
    m.visibleAt = now + delayMs;
  }

  delete(msgId: string): boolean {
    const m = this.messages.get(msgId);
    if (!m || m.state === "gone") return false;
    m.state = "gone";
    m.receipt = undefined;
    return true;
  }

  dead(topic: string): ModelMessage[] {
    return [...this.messages.values()]
      .filter((m) => m.topic === topic && m.state === "dead")
      .sort((a, b) => a.order - b.order);
  }

  redrive(topic: string, max: number, now: number): number {
    const moved = this.dead(topic).slice(0, max);
    for (const m of moved) {
      m.state = "waiting";
      m.attempt = 0;
      m.visibleAt = now;
      m.lastError = undefined;
    }
    return moved.length;
  }

  depth(): number {
    let n = 0;
    for (const m of this.messages.values()) if (m.state !== "gone") n++;
    return n;
  }

  depthByState(now: number): DepthByState {
    const d: DepthByState = { ready: 0, inflight: 0, delayed: 0, dlq: 0 };
    for (const m of this.messages.values()) {
      if (m.state === "gone") continue;
      if (m.state === "dead") d.dlq++;
      else if (m.visibleAt <= now) d.ready++;
      else if (m.state === "leased") d.inflight++;
      else d.delayed++;
    }
    return d;
  }
}
