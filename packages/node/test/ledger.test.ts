import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type SettlementRecord, verifySettlement } from "@omnigate/ledger";
import { connect } from "@omnigate/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { TestScope } from "../../../testing/support/scope.js";
import { epochEndAfter, UsageMeter } from "../src/ledger/usage-meter.js";

const scope = new TestScope();
afterEach(() => scope.close());

describe("usage meter", () => {
  it("counts per tenant and app into the slice of the period each request ended in", () => {
    const meter = new UsageMeter(1000, 1100, 4);
    meter.count(7n, 0x0101, 1_000_000); // first slice
    meter.count(7n, 0x0101, 1_024_999); // still the first (25 s slices)
    meter.count(7n, 0x0101, 1_025_000); // second
    meter.count(7n, 0x0201, 1_099_999); // another app, last slice
    meter.count(8n, 0x0101, 999_000); // before the period (clock step back): first slice
    meter.count(8n, 0x0101, 1_200_000); // after it (a late close): last slice
    const closed = meter.close(1100, 1200);
    expect(closed).toEqual({
      start: 1000,
      end: 1100,
      usage: [
        { tenant: 7n, app: 0x0101, parts: [2, 1, 0, 0] },
        { tenant: 7n, app: 0x0201, parts: [0, 0, 0, 1] },
        { tenant: 8n, app: 0x0101, parts: [1, 0, 0, 1] },
      ],
    });
    expect(meter.period).toEqual({ start: 1100, end: 1200 });
    expect(meter.close(1200, 1300).usage).toEqual([]);
  });

  it("counts runs of one tenant's app, switches between them and starts afresh after a close", () => {
    const meter = new UsageMeter(1000, 1100, 1);
    for (const [tenant, app] of [
      [7n, 1],
      [7n, 1],
      [8n, 1],
      [7n, 1],
      [7n, 2],
      [7n, 1],
    ] as const) {
      meter.count(tenant, app, 1_050_000);
    }
    expect(meter.close(1100, 1200).usage).toEqual([
      { tenant: 7n, app: 1, parts: [4] },
      { tenant: 8n, app: 1, parts: [1] },
      { tenant: 7n, app: 2, parts: [1] },
    ]);
    meter.count(7n, 1, 1_150_000);
    expect(meter.close(1200, 1300).usage).toEqual([{ tenant: 7n, app: 1, parts: [1] }]);
  });

  it("aligns epochs to multiples of their length", () => {
    expect(epochEndAfter(0, 3600)).toBe(3600);
    expect(epochEndAfter(3599, 3600)).toBe(3600);
    expect(epochEndAfter(3600, 3600)).toBe(7200);
    expect(epochEndAfter(1_796_533_909, 2)).toBe(1_796_533_910);
  });
});

describe("settlement records in the node", () => {
  it("writes signed records of the requests each tenant was served, refusals and HELLO left out", async () => {
    const node = await scope.node({ ledgerEpochSeconds: 1 });
    const client = await connect(node.oapUrl, { ca: node.caPem });
    for (let i = 0; i < 7; i++) await client.request(0x0101, { body: new Uint8Array([i]) });
    await expect(client.request(0x0f00, {})).rejects.toThrow(); // no such app: refused, not usage
    await client.close();
    await node.close();

    const ledger = node.ledger;
    if (!ledger) throw new Error("ledger.records is on by default");
    const dir = join(ledger.dir, "records");
    const records = readdirSync(dir).map(
      (name) => JSON.parse(readFileSync(join(dir, name), "utf8")) as SettlementRecord,
    );
    // The requests may straddle an epoch boundary: then two records hold them.
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(records.every((r) => r.app === 0x0101 && r.tenant === "0" && r.mode === "plain")).toBe(true);
    expect(records.reduce((n, r) => n + r.usage_total, 0)).toBe(7);
    for (const record of records) {
      expect(verifySettlement(record, new Set([ledger.nodeId])).total).toBe(record.usage_total);
    }
    // Periods follow each other without overlap.
    const spans = records
      .map((r): [number, number] => [r.epoch_start, r.epoch_start + r.epoch_seconds])
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++)
      expect(spans[i]?.[0]).toBeGreaterThanOrEqual(spans[i - 1]?.[1] as number);
  });

  it("with ledger.store = on, also stores each record where its tenant can read it", async () => {
    const node = await scope.node({ ledgerEpochSeconds: 1, ledgerStore: "on" });
    const client = await connect(node.oapUrl, { ca: node.caPem });
    await client.request(0x0101, { body: new Uint8Array([1]) });
    const dir = node.ledger?.dir as string;
    const stored = join(dir, "stored.jsonl");
    // The period closes within a second or two; then the record is in storage too.
    for (let waited = 0; !existsSync(stored) && waited < 10_000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const [entry] = readFileSync(stored, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { file: string; tenant: string; addr: `b3:${string}` });
    expect(entry?.tenant).toBe("0");
    const bytes = await client.storage.getBytes(entry?.addr as `b3:${string}`);
    expect(bytes.toString("utf8")).toBe(readFileSync(join(dir, "records", entry?.file as string), "utf8"));
    await client.close();
  });

  it("survives a period whose records cannot be written, and settles the next ones", async () => {
    const node = await scope.node({ ledgerEpochSeconds: 1 });
    const dir = node.ledger?.dir as string;
    // A file where the records directory should be: writing a record fails.
    writeFileSync(join(dir, "records"), "in the way");
    const client = await connect(node.oapUrl, { ca: node.caPem });
    await client.request(0x0101, { body: new Uint8Array([1]) });
    const failed = async () => {
      const text = await (await fetch(`${node.adminUrl}/metrics`)).text();
      return /ledger_records_total\{mode="plain",result="failed"\} [1-9]/.test(text);
    };
    for (let waited = 0; !(await failed()) && waited < 10_000; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await failed()).toBe(true);
    rmSync(join(dir, "records"));
    await client.request(0x0101, { body: new Uint8Array([2]) });
    await client.close();
    await node.close();
    const records = readdirSync(join(dir, "records"));
    expect(records.length).toBeGreaterThanOrEqual(1);
  });

  it("keeps its settlement key across restarts and writes nothing with ledger.records = off", async () => {
    const first = await scope.node({ ledgerEpochSeconds: 1 });
    const dataDir = first.config.dataDir;
    const id = first.ledger?.nodeId;
    await first.close();
    const again = await scope.node({ dataDir });
    expect(again.ledger?.nodeId).toBe(id);
    await again.close();

    const off = await scope.node({ ledgerRecords: "off" });
    expect(off.ledger).toBeUndefined();
    await off.close();
    expect(existsSync(join(off.config.dataDir, "ledger"))).toBe(false);
  });
});
