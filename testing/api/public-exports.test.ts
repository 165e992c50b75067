/**
 * The packages' faces: each public entry exports exactly its planned names (a new export is a
 * decision, not an accident), every "./internal" entry is a superset of its package's public
 * one, the package.json `exports` maps name only these entries, and apps and examples (code a
 * user would write) import public entries only.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { moduleExports } from "./module-exports.js";
import { PLANNED_EXPORTS } from "./planned-exports.js";

const PACKAGES = ["caps", "dht", "ledger", "node", "oap", "registry", "ronctl", "sdk"];
const INTERNAL_ENTRIES = [
  "packages/caps/src/internal.ts",
  "packages/oap/src/internal.ts",
  "packages/sdk/src/internal.ts",
];

const actual = moduleExports([...Object.keys(PLANNED_EXPORTS), ...INTERNAL_ENTRIES]);
const exportsOf = (entry: string): string[] => actual.get(entry) ?? [];

describe("public API by name", () => {
  for (const [entry, planned] of Object.entries(PLANNED_EXPORTS)) {
    it(`${entry} exports exactly its planned names`, () => {
      const want = new Set(planned.split(/\s+/).filter(Boolean));
      const got = new Set(exportsOf(entry));
      expect(
        [...got].filter((name) => !want.has(name)),
        "unplanned exports",
      ).toEqual([]);
      expect(
        [...want].filter((name) => !got.has(name)),
        "planned but not exported",
      ).toEqual([]);
    });
  }

  for (const internal of INTERNAL_ENTRIES) {
    it(`${internal} carries the public API and more`, () => {
      const publicNames = exportsOf(internal.replace("internal.ts", "index.ts"));
      const internalNames = new Set(exportsOf(internal));
      expect(publicNames.filter((name) => !internalNames.has(name))).toEqual([]);
      expect(internalNames.size).toBeGreaterThan(publicNames.length);
    });
  }

  it("each package.json names only its public and internal entries", () => {
    for (const name of PACKAGES) {
      const manifest = JSON.parse(readFileSync(`packages/${name}/package.json`, "utf8")) as {
        exports: Record<string, unknown>;
      };
      const expected = INTERNAL_ENTRIES.includes(`packages/${name}/src/internal.ts`)
        ? [".", "./internal"]
        : ["."];
      expect(Object.keys(manifest.exports), name).toEqual(expected);
    }
  });

  it("apps and examples import the packages' public entries only", () => {
    const offenders: string[] = [];
    for (const root of ["apps", "examples"]) {
      for (const file of sourceFiles(root)) {
        const text = readFileSync(file, "utf8");
        for (const match of text.matchAll(/from\s+"(@omnigate\/[a-z]+\/[^"]+|[./]+\/packages\/[^"]+)"/g)) {
          offenders.push(`${file}: ${match[1]}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts)$/.test(name)) out.push(path);
  }
  return out;
}
