/**
 * Checks of the privacy dashboard's settings: ε and the budget are exact decimals (a float
 * would round them), and together with the contribution cap they must give a noise scale
 * the exact sampler can draw and a budget that allows at least one release.
 */
import { compareEpsilon, parseEpsilon } from "../privacy/epsilon.js";
import { noiseScale } from "../privacy/release.js";
import { ConfigError } from "./error.js";
import type { ConfigValues } from "./schema.js";

/** A positive decimal from a file number (`epsilon = 0.5`) or text (`"0.5"`), kept as its text. */
export function positiveDecimal(raw: unknown, what: string): string {
  const text = typeof raw === "number" && Number.isFinite(raw) ? String(raw) : raw;
  const problem = `invalid ${what}: expected a positive decimal number like 0.5 (at most 9 digits before and after the point)`;
  if (typeof text !== "string") throw new ConfigError(problem);
  try {
    if (parseEpsilon(text).num > 0n) return text.trim();
  } catch {
    // reported below
  }
  throw new ConfigError(problem);
}

type PrivacyValues = Pick<ConfigValues, "privacyEpsilon" | "privacyBudget" | "privacyContributionCap">;

export function checkPrivacySettings(config: PrivacyValues): void {
  const epsilon = parseEpsilon(config.privacyEpsilon);
  if (compareEpsilon(epsilon, parseEpsilon(config.privacyBudget)) > 0) {
    throw new ConfigError(
      `privacy.budget (${config.privacyBudget}) is smaller than privacy.epsilon (${config.privacyEpsilon}): no release could ever be made; raise the budget or lower ε`,
    );
  }
  try {
    noiseScale(epsilon, config.privacyContributionCap);
  } catch {
    throw new ConfigError(
      `privacy.contribution_cap (${config.privacyContributionCap}) / privacy.epsilon (${config.privacyEpsilon}) is a noise scale the exact sampler cannot draw: use an ε with fewer decimal digits or a smaller cap`,
    );
  }
}
