/**
 * The privacy-budget ledger: every noisy release spends its ε from a total, and a release
 * that would pass the total is refused before any noise is drawn. Spends are appended to a
 * file (one JSON line each, synced) before the release is returned, so a restart remembers
 * what was spent; a torn last line (a crash mid-write) counts as spent too, erring on the
 * side of privacy.
 */

import {
  addEpsilon,
  compareEpsilon,
  type Epsilon,
  formatEpsilon,
  parseEpsilon,
  ZERO_EPSILON,
} from "./epsilon.js";
import { appendSyncedLine, readLines } from "./synced-lines.js";

export class BudgetExceededError extends Error {
  override readonly name = "BudgetExceededError";
}

/** One spend, as kept in the ledger file. */
interface SpendLine {
  at: string;
  label: string;
  epsilon: string;
}

export class PrivacyBudget {
  #spent: Epsilon = ZERO_EPSILON;

  /** `file`: the ledger (made if missing); `total`: the budget it may spend, ever. */
  constructor(
    private readonly file: string,
    readonly total: Epsilon,
  ) {
    for (const line of readLines(file)) {
      if (line.trim() === "") continue;
      let epsilon: Epsilon;
      try {
        epsilon = parseFraction((JSON.parse(line) as SpendLine).epsilon);
      } catch {
        // A line we cannot read: assume it spent everything that was left.
        epsilon = total;
      }
      this.#spent = addEpsilon(this.#spent, epsilon);
    }
  }

  get spent(): Epsilon {
    return this.#spent;
  }

  /** Records the spend of `epsilon` for `label`, or throws BudgetExceededError (nothing spent). */
  spend(label: string, epsilon: Epsilon): void {
    if (epsilon.num <= 0n) throw new RangeError("a release spends a positive ε");
    const after = addEpsilon(this.#spent, epsilon);
    if (compareEpsilon(after, this.total) > 0) {
      throw new BudgetExceededError(
        `releasing ${label} would spend ε ${formatEpsilon(epsilon)} with ${formatEpsilon(this.#spent)} of ${formatEpsilon(this.total)} spent already`,
      );
    }
    const line: SpendLine = { at: new Date().toISOString(), label, epsilon: formatEpsilon(epsilon) };
    appendSyncedLine(this.file, line);
    this.#spent = after;
  }
}

/** "3/10" or "2" as written by formatEpsilon; a decimal is accepted too. */
function parseFraction(text: string): Epsilon {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) return parseEpsilon(text);
  const den = BigInt(m[2] as string);
  if (den === 0n) throw new RangeError("zero denominator");
  return addEpsilon(ZERO_EPSILON, { num: BigInt(m[1] as string), den });
}
