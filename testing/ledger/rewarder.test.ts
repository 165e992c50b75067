/**
 * The rewarder as its own process (`ronctl ledger rewarder`): every valid record paid exactly
 * once though the rewarder is SIGKILLed mid-run and started again; forged, foreign, malformed
 * and replayed records refused with their reason, in the output, the database and the metrics.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { sign } from "node:crypto";
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createSettlement, generateNodeKey, type SettlementRecord, signingBytes } from "@omnigate/ledger";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, ronctl } from "../../packages/ronctl/test/support/run.js";
import { parseExposition } from "../support/prometheus-text.js";
import { tempDir } from "../support/temp-dir.js";

const BIN = fileURLToPath(new URL("../../packages/ronctl/src/bin/ronctl.ts", import.meta.url));
const dir = tempDir("rewarder-");
afterAll(() => dir.remove());

const node = generateNodeKey();
const stranger = generateNodeKey();
const recordsDir = join(dir.path, "records");
const trustFile = join(dir.path, "trusted-nodes");
const dbFile = join(dir.path, "payouts.db");

/** Writes `record` as `name` in the records dir. */
function put(name: string, record: unknown): void {
  writeFileSync(join(recordsDir, name), typeof record === "string" ? record : JSON.stringify(record));
}

/** Starts the rewarder; resolves each JSON line it prints through `onEvent`. */
function startRewarder(args: string[], onEvent: (event: { outcome: string }) => void): ChildProcess {
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", BIN, "ledger", "rewarder", ...args],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    if (line.startsWith("{")) onEvent(JSON.parse(line) as { outcome: string });
  });
  return child;
}

describe("rewarder", () => {
  const valid: SettlementRecord[] = [];
  let expectedAmount = 0;

  it("pays every valid record exactly once across a SIGKILL and a restart", async () => {
    mkdirSync(recordsDir, { recursive: true });
    writeFileSync(trustFile, `# the node under test\n${node.nodeId}\n`);
    // 40 plain records and 4 zero-knowledge ones (4 parts each), all valid.
    for (let i = 0; i < 44; i++) {
      const zk = i >= 40;
      const record = createSettlement(
        {
          tenant: String(1000 + i),
          app: 0x0101,
          epochStart: 1_796_000_000 + i * 60,
          epochSeconds: 60,
          parts: zk ? [i, 2 * i, 0, 7] : [i * 10 + 1],
          mode: zk ? "zk" : "plain",
        },
        node,
      );
      valid.push(record);
      expectedAmount += record.usage_total * 3;
      put(`${String(i).padStart(3, "0")}.json`, record);
    }
    // The same record again: byte for byte (skipped as already seen) and re-encoded (a replay,
    // verified and refused by its record id); a forged total, a stranger's record, junk.
    copyFileSync(join(recordsDir, "000.json"), join(recordsDir, "899-copy.json"));
    put("900-replay.json", JSON.stringify(valid[0], null, 2));
    put("901-forged.json", { ...valid[1], usage_total: 999_999 });
    put(
      "902-stranger.json",
      createSettlement(
        { tenant: "7", app: 0x0101, epochStart: 0, epochSeconds: 60, parts: [5], mode: "plain" },
        stranger,
      ),
    );
    put("903-junk.json", "{ not json");

    const args = ["--records", recordsDir, "--db", dbFile, "--trust", trustFile, "--rate", "3"];
    // First run: killed with SIGKILL after its fifth payout, somewhere in the middle of the pass.
    let paidBeforeKill = 0;
    const first = startRewarder(args, (event) => {
      if (event.outcome === "paid" && ++paidBeforeKill === 5) first.kill("SIGKILL");
    });
    // "close": its output is read to the end, so every payout it announced is counted.
    const exit = await new Promise<NodeJS.Signals | null>((resolve) =>
      first.once("close", (_c, s) => resolve(s)),
    );
    expect(exit).toBe("SIGKILL");
    expect(paidBeforeKill).toBeGreaterThanOrEqual(5);

    // Second run, one pass: pays what the first did not, and nothing twice.
    const second = await ronctl(["ledger", "rewarder", ...args, "--once"]);
    expect(second.code).toBe(0);
    const events = second.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { file: string; outcome: string; reason?: string });
    const db = new Database(dbFile, { readonly: true });
    const perRecord = db
      .prepare("SELECT record_id, COUNT(*) AS n, SUM(amount) AS amount FROM payouts GROUP BY record_id")
      .all() as { record_id: string; n: number; amount: number }[];
    const total = db.prepare("SELECT COUNT(*) AS n, SUM(amount) AS amount FROM payouts").get() as {
      n: number;
      amount: number;
    };
    db.close();
    expect(perRecord).toHaveLength(44);
    expect(perRecord.every((r) => r.n === 1)).toBe(true);
    expect(total).toEqual({ n: 44, amount: expectedAmount });
    // The kill landed mid-pass: the second run paid the rest (at most what the first did not
    // announce: a payout committed just before the kill may not have been printed).
    const paidAfter = events.filter((e) => e.outcome === "paid").length;
    expect(paidAfter).toBeGreaterThan(0);
    expect(paidAfter).toBeLessThanOrEqual(44 - paidBeforeKill);

    // A third pass pays nothing. Only the stranger's record is looked at again: a refusal for
    // an untrusted node is not kept, since its operator may be trusted later.
    const third = await ronctl(["ledger", "rewarder", ...args, "--once"]);
    expect(third.code).toBe(0);
    expect(
      third.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toMatchObject([{ file: "902-stranger.json", outcome: "rejected", reason: "unknown_node" }]);
    expect(third.stderr).toContain('"payouts":44');
  }, 120_000);

  it("refused the replay, the forgery and the junk with their reasons, and kept no refusal of the stranger", () => {
    const db = new Database(dbFile, { readonly: true });
    const rows = db
      .prepare(
        "SELECT file, outcome, reason FROM processed WHERE file LIKE '8%' OR file LIKE '9%' ORDER BY file",
      )
      .all();
    db.close();
    expect(rows).toEqual([
      { file: "900-replay.json", outcome: "replayed", reason: null },
      { file: "901-forged.json", outcome: "rejected", reason: "bad_signature" },
      { file: "903-junk.json", outcome: "rejected", reason: "malformed" },
    ]);
  });

  it("pays the stranger's record once its node is added to the trust file", async () => {
    writeFileSync(trustFile, `${node.nodeId}\n${stranger.nodeId}\n`);
    const run = await ronctl([
      "ledger",
      "rewarder",
      "--records",
      recordsDir,
      "--db",
      dbFile,
      "--trust",
      trustFile,
      "--rate",
      "3",
      "--once",
    ]);
    expect(run.code).toBe(0);
    expect(
      run.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toMatchObject([{ file: "902-stranger.json", outcome: "paid", amount: 15 }]);
  });

  it("counts each outcome and refusal reason in zk_verify_total, zk_verify_failures_total and zk_verify_seconds", async () => {
    const fresh = tempDir("rewarder-metrics-");
    try {
      const records = join(fresh.path, "records");
      mkdirSync(records);
      const trustOne = join(fresh.path, "trusted-nodes");
      writeFileSync(trustOne, `${node.nodeId}\n`);
      const zk = valid[40] as SettlementRecord;
      // The node itself signs a total its parts do not add up to: only the proof can tell.
      const { signature: _, ...unsigned } = { ...zk, usage_total: zk.usage_total + 1 };
      const overstated = {
        ...unsigned,
        signature: sign(null, signingBytes(unsigned), node.privateKey).toString("hex"),
      };
      const files: Record<string, unknown> = {
        "a-valid.json": zk,
        "b-replay.json": JSON.stringify(zk, null, 1),
        "c-forged.json": { ...(valid[41] as SettlementRecord), usage_total: 1 },
        "d-overstated.json": overstated,
        "e-stranger.json": createSettlement(
          { tenant: "7", app: 0x0101, epochStart: 0, epochSeconds: 60, parts: [5], mode: "plain" },
          stranger,
        ),
        "f-junk.json": "[1, 2",
        // The same node, tenant and app, 30 s into the period it was paid for.
        "g-overlap.json": createSettlement(
          {
            tenant: zk.tenant,
            app: zk.app,
            epochStart: zk.epoch_start + 30,
            epochSeconds: 60,
            parts: [1],
            mode: "plain",
          },
          node,
        ),
      };
      for (const [name, content] of Object.entries(files)) {
        writeFileSync(join(records, name), typeof content === "string" ? content : JSON.stringify(content));
      }
      // Not record files at all: a directory, and a link to an endless device.
      mkdirSync(join(records, "h-directory.json"));
      symlinkSync("/dev/zero", join(records, "i-link.json"));
      let metricsUrl: string | undefined;
      const seen: string[] = [];
      const child = spawn(
        process.execPath,
        [
          "--conditions=source",
          "--import",
          "tsx",
          BIN,
          "ledger",
          "rewarder",
          ...["--records", records, "--db", join(fresh.path, "p.db"), "--trust", trustOne],
          ...["--metrics", "127.0.0.1:0", "--interval-ms", "200"],
        ],
        { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
      );
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (l) => seen.push(l));
      const ready = new Promise<void>((resolve) =>
        createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (l) => {
          metricsUrl ??= /metrics at (\S+)/.exec(l)?.[1];
          if (metricsUrl) resolve();
        }),
      );
      await ready;
      while (seen.length < 9) await new Promise((r) => setTimeout(r, 50));
      const text = await (await fetch(metricsUrl as string)).text();
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      const { samples } = parseExposition(text);
      const value = (name: string, labels: Record<string, string>) =>
        samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
          ?.value;
      expect(seen.map((l) => JSON.parse(l) as { outcome: string; reason?: string })).toMatchObject([
        { outcome: "paid" },
        { outcome: "replayed" },
        { outcome: "rejected", reason: "bad_signature" },
        { outcome: "rejected", reason: "total_mismatch" },
        { outcome: "rejected", reason: "unknown_node" },
        { outcome: "rejected", reason: "malformed" },
        { outcome: "rejected", reason: "overlapping_period" },
        { outcome: "rejected", reason: "malformed", message: "not a regular file" },
        { outcome: "rejected", reason: "malformed", message: "cannot open the file (ELOOP)" },
      ]);
      expect(value("zk_verify_total", { result: "valid" })).toBe(1);
      expect(value("zk_verify_total", { result: "replayed" })).toBe(1);
      expect(value("zk_verify_total", { result: "invalid" })).toBe(4);
      for (const reason of ["bad_signature", "total_mismatch", "unknown_node", "overlapping_period"]) {
        expect(value("zk_verify_failures_total", { reason }), reason).toBe(1);
      }
      expect(value("zk_verify_failures_total", { reason: "malformed" })).toBe(3);
      expect(value("zk_verify_seconds_count", { mode: "zk" })).toBe(4);
      expect(value("rewarder_paid_amount_total", {})).toBe(zk.usage_total);
    } finally {
      fresh.remove();
    }
  }, 60_000);
});
