import { createReadStream } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join, normalize } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { type OapClient, OapRequestError } from "@omnigate/sdk";
import { FetchStats } from "./fetch-stats.js";
import { type TileIndex, tileKey } from "./tile-index.js";

const PUBLIC_DIR = fileURLToPath(new URL("./public/", import.meta.url));
/** Leaflet from npm (node_modules), served by this server: the page loads nothing from a CDN. */
const LEAFLET_DIR = dirname(createRequire(import.meta.url).resolve("leaflet/dist/leaflet.js"));
const TILE = /^\/tiles\/(\d+)\/(\d+)\/(\d+)\.png$/;
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
};

export interface TileServerOptions {
  client: OapClient;
  index: TileIndex;
  host?: string;
  port?: number;
  /** One JSON line per event (tile fetched, periodic summary); default: stderr. */
  log?: (line: Record<string, unknown>) => void;
  /** How often the throughput/latency summary is logged, ms (default 10000; 0 = never). */
  summaryEveryMs?: number;
}

export interface TileServer {
  url: string;
  stats: FetchStats;
  close(): Promise<void>;
}

/**
 * An HTTP app on the SDK: `/tiles/{z}/{x}/{y}.png` looks the tile up in the index and streams
 * it from the node over OAP (storage GET, verified by the SDK) into the HTTP response with
 * backpressure; `/` is the Leaflet page; `/stats.json` the fetch throughput and latency.
 */
export async function startTileServer(options: TileServerOptions): Promise<TileServer> {
  const log = options.log ?? ((line) => process.stderr.write(`${JSON.stringify(line)}\n`));
  const stats = new FetchStats();
  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      log({ event: "error", path: req.url, error: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) res.writeHead(500).end("internal error");
      else res.destroy();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const tile = TILE.exec(path);
    if (tile) return serveTile(res, Number(tile[1]), Number(tile[2]), Number(tile[3]));
    if (path === "/stats.json") return json(res, stats.summary());
    if (path === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    if (path === "/" || path === "/index.html") return file(res, join(PUBLIC_DIR, "index.html"));
    if (path === "/app.js") return file(res, join(PUBLIC_DIR, "app.js"));
    if (path.startsWith("/leaflet/")) return file(res, safeJoin(LEAFLET_DIR, path.slice("/leaflet/".length)));
    res.writeHead(404).end("not found");
  }

  async function serveTile(res: ServerResponse, z: number, x: number, y: number): Promise<void> {
    const addr = options.index.get(tileKey(z, x, y));
    if (!addr) {
      res.writeHead(404).end("no such tile");
      return;
    }
    const started = performance.now();
    const reader = options.client.storage.get(addr);
    let head: Awaited<ReturnType<typeof reader.head>>;
    try {
      head = await reader.head();
    } catch (error) {
      stats.failed();
      const missing = error instanceof OapRequestError && error.code === 404;
      res.writeHead(missing ? 404 : 502).end(missing ? "tile not in storage" : "storage unavailable");
      return;
    }
    const firstByteMs = performance.now() - started;
    res.writeHead(200, {
      "content-type": "image/png",
      "content-length": head.length,
      "cache-control": "no-store",
      etag: `"${addr}"`,
    });
    try {
      await pipeline(Readable.from(reader), res);
    } catch (error) {
      stats.failed();
      throw error;
    }
    const totalMs = performance.now() - started;
    stats.record(head.length, firstByteMs, totalMs);
    log({
      event: "tile",
      z,
      x,
      y,
      bytes: head.length,
      first_byte_ms: round(firstByteMs),
      total_ms: round(totalMs),
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8080, options.host ?? "127.0.0.1", resolve);
  });
  const summaryEvery = options.summaryEveryMs ?? 10_000;
  let lastLogged = -1;
  const summaries =
    summaryEvery > 0
      ? setInterval(() => {
          const summary = stats.summary();
          if (summary.fetches === lastLogged) return;
          lastLogged = summary.fetches;
          log({ event: "summary", ...summary });
        }, summaryEvery).unref()
      : undefined;
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(summaries);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function file(res: ServerResponse, path: string): Promise<void> {
  const type = TYPES[path.slice(path.lastIndexOf("."))] ?? "application/octet-stream";
  const stream = createReadStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", reject);
  }).catch(() => {
    res.writeHead(404).end("not found");
  });
  if (res.headersSent) return;
  res.writeHead(200, { "content-type": type });
  await pipeline(stream, res);
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** A path under `root` only: `..` cannot climb out of it. */
function safeJoin(root: string, relative: string): string {
  const joined = normalize(join(root, relative));
  return joined.startsWith(root) ? joined : join(root, "missing");
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
