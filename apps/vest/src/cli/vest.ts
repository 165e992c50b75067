#!/usr/bin/env node
/**
 * `npm run vest`: starts the Vest pilot (node if none is running, map archive, backend,
 * page) and prints the URL. Ctrl-C stops what it started.
 */
import { Command } from "commander";
import { DEFAULT_VEST_PORTS } from "../node-runner/vest-layout.js";
import { startVest } from "../start-vest.js";

/** Each zoom level has up to 4× the tiles of the one above: from about 12 the build never ends. */
const MAX_ZOOM = 10;

const program = new Command("vest")
  .description("Run the Vest pilot: a world map and an end-to-end-encrypted chat on an Omnigate node.")
  .option("--dir <dir>", "where the node's data, the archive and the logs live", ".vest")
  .option("--web-port <port>", "the page's HTTP port", String(DEFAULT_VEST_PORTS.web))
  .option("--max-zoom <z>", `deepest zoom level cut into the archive, 0 to ${MAX_ZOOM}`, "6")
  .parse();

const opts = program.opts<{ dir: string; webPort: string; maxZoom: string }>();

async function main(): Promise<void> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const vest = await startVest({
    dir: opts.dir,
    ports: { web: port(opts.webPort, "--web-port") },
    maxZoom: zoom(opts.maxZoom),
    say,
  });
  say("");
  say(`Vest is running: open ${vest.pageUrl}`);
  say(
    `  node          ${vest.oapUrl}  (${vest.node ? `started now, pid ${vest.node.pid}` : "already running"})`,
  );
  say(`  page → node   ${vest.wsUrl}`);
  say(`  backend       ${vest.backend.server.url}  (app 0x1001)`);
  say(`  logs          ${vest.layout.logDir}`);
  say("");
  say("The page reaches the node over WSS with the node's dev certificate: trust");
  say(`  ${vest.layout.nodeDataDir}/tls/ca.pem`);
  say(`in your browser, or open https://${vest.ports.host}:${vest.ports.ws}/ once and accept it.`);
  say("Open the page in two windows (or a private window) as two users to chat. Ctrl-C stops.");

  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    say("stopping…");
    vest.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  // A closed terminal: stop as on Ctrl-C rather than die without stopping the node.
  process.on("SIGHUP", stop);
}

function port(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`vest: ${flag} must be a number from 0 to 65535, got "${value}"\n`);
    process.exit(2);
  }
  return n;
}

function zoom(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 0 || n > MAX_ZOOM) {
    process.stderr.write(`vest: --max-zoom must be a whole number from 0 to ${MAX_ZOOM}, got "${value}"\n`);
    process.exit(2);
  }
  return n;
}

main().catch((err: unknown) => {
  const error = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (error.code === "EADDRINUSE") {
    process.stderr.write(
      `vest: ${error.address}:${error.port} is in use; is another \`npm run vest\` running? Stop it first (Vest uses ${Object.entries(
        DEFAULT_VEST_PORTS,
      )
        .filter(([name]) => name !== "host")
        .map(([name, port]) => `${name} ${port}`)
        .join(", ")}).\n`,
    );
    process.exit(2);
  }
  process.stderr.write(`vest: ${error.message}\n`);
  process.exit(1);
});
