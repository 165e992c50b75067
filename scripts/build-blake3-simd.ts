// Rebuilds packages/sdk/src/verified/simd/blake3-x4-wasm.ts, the WebAssembly module that hashes
// BLAKE3 chunks four at a time with SIMD, from its generator (scripts/blake3-simd-module.ts).
// The generator is plain TypeScript (no toolchain), so the output is byte-for-byte
// reproducible and committed: `npm ci` needs no build step and bundles carry the bytes.
//
//   node --import tsx scripts/build-blake3-simd.ts           rewrite the file
//   node --import tsx scripts/build-blake3-simd.ts --check   exit 1 if the file is stale
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BLAKE3_SIMD_FILE, buildBlake3SimdModule, renderBlake3SimdFile } from "./blake3-simd-module.js";

const FILE = fileURLToPath(new URL(`../${BLAKE3_SIMD_FILE}`, import.meta.url));

function main(args: string[]): number {
  const check = args.includes("--check");
  const unknown = args.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown argument(s): ${unknown.join(" ")}\nusage: node --import tsx scripts/build-blake3-simd.ts [--check]\n`,
    );
    return 2;
  }
  const bytes = buildBlake3SimdModule();
  const wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
  if (!wasm.validate(bytes)) {
    process.stderr.write("the generated module does not validate (does this Node support SIMD?)\n");
    return 1;
  }
  const text = renderBlake3SimdFile(bytes);
  let current: string | undefined;
  try {
    current = readFileSync(FILE, "utf8");
  } catch {
    current = undefined;
  }
  if (check) {
    if (current === text) {
      process.stderr.write(`${BLAKE3_SIMD_FILE}: up to date (${bytes.length} bytes)\n`);
      return 0;
    }
    process.stderr.write(
      `${BLAKE3_SIMD_FILE}: differs from the generator's output; run \`node --import tsx scripts/build-blake3-simd.ts\`\n`,
    );
    return 1;
  }
  if (current === text) {
    process.stderr.write(`${BLAKE3_SIMD_FILE}: already up to date (${bytes.length} bytes)\n`);
  } else {
    writeFileSync(FILE, text);
    process.stderr.write(`${BLAKE3_SIMD_FILE}: written (${bytes.length} bytes)\n`);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
