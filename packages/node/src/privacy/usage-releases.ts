/**
 * The privacy dashboard's releases: requests served per app, counted with each tenant's
 * contribution capped at Δ per period, and released once per period, in a batch at the
 * period's close (never per request, so the sampler's running time says nothing about any one
 * request). Each release adds exact discrete Laplace noise of scale Δ/ε to every app's count
 * and spends ε from the budget; past the budget, releases are refused and the refusal is kept.
 *
 * Every app the node routes gets a cell in every release, zero or not: a cell that appeared
 * only when someone used the app would tell that someone did, whatever the noise.
 */
import { join } from "node:path";
import {
  addEpsilon,
  compareEpsilon,
  type Epsilon,
  formatEpsilonDecimal,
  remainingEpsilon,
  ZERO_EPSILON,
} from "./epsilon.js";
import { BudgetExceededError, PrivacyBudget } from "./privacy-budget.js";
import { noiseScale, releaseCounts } from "./release.js";
import { type HistoryEntry, ReleaseLog } from "./release-log.js";
import { cryptoUniform, type UniformSource } from "./uniform-source.js";
import { periodEndAfter, UsageAggregator } from "./usage-aggregator.js";

/** The mechanism, named as the page and every release name it. */
export const MECHANISM =
  "discrete Laplace mechanism, exact integer sampler (Canonne, Kamath and Steinke 2020), noise scale Δ/ε";

/** Entries of the history the page and privacy.json show (a week of hourly periods). */
export const HISTORY_SHOWN = 168;

/** An app released in every period: its app_proto_id and its name. */
export interface ReleaseCell {
  readonly appProtoId: number;
  readonly name: string;
}

export interface UsageReleasesOptions {
  /** Where `releases.jsonl` and the budget's `budget.jsonl` are kept. */
  dir: string;
  /** ε each release spends. */
  epsilon: Epsilon;
  /** The total ε all releases may spend, ever. */
  budget: Epsilon;
  /** Requests of one tenant counted per period across all apps: the sensitivity Δ. */
  contributionCap: number;
  periodSeconds: number;
  /** Unix seconds now: the first period runs from here to the next multiple of periodSeconds. */
  nowSeconds: number;
  /** Noise randomness; the operating system's CSPRNG unless a test seeds its own. */
  random?: UniformSource;
}

/** What `/privacy` and `/privacy.json` show: settings, budget and the releases, never raw counts. */
export interface PrivacySnapshot {
  mechanism: string;
  epsilon_per_release: string;
  budget: { total: string; spent: string; remaining: string; exhausted: boolean };
  contribution_cap: number;
  sensitivity: number;
  noise_scale: string;
  period_seconds: number;
  open_period: { start: number; end: number };
  status: string;
  releases: readonly HistoryEntry[];
}

export class UsageReleases {
  readonly #aggregator: UsageAggregator;
  readonly #budget: PrivacyBudget;
  readonly #log: ReleaseLog;
  readonly #random: UniformSource;

  constructor(private readonly options: UsageReleasesOptions) {
    noiseScale(options.epsilon, options.contributionCap); // refuses a scale the sampler cannot draw
    this.#budget = new PrivacyBudget(join(options.dir, "budget.jsonl"), options.budget);
    this.#log = new ReleaseLog(join(options.dir, "releases.jsonl"), HISTORY_SHOWN);
    this.#random = options.random ?? cryptoUniform();
    // A restart within a released period's last second must not release it twice.
    const start = Math.max(options.nowSeconds, this.#log.lastPeriodEnd);
    this.#aggregator = new UsageAggregator(
      start,
      periodEndAfter(start, options.periodSeconds),
      options.contributionCap,
    );
  }

  /** The open period's bounds (seconds). */
  get period(): { start: number; end: number } {
    return this.#aggregator.period;
  }

  /** One request served to `tenant` on `app` (already filtered to the requests that count). */
  count(tenant: bigint, app: number): void {
    this.#aggregator.count(tenant, app);
  }

  /** True when the next release would pass the budget. */
  get exhausted(): boolean {
    return compareEpsilon(addEpsilon(this.#budget.spent, this.options.epsilon), this.#budget.total) > 0;
  }

  /**
   * Closes the open period at its end and releases it over `cells`; the next period runs to the
   * aligned end after `nowSeconds` (a stalled timer makes one longer period, not a burst of
   * releases). A budget refusal is returned and kept (once per run of refusals), never thrown.
   */
  closePeriod(cells: readonly ReleaseCell[], nowSeconds: number): HistoryEntry {
    const { end } = this.#aggregator.period;
    const { periodSeconds, epsilon, contributionCap } = this.options;
    const closed = this.#aggregator.close(end, periodEndAfter(Math.max(end, nowSeconds), periodSeconds));
    const bounded = new Map<number, number>();
    for (const cell of cells) bounded.set(cell.appProtoId, closed.counts.get(cell.appProtoId) ?? 0);
    const period = { period_start: closed.start, period_end: closed.end };
    const label = `usage ${new Date(closed.start * 1000).toISOString()}/${new Date(closed.end * 1000).toISOString()}`;
    let noisy: Map<number, number>;
    try {
      noisy = releaseCounts(bounded, {
        label,
        epsilon,
        sensitivity: contributionCap,
        budget: this.#budget,
        random: this.#random,
      });
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      const refusal: HistoryEntry = {
        kind: "refusal",
        ...period,
        refused_at: new Date().toISOString(),
        epsilon: formatEpsilonDecimal(epsilon),
        reason: "budget exhausted, no further releases",
      };
      if (this.#log.entries.at(-1)?.kind !== "refusal") this.#log.append(refusal);
      return refusal;
    }
    const release: HistoryEntry = {
      kind: "release",
      ...period,
      released_at: new Date().toISOString(),
      epsilon: formatEpsilonDecimal(epsilon),
      sensitivity: contributionCap,
      mechanism: MECHANISM,
      counts: cells.map((cell) => ({
        app: cell.appProtoId,
        name: cell.name,
        count: noisy.get(cell.appProtoId) ?? 0,
      })),
    };
    this.#log.append(release);
    return release;
  }

  snapshot(): PrivacySnapshot {
    const { epsilon, contributionCap, periodSeconds } = this.options;
    const { spent, total } = this.#budget;
    const scale = noiseScale(epsilon, contributionCap);
    const exhausted = this.exhausted;
    return {
      mechanism: MECHANISM,
      epsilon_per_release: formatEpsilonDecimal(epsilon),
      budget: {
        total: formatEpsilonDecimal(total),
        spent: formatEpsilonDecimal(spent),
        remaining: formatEpsilonDecimal(remainingEpsilon(total, spent)),
        exhausted,
      },
      contribution_cap: contributionCap,
      sensitivity: contributionCap,
      noise_scale: formatEpsilonDecimal(
        addEpsilon(ZERO_EPSILON, { num: BigInt(scale.num), den: BigInt(scale.den) }),
      ),
      period_seconds: periodSeconds,
      open_period: this.period,
      status: exhausted
        ? "budget exhausted, no further releases"
        : `releasing every ${periodSeconds} s while the budget lasts`,
      releases: [...this.#log.entries],
    };
  }
}
