/**
 * npm run soak -- --duration 24h [--out soak-report/] [--seed 1] [--rate 150] …
 *
 * Runs the soak harness (soak.ts); progress on stderr, one line per sample; the summary as
 * one JSON line on stdout; exit 0 when every verdict passed, 1 when one failed, 2 on bad flags.
 */
import { parseArgs } from "node:util";
import { runSoak } from "./soak.js";

const HELP = `npm run soak -- [flags]

Starts a node (capabilities on, mailbox and global quotas on a Redis it owns, app 0x1001
routed to the echo backend it owns), drives a mixed open-loop workload through the SDK,
crashes the backend and Redis on a schedule, samples the node every interval, and writes
samples.jsonl, summary.json and report.html. See testing/soak/README.md.

  --duration <d>      how long: 90s, 2m, 1h, 24h, or ms as a bare number (default 2m)
  --out <dir>         where the files go (default soak-report/)
  --seed <n>          seed of arrivals, op mix and payloads (default 1)
  --rate <n>          arrivals per second over all ops (default 150)
  --sample <d>        sample interval (default 5s; duration/60 for short runs, ≥ 1s)
  --fault-every <d>   time between two crashes; backend and Redis take turns
                      (default duration/6 within 15s–5min)
  --no-faults         no crashes
  --revoke-every <d>  revoke every live capability this often (default duration/8 within 10s–60s)
  --clients <n>       SDK connections (default 4)
  --help              this text

Exit code: 0 every verdict passed, 1 one failed, 2 bad flags or the harness could not start.`;

function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`bad duration "${text}": use e.g. 90s, 2m, 1h, 24h`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? "ms"] as number;
  const ms = Number(m[1]) * unit;
  if (!(ms > 0)) throw new Error(`bad duration "${text}": must be more than 0`);
  return ms;
}

async function main(): Promise<number> {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse().values;
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n${HELP}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  let opts: Parameters<typeof runSoak>[0];
  try {
    const num = (name: string, v: string | undefined) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`bad --${name} "${v}"`);
      return n;
    };
    const dur = (v: string | undefined) => (v === undefined ? undefined : parseDuration(v));
    opts = {
      durationMs: parseDuration(values.duration),
      outDir: values.out,
      seed: values.seed === undefined ? undefined : Number.parseInt(values.seed, 10),
      rate: num("rate", values.rate),
      sampleIntervalMs: dur(values.sample),
      faultEveryMs: dur(values["fault-every"]),
      noFaults: values["no-faults"],
      capRevokeEveryMs: dur(values["revoke-every"]),
      clients: num("clients", values.clients),
    };
    if (opts.seed !== undefined && !Number.isSafeInteger(opts.seed))
      throw new Error(`bad --seed "${values.seed}"`);
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n`);
    return 2;
  }
  const { summary, files } = await runSoak(opts);
  process.stderr.write(
    `soak: ${summary.pass ? "every verdict passed" : "SOME VERDICT FAILED"}; report ${files.report}\n`,
  );
  process.stdout.write(
    `${JSON.stringify({
      pass: summary.pass,
      verdicts: Object.fromEntries(
        Object.entries(summary.verdicts).map(([k, v]) => [
          k,
          { pass: v.pass, value: v.value, ...(v.reason ? { reason: v.reason } : {}) },
        ]),
      ),
      requests: {
        all: summary.requests.all,
        outside_faults: summary.requests.outside_faults,
        during_fault: summary.requests.during_fault,
      },
      availability: summary.requests.availability,
      availability_outside_faults: summary.requests.availability_outside_faults,
      faults: summary.faults.length,
      resources: summary.resources,
      files,
    })}\n`,
  );
  return summary.pass ? 0 : 1;
}

function parse() {
  return parseArgs({
    options: {
      duration: { type: "string", default: "2m" },
      out: { type: "string", default: "soak-report" },
      seed: { type: "string" },
      rate: { type: "string" },
      sample: { type: "string" },
      "fault-every": { type: "string" },
      "no-faults": { type: "boolean", default: false },
      "revoke-every": { type: "string" },
      clients: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 2;
  },
);
