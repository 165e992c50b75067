import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { listenOn } from "@omnigate/sdk/internal";

export interface Readiness {
  ready: boolean;
  /** What the node is still waiting for, or why it stopped being ready. */
  waitingFor: string[];
  /** The load figures behind the answer (admission snapshot), shown in the body. */
  load?: object;
}

/** More GET endpoints by path (e.g. /metrics, /status); a rejection answers 500. */
export type AdminRoutes = Record<string, (req: IncomingMessage, res: ServerResponse) => void | Promise<void>>;

/** An API under its own path prefix that takes any method (e.g. the capability API under /v1/caps/). */
export interface AdminApi {
  handles(path: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void>;
}

/** Admin HTTP: /healthz is liveness only; /readyz says whether to send traffic here. */
export class AdminServer {
  private readonly server: Server;

  constructor(
    private readonly readiness: () => Readiness,
    private readonly routes: AdminRoutes = {},
    private readonly apis: AdminApi[] = [],
  ) {
    this.server = createServer((req, res) => this.route(req, res));
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listenOn(this.server, host, port);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const [path = "/", query = ""] = (req.url ?? "/").split("?");
    const api = this.apis.find((a) => a.handles(path));
    if (api) {
      api.handle(req, res, path, new URLSearchParams(query)).catch(() => {
        if (!res.headersSent) send(res, 500, { error: "internal error" });
        else res.destroy();
      });
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: "method not allowed" });
    switch (path) {
      case "/healthz":
        return send(res, 200, { status: "ok" });
      case "/readyz": {
        const r = this.readiness();
        if (r.ready) return send(res, 200, { ready: true, load: r.load });
        res.setHeader("Retry-After", "1");
        return send(res, 503, { ready: false, waiting_for: r.waitingFor, load: r.load });
      }
      default: {
        const route = Object.hasOwn(this.routes, path) ? this.routes[path] : undefined;
        if (route) {
          Promise.resolve()
            .then(() => route(req, res))
            .catch(() => {
              if (!res.headersSent) send(res, 500, { error: "internal error" });
              else res.destroy();
            });
          return;
        }
        return send(res, 404, {
          error: "not found",
          endpoints: ["/healthz", "/readyz", ...Object.keys(this.routes)],
        });
      }
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
