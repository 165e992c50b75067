/**
 * Tile reads from the Vest world archive: through OAP (the page's OapRangeSource on the SDK,
 * over WSS as the browser dials and over TLS) against the same archive served by node:https
 * with Range requests, in the same run. Each system starts cold (a new connection with its TLS
 * handshake, plus HELLO for OAP; then header, root directory and the first tile: "first
 * tile"), then reads a fixed tour of tiles one after another
 * (a user panning and zooming over Europe, zoom 2–6); the systems take turns round by round.
 *
 *   npm run bench:vest-tiles [-- --rounds 5]
 *
 * stdout: one JSON line per system and round, then one summary line per system with the
 * ratios to the HTTPS baseline, then for each OAP system one comparison line per measure
 * (`tile_p50`, `tile_p95`, `first_tile`) whose `ratio` is HTTPS's median ms over the system's
 * (its speed against the HTTPS floor of this run; higher is better), which the perf rig gates.
 * stderr: progress.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connect } from "@omnigate/sdk";
import { PMTiles, type Source } from "pmtiles";
import { UserCapIssuer } from "../../apps/vest/src/backend/user-caps.js";
import { VEST_TENANT } from "../../apps/vest/src/node-runner/vest-layout.js";
import { startVest } from "../../apps/vest/src/start-vest.js";
import { tempDir } from "../../testing/support/temp-dir.js";
import { startRangeServer } from "./https-range-server.js";
import { HttpsRangeSource, oapSource } from "./range-sources.js";

const { values: args } = parseArgs({ options: { rounds: { type: "string", default: "5" } } });
const rounds = Number(args.rounds);

/** The tour: every tile of a box around Europe at each zoom, in the order a map asks for them. */
function tour(): Array<[number, number, number]> {
  const tiles: Array<[number, number, number]> = [];
  const lonToX = (lon: number, z: number) => Math.floor(((lon + 180) / 360) * 2 ** z);
  const latToY = (lat: number, z: number) => {
    const r = (lat * Math.PI) / 180;
    return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z);
  };
  for (let z = 2; z <= 6; z++) {
    for (let x = lonToX(-10, z); x <= lonToX(30, z); x++) {
      for (let y = latToY(60, z); y <= latToY(36, z); y++) tiles.push([z, x, y]);
    }
  }
  return tiles;
}

interface RoundResult {
  system: string;
  round: number;
  first_tile_ms: number;
  tiles: number;
  bytes: number;
  p50_ms: number;
  p95_ms: number;
}

/** A source on a connection of its own, and how to close that connection. */
interface ColdSource {
  source: Source;
  close(): Promise<void>;
}

async function measure(
  system: string,
  round: number,
  open: () => Promise<ColdSource>,
  path: Array<[number, number, number]>,
): Promise<RoundResult> {
  const t0 = performance.now();
  const { source, close } = await open();
  const archive = new PMTiles(source);
  await archive.getZxy(0, 0, 0);
  const firstTileMs = performance.now() - t0;
  const latencies: number[] = [];
  let bytes = 0;
  for (const [z, x, y] of path) {
    const t = performance.now();
    const tile = await archive.getZxy(z, x, y);
    latencies.push(performance.now() - t);
    bytes += tile?.data.byteLength ?? 0;
  }
  await close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    system,
    round,
    first_tile_ms: round3(firstTileMs),
    tiles: path.length,
    bytes,
    p50_ms: round3(q(0.5)),
    p95_ms: round3(q(0.95)),
  };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const dir = tempDir("vest-tiles-bench-");
  process.stderr.write("starting a Vest node and storing the archive…\n");
  // Quotas far above what one reader asks: this measures latency, not the quota.
  const vest = await startVest({
    dir: dir.path,
    ports: { oap: 0, ws: 0, admin: 0, backend: 0, web: 0 },
    quotas: { storageRate: 100_000, mailboxRate: 100_000 },
  });
  try {
    const tls = {
      cert: readFileSync(join(vest.layout.nodeDataDir, "tls", "server.pem"), "utf8"),
      key: readFileSync(join(vest.layout.nodeDataDir, "tls", "server-key.pem"), "utf8"),
    };
    const cap = new UserCapIssuer(vest.tenantCap).storage(Math.floor(Date.now() / 1000) + 3600);
    const oap = (url: string) => async (): Promise<ColdSource> => {
      const client = await connect(url, { ca: vest.caPem, cap, tenant: VEST_TENANT });
      return { source: oapSource(client, vest.archive.addr), close: () => client.close() };
    };
    const https = await startRangeServer(readFileSync(vest.layout.archiveFile), tls);
    const openHttps = async (): Promise<ColdSource> => {
      const source = new HttpsRangeSource(https.url, vest.caPem);
      return { source, close: async () => source.close() };
    };
    const path = tour();
    const results: RoundResult[] = [];
    try {
      for (let round = 1; round <= rounds; round++) {
        const systems: Array<[string, () => Promise<ColdSource>]> = [
          ["https-range", openHttps],
          ["oap-wss", oap(vest.wsUrl)],
          ["oap-tls", oap(vest.oapUrl)],
        ];
        // Turns rotate so no system always runs first (or last) in a round.
        for (let i = 0; i < systems.length; i++) {
          const [system, open] = systems[(i + round) % systems.length] as [string, () => Promise<ColdSource>];
          const result = await measure(system, round, open, path);
          results.push(result);
          process.stdout.write(`${JSON.stringify(result)}\n`);
        }
        process.stderr.write(`round ${round}/${rounds} done\n`);
      }
    } finally {
      await https.close();
    }
    const summary = (system: string) => {
      const mine = results.filter((r) => r.system === system);
      return {
        first_tile_ms: median(mine.map((r) => r.first_tile_ms)),
        p50_ms: median(mine.map((r) => r.p50_ms)),
        p95_ms: median(mine.map((r) => r.p95_ms)),
      };
    };
    const base = summary("https-range");
    for (const system of ["https-range", "oap-wss", "oap-tls"]) {
      const s = summary(system);
      process.stdout.write(
        `${JSON.stringify({
          summary: system,
          rounds,
          tiles_per_round: path.length,
          ...s,
          first_tile_vs_https: round3(s.first_tile_ms / base.first_tile_ms),
          p95_vs_https: round3(s.p95_ms / base.p95_ms),
        })}\n`,
      );
    }
    for (const system of ["oap-wss", "oap-tls"]) {
      const s = summary(system);
      const measures: Array<[string, number, number]> = [
        ["tile_p50", base.p50_ms, s.p50_ms],
        ["tile_p95", base.p95_ms, s.p95_ms],
        ["first_tile", base.first_tile_ms, s.first_tile_ms],
      ];
      for (const [compare, floorMs, ms] of measures) {
        const line = {
          bench: "vest-tiles",
          compare,
          system,
          baseline: "https-range",
          ratio: round3(floorMs / ms),
        };
        process.stdout.write(`${JSON.stringify(line)}\n`);
      }
    }
  } finally {
    await vest.stop();
    dir.remove();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:vest-tiles: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
