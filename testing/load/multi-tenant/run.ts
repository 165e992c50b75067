/**
 * The multi-tenant load test (issue 22): a thousand tenants in quota classes, mixed apps,
 * open-loop Poisson arrivals, against a real node process routing a backend app. It runs
 * an unloaded phase (light load: the latency baseline), waits for every bucket to refill,
 * then a loaded phase whose offered load exceeds what the node may serve, and reports per
 * tenant and per class what was sent, served and refused, Jain's fairness index over each
 * tenant's served share of its entitlement, the 429 and 503 shares, and p50/p99 of admitted
 * requests loaded against unloaded. See README.md in the parent directory for the definitions.
 */
import { assignTenants } from "./classes.js";
import { requestKinds } from "./kinds.js";
import { type MultiTenantOptions, withDefaults } from "./options.js";
import { type PhaseContext, runLoaded, runUnloaded, waitForRefill } from "./phases.js";
import { buildReport, type RunOutcome, type Scenario } from "./report.js";
import { admissionRefused, withRig } from "./rig.js";
import type { MultiTenantReport } from "./summary.js";

export type { MultiTenantOptions } from "./options.js";
export type { MultiTenantReport } from "./summary.js";

/** Runs the whole scenario: backend, node, warm-up, unloaded phase, refill pause, loaded phase. */
export async function runMultiTenant(options: MultiTenantOptions = {}): Promise<MultiTenantReport> {
  const settings = withDefaults(options);
  const scenario: Scenario = {
    settings,
    kinds: requestKinds(settings.holdMs, settings.backendHoldMs),
    tenants: assignTenants(settings.tenants, settings.classes),
  };
  const began = performance.now();
  return withRig(scenario.tenants, settings, async (rig) => {
    const outcome = await runPhases({ rig, ...scenario });
    return buildReport(scenario, outcome, began);
  });
}

/** Unloaded phase, refill pause, loaded phase, then the node's own refusal counts. */
async function runPhases(ctx: PhaseContext): Promise<RunOutcome> {
  const unloaded = await runUnloaded(ctx);
  await waitForRefill(ctx);
  const { loaded, stats } = await runLoaded(ctx);
  const nodeRefused = await admissionRefused(ctx.rig.node.adminUrl);
  return { unloaded, loaded, loadedStats: stats, nodeRefused };
}
