/**
 * Ledger proof costs (issue 17): a Pedersen commitment, the sum proof, 32-bit range proofs
 * (single and 16 aggregated), and a settlement of 10,000 requests (zk, 16 parts) built and
 * verified the way the node and the rewarder do it. Beside each, the published figures of
 * dalek-cryptography/bulletproofs (native Rust; not measured here, see docs/ledger.md).
 *
 *   npm run bench:ledger [-- --quick] [--runs N]
 *
 * stdout: one JSON line per measure (median and min over the runs, ms), then one comparison
 * line per proof measure against the floor of this run, one Pedersen commitment (`ratio`: a
 * commitment's ms over the measure's, i.e. the measure's rate over the commitment's; higher is
 * better), which the perf rig gates. The floor moves with the curve arithmetic and the machine,
 * so the ratio follows the proof code's own cost. stderr: progress.
 */
import { parseArgs } from "node:util";
import {
  commit,
  createSettlement,
  generateNodeKey,
  ORDER,
  proveRange,
  proveSum,
  randomScalar,
  Transcript,
  verifyRange,
  verifySettlement,
  verifySum,
} from "@omnigate/ledger";

const { values: args } = parseArgs({
  options: { quick: { type: "boolean", default: false }, runs: { type: "string" } },
});
const runs = Number(args.runs ?? (args.quick ? 3 : 11));

/** dalek-cryptography/bulletproofs, native (README "Comparative Performance", i7-7800X 3.5 GHz, AVX2; PR #72 for m > 1). */
const DALEK = {
  range_64_single: { prove_ms: 7.3, verify_ms: 1.04, source: "README, 64-bit, AVX2 backend" },
  range_32_single: { verify_ms: 0.674, source: "PR #72 (2018 code, before Pippenger)" },
  range_32_aggregated_8: { verify_ms: 15.9, source: "PR #72, m = 8 (no m = 16 figure published)" },
} as const;

function time<T>(label: string, run: () => T): { result: T; ms: number[] } {
  const ms: number[] = [];
  let result: T | undefined;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    result = run();
    ms.push(performance.now() - started);
  }
  process.stderr.write(`[ledger-bench] ${label}: median ${median(ms).toFixed(2)} ms over ${runs}\n`);
  return { result: result as T, ms };
}

function emit(measure: string, ms: number[], extra: Record<string, unknown> = {}): void {
  const line = {
    bench: "ledger",
    measure,
    runs: ms.length,
    median_ms: round(median(ms)),
    min_ms: round(Math.min(...ms)),
    ...extra,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** Median ms of each measure that gets a comparison line, under its comparison name. */
const compared: Array<[string, number]> = [];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const round = (x: number) => Math.round(x * 1000) / 1000;

function main(): void {
  process.stderr.write(`[ledger-bench] ${runs} runs per measure; first use derives the generators\n`);
  // Warm-up: generators for 16 × 32 bits, JIT.
  const sixteen = Array.from({ length: 16 }, (_, i) => BigInt(i));
  const warm = proveRange(new Transcript("warm"), sixteen, sixteen.map(randomScalar), 32);
  verifyRange(new Transcript("warm"), warm.commitments, 32, warm.proof);

  const c = time("commitment", () => commit(123_456n, randomScalar()));
  emit("commitment", c.ms);
  // The floor: one commitment, timed over a batch so the timer's grain and one slow call do not set it.
  const FLOOR_BATCH = 32;
  const floor = time(`commitment floor (× ${FLOOR_BATCH})`, () => {
    for (let i = 0; i < FLOOR_BATCH; i++) commit(123_456n + BigInt(i), randomScalar());
  });
  const floorMs = median(floor.ms) / FLOOR_BATCH;

  // Sum proof over 16 parts.
  const values = Array.from({ length: 16 }, (_, i) => BigInt(1000 + i));
  const blindings = values.map(() => randomScalar());
  const parts = values.map((v, i) => commit(v, blindings[i] as bigint).toBytes());
  const totalBlinding = randomScalar();
  const total = commit(
    values.reduce((a, b) => a + b, 0n),
    totalBlinding,
  ).toBytes();
  let delta = -totalBlinding;
  for (const b of blindings) delta += b;
  delta = ((delta % ORDER) + ORDER) % ORDER;
  const sum = time("sum proof prove (16 parts)", () => proveSum(new Transcript("b"), parts, total, delta));
  emit("sum_proof_prove", sum.ms, { parts: 16 });
  const sumVerify = time("sum proof verify (16 parts)", () =>
    verifySum(new Transcript("b"), parts, total, sum.result),
  );
  emit("sum_proof_verify", sumVerify.ms, { parts: 16 });
  compared.push(["sum_proof_verify_16", median(sumVerify.ms)]);

  for (const m of [1, 16]) {
    const vals = Array.from({ length: m }, (_, i) => BigInt(i * 7919 + 1));
    const blinds = vals.map(() => randomScalar());
    const proved = time(`range proof prove 32-bit × ${m}`, () =>
      proveRange(new Transcript("r"), vals, blinds, 32),
    );
    const verified = time(`range proof verify 32-bit × ${m}`, () =>
      verifyRange(new Transcript("r"), proved.result.commitments, 32, proved.result.proof),
    );
    const dalek = m === 1 ? DALEK.range_32_single : DALEK.range_32_aggregated_8;
    emit("range_proof_prove", proved.ms, {
      bits: 32,
      values: m,
      proof_bytes: proved.result.proof.length,
      dalek_64_single: DALEK.range_64_single,
    });
    emit("range_proof_verify", verified.ms, { bits: 32, values: m, dalek });
    compared.push(
      [`range_proof_prove_32x${m}`, median(proved.ms)],
      [`range_proof_verify_32x${m}`, median(verified.ms)],
    );
  }

  // A settlement of 10,000 requests: counted into 16 slices of the epoch, as the node does.
  const key = generateNodeKey();
  const slices = new Array<number>(16).fill(0);
  for (let i = 0; i < 10_000; i++) slices[(i * 7) % 16] = (slices[(i * 7) % 16] as number) + 1;
  const input = {
    tenant: "42",
    app: 0x0101,
    epochStart: 1_796_000_400,
    epochSeconds: 3600,
    parts: slices,
    mode: "zk" as const,
  };
  const built = time("settlement build (10,000 requests, zk, 16 parts)", () => createSettlement(input, key));
  emit("settlement_build", built.ms, { requests: 10_000, parts: 16 });
  const trusted = new Set([key.nodeId]);
  const checked = time("settlement verify (10,000 requests, zk, 16 parts)", () =>
    verifySettlement(built.result, trusted),
  );
  if (checked.result.total !== 10_000) throw new Error("the settlement's total is not 10,000");
  emit("settlement_verify", checked.ms, {
    requests: 10_000,
    parts: 16,
    target_ms: 1000,
    meets_target: median(checked.ms) < 1000,
  });
  compared.push(["settlement_build_10k", median(built.ms)], ["settlement_verify_10k", median(checked.ms)]);
  for (const [name, ms] of compared) {
    const line = {
      bench: "ledger",
      compare: `${name}/commitment`,
      ratio: Number((floorMs / ms).toPrecision(3)),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

main();
