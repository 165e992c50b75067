/**
 * End to end with real processes: a node with ledger.zk = on writes zero-knowledge settlement
 * records of what it served; `ronctl ledger node-id` gives its id for the trust file, and the
 * rewarder verifies the proofs and pays exactly the requests served.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SettlementRecord } from "@omnigate/ledger";
import { connect } from "@omnigate/sdk";
import { afterAll, expect, it } from "vitest";
import { ronctl } from "../../packages/ronctl/test/support/run.js";
import { startNodeProcess } from "../support/node-process.js";
import { tempDir } from "../support/temp-dir.js";

const dir = tempDir("ledger-e2e-");
afterAll(() => dir.remove());

it("pays a node's zero-knowledge records for the requests it served", async () => {
  const dataDir = join(dir.path, "node");
  const node = await startNodeProcess(
    ["--ledger-zk", "on", "--ledger-parts", "4", "--ledger-epoch-seconds", "2"],
    { dataDir },
  );
  const client = await connect(node.oapUrl, { ca: node.caPem });
  for (let i = 0; i < 12; i++) await client.request(0x0101, { body: new Uint8Array([i]) });
  await client.close();
  // A graceful stop closes the open period; the proofs are built before the node exits.
  await node.stop();

  const recordsDir = join(dataDir, "ledger", "records");
  const records = readdirSync(recordsDir).map(
    (name) => JSON.parse(readFileSync(join(recordsDir, name), "utf8")) as SettlementRecord,
  );
  expect(records.every((r) => r.mode === "zk" && typeof r.usage_proof === "string")).toBe(true);
  expect(records.reduce((n, r) => n + r.usage_total, 0)).toBe(12);

  const nodeId = await ronctl(["ledger", "node-id", "--data-dir", dataDir]);
  expect(nodeId.code).toBe(0);
  expect(nodeId.stdout.trim()).toBe(records[0]?.node_id);
  const trust = join(dir.path, "trust");
  writeFileSync(trust, nodeId.stdout);

  const verify = await ronctl([
    "ledger",
    "verify",
    "--trust",
    trust,
    ...readdirSync(recordsDir).map((n) => join(recordsDir, n)),
  ]);
  expect(verify.code).toBe(0);
  expect(verify.stdout).toContain("valid, total");

  const db = join(dir.path, "payouts.db");
  const paid = await ronctl([
    "ledger",
    "rewarder",
    "--records",
    recordsDir,
    "--db",
    db,
    "--trust",
    trust,
    "--once",
  ]);
  expect(paid.code).toBe(0);
  const events = paid.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { outcome: string; amount: number });
  expect(events.every((e) => e.outcome === "paid")).toBe(true);
  expect(events.reduce((n, e) => n + e.amount, 0)).toBe(12);
}, 120_000);
