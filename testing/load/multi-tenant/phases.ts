/**
 * The scenario's phases: every tenant a Poisson flow at its class's rate times a scale,
 * run against the node. Warm-up and the unloaded phase at light load, a pause for every
 * bucket to refill, then the loaded phase at full rate with CPU and event-loop delay measured.
 */
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { type LoadFlow, runLoad } from "../generator.js";
import { longestRefillMs, offeredPerSec, type Tenant } from "./classes.js";
import { type Counts, PhaseCollector } from "./counts.js";
import { loadMix, type RequestKindSpec } from "./kinds.js";
import type { Settings } from "./options.js";
import type { Rig } from "./rig.js";
import type { LoadedPhaseStats } from "./summary.js";

/** What every phase runs with. */
export interface PhaseContext {
  rig: Rig;
  tenants: Tenant[];
  kinds: RequestKindSpec[];
  settings: Settings;
}

/** One flow per tenant at its offered rate × `scale`. */
function flowsAt(ctx: PhaseContext, scale: number): LoadFlow[] {
  const mix = loadMix(ctx.kinds);
  return ctx.tenants.map((t) => ({
    name: `tenant-0x${t.id.toString(16)}`,
    tenant: t.id,
    ratePerSec: t.cls.offeredPerSec * scale,
    arrivals: "poisson",
    mix,
  }));
}

/** Runs one phase until every call settled and returns its tallies. */
async function runPhase(
  ctx: PhaseContext,
  name: string,
  seconds: number,
  scale: number,
  seed: number,
): Promise<PhaseCollector> {
  const { rig, settings } = ctx;
  const collector = new PhaseCollector(settings.tenants, ctx.kinds);
  settings.log(`${name}: ${Math.round(offeredPerSec(ctx.tenants) * scale)} req/s offered for ${seconds} s`);
  const report = await runLoad({
    url: rig.node.oapUrl,
    connect: { ca: rig.node.caPem, servername: "localhost" },
    connections: settings.connections,
    flows: flowsAt(ctx, scale),
    durationMs: seconds * 1000,
    deadlineMs: settings.deadlineMs,
    seed,
    onSettled: collector.settled,
    onProgress: (sent, settled) => settings.log(`  ${name}: sent ${sent}, settled ${settled}`),
  });
  report.flows.forEach((f, i) => {
    (collector.counts[i] as Counts).unsettled = f.unsettled;
  });
  return collector;
}

/** Warm-up (not counted, skipped at 0 s), then the unloaded phase: the whole run at `unloadedRate`. */
export async function runUnloaded(ctx: PhaseContext): Promise<PhaseCollector> {
  const { settings } = ctx;
  const light = settings.unloadedRate / offeredPerSec(ctx.tenants);
  if (settings.warmupSeconds > 0)
    await runPhase(ctx, "warm-up", settings.warmupSeconds, light, settings.seed);
  return runPhase(ctx, "unloaded", settings.unloadedSeconds, light, settings.seed + 1);
}

/** Waits until every bucket has refilled (burst ÷ rate at most) and every held stream has ended. */
export async function waitForRefill(ctx: PhaseContext): Promise<void> {
  const refillMs = longestRefillMs(ctx.tenants);
  await new Promise((resolve) => setTimeout(resolve, Math.max(refillMs, ctx.settings.holdMs) + 500));
}

/** The loaded phase: every tenant at its full rate, with where the time went. */
export async function runLoaded(
  ctx: PhaseContext,
): Promise<{ loaded: PhaseCollector; stats: LoadedPhaseStats }> {
  const { rig, settings } = ctx;
  const pids = [rig.node.pid, rig.backend.pid];
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  const cpuBefore = pids.map((pid) => cpuSeconds(pid));
  const loadedStarted = performance.now();
  loopDelay.enable();
  const loaded = await runPhase(ctx, "loaded", settings.loadedSeconds, 1, settings.seed + 2);
  loopDelay.disable();
  const loadedWallSeconds = (performance.now() - loadedStarted) / 1000;
  const cpuAfter = pids.map((pid) => cpuSeconds(pid));
  const cpuShare = (i: number) => {
    const a = cpuBefore[i];
    const b = cpuAfter[i];
    return a == null || b == null ? null : Math.round(((b - a) / loadedWallSeconds) * 100) / 100;
  };
  settings.log("loaded: every call settled");
  const stats: LoadedPhaseStats = {
    node_cpu: cpuShare(0),
    backend_cpu: cpuShare(1),
    generator_loop_delay_ms: {
      p99: Math.round(loopDelay.percentile(99) / 1e4) / 100,
      max: Math.round(loopDelay.max / 1e4) / 100,
    },
  };
  return { loaded, stats };
}

/** User + system CPU seconds a process has used so far (Linux /proc), null elsewhere. */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat (utime, stime), in clock ticks; 100 per second on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}
