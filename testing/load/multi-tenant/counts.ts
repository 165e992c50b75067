/** What one phase tallies: outcome counts per tenant, sends per app, and admitted latencies per kind. */
import type { RequestKindSpec } from "./kinds.js";

/** Counts per tenant (or class, or the whole run) for one phase. */
export interface Counts {
  sent: number;
  /** Calls the node answered without refusing them at admission: every reply but 429 and 503. */
  admitted: number;
  /** Served: 200 replies. */
  ok: number;
  r429: number;
  r503: number;
  /** Any other code of the node's (e.g. 502/504), and failures the client saw on its own. */
  other: number;
  unsettled: number;
  /** 429/503 replies without retry_after_ms. */
  retryAfterMissing: number;
}

/** The outcome columns of a report line, named as the JSON shows them. */
export interface OutcomeFields {
  sent: number;
  admitted: number;
  "200": number;
  "429": number;
  "503": number;
  other: number;
}

export function outcomeFields(c: Counts): OutcomeFields {
  return { sent: c.sent, admitted: c.admitted, "200": c.ok, "429": c.r429, "503": c.r503, other: c.other };
}

export function emptyCounts(): Counts {
  return { sent: 0, admitted: 0, ok: 0, r429: 0, r503: 0, other: 0, unsettled: 0, retryAfterMissing: 0 };
}

export function addCounts(into: Counts, c: Counts): Counts {
  into.sent += c.sent;
  into.admitted += c.admitted;
  into.ok += c.ok;
  into.r429 += c.r429;
  into.r503 += c.r503;
  into.other += c.other;
  into.unsettled += c.unsettled;
  into.retryAfterMissing += c.retryAfterMissing;
  return into;
}

/** Per-(tenant, kind) outcome counts and admitted latencies of one phase. */
export class PhaseCollector {
  readonly counts: Counts[];
  /** sent per tenant per app, for entitlements. */
  readonly sentByApp: Map<number, number>[];
  /** Latencies (ms) of 200 replies per request kind. */
  readonly latencies: number[][];
  retryMin = Number.POSITIVE_INFINITY;
  retryMax = Number.NEGATIVE_INFINITY;

  constructor(
    tenants: number,
    private readonly kinds: RequestKindSpec[],
  ) {
    this.counts = Array.from({ length: tenants }, emptyCounts);
    this.sentByApp = Array.from({ length: tenants }, () => new Map());
    this.latencies = kinds.map(() => []);
  }

  settled = (flow: number, kind: number, code: number, retryAfterMs: number | undefined, ms: number) => {
    const c = this.counts[flow] as Counts;
    const app = (this.kinds[kind] as RequestKindSpec).app;
    const byApp = this.sentByApp[flow] as Map<number, number>;
    byApp.set(app, (byApp.get(app) ?? 0) + 1);
    c.sent++;
    if (code === 429 || code === 503) {
      if (code === 429) c.r429++;
      else c.r503++;
      if (retryAfterMs === undefined) c.retryAfterMissing++;
      else {
        this.retryMin = Math.min(this.retryMin, retryAfterMs);
        this.retryMax = Math.max(this.retryMax, retryAfterMs);
      }
      return;
    }
    // 0: the client's own failure (a dropped connection, its deadline), not the node's answer.
    if (code === 0) {
      c.other++;
      return;
    }
    c.admitted++;
    if (code === 200) {
      c.ok++;
      (this.latencies[kind] as number[]).push(ms);
    } else c.other++;
  };
}
