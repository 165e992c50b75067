/**
 * The leakage harness's short form (what CI runs; `npm run leakage` is the full one): every
 * secret, undefended and under the strongest defence setting, with few traces. It checks the
 * harness measures something real — undefended, the observer tells map views and stored
 * objects apart — and that the defences are on the wire: they cost bytes, and a trace's
 * records are what the tap saw on a real node's connection.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defenceNamed } from "./defences.js";
import { runHarness } from "./harness.js";
import { reportHtml } from "./report/html.js";
import type { LeakageResult } from "./report/result.js";
import { type LeakageRig, startLeakageRig } from "./rig.js";
import { chat } from "./scenarios/chat.js";
import { mapViews } from "./scenarios/map-views.js";
import { storageObjects } from "./scenarios/storage-objects.js";

let rig: LeakageRig;
let results: LeakageResult[];

beforeAll(async () => {
  rig = await startLeakageRig();
  results = await runHarness(rig, {
    scenarios: [mapViews, chat, storageObjects],
    defences: [defenceNamed("none"), defenceNamed("pow2+jitter+cover20")],
    tracesPerClass: 40,
    actionsPerSession: 10,
    concurrency: 8,
    seed: 7,
    xgboost: true,
  });
}, 170_000);

afterAll(async () => {
  await rig?.close();
});

const result = (scenario: string, defence: string) => {
  const found = results.find((r) => r.scenario === scenario && r.defence === defence);
  if (!found) throw new Error(`no result for ${scenario} / ${defence}`);
  return found;
};

describe("leakage harness, short form", () => {
  it("collects every trace asked for, split by session", () => {
    for (const r of results) {
      expect(r.traces).toBe(r.classes * 40);
      expect(r.train + r.test).toBe(r.traces);
      expect(r.train).toBeGreaterThan(0);
      expect(r.test).toBeGreaterThan(0);
    }
  });

  it("sees through undefended traffic: map views and stored objects are told apart", () => {
    // Far above chance with 40 traces per class, leaving room for timing noise on a loaded machine
    // (the full run gives 0.996–1.000 for each).
    expect(result("map-view", "none").auc).toBeGreaterThan(0.8);
    expect(result("storage-object", "none").auc).toBeGreaterThan(0.9);
    expect(result("chat-action", "none").auc).toBeGreaterThan(0.8);
  });

  it("prices the defences against the undefended run", () => {
    for (const scenario of ["map-view", "chat-action", "storage-object"]) {
      expect(result(scenario, "none").bandwidth_overhead).toBe(0);
      // Padding and cover bursts are on the wire: the defended run moves more bytes.
      expect(result(scenario, "pow2+jitter+cover20").bandwidth_overhead).toBeGreaterThan(0);
    }
  });

  it("writes a report with every secret, defence and plot", () => {
    const html = reportHtml(results, { seed: 7 });
    for (const r of results) {
      expect(html).toContain(`<td>${r.scenario}</td><td>${r.defence}</td>`);
    }
    expect(html.match(/<svg /g)?.length).toBe(1 + 3 * 2);
  });
});
