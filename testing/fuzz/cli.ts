/**
 * npm run fuzz -- --target <frame|meta|caps|zstd|all> --minutes <m> [--seed <n>] [--no-save]
 *
 * Runs the coverage-guided fuzzer; inputs that reach new blocks are added to
 * testing/fuzz/corpus/<target>/ (commit them), crashes are written to testing/fuzz/crashes/
 * (the fuzz test replays them and fails until fixed). One JSON line per target on stdout.
 */
import { parseArgs } from "node:util";
import { fuzz } from "./fuzzer.js";
import { FUZZ_TARGETS } from "./targets.js";

const { values } = parseArgs({
  options: {
    target: { type: "string", default: "all" },
    minutes: { type: "string", default: "1" },
    seed: { type: "string" },
    "no-save": { type: "boolean", default: false },
  },
});

const names = values.target === "all" ? Object.keys(FUZZ_TARGETS) : [values.target as string];
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error("--minutes must be a positive number");
let crashed = false;
for (const name of names) {
  const target = FUZZ_TARGETS[name];
  if (!target) throw new Error(`unknown target ${name}; known: ${Object.keys(FUZZ_TARGETS).join(", ")}`);
  process.stderr.write(`fuzzing ${name} for ${minutes} min…\n`);
  const report = fuzz(target, {
    durationMs: minutes * 60_000,
    seed: values.seed === undefined ? undefined : Number(values.seed),
    save: !values["no-save"],
  });
  process.stdout.write(`${JSON.stringify(report)}\n`);
  crashed ||= report.crashes.length > 0;
}
process.exit(crashed ? 1 : 0);
