/**
 * `npm run leakage`: measures what an on-path observer learns from Omnigate's traffic about
 * three secrets (map view, chat action, stored object), undefended and under each defence,
 * and what each defence costs. Prints a table, writes `results.jsonl` and `report.html`.
 *
 *   npm run leakage [-- --traces 1000] [--defences none,pow2,...] [--secrets map-view,...]
 *                   [--concurrency 8] [--rtt-ms 0] [--seed 1] [--no-xgboost] [--out leakage-report]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFENCES, defenceNamed } from "./defences.js";
import { runHarness } from "./harness.js";
import { reportHtml } from "./report/html.js";
import { resultTable } from "./report/table.js";
import { startLeakageRig } from "./rig.js";
import { chat } from "./scenarios/chat.js";
import { mapViews } from "./scenarios/map-views.js";
import type { Scenario } from "./scenarios/scenario.js";
import { storageObjects } from "./scenarios/storage-objects.js";

const SCENARIOS: readonly Scenario[] = [mapViews, chat, storageObjects];

const { values: args } = parseArgs({
  options: {
    traces: { type: "string", default: "1000" },
    defences: { type: "string", default: DEFENCES.map((d) => d.name).join(",") },
    secrets: { type: "string", default: SCENARIOS.map((s) => s.name).join(",") },
    concurrency: { type: "string", default: "8" },
    "rtt-ms": { type: "string", default: "0" },
    "actions-per-session": { type: "string", default: "20" },
    seed: { type: "string", default: "1" },
    "no-xgboost": { type: "boolean", default: false },
    // Not bench/reports: a quick run must not overwrite the committed report.
    out: { type: "string", default: "leakage-report" },
  },
});

function positiveInteger(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not "${text}"`);
  return n;
}

async function main(): Promise<void> {
  const tracesPerClass = positiveInteger("traces", args.traces);
  const concurrency = positiveInteger("concurrency", args.concurrency);
  const actionsPerSession = positiveInteger("actions-per-session", args["actions-per-session"]);
  const seed = positiveInteger("seed", args.seed);
  const rttMs = Number(args["rtt-ms"]);
  if (!(Number.isFinite(rttMs) && rttMs >= 0 && rttMs <= 1000)) {
    throw new Error(`--rtt-ms must be a number of milliseconds from 0 to 1000, not "${args["rtt-ms"]}"`);
  }
  const defences = args.defences.split(",").map(defenceNamed);
  if (defences[0]?.name !== "none") defences.unshift(defenceNamed("none"));
  const scenarios = args.secrets.split(",").map((name) => {
    const found = SCENARIOS.find((s) => s.name === name);
    if (!found) throw new Error(`no secret "${name}"; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
    return found;
  });
  const out = resolve(args.out);
  mkdirSync(out, { recursive: true });
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const started = Date.now();
  const rig = await startLeakageRig({ rttMs, say });
  const jsonl = join(out, "results.jsonl");
  writeFileSync(jsonl, "");
  try {
    const results = await runHarness(rig, {
      scenarios,
      defences,
      tracesPerClass,
      actionsPerSession,
      concurrency,
      seed,
      xgboost: !args["no-xgboost"],
      say,
      onResult: (r) => writeFileSync(jsonl, `${JSON.stringify(r)}\n`, { flag: "a" }),
    });
    process.stdout.write(`${resultTable(results)}\n`);
    const meta = {
      date: new Date().toISOString(),
      "traces per class": tracesPerClass,
      "actions per session": actionsPerSession,
      "sessions at once": concurrency,
      "round-trip time added": `${rttMs} ms`,
      seed,
      "wall time": `${Math.round((Date.now() - started) / 1000)} s`,
      node: process.version,
    };
    writeFileSync(join(out, "report.html"), reportHtml(results, meta));
    say(`wrote ${join(out, "report.html")} and ${jsonl}`);
  } finally {
    await rig.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`leakage: ${(err as Error).message}\n`);
  process.exit(1);
});
