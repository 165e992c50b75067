/**
 * One soak run: a redis-server and the echo app backend it owns, a node process (capabilities
 * on, mailbox on Redis, global quotas on Redis, app 0x1001 routed to the backend), the
 * workload through the SDK, injected crashes of the backend and of Redis, and a sample every
 * interval. Writes samples.jsonl, summary.json and report.html to `outDir`.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type OapClient } from "@omnigate/sdk";
import { freePort } from "../support/free-port.js";
import { startNodeProcess } from "../support/node-process.js";
import { seededRandom } from "../support/seeded-random.js";
import { tempDir } from "../support/temp-dir.js";
import { CapMinter } from "./caps.js";
import { defaultFaultPlan, FaultLog, type FaultPlan, runFaults } from "./faults.js";
import { BACKEND_APP } from "./op-echo.js";
import { reportHtml } from "./report.js";
import { Sampler } from "./sampler.js";
import { BackendService, RedisService } from "./services.js";
import { type Summary, summarize } from "./summary.js";
import { Tally } from "./tally.js";
import { Workload } from "./workload.js";

export interface SoakOptions {
  durationMs: number;
  outDir: string;
  seed?: number;
  /** Arrivals per second over all ops (default 150). */
  rate?: number;
  /** Default: 5 s, or duration / 60 for runs under 5 min (at least 1 s). */
  sampleIntervalMs?: number;
  /** Time between two crashes (dependencies take turns); default see faults.ts. */
  faultEveryMs?: number;
  /** No crashes at all. */
  noFaults?: boolean;
  /** SDK clients (connections) the workload spreads over (default 4). */
  clients?: number;
  /** Revoke every live capability this often (default duration / 8 within 10–60 s). */
  capRevokeEveryMs?: number;
  /** Where progress lines go (default stderr). */
  say?: (line: string) => void;
}

export interface SoakResult {
  summary: Summary;
  files: { samples: string; summary: string; report: string };
}

const TENANT = 0x5an;
const DEADLINE_MS = 10_000;
const HANG_GRACE_MS = 5_000;
const FAULT_GRACE_MS = 3_000;

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const say = options.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const seed = options.seed ?? 1;
  const rate = options.rate ?? 150;
  const durationMs = options.durationMs;
  const sampleIntervalMs =
    options.sampleIntervalMs ?? Math.min(5_000, Math.max(1_000, Math.round(durationMs / 60 / 100) * 100));
  const plan: FaultPlan | undefined = options.noFaults
    ? undefined
    : defaultFaultPlan(durationMs, options.faultEveryMs);
  const capRevokeEveryMs =
    options.capRevokeEveryMs ?? Math.min(60_000, Math.max(10_000, Math.round(durationMs / 8)));

  mkdirSync(options.outDir, { recursive: true });
  const files = {
    samples: join(options.outDir, "samples.jsonl"),
    summary: join(options.outDir, "summary.json"),
    report: join(options.outDir, "report.html"),
  };
  for (const f of Object.values(files)) rmSync(f, { force: true });

  const work = tempDir("omnigate-soak-");
  const redis = new RedisService(await freePort());
  const backend = new BackendService(await freePort(), join(work.path, "backend"));
  const cleanups: (() => Promise<void>)[] = [];
  try {
    await redis.start();
    cleanups.push(() => redis.stop());
    await backend.start();
    cleanups.push(() => backend.stop());

    const config = join(work.path, "node.toml");
    writeFileSync(
      config,
      [
        `[quotas.apps."0x0101"]`,
        "rate = 100000",
        `[quotas.apps."0x${BACKEND_APP.toString(16)}"]`,
        "rate = 100000",
        "",
        "[[apps]]",
        `id = "0x${BACKEND_APP.toString(16)}"`,
        `name = "echo-backend"`,
        `backend = "oap+tls://127.0.0.1:${backend.port}"`,
        `ca_file = "${backend.caFile}"`,
        "timeout_ms = 5000",
        "",
      ].join("\n"),
    );
    const nodeFlags = [
      "--config",
      config,
      "--auth-mode",
      "on",
      "--mailbox-engine",
      "redis",
      "--mailbox-redis-url",
      redis.url,
      "--quotas-redis-url",
      redis.url,
    ];
    const dataDir = join(work.path, "node");
    mkdirSync(dataDir);
    const node = await startNodeProcess(nodeFlags, { dataDir });
    cleanups.push(() => node.stop());
    say(
      `soak: node pid ${node.pid} ${node.oapUrl}, admin ${node.adminUrl}; redis pid ${redis.pid} :${redis.port}; backend pid ${backend.pid} :${backend.port}`,
    );

    const minter = new CapMinter(node.adminUrl, dataDir, TENANT.toString(16), 3600);
    const clients: OapClient[] = [];
    for (let i = 0; i < (options.clients ?? 4); i++) {
      const client = await connect(node.oapUrl, {
        ca: node.caPem,
        tenant: TENANT,
        cap: await minter.mint(),
        capProvider: () => minter.mint(),
        defaultDeadlineMs: DEADLINE_MS,
      });
      clients.push(client);
      cleanups.push(() => client.close());
    }

    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const startedAt = new Date();
    const tally = new Tally();
    const faults = new FaultLog(FAULT_GRACE_MS);
    const workload = new Workload({
      clients,
      minter,
      tally,
      faults,
      now,
      random: seededRandom(seed),
      seed,
      rate,
      maxOutstanding: 2_000,
      deadlineMs: DEADLINE_MS,
      hangGraceMs: HANG_GRACE_MS,
      capRevokeEveryMs,
    });
    const sampler = new Sampler({
      pid: node.pid,
      adminUrl: node.adminUrl,
      tally,
      faults,
      now,
      outstanding: () => workload.outstanding,
      file: files.samples,
      say,
    });
    await sampler.prime();
    say(
      `soak: ${durationMs / 1000} s, ${rate} arrivals/s, sample every ${sampleIntervalMs / 1000} s, ` +
        (plan
          ? `a crash every ${plan.everyMs / 1000} s (backend, redis in turn; down ${plan.downMs / 1000} s)`
          : "no faults") +
        `, capabilities revoked every ${capRevokeEveryMs / 1000} s, seed ${seed}`,
    );

    const stop = new AbortController();
    const faultRun = plan
      ? runFaults(
          plan,
          [
            { dependency: "backend", service: backend },
            { dependency: "redis", service: redis },
          ],
          faults,
          now,
          stop.signal,
          say,
        )
      : Promise.resolve();
    const workRun = workload.run(stop.signal);
    let nodeGone: string | undefined;
    for (let next = sampleIntervalMs; next <= durationMs; next += sampleIntervalMs) {
      await sleep(Math.max(0, next - now()));
      try {
        await sampler.take();
      } catch (err) {
        nodeGone = `sampling failed at ${(now() / 1000).toFixed(1)} s (node process gone?): ${err instanceof Error ? err.message : String(err)}`;
        say(`soak: ${nodeGone}`);
        break;
      }
    }
    stop.abort();
    await Promise.all([faultRun, workRun]);
    if (!nodeGone) await sampler.take().catch(() => {});
    sampler.stop();

    const summary = summarize({
      startedAt,
      plannedMs: durationMs,
      elapsedMs: now(),
      seed,
      rate,
      sampleIntervalMs,
      deadlineMs: DEADLINE_MS,
      hangGraceMs: HANG_GRACE_MS,
      faultGraceMs: FAULT_GRACE_MS,
      plan,
      nodeFlags: nodeFlags.map((f) => f.replace(work.path, "<tmp>")),
      tally,
      windows: faults.windows,
      samples: sampler.samples,
      subDelivered: workload.subDelivered,
      subEvents: workload.subEvents,
      mismatches: workload.mismatches,
      capMinted: minter.minted,
      capRevoked: minter.revoked,
      capResends: workload.capResends,
      scrapeErrors: sampler.scrapeErrors,
    });
    const result = nodeGone ? { ...summary, node_gone: nodeGone, pass: false } : summary;
    writeFileSync(files.summary, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(files.report, reportHtml(result, sampler.samples));
    return { summary: result, files };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    work.remove();
  }
}
