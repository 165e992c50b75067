// Rewrites the settings table in docs/configuration.md from the config schema, the one place
// defaults live, so the doc cannot drift from the code: `npm run docs:config`.
import { readFileSync, writeFileSync } from "node:fs";
import { CONFIG_SCHEMA, envName, flagName } from "../packages/node/src/config/schema.js";

const DOC = new URL("../docs/configuration.md", import.meta.url);

function defaultShown(file: string, value: string | number): string {
  if (file === "data_dir") return "see below";
  return value === "" ? "—" : `\`${value}\``;
}

const rows = Object.values(CONFIG_SCHEMA).map((entry) => [
  `\`${entry.file}\``,
  `\`--${flagName(entry)}\``,
  `\`${envName(entry)}\``,
  defaultShown(entry.file, entry.default()),
  entry.doc.replace(/\|/g, "\\|"),
]);
const header = ["file key", "flag", "environment", "default", "meaning"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
const table = [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)];

const lines = readFileSync(DOC, "utf8").split("\n");
const start = lines.findIndex((l) => l.startsWith("| file key"));
if (start < 0)
  throw new Error("docs/configuration.md has no settings table (a line starting with '| file key')");
let end = start;
while (end < lines.length && lines[end]?.startsWith("|")) end++;
lines.splice(start, end - start, ...table);
writeFileSync(DOC, lines.join("\n"));
process.stderr.write(`docs/configuration.md: ${rows.length} settings\n`);
