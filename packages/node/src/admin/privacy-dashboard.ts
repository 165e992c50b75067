/**
 * The privacy dashboard in the node (privacy.dashboard = on; docs/privacy.md): requests served
 * are counted from the session's streamEnded hook, by the same rule as the ledger's usage
 * meter; at each aligned period end one release is made in a batch, from a timer, and the
 * admin port shows the history at /privacy. A stop drops the open period's counts and makes
 * no release for them; after a restart, the rest of that period is counted and released once.
 */
import { join } from "node:path";
import type { StreamEndInfo } from "@omnigate/sdk/internal";
import type { NodeConfig } from "../config/index.js";
import { isServedRequest, isUsageApp } from "../ledger/served-request.js";
import type { Logger } from "../log.js";
import { parseEpsilon } from "../privacy/epsilon.js";
import { type ReleaseCell, UsageReleases } from "../privacy/usage-releases.js";
import { privacyRoutes } from "./privacy-routes.js";
import type { AdminRoutes } from "./server.js";

/** setTimeout's ceiling; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface NodePrivacy {
  /** Counts a finished request (the session's streamEnded hook); a no-op with the dashboard off. */
  count(info: StreamEndInfo): void;
  /** `/privacy` and `/privacy.json` (a 404 saying how to turn the dashboard on when it is off). */
  readonly routes: AdminRoutes;
  /** Stops the period timer; the open period is not released. */
  close(): void;
}

/** `apps`: what the node routes (the router's list); every usage app among them is a cell of each release. */
export function createNodePrivacy(
  config: NodeConfig,
  log: Logger,
  apps: () => readonly ReleaseCell[],
): NodePrivacy {
  if (config.privacyDashboard === "off") {
    return { count() {}, routes: privacyRoutes(undefined), close() {} };
  }
  const dir = config.privacyDir || join(config.dataDir, "privacy");
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const releases = new UsageReleases({
    dir,
    epsilon: parseEpsilon(config.privacyEpsilon),
    budget: parseEpsilon(config.privacyBudget),
    contributionCap: config.privacyContributionCap,
    periodSeconds: config.privacyPeriodSeconds,
    nowSeconds: nowSeconds(),
  });
  const cells = () =>
    apps()
      .filter((app) => isUsageApp(app.appProtoId))
      .map(({ appProtoId, name }) => ({ appProtoId, name }));
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const release = () => {
    try {
      const entry = releases.closePeriod(cells(), nowSeconds());
      if (entry.kind === "refusal") log.warn({ dir }, "privacy: budget exhausted, no further releases");
      else log.info({ period_start: entry.period_start, epsilon: entry.epsilon }, "privacy: period released");
    } catch (error) {
      // A failed write loses this period's release (its ε may be spent): never the node.
      log.error({ err: error, dir }, "privacy: release failed");
    }
  };
  const schedule = () => {
    const waitMs = Math.min(releases.period.end * 1000 - Date.now(), MAX_TIMER_MS);
    timer = setTimeout(
      () => {
        if (closed) return;
        if (Date.now() >= releases.period.end * 1000) release();
        schedule();
      },
      Math.max(0, waitMs),
    );
    timer.unref();
  };
  schedule();
  log.info(
    {
      dir,
      epsilon: config.privacyEpsilon,
      budget: config.privacyBudget,
      contribution_cap: config.privacyContributionCap,
      period_seconds: config.privacyPeriodSeconds,
    },
    "privacy dashboard on",
  );

  return {
    count(info) {
      if (!closed && isServedRequest(info)) releases.count(info.tenantId, info.appProtoId);
    },
    routes: privacyRoutes(() => releases.snapshot()),
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
