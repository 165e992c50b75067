/**
 * `ronctl ledger`: settlement records (docs/ledger.md). `node-id` prints the id a node signs
 * with, `verify` checks record files, `rewarder` pays records at most once.
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { nodeKeyFromPem, SettlementError, verifySettlement } from "@omnigate/ledger";
import { nodeDataDir } from "@omnigate/sdk";
import { Command, InvalidArgumentError } from "commander";
import { CommandRefused } from "../errors.js";
import { RewarderMetrics } from "../rewarder/metrics.js";
import { PayoutDb } from "../rewarder/payout-db.js";
import { settleRecords } from "../rewarder/rewarder.js";

export function ledgerCommand(): Command {
  return new Command("ledger")
    .description("Settlement records: the node's signing id, verification, the rewarder.")
    .addCommand(nodeIdCommand())
    .addCommand(verifyRecordsCommand())
    .addCommand(rewarderCommand());
}

function nodeIdCommand(): Command {
  return new Command("node-id")
    .description("Print the settlement key id of a node (what a rewarder's --trust file lists).")
    .option("--data-dir <dir>", "the node's data dir (default: $OMNIGATE_DATA_DIR, else the local node's)")
    .option("--ledger-dir <dir>", "the node's ledger.dir, when it is not data_dir/ledger")
    .action(async (opts: { dataDir?: string; ledgerDir?: string }) => {
      const dataDir = opts.dataDir ?? nodeDataDir();
      const path = join(opts.ledgerDir ?? join(dataDir, "ledger"), "node-key.pem");
      let pem: string;
      try {
        pem = await readFile(path, "utf8");
      } catch {
        throw new CommandRefused(`no settlement key at ${path}`, {
          hint: "a node makes it on first start with ledger.records = on (the default)",
        });
      }
      process.stdout.write(`${nodeKeyFromPem(pem).nodeId}\n`);
    });
}

function verifyRecordsCommand(): Command {
  return new Command("verify")
    .description("Verify settlement record files: shape, trusted node, signature, opening and proof.")
    .argument("<files...>", "record files (JSON)")
    .requiredOption("--trust <file>", "trusted node ids, one per line (# comments)")
    .action(async (files: string[], opts: { trust: string }) => {
      const trusted = await readTrustFile(opts.trust);
      for (const file of files) {
        try {
          const result = verifySettlement(JSON.parse(await readFile(file, "utf8")), trusted);
          process.stdout.write(`${file}: valid, total ${result.total}, record ${result.recordId}\n`);
        } catch (error) {
          const reason = error instanceof SettlementError ? error.reason : "malformed";
          process.stdout.write(`${file}: invalid (${reason}): ${(error as Error).message}\n`);
          process.exitCode = 1;
        }
      }
    });
}

interface RewarderOpts {
  records: string;
  db: string;
  trust: string;
  rate: number;
  once?: boolean;
  intervalMs: number;
  metrics?: string;
}

function rewarderCommand(): Command {
  return new Command("rewarder")
    .description(
      "Verify the records in a directory and pay each at most once (SQLite); one JSON line per record on stdout.",
    )
    .requiredOption("--records <dir>", "records directory (a node's ledger dir/records)")
    .requiredOption("--db <file>", "the payout database (SQLite, made if missing)")
    .requiredOption("--trust <file>", "trusted node ids, one per line (# comments)")
    .option("--rate <n>", "amount paid per unit of usage", integer, 1)
    .option("--once", "one pass over the directory, then exit")
    .option("--interval-ms <ms>", "time between passes", integer, 2000)
    .option("--metrics <host:port>", "serve Prometheus metrics at http://host:port/metrics")
    .action(async (opts: RewarderOpts) => {
      const trustedNodes = await readTrustFile(opts.trust);
      const db = new PayoutDb(opts.db);
      const metrics = new RewarderMetrics();
      const server = opts.metrics ? await serveMetrics(opts.metrics, metrics) : undefined;
      const seen = new Map<string, string>();
      let stopping = false;
      const stop = () => {
        stopping = true;
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      try {
        do {
          await settleRecords({
            recordsDir: opts.records,
            db,
            trustedNodes,
            rate: opts.rate,
            metrics,
            seen,
            onRecord: (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
          });
          if (opts.once || stopping) break;
          await new Promise((resolve) => setTimeout(resolve, opts.intervalMs));
        } while (!stopping);
        process.stderr.write(`rewarder: ${JSON.stringify(db.summary())}\n`);
      } finally {
        db.close();
        server?.close();
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
    });
}

async function readTrustFile(path: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new CommandRefused(`cannot read the trust file ${path}`, {
      hint: "one node id per line: `ronctl ledger node-id --data-dir <node data dir>` prints a node's",
    });
  }
  const ids = new Set<string>();
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    if (!/^[0-9a-f]{64}$/.test(line)) {
      throw new CommandRefused(`${path}:${i + 1}: not a node id (64 lowercase hex digits): ${line}`);
    }
    ids.add(line);
  }
  return ids;
}

async function serveMetrics(address: string, metrics: RewarderMetrics) {
  const match = /^(.+):(\d+)$/.exec(address);
  if (!match) throw new CommandRefused(`--metrics wants host:port, not ${address}`);
  const server = createServer(async (req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": metrics.registry.contentType });
    res.end(await metrics.registry.metrics());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(match[2]), match[1], resolve);
  });
  const bound = server.address();
  if (bound && typeof bound === "object")
    process.stderr.write(`rewarder: metrics at http://${match[1]}:${bound.port}/metrics\n`);
  return server;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError("not a non-negative integer");
  return n;
}
