import type { AppSettings } from "../config/index.js";
import type { Router } from "../gateway/router.js";
import type { Logger } from "../log.js";
import { AppProxyService } from "./app-proxy.js";
import { AppStats, type AppStatsSnapshot } from "./app-stats.js";
import { BackendPool } from "./backend-pool.js";
import type { ProxiedStream } from "./proxied-stream.js";

/** The node's app plane: one proxy and connection pool per configured `[[apps]]` backend. */
export class AppPlane {
  private constructor(
    private readonly pools: BackendPool[],
    private readonly counters: AppStats<ProxiedStream>[],
  ) {}

  /** Registers a proxy for every app with the router; no backend needs to be up yet. */
  static async start(apps: AppSettings[], router: Router, log: Logger): Promise<AppPlane> {
    const pools: BackendPool[] = [];
    const counters: AppStats<ProxiedStream>[] = [];
    try {
      for (const app of apps) {
        const pool = await BackendPool.open(app, log.child({ app: app.id, backend: app.backend }));
        pools.push(pool);
        const stats = new AppStats<ProxiedStream>(app.id, app.name);
        counters.push(stats);
        router.register(new AppProxyService(app, pool, stats));
      }
    } catch (error) {
      await Promise.all(pools.map((pool) => pool.close()));
      throw error;
    }
    return new AppPlane(pools, counters);
  }

  stats(): AppStatsSnapshot[] {
    return this.counters.map((stats) => stats.snapshot());
  }

  /** Closes the backend connections (after the gateway drained, so no stream still needs them). */
  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.close()));
  }
}
