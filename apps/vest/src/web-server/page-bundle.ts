import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const PAGE_ENTRY = fileURLToPath(new URL("../web/main.ts", import.meta.url));

export interface PageBundle {
  js: string;
  bytes: number;
}

/**
 * Bundles the page (apps/vest/src/web/main.ts: the SDK's browser entry, MapLibre, the
 * PMTiles reader, the chat crypto) into one ES module, in memory, and refuses a bundle that
 * still imports a Node module.
 */
export async function buildPageBundle(): Promise<PageBundle> {
  const result = await build({
    entryPoints: [PAGE_ENTRY],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    conditions: ["browser", "source"],
    external: ["node:*"],
    metafile: true,
    write: false,
    logLevel: "silent",
    outfile: "vest.js",
  });
  const output = result.outputFiles.find((file) => file.path.endsWith("vest.js"));
  if (!output) throw new Error("esbuild produced no page bundle");
  const nodeImports = Object.values(result.metafile.outputs)
    .flatMap((out) => out.imports)
    .map((entry) => entry.path)
    .filter((path) => path.startsWith("node:"));
  if (nodeImports.length > 0) {
    throw new Error(`the Vest page imports Node modules (${nodeImports.join(", ")})`);
  }
  return { js: output.text, bytes: output.contents.byteLength };
}
