import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CheckResult, MODEL_CHECKS, runModelChecks } from "../../scripts/check-models.js";
import { checkTlaDir, checkTlaSource, formatProblem } from "../../scripts/check-tla.js";

// spin compiles one pan per model and macro set; the whole run takes tens of seconds.
const MODEL_TIMEOUT_MS = 120_000;

describe("Promela models under spin", () => {
  let results: CheckResult[] = [];
  beforeAll(async () => {
    results = await runModelChecks();
  }, MODEL_TIMEOUT_MS);

  const result = (model: string, claim: string, defines: string[] = []): CheckResult => {
    const found = results.find(
      (r) => r.model === model && r.claim === claim && r.defines.join() === defines.join(),
    );
    if (!found) throw new Error(`no check of ${model} ${claim} -D${defines.join(" -D")}`);
    return found;
  };

  it("runs every check, each as expected", () => {
    expect(results).toHaveLength(MODEL_CHECKS.length);
    expect(results.filter((r) => !r.ok).map((r) => `${r.model} ${r.defines} ${r.claim}: ${r.found}`)).toEqual(
      [],
    );
  });

  it("passes every property of the real mailbox model after a complete search", () => {
    for (const claim of ["bounded", "dlq_after_max", "absorbing", "stale_refused", "dedupe", "settles"]) {
      const r = result("mailbox.pml", claim);
      expect(r.found, claim).toBe("pass");
      expect(r.errors, claim).toBe(0);
      // Thousands of states: the model really explores leases, expiries and redeliveries.
      expect(r.statesStored, claim).toBeGreaterThan(1000);
    }
    expect(result("mailbox.pml", "settles").fair).toBe(true);
  });

  it("finds the handler running twice on one message: at-least-once, not exactly-once", () => {
    const r = result("mailbox.pml", "processed_at_most_once");
    expect(r.found).toBe("violation");
    expect(r.detail).toMatch(/processed/);
  });

  it("finds each planted mailbox bug through the property it breaks", () => {
    expect(result("mailbox.pml", "stale_refused", ["BUG_STALE_ACK"]).found).toBe("violation");
    expect(result("mailbox.pml", "bounded", ["BUG_NO_DLQ"]).found).toBe("violation");
    expect(result("mailbox.pml", "settles", ["BUG_NO_DLQ"]).found).toBe("violation");
    expect(result("mailbox.pml", "dedupe", ["BUG_NO_DEDUPE"]).found).toBe("violation");
  });

  it("passes the real rewarder model and finds the payout written before its marker", () => {
    for (const claim of ["paid_at_most_once", "invalid_never_paid", "valid_paid"]) {
      const r = result("rewarder.pml", claim);
      expect(r.found, claim).toBe("pass");
      expect(r.statesStored, claim).toBeGreaterThan(1000);
    }
    const bug = result("rewarder.pml", "paid_at_most_once", ["BUG_MARKER_AFTER_PAYOUT"]);
    expect(bug.found).toBe("violation");
    expect(bug.detail).toMatch(/paid/);
    // The liveness claim is not vacuous: with as many faults as attempts it fails.
    expect(result("rewarder.pml", "valid_paid", ["MAXFAULT=3"]).found).toBe("violation");
  });
});

describe("TLA+ specifications (syntax only: no TLC here)", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "omnigate-tla-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("parses specs/tla/mailbox.tla and rewarder.tla without an error node", () => {
    const reports = checkTlaDir();
    expect(reports.map((r) => r.file).sort()).toEqual(["specs/tla/mailbox.tla", "specs/tla/rewarder.tla"]);
    for (const report of reports) expect(report.problems.map(formatProblem), report.file).toEqual([]);
  });

  it("reports a broken module with the line and column of the error", () => {
    const path = join(dir, "broken.tla");
    writeFileSync(
      path,
      ["---- MODULE broken ----", "VARIABLE x", "Init == x = 0", "Next == x' = = x + 1", "===="].join("\n"),
    );
    const problems = checkTlaSource(readFileSync(path, "utf8"), "broken.tla");
    const [first] = problems;
    expect(first).toMatchObject({ file: "broken.tla", line: 4, kind: "ERROR" });
    expect(first && formatProblem(first)).toMatch(/^broken\.tla:4:\d+: ERROR/);
  });

  it("reports a broken file in a directory, and nothing for a clean one next to it", () => {
    const sub = mkdtempSync(join(dir, "specs-"));
    writeFileSync(join(sub, "clean.tla"), "---- MODULE clean ----\nVARIABLE x\nInit == x = 0\n====\n");
    writeFileSync(join(sub, "bad.tla"), "---- MODULE bad ----\nVARIABLE x\nInit == (x = 0\n====\n");
    const reports = checkTlaDir(sub);
    const byName = new Map(reports.map((r) => [r.file.split("/").pop(), r.problems]));
    expect(byName.get("clean.tla")).toEqual([]);
    expect(byName.get("bad.tla")?.length).toBeGreaterThan(0);
    expect(byName.get("bad.tla")?.[0]).toMatchObject({ line: 3, column: 1, kind: "ERROR" });
  });
});
