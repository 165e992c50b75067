import {
  formatProblem,
  idRange,
  parseAppProtoId,
  type RegistryReport,
  verifyRegistry,
} from "@omnigate/registry";
import { Command } from "commander";
import { DEFAULT_REGISTRY_FILE, KEYS_OPTION_HELP, keysDirFor } from "./defaults.js";

export function verifyCommand(): Command {
  return new Command("verify")
    .description("Check the schema, unique ids and names, id ranges, owner keys and every signature.")
    .option("--file <file>", "registry file", DEFAULT_REGISTRY_FILE)
    .option("--keys <dir>", KEYS_OPTION_HELP)
    .action((opts: { file: string; keys?: string }) => {
      const report = verifyRegistry({ file: opts.file, keysDir: keysDirFor(opts.file, opts.keys) });
      if (report.ok) {
        process.stdout.write(`${summary(report)}\n`);
        return;
      }
      for (const problem of report.problems) process.stderr.write(`${formatProblem(problem)}\n`);
      const count = report.problems.length;
      process.stderr.write(`registry verify: ${count} problem${count === 1 ? "" : "s"} in ${report.file}\n`);
      process.exitCode = 1;
    });
}

function summary(report: RegistryReport): string {
  const apps = report.entries.filter(
    ({ entry }) => idRange(parseAppProtoId(entry.id) ?? 0) === "registered",
  ).length;
  const core = report.entryCount - apps;
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return (
    `registry OK: ${report.file}: ${plural(report.entryCount, "entry", "entries")} ` +
    `(${core} control/platform, ${plural(apps, "registered app", "registered apps")}), ` +
    `${plural(report.keyCount, "owner key", "owner keys")} in ${report.keysDir}, every signature verifies`
  );
}
