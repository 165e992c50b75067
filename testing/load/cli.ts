import { Command, InvalidArgumentError } from "commander";
import { type LoadFlow, runLoad } from "./generator.js";

/**
 * Open-loop load against a running node, e.g.
 *
 *   node --conditions=source --import tsx testing/load/cli.ts --url oap+tls://127.0.0.1:9443 \
 *     --ca-file ~/.local/share/omnigate/tls/ca.pem --connections 16 --tenants 8 --rate 2000 --seconds 10
 *
 * Prints one JSON line per tenant flow and one for the total on stdout; progress on stderr.
 */
const program = new Command("omnigate-load")
  .description("Open-loop OAP/1 load on the SDK: many connections and tenants at a set rate.")
  .option("--url <url>", "node URL", process.env.RON_NODE_URL ?? "oap+tls://127.0.0.1:9443")
  .option("--ca-file <path>", "PEM CA to trust (e.g. the node's dev CA)")
  .option("--insecure", "accept any certificate (local experiments only)")
  .option("--connections <n>", "TLS connections", int, 8)
  .option("--tenants <n>", "tenants, ids 1..n, sharing the rate evenly", int, 4)
  .option("--rate <n>", "requests started per second, in all", int, 1000)
  .option("--seconds <n>", "how long to send", int, 10)
  .option("--app <id>", "app_proto_id (default echo)", int, 0x0101)
  .option("--body <bytes>", "request body size", int, 64)
  .option("--delay-ms <ms>", "echo meta delay_ms: keeps each stream open this long", int, 0)
  .option("--deadline-ms <ms>", "deadline of each call", int, 5_000)
  .option("--max-outstanding <n>", "pending calls above which sends are skipped", int, 100_000);

function int(value: string): number {
  const n = value.startsWith("0x") ? Number.parseInt(value.slice(2), 16) : Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

async function main(): Promise<void> {
  const o = program.parse().opts<{
    url: string;
    caFile?: string;
    insecure?: boolean;
    connections: number;
    tenants: number;
    rate: number;
    seconds: number;
    app: number;
    body: number;
    delayMs: number;
    deadlineMs: number;
    maxOutstanding: number;
  }>();
  const tenants = Math.max(1, o.tenants);
  const flows: LoadFlow[] = Array.from({ length: tenants }, (_, i) => ({
    tenant: BigInt(i + 1),
    ratePerSec: o.rate / tenants,
    appProtoId: o.app,
    bodyBytes: o.body,
    meta: o.delayMs > 0 ? { delay_ms: o.delayMs } : undefined,
  }));
  process.stderr.write(
    `load: ${o.rate}/s over ${o.connections} connections, ${tenants} tenants, ${o.seconds} s\n`,
  );
  const report = await runLoad({
    url: o.url,
    connect: { caFile: o.caFile, insecure: o.insecure },
    connections: Math.max(1, o.connections),
    flows,
    durationMs: o.seconds * 1000,
    deadlineMs: o.deadlineMs,
    maxOutstanding: o.maxOutstanding,
    onProgress: (sent, settled) => process.stderr.write(`  sent ${sent}, settled ${settled}\n`),
  });
  for (const flow of report.flows) process.stdout.write(`${JSON.stringify({ load: "flow", ...flow })}\n`);
  process.stdout.write(
    `${JSON.stringify({ load: "total", duration_ms: report.duration_ms, ...report.total })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`load: ${(err as Error).message}\n`);
  process.exit(1);
});
