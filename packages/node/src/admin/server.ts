import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { listenOn } from "../gateway/listen.js";

export interface Readiness {
  ready: boolean;
  /** What the node is still waiting for, or why it stopped being ready. */
  waitingFor: string[];
  /** The load figures behind the answer (admission snapshot), shown in the body. */
  load?: object;
}

/** Admin HTTP: /healthz is liveness only; /readyz says whether to send traffic here. */
export class AdminServer {
  private readonly server: Server;

  constructor(private readonly readiness: () => Readiness) {
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
    const path = (req.url ?? "/").split("?")[0];
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
      default:
        return send(res, 404, { error: "not found", endpoints: ["/healthz", "/readyz"] });
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
