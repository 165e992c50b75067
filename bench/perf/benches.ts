/**
 * The benchmarks the perf rig runs: each is its own `npm run bench:*` entry file, started as a
 * child process, with the arguments of a short run (CI, the gate test) and of a full one.
 * Only benches that print a same-run ratio line are here; bench/README.md lists the others.
 */
export interface BenchSpec {
  /** Unique name of this run of a bench; also the prefix of its metric keys. */
  name: string;
  /** Entry file, relative to the repo root. */
  script: string;
  short: readonly string[];
  full: readonly string[];
}

export const BENCHES: readonly BenchSpec[] = [
  {
    name: "oap-echo",
    script: "bench/oap-echo/run.ts",
    // 64 B / 64 in flight is the acceptance configuration; oap-auth is left to the full run.
    short: ["--quick", "--bodies", "64", "--inflight", "64", "--systems", "raw-tls,oap,wss"],
    full: [],
  },
  {
    name: "oap-proxy",
    script: "bench/oap-proxy/run.ts",
    short: ["--quick", "--bodies", "64", "--inflight", "64"],
    full: [],
  },
  {
    name: "mailbox-sqlite",
    script: "bench/mailbox/run.ts",
    short: ["--quick", "--engine", "sqlite"],
    full: ["--engine", "sqlite"],
  },
  {
    name: "mailbox-redis",
    script: "bench/mailbox/run.ts",
    short: ["--quick", "--engine", "redis"],
    full: ["--engine", "redis"],
  },
  {
    name: "storage",
    script: "bench/storage/run.ts",
    short: ["--quick"],
    full: [],
  },
];

/** The benches named in `only` (comma-separated), in rig order; all of them when it is undefined. */
export function selectBenches(only: string | undefined): BenchSpec[] {
  if (only === undefined) return [...BENCHES];
  const names = only.split(",").filter(Boolean);
  const unknown = names.filter((name) => !BENCHES.some((bench) => bench.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown bench ${unknown.join(", ")} (${BENCHES.map((b) => b.name).join(", ")})`);
  }
  return BENCHES.filter((bench) => names.includes(bench.name));
}
