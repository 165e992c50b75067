/**
 * The benchmarks the perf rig runs: each is its own `npm run bench:*` entry file, started as a
 * child process, with the arguments of a short run (CI, the gate test) and of a full one.
 * Only benches that print a same-run ratio line are here; bench/README.md lists the others.
 */
import { NODE_RUNTIME_FLAGS } from "@omnigate/node";

export interface BenchSpec {
  /** Unique name of this run of a bench; also the prefix of its metric keys. */
  name: string;
  /** Entry file, relative to the repo root. */
  script: string;
  short: readonly string[];
  full: readonly string[];
  /**
   * Left out of short runs (the CI gate) unless named in --only: it starts a cluster of real
   * servers first, which takes tens of seconds before anything is measured.
   */
  fullOnly?: boolean;
  /** Node flags for the bench process itself (its own client side). */
  nodeFlags?: readonly string[];
}

export const BENCHES: readonly BenchSpec[] = [
  {
    name: "oap-echo",
    script: "bench/oap-echo/run.ts",
    // 64 B / 64 in flight is the acceptance configuration. oap-min-auth against raw-tls (same
    // minimal client) carries the hot-path server CPU target; oap-auth is left to the full run.
    short: ["--quick", "--bodies", "64", "--inflight", "64", "--systems", "raw-tls,oap-min-auth,oap,wss"],
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
  {
    name: "mailbox-jetstream",
    script: "bench/mailbox/run.ts",
    // A 3-server NATS cluster (R3) started by the bench; the floor is raw publish + fetch + ack.
    short: ["--quick", "--engine", "jetstream"],
    full: ["--engine", "jetstream"],
    fullOnly: true,
  },
  {
    name: "storage-s3",
    script: "bench/storage/s3-get.ts",
    // OpenStack Swift (proxy + 3 storage nodes) started by the bench; the floor is a raw GetObject.
    short: ["--quick"],
    full: [],
    fullOnly: true,
    // The client reads 64 MiB per GET: without the node's heap floor its CPU per read doubled in
    // some runs (full collections set off by buffer memory), for both systems but not alike.
    nodeFlags: NODE_RUNTIME_FLAGS,
  },
  {
    name: "caps-verify",
    script: "bench/caps-verify/run.ts",
    // In process, four paths one after another: 0.5 s each.
    short: ["--seconds", "0.5"],
    full: ["--seconds", "2"],
  },
  {
    name: "observe-overhead",
    script: "bench/observe-overhead/run.ts",
    // In process, three variants, best of five rounds each.
    short: ["--requests", "500000"],
    full: [],
  },
  {
    name: "ledger",
    script: "bench/ledger/run.ts",
    // Three runs per measure (≈ 20 s, most of it the 16-value range proof and the settlement).
    short: ["--quick"],
    full: [],
  },
  {
    name: "vest-tiles",
    script: "bench/vest-tiles/run.ts",
    // Three rounds so each system's median is a middle value, not the slower of two.
    short: ["--rounds", "3"],
    full: [],
  },
];

/**
 * The benches named in `only` (comma-separated), in rig order; when it is undefined, all of
 * them, less the full-only ones in a short run.
 */
export function selectBenches(only: string | undefined, short = false): BenchSpec[] {
  if (only === undefined) return BENCHES.filter((bench) => !(short && bench.fullOnly));
  const names = only.split(",").filter(Boolean);
  const unknown = names.filter((name) => !BENCHES.some((bench) => bench.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown bench ${unknown.join(", ")} (${BENCHES.map((b) => b.name).join(", ")})`);
  }
  return BENCHES.filter((bench) => names.includes(bench.name));
}
