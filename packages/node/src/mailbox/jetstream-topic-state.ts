/**
 * The delivery state of one (tenant, topic), kept as one record in JetStream and changed
 * only by compare-and-set, so every node sharing the mailbox sees one truth. Messages past
 * `cursor` were never delivered and have no entry (unless deleted): the state grows with what
 * is leased, delayed, visible again or dead, not with the topic's depth.
 */
export interface TopicState {
  /** The highest stream sequence ever handed out as a new message. */
  cursor: number;
  /** Delivered messages still stored, by stream sequence. */
  msgs: Record<string, TrackedMessage>;
}

export interface TrackedMessage {
  /**
   * `deleted`: a message past the cursor that DELETE removed before its first delivery; the
   * mark keeps a reader that still sees its bytes (a late read, this node's sent copies) from
   * handing it out, and goes when the cursor passes it.
   */
  state: "lease" | "delay" | "retry" | "dead" | "deleted";
  /** Deliveries since the last redrive (the next delivery's attempt is this + 1). */
  attempt: number;
  /** Deliveries ever: the number a receipt carries, so each delivery has its own. */
  delivery: number;
  /** End of the lease or of the NACK delay (node clock, ms). */
  until?: number;
  lastError?: string;
}

export function emptyTopicState(): TopicState {
  return { cursor: 0, msgs: {} };
}

export function decodeTopicState(bytes: Uint8Array | undefined): TopicState {
  if (!bytes || bytes.length === 0) return emptyTopicState();
  return JSON.parse(new TextDecoder().decode(bytes)) as TopicState;
}

export function encodeTopicState(state: TopicState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(state));
}

/**
 * Applies what time did: leases and delays that ended make their message visible again,
 * except a lease that ran out on the last attempt, which dead-letters it. Returns how many died.
 */
export function applyExpiries(state: TopicState, now: number, maxAttempts: number): number {
  let dead = 0;
  for (const message of Object.values(state.msgs)) {
    if (message.until === undefined || message.until > now) continue;
    if (message.state === "lease" && message.attempt >= maxAttempts) {
      message.state = "dead";
      // No error text: "the lease ran out" is what a dead letter without one means, so the
      // record does not grow as leases turn into dead letters (it must not, near its limit).
      message.lastError = undefined;
      dead++;
    } else if (message.state === "lease" || message.state === "delay") {
      message.state = "retry";
    } else {
      continue;
    }
    message.until = undefined;
  }
  return dead;
}

/** Sequences in a state, oldest first (stream order is acceptance order). */
export function sequencesIn(state: TopicState, wanted: TrackedMessage["state"]): number[] {
  return Object.entries(state.msgs)
    .filter(([, m]) => m.state === wanted)
    .map(([seq]) => Number(seq))
    .sort((a, b) => a - b);
}

/** When the next lease or delay of the topic ends, if any. */
export function nextVisibleAt(state: TopicState): number | undefined {
  let next: number | undefined;
  for (const message of Object.values(state.msgs)) {
    if (message.until !== undefined && (next === undefined || message.until < next)) next = message.until;
  }
  return next;
}

/** Counts by state at `now`: a lease or delay that ended counts as visible. */
export function countStates(
  state: TopicState,
  now: number,
): { inflight: number; delayed: number; dlq: number } {
  const counts = { inflight: 0, delayed: 0, dlq: 0 };
  for (const message of Object.values(state.msgs)) {
    const live = message.until !== undefined && message.until > now;
    if (message.state === "lease" && live) counts.inflight++;
    else if (message.state === "delay" && live) counts.delayed++;
    else if (message.state === "dead") counts.dlq++;
  }
  return counts;
}

/**
 * The lowest stream sequence the topic may still deliver: every message of the topic below it
 * was acked or deleted (it is at or below the cursor with no entry), so removing all of them
 * at once is safe. It only ever rises: entries are added above the cursor, never below it.
 */
export function floorOf(state: TopicState): number {
  let floor = state.cursor + 1;
  for (const [seq, message] of Object.entries(state.msgs)) {
    if (message.state !== "deleted") floor = Math.min(floor, Number(seq));
  }
  return floor;
}

/** Drops the marks of deleted messages the cursor has passed: nothing can read them now. */
export function dropPassedDeletions(state: TopicState): void {
  for (const [seq, message] of Object.entries(state.msgs)) {
    if (message.state === "deleted" && Number(seq) <= state.cursor) delete state.msgs[seq];
  }
}
