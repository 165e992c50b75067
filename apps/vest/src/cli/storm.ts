#!/usr/bin/env node
/**
 * `npm run vest:storm`: floods a running Vest node past its quotas (map range reads at 20×
 * the tenant's storage quota, mailbox receives at 20× the storm token's rate) and prints what
 * the node answered, one JSON line per rail. Open the page meanwhile to watch it cope.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { UserCapIssuer } from "../backend/user-caps.js";
import { AdminApi } from "../node-runner/admin-api.js";
import { DEFAULT_VEST_QUOTAS } from "../node-runner/node-config.js";
import { DEFAULT_VEST_PORTS, NEIGHBOUR_TENANT, VEST_TENANT, vestLayout } from "../node-runner/vest-layout.js";
import { MAILBOX_APP_ID, STORAGE_APP_ID } from "../shared/protocol.js";
import { stormVest } from "../storm/storm-runner.js";
import { addressOfArchive } from "../tiles/archive-address.js";
import { WORLD_ARCHIVE_BUILD } from "../tiles/build-archive.js";

const program = new Command("vest:storm")
  .description("Flood a running Vest node past its quotas and report how it answered.")
  .option("--dir <dir>", "the Vest directory (as given to npm run vest)", ".vest")
  .option("--seconds <n>", "how long", "15")
  .option("--factor <n>", "multiple of the quota to send", "20")
  .parse();
const opts = program.opts<{ dir: string; seconds: string; factor: string }>();

async function main(): Promise<void> {
  const layout = vestLayout(opts.dir);
  const ports = DEFAULT_VEST_PORTS;
  const admin = await AdminApi.open(`http://${ports.host}:${ports.admin}`, layout.nodeDataDir).catch(() => {
    throw new Error(`no Vest node found (${layout.nodeDataDir}): start one with npm run vest`);
  });
  const [tenantCap, neighbourCap] = await Promise.all([
    admin.mintTenantCap({ tenant: VEST_TENANT, apps: [STORAGE_APP_ID], ttlSeconds: 3600 }),
    admin.mintTenantCap({ tenant: NEIGHBOUR_TENANT, apps: [MAILBOX_APP_ID], ttlSeconds: 3600 }),
  ]);
  const caPem = await readFile(join(layout.nodeDataDir, "tls", "ca.pem"), "utf8");
  const archiveAddr = await addressOfArchive(layout.archiveFile);
  process.stderr.write(
    `storm: ${opts.seconds} s at ${opts.factor}× quota against ${ports.host}:${ports.oap} (archive ${WORLD_ARCHIVE_BUILD})\n`,
  );
  const reports = await stormVest(
    {
      nodeUrl: `oap+tls://${ports.host}:${ports.oap}`,
      ca: caPem,
      vestTenant: VEST_TENANT,
      vestStorageCap: new UserCapIssuer(tenantCap).stormStorage(Math.floor(Date.now() / 1000) + 3600),
      archiveAddr,
      storageQuotaPerSec: DEFAULT_VEST_QUOTAS.storageRate,
      neighbourTenant: NEIGHBOUR_TENANT,
      neighbourCap,
      mailboxQuotaPerSec: DEFAULT_VEST_QUOTAS.mailboxRate,
    },
    { durationMs: Number(opts.seconds) * 1000, factor: Number(opts.factor) },
  );
  for (const report of reports) process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`vest:storm: ${(err as Error).message}\n`);
  process.exit(1);
});
