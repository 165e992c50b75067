import type { IncomingMessage, ServerResponse } from "node:http";
import type { PrivacySnapshot } from "../privacy/usage-releases.js";
import { PRIVACY_PAGE_CSP, privacyPage } from "./privacy-page.js";
import type { AdminRoutes } from "./server.js";

const OFF_MESSAGE = `The privacy dashboard is off on this node.
Turn it on with privacy.dashboard = "on": dashboard = "on" under [privacy] in the config file,
the flag --privacy-dashboard on, or OMNIGATE_PRIVACY_DASHBOARD=on, then restart the node.
See docs/privacy.md, "The privacy dashboard".
`;

/** `/privacy` (HTML) and `/privacy.json`; with no snapshot (the dashboard is off) both are a 404 saying how to turn it on. */
export function privacyRoutes(snapshot: (() => PrivacySnapshot) | undefined): AdminRoutes {
  if (!snapshot) {
    const off = (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
      res.end(OFF_MESSAGE);
    };
    return { "/privacy": off, "/privacy.json": off };
  }
  return {
    "/privacy.json": (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(`${JSON.stringify(snapshot())}\n`);
    },
    "/privacy": (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": PRIVACY_PAGE_CSP,
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
      });
      res.end(privacyPage(snapshot()));
    },
  };
}
