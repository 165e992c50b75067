import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { PageConfig } from "../shared/protocol.js";
import { buildPageBundle } from "./page-bundle.js";

/** Thrown by `pageConfig` until the node and backend are up: the page gets 503 and retries. */
export class WebNotReadyError extends Error {
  constructor() {
    super("Vest is still starting");
  }
}

const WEB_DIR = fileURLToPath(new URL("../web/", import.meta.url));
const require = createRequire(import.meta.url);

/** Where failed requests are logged (pino's fits). */
export interface WebServerLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface WebServerOptions {
  host: string;
  port: number;
  /** What `/config.json` answers (the guest capability may change: it is asked each time). */
  pageConfig: () => PageConfig;
  logger?: WebServerLogger;
}

export interface VestWebServer {
  url: string;
  port: number;
  bundleBytes: number;
  close(): Promise<void>;
}

interface Asset {
  type: string;
  body: string | Buffer;
}

/**
 * The page's HTTP server: index, bundle, styles and `/config.json`. Plain HTTP on
 * 127.0.0.1 (a secure context, so WebCrypto works); everything is served from here and the
 * Content-Security-Policy lets the page reach only this server and the node's WebSocket.
 */
export async function startWebServer(options: WebServerOptions): Promise<VestWebServer> {
  const bundle = await buildPageBundle();
  const assets = new Map<string, Asset>([
    ["/", { type: "text/html; charset=utf-8", body: await readFile(`${WEB_DIR}index.html`, "utf8") }],
    ["/vest.js", { type: "text/javascript; charset=utf-8", body: bundle.js }],
    ["/vest.css", { type: "text/css; charset=utf-8", body: await readFile(`${WEB_DIR}vest.css`, "utf8") }],
    [
      "/maplibre-gl.css",
      {
        type: "text/css; charset=utf-8",
        body: await readFile(require.resolve("maplibre-gl/dist/maplibre-gl.css")),
      },
    ],
  ]);

  const server = createServer((req, res) => answerSafely(req, res, assets, options));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host}:${port}/`,
    port,
    bundleBytes: bundle.bytes,
    close: () => closeServer(server),
  };
}

/** A request target `new URL` cannot take (`//`, `//a:b@`): answered 400. */
class BadTargetError extends Error {}

/**
 * Never throws: a throw here would be an uncaught exception, ending `npm run vest` and
 * everything it started, on a single odd request.
 */
function answerSafely(
  req: IncomingMessage,
  res: ServerResponse,
  assets: Map<string, Asset>,
  options: WebServerOptions,
): void {
  try {
    answer(req, res, assets, options);
  } catch (err) {
    const bad = err instanceof BadTargetError;
    if (bad) options.logger?.warn({ target: req.url }, "refused a request target that is not a path");
    else options.logger?.error({ err, target: req.url }, "the page server failed a request");
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res
      .writeHead(bad ? 400 : 500, { "content-type": "text/plain" })
      .end(bad ? "bad request target\n" : "internal error\n");
  }
}

function answer(
  req: IncomingMessage,
  res: ServerResponse,
  assets: Map<string, Asset>,
  options: WebServerOptions,
): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  const path = requestPath(req.url ?? "/");
  let config: PageConfig;
  try {
    config = options.pageConfig();
  } catch (err) {
    if (!(err instanceof WebNotReadyError)) throw err;
    res.writeHead(503, { "content-type": "text/plain", "retry-after": "1" }).end("Vest is still starting\n");
    return;
  }
  if (path === "/config.json") {
    send(res, req, { type: "application/json", body: JSON.stringify(config) }, config.wsUrl);
    return;
  }
  if (path === "/favicon.ico") {
    res.writeHead(204).end();
    return;
  }
  const asset = assets.get(path);
  if (!asset) {
    res.writeHead(404, { "content-type": "text/plain" }).end(`no ${path} here\n`);
    return;
  }
  send(res, req, asset, config.wsUrl);
}

function requestPath(target: string): string {
  try {
    return new URL(target, "http://page").pathname;
  } catch {
    throw new BadTargetError(target);
  }
}

function send(res: ServerResponse, req: IncomingMessage, asset: Asset, wsUrl: string): void {
  const wsOrigin = new URL(wsUrl).origin;
  res.writeHead(200, {
    "content-type": asset.type,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    // MapLibre runs its workers from a blob: URL; nothing may load from anywhere else.
    "content-security-policy": [
      "default-src 'self'",
      // hash-wasm's BLAKE3 (verified storage reads) compiles WebAssembly.
      "script-src 'self' 'wasm-unsafe-eval'",
      `connect-src 'self' ${wsOrigin}`,
      "worker-src blob:",
      "child-src blob:",
      "img-src 'self' data: blob:",
      "style-src 'self' 'unsafe-inline'",
      // Not framed (no clickjacking of the chat), no <base> rewrites, forms post only here.
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'self'",
    ].join("; "),
  });
  res.end(req.method === "HEAD" ? undefined : asset.body);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
