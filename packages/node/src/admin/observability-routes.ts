import type { IncomingMessage, ServerResponse } from "node:http";
import type { NodeMetrics } from "../metrics/node-metrics.js";
import type { AdminRoutes } from "./server.js";
import { type StatusSources, statusReport } from "./status.js";
import { statusPage } from "./status-page.js";

/** `/metrics` (Prometheus text), `/status` (HTML) and `/status.json` on the admin server. */
export function observabilityRoutes(
  metrics: NodeMetrics,
  sources: StatusSources,
  statusRefreshMs: number,
): AdminRoutes {
  const page = statusPage(statusRefreshMs);
  return {
    "/metrics": async (_req: IncomingMessage, res: ServerResponse) => {
      const text = await metrics.scrape();
      res.writeHead(200, { "content-type": metrics.contentType, "cache-control": "no-store" });
      res.end(text);
    },
    "/status.json": (_req: IncomingMessage, res: ServerResponse) => {
      const text = `${JSON.stringify(statusReport(sources))}\n`;
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(text);
    },
    "/status": (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": page.contentSecurityPolicy,
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
      });
      res.end(page.html);
    },
  };
}
