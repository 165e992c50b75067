import { setTimeout as sleep } from "node:timers/promises";
import { cpuMicros } from "./cpu.js";
import { LatencyRecorder, type LatencySummary } from "./stats.js";

/** One echo connection under test; both systems are driven through this same interface. */
export interface EchoTarget {
  /** Sends one request with `body`; resolves once the whole echoed reply has arrived and checked out. */
  echo(body: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface LoadPlan {
  body: Uint8Array;
  inflight: number;
  warmupMs: number;
  measureMs: number;
  /** The server process, whose CPU time over the window is reported too. */
  serverPid?: number;
  /** One more process behind the server (e.g. an app backend), reported as `backendCpuUs`. */
  backendPid?: number;
}

export interface LoadResult extends LatencySummary {
  requests: number;
  seconds: number;
  rps: number;
  /** CPU time per request in the window, µs; undefined where it cannot be read. */
  clientCpuUs: number | undefined;
  serverCpuUs: number | undefined;
  backendCpuUs: number | undefined;
}

/**
 * Closed-loop load: `inflight` loops each send a request and send the next one only when its
 * reply is in, so exactly `inflight` requests are outstanding at all times and latency is not
 * inflated by an open-loop queue. Only replies that arrive inside the measured window count;
 * the window's length is taken from the clock, not from the timer, which may fire late.
 */
export async function closedLoop(target: EchoTarget, plan: LoadPlan): Promise<LoadResult> {
  const latencies = new LatencyRecorder();
  let measuring = false;
  let running = true;
  let failure: unknown;

  const loop = async (): Promise<void> => {
    while (running) {
      const sent = process.hrtime.bigint();
      try {
        await target.echo(plan.body);
      } catch (error) {
        // A benchmark that drops requests measures nothing; stop every loop and report it.
        failure ??= error;
        running = false;
        return;
      }
      if (measuring && running) latencies.record(process.hrtime.bigint() - sent);
    }
  };

  /** CPU time so far of this process, the server and the backend (if any), µs. */
  const cpuNow = () => ({
    client: cpuMicros(),
    server: cpuMicros(plan.serverPid),
    backend: plan.backendPid === undefined ? undefined : cpuMicros(plan.backendPid),
  });
  const loops = Array.from({ length: plan.inflight }, loop);
  await Promise.race([sleep(plan.warmupMs), Promise.all(loops)]);
  measuring = true;
  const windowStart = process.hrtime.bigint();
  const cpuStart = cpuNow();
  await Promise.race([sleep(plan.measureMs), Promise.all(loops)]);
  running = false;
  const windowEnd = process.hrtime.bigint();
  const cpuEnd = cpuNow();
  await Promise.all(loops);
  if (failure !== undefined) throw failure;

  const seconds = Number(windowEnd - windowStart) / 1e9;
  const requests = latencies.size;
  const perRequest = (start: number | undefined, end: number | undefined) =>
    start === undefined || end === undefined || requests === 0 ? undefined : (end - start) / requests;
  return {
    requests,
    seconds,
    rps: requests / seconds,
    ...latencies.summary(),
    clientCpuUs: perRequest(cpuStart.client, cpuEnd.client),
    serverCpuUs: perRequest(cpuStart.server, cpuEnd.server),
    backendCpuUs: perRequest(cpuStart.backend, cpuEnd.backend),
  };
}
