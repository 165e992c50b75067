// Typed-array accesses as V8 compiles them on Node 20: each access once with the default
// background (concurrent) compiler and once compiled on the main thread, in separate processes
// of the same run. The codec and the session read byte counts as `.length` because of what this
// prints (bench/README.md, "The hot path").

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { benchCli } from "../support/cli.js";

const ACCESSES = [
  "length",
  "byteLength",
  "byteOffset",
  "buffer",
  "subarray()",
  "prototype subarray.call()",
  "set()",
  "prototype set.call()",
];

const cli = benchCli("typed-array-access");
const { values } = parseArgs({ options: { seconds: { type: "string", default: "1.5" } } });
const seconds = cli.positive("--seconds", Number(values.seconds));
const probe = fileURLToPath(new URL("./probe.ts", import.meta.url));

function measure(access: string, v8Flags: string[]): number {
  const out = execFileSync(
    process.execPath,
    [...v8Flags, "--conditions=source", "--import", "tsx", probe, access, String(seconds)],
    { encoding: "utf8" },
  );
  return (JSON.parse(out.trim()) as { ns_per_access: number }).ns_per_access;
}

cli.run(async () => {
  for (const access of ACCESSES) {
    cli.progress(`${access}: default compiler, then main-thread compiler (${seconds} s each)`);
    const nsPerAccess = measure(access, []);
    const mainThreadNs = measure(access, ["--no-concurrent-recompilation"]);
    cli.emit({
      bench: "typed-array-access",
      access,
      ns_per_access: nsPerAccess,
      main_thread_compile_ns: mainThreadNs,
      ratio: Number((nsPerAccess / mainThreadNs).toFixed(2)),
    });
  }
});
