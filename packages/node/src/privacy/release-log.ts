/**
 * The history of the dashboard's releases: one synced JSON line per release (or refusal) in
 * `releases.jsonl`, so the page shows past periods after a restart. Only noisy counts are
 * ever written here; the spent ε is kept apart, by the PrivacyBudget's own ledger.
 */
import { appendSyncedLine, readLines } from "./synced-lines.js";

/** One app's noisy count in a release. */
export interface ReleasedCount {
  readonly app: number;
  readonly name: string;
  readonly count: number;
}

/** A period's noisy per-app counts, as released. Times in Unix seconds, ε as a decimal. */
export interface ReleaseEntry {
  readonly kind: "release";
  readonly period_start: number;
  readonly period_end: number;
  readonly released_at: string;
  readonly epsilon: string;
  /** Δ: the contribution cap the counts were bounded by. */
  readonly sensitivity: number;
  readonly mechanism: string;
  readonly counts: readonly ReleasedCount[];
}

/** A period whose release the budget refused: nothing about its counts is published. */
export interface RefusalEntry {
  readonly kind: "refusal";
  readonly period_start: number;
  readonly period_end: number;
  readonly refused_at: string;
  readonly epsilon: string;
  readonly reason: string;
}

export type HistoryEntry = ReleaseEntry | RefusalEntry;

export class ReleaseLog {
  #entries: HistoryEntry[] = [];
  #lastPeriodEnd = 0;

  /** `file`: the history (made if missing); `kept`: the most recent entries held in memory. */
  constructor(
    private readonly file: string,
    private readonly kept: number,
  ) {
    for (const line of readLines(file)) {
      const entry = parseEntry(line);
      // A torn line (a crash mid-write) is left out: the history is for display, the budget is kept apart.
      if (entry) this.#remember(entry);
    }
  }

  /** The most recent entries, oldest first. */
  get entries(): readonly HistoryEntry[] {
    return this.#entries;
  }

  /** The end of the latest period released or refused (0 when none): a restart must not reopen it. */
  get lastPeriodEnd(): number {
    return this.#lastPeriodEnd;
  }

  append(entry: HistoryEntry): void {
    appendSyncedLine(this.file, entry);
    this.#remember(entry);
  }

  #remember(entry: HistoryEntry): void {
    this.#entries.push(entry);
    if (this.#entries.length > this.kept) this.#entries.shift();
    this.#lastPeriodEnd = Math.max(this.#lastPeriodEnd, entry.period_end);
  }
}

function parseEntry(line: string): HistoryEntry | undefined {
  if (line.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const entry = value as { kind?: unknown; reason?: unknown; counts?: unknown } & Partial<
    Pick<ReleaseEntry, "period_start" | "period_end" | "epsilon">
  >;
  if (!Number.isSafeInteger(entry.period_start) || !Number.isSafeInteger(entry.period_end)) return undefined;
  if (typeof entry.epsilon !== "string") return undefined;
  if (entry.kind === "refusal") return typeof entry.reason === "string" ? (value as RefusalEntry) : undefined;
  if (entry.kind !== "release" || !Array.isArray(entry.counts)) return undefined;
  const countsValid = entry.counts.every(
    (c: Partial<ReleasedCount>) =>
      Number.isSafeInteger(c.app) && typeof c.name === "string" && Number.isSafeInteger(c.count),
  );
  return countsValid ? (value as ReleaseEntry) : undefined;
}
