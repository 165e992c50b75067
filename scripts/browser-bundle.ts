// Bundles the browser entry of @omnigate/sdk (packages/sdk/src/browser.ts) with esbuild and
// refuses a bundle that still imports a Node module: a page has none of them.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Format } from "esbuild";

export const BROWSER_ENTRY = fileURLToPath(new URL("../packages/sdk/src/browser.ts", import.meta.url));
export const BROWSER_BUNDLE = fileURLToPath(
  new URL("../packages/sdk/dist-browser/omnigate-sdk.js", import.meta.url),
);

export interface BrowserBundle {
  outfile: string;
  /** The bundle's text, as written. */
  text: string;
  bytes: number;
  gzipBytes: number;
}

/**
 * Builds the bundle (ESM by default; "iife" with globalName `omnigate` for a script without
 * modules) and writes it to `outfile`. Throws when any node: import is left in it.
 */
export async function buildBrowserBundle(
  outfile = BROWSER_BUNDLE,
  format: Format = "esm",
): Promise<BrowserBundle> {
  const result = await build({
    entryPoints: [BROWSER_ENTRY],
    outfile,
    bundle: true,
    format,
    ...(format === "iife" ? { globalName: "omnigate" } : {}),
    platform: "browser",
    target: "es2022",
    minify: true,
    // Workspace packages from their TypeScript sources, as the tests use them.
    conditions: ["source"],
    // Kept in the output, not failed on, only so the check below can name each one.
    external: ["node:*"],
    metafile: true,
    write: false,
    logLevel: "silent",
  });
  const output = result.outputFiles.find((file) => file.path === outfile);
  if (!output) throw new Error(`esbuild produced no ${outfile}`);
  const nodeImports = new Set(
    Object.values(result.metafile.outputs)
      .flatMap((out) => out.imports)
      .map((entry) => entry.path)
      .filter((path) => path.startsWith("node:")),
  );
  if (nodeImports.size > 0 || /["'`]node:/.test(output.text)) {
    throw new Error(
      `the browser bundle imports Node modules (${[...nodeImports].join(", ") || "a node: specifier in its text"}); ` +
        "nothing the browser entry reaches may import node:* (see packages/sdk/src/client/platform.ts)",
    );
  }
  await mkdir(dirname(outfile), { recursive: true });
  await writeFile(outfile, output.contents);
  return {
    outfile,
    text: output.text,
    bytes: output.contents.byteLength,
    gzipBytes: gzipSync(output.contents, { level: 9 }).byteLength,
  };
}
