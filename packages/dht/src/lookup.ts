import { type DhtId, distanceCompare, idEquals, idKey } from "./ids.js";
import type { Contact, DhtClock } from "./types.js";

/** What one answered query tells the lookup: at least contacts closer to the target. */
export interface QueryAnswer {
  /** Contacts the callee knows closer to the target. */
  closer: Contact[];
}

/** One event of a lookup, in order, for metrics, tests and the hop count. */
export type LookupEvent =
  | { type: "query"; contact: Contact; depth: number; hedge: boolean; at: number }
  | { type: "answer"; contact: Contact; depth: number; at: number; rttMs: number }
  | { type: "timeout"; contact: Contact; depth: number; at: number }
  | { type: "error"; contact: Contact; depth: number; at: number; error: unknown };

/** Inputs of one iterative lookup; `A` is the answer type of its query. */
export interface LookupParams<A extends QueryAnswer> {
  /** The id looked up. */
  target: DhtId;
  /** Our own id: never queried, never in the result. */
  self: DhtId;
  /** Starting contacts (the requester's table, plus bootstrap seeds); all at depth 1. */
  seeds: Contact[];
  /** Result size; the lookup ends when the k closest non-failed candidates have answered. */
  k: number;
  /** Queries in flight, slow ones not counted. */
  alpha: number;
  /** Time source for deadlines. */
  clock: DhtClock;
  /** Sends the query; must stop when `signal` aborts. */
  query(contact: Contact, signal: AbortSignal): Promise<A>;
  /**
   * Called with each answer the lookup accepts (not with answers that arrive after the
   * contact's timeout), with the answering contact's depth. Returning true ends the lookup.
   */
  onAnswer?(answer: A, contact: Contact, depth: number): boolean;
  /** Per-contact timeout in ms. */
  timeoutFor(contact: Contact): number;
  /** When to start one more query beside a slow one (ms), or undefined for no hedging. */
  hedgeAfter(contact: Contact, timeoutMs: number): number | undefined;
  /** Called for every event as it happens. */
  onEvent?(event: LookupEvent): void;
  /** Ends the lookup early (it returns what it has). */
  signal?: AbortSignal;
}

/** How a lookup ended. */
export interface LookupOutcome {
  /** The k closest contacts that answered, closest first. */
  closest: Contact[];
  /** The contact whose answer ended the lookup (`onAnswer` returned true), with its depth. */
  doneBy?: { contact: Contact; depth: number };
  /** Queries sent, hedges included. */
  rpcs: number;
  /** Queries that timed out. */
  timeouts: number;
  /** Queries that failed otherwise (refused, lost with an error, aborted by the transport). */
  errors: number;
  /** Queries started because another one was slow. */
  hedges: number;
  /** Time the lookup took, on the injected clock. */
  elapsedMs: number;
}

type State = "new" | "inflight" | "answered" | "failed";

/**
 * The reason every abort of the lookup carries: one shared object, because `abort()` without a
 * reason builds a DOMException with a stack trace, which dominated simulation profiles.
 */
const STOPPED = Object.freeze({ name: "AbortError", message: "lookup no longer waiting" });

interface Candidate {
  contact: Contact;
  /** When the query was sent, and when it becomes slow (hedge) or times out. */
  sentAt: number;
  hedgeAt: number;
  timeoutAt: number;
  /**
   * Lookup-tree depth: 1 for a seed from our own table, d + 1 for a contact first learnt from
   * the answer of a depth-d contact (the smallest such d while it is still unqueried).
   */
  depth: number;
  state: State;
  /** In flight for longer than its hedge delay: no longer counted against alpha. */
  slow: boolean;
}

/**
 * Kademlia's iterative lookup with two tail-latency fixes. Keeps a shortlist ordered by
 * distance; at most `alpha` queries are in flight, counting only the ones not yet slow; it
 * queries the closest unqueried candidates among the k closest not known to have failed, and
 * ends when those k have all answered (or nothing is left to ask), or when `onAnswer` says it
 * is done.
 * - Per-contact timeouts: a dead contact costs one `timeoutFor(contact)`, not a global timeout.
 * - Hedging: a query unanswered after `hedgeAfter` stops counting against alpha, so the next
 *   candidate is asked too; the slow query is not cancelled and still counts if it answers.
 *
 * Cost matters here (a 10,000-node simulation runs millions of queries): the lookup uses one
 * AbortSignal for all its queries, aborted when it ends (a query that timed out is abandoned,
 * not aborted, until then), and one timer at a time, armed for the earliest hedge or timeout
 * deadline of the queries in flight.
 */
export async function iterativeLookup<A extends QueryAnswer>(
  params: LookupParams<A>,
): Promise<LookupOutcome> {
  const { target, self, k, alpha, clock } = params;
  const start = clock.now();
  const byId = new Map<string, Candidate>();
  const maxShortlist = Math.max(k * 4, k + alpha);
  const shortlist: Candidate[] = [];
  const inflight = new Set<Candidate>();
  const outcome: LookupOutcome = { closest: [], rpcs: 0, timeouts: 0, errors: 0, hedges: 0, elapsedMs: 0 };
  const ac = new AbortController();
  let finished = false;
  /** Queries in flight that count against alpha, and those that no longer do (slow). */
  let active = 0;
  let slowInflight = 0;
  let timerAt = Number.POSITIVE_INFINITY;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onAbort = () => notify();
  params.signal?.addEventListener("abort", onAbort, { once: true });

  const learn = (contact: Contact, depth: number) => {
    if (idEquals(contact.id, self)) return;
    const key = idKey(contact.id);
    const known = byId.get(key);
    if (known) {
      if (known.state === "new" && depth < known.depth) known.depth = depth;
      return;
    }
    const cand: Candidate = {
      contact,
      depth,
      state: "new",
      slow: false,
      sentAt: 0,
      hedgeAt: 0,
      timeoutAt: 0,
    };
    byId.set(key, cand);
    // Binary-search insert; the shortlist keeps the closest `maxShortlist` candidates, dropping
    // unqueried ones off the far end (they are too far to matter unless most of the near ones fail).
    let lo = 0;
    let hi = shortlist.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (distanceCompare(target, (shortlist[mid] as Candidate).contact.id, contact.id) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= maxShortlist) return;
    shortlist.splice(lo, 0, cand);
    if (shortlist.length > maxShortlist && (shortlist[shortlist.length - 1] as Candidate).state === "new") {
      shortlist.pop();
    }
  };
  for (const c of params.seeds) learn(c, 1);

  /** Takes `cand` out of flight; false if it already was (a late answer after its timeout). */
  const land = (cand: Candidate): boolean => {
    if (finished || cand.state !== "inflight") return false;
    inflight.delete(cand);
    if (cand.slow) slowInflight--;
    else active--;
    return true;
  };

  const onTimer = (at: number) => {
    if (finished || at !== timerAt) return; // superseded by an earlier deadline
    timerAt = Number.POSITIVE_INFINITY;
    const now = clock.now() + 1e-9;
    for (const cand of [...inflight]) {
      if (cand.timeoutAt <= now) {
        land(cand);
        cand.state = "failed";
        outcome.timeouts++;
        params.onEvent?.({ type: "timeout", contact: cand.contact, depth: cand.depth, at: clock.now() });
      } else if (!cand.slow && cand.hedgeAt <= now) {
        cand.slow = true;
        active--;
        slowInflight++;
      }
    }
    armTimer();
    notify();
  };

  const armTimer = () => {
    let next = Number.POSITIVE_INFINITY;
    for (const cand of inflight) {
      if (!cand.slow && cand.hedgeAt < next) next = cand.hedgeAt;
      if (cand.timeoutAt < next) next = cand.timeoutAt;
    }
    if (next >= timerAt) return;
    timerAt = next;
    clock.sleep(Math.max(0, next - clock.now()), ac.signal).then(
      () => onTimer(next),
      () => {},
    );
  };

  const send = (cand: Candidate, hedge: boolean) => {
    cand.state = "inflight";
    inflight.add(cand);
    active++;
    outcome.rpcs++;
    if (hedge) outcome.hedges++;
    const sentAt = clock.now();
    const timeoutMs = params.timeoutFor(cand.contact);
    const hedgeMs = params.hedgeAfter(cand.contact, timeoutMs);
    cand.sentAt = sentAt;
    cand.timeoutAt = sentAt + timeoutMs;
    cand.hedgeAt = hedgeMs !== undefined && hedgeMs < timeoutMs ? sentAt + hedgeMs : Number.POSITIVE_INFINITY;
    params.onEvent?.({ type: "query", contact: cand.contact, depth: cand.depth, hedge, at: sentAt });
    params.query(cand.contact, ac.signal).then(
      (answer) => {
        if (!land(cand)) return;
        cand.state = "answered";
        const at = clock.now();
        params.onEvent?.({
          type: "answer",
          contact: cand.contact,
          depth: cand.depth,
          at,
          rttMs: at - sentAt,
        });
        for (const c of answer.closer) learn(c, cand.depth + 1);
        if (params.onAnswer?.(answer, cand.contact, cand.depth) && !outcome.doneBy) {
          outcome.doneBy = { contact: cand.contact, depth: cand.depth };
        }
        notify();
      },
      (error: unknown) => {
        if (!land(cand)) return;
        cand.state = "failed";
        outcome.errors++;
        params.onEvent?.({ type: "error", contact: cand.contact, depth: cand.depth, at: clock.now(), error });
        notify();
      },
    );
  };

  for (;;) {
    if (outcome.doneBy || params.signal?.aborted) break;
    const pendingAny = inflight.size > 0;
    let considered = 0;
    let allAnswered = true;
    const toStart: Candidate[] = [];
    for (const c of shortlist) {
      if (considered >= k) break;
      if (c.state === "failed") continue;
      considered++;
      if (c.state === "answered") continue;
      allAnswered = false;
      if (c.state === "new" && active + toStart.length < alpha) toStart.push(c);
    }
    if (allAnswered && considered > 0) break;
    if (toStart.length === 0 && !pendingAny) break;
    // A query started while another is slow is a hedge: the slow one freed its slot.
    const hedge = slowInflight > 0;
    for (const c of toStart) send(c, hedge);
    armTimer();
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }

  finished = true;
  ac.abort(STOPPED);
  params.signal?.removeEventListener("abort", onAbort);
  outcome.closest = shortlist
    .filter((c) => c.state === "answered")
    .slice(0, k)
    .map((c) => c.contact);
  outcome.elapsedMs = clock.now() - start;
  return outcome;
}
