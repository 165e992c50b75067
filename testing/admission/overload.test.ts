import { afterEach, describe, expect, it } from "vitest";
import type { AdmissionSnapshot } from "../../packages/node/src/admission/index.js";
import { runLoad } from "../load/generator.js";
import { type NodeProcess, startNodeProcess } from "../support/node-process.js";

const CEILING = 40;
/** Echo keeps each admitted stream open this long, so offered concurrency = rate × hold time. */
const HOLD_MS = 1_000;
/** 20× the ceiling in concurrent requests: 800 open at once if the node took them all. */
const NOISY_RATE = (20 * CEILING * 1000) / HOLD_MS;
/** A tenant well inside its share: about 3 streams open at a time. */
const QUIET_RATE = 3;
const LOAD_MS = 3_000;
const DEADLINE_MS = 5_000;
/**
 * What the node process may reach at its peak, load included. Started from its TypeScript
 * sources (tsx), it peaked at about 115 MiB in this test; the ceiling keeps what the load
 * adds small, so a leak or unbounded queue would cross this bound.
 */
const RSS_BOUND_BYTES = 192 * 1024 * 1024;

interface ReadyzSeen {
  status: number;
  retryAfter: string | null;
  body: { ready: boolean; waiting_for?: string[]; load: AdmissionSnapshot };
}

async function readyz(adminUrl: string): Promise<ReadyzSeen> {
  const res = await fetch(`${adminUrl}/readyz`);
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body: (await res.json()) as never,
  };
}

describe("overload", () => {
  let node: NodeProcess | undefined;
  afterEach(async () => {
    await node?.stop();
    node = undefined;
  });

  it("answers every request at 20× the in-flight ceiling with 200/429/503 in time, gates /readyz first, and stays within its memory bound", async () => {
    node = await startNodeProcess(["--node-max-inflight", String(CEILING)]);
    const { adminUrl } = node;
    expect((await readyz(adminUrl)).status).toBe(200);

    // Watch /readyz from outside, as a load balancer would, for the whole run.
    const seen: ReadyzSeen[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        seen.push(await readyz(adminUrl).catch(() => ({ status: 0, retryAfter: null, body: {} as never })));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();

    const report = await runLoad({
      url: node.oapUrl,
      connect: { ca: node.caPem, servername: "localhost" },
      connections: 20,
      flows: [
        { name: "noisy", tenant: 0x1n, ratePerSec: NOISY_RATE, meta: { delay_ms: HOLD_MS } },
        { name: "quiet", tenant: 0x2n, ratePerSec: QUIET_RATE, meta: { delay_ms: HOLD_MS } },
      ],
      durationMs: LOAD_MS,
      deadlineMs: DEADLINE_MS,
    });
    const { total } = report;

    // Every request ended with a reply from the node — none hung, none ran into its deadline.
    expect(total.sent).toBeGreaterThan(10 * CEILING);
    expect(total.unsettled).toBe(0);
    expect(total.settled).toBe(total.sent);
    for (const code of Object.keys(total.by_code)) expect(["200", "429", "503"]).toContain(code);
    expect(total.by_reason.timeout ?? 0).toBe(0);
    expect(total.by_code["200"]).toBeGreaterThan(0);
    expect(total.by_reason.overloaded).toBeGreaterThan(0);
    expect(total.by_reason.overloaded).toBe(total.by_code["503"]);
    expect(total.retry_after_ms?.min).toBeGreaterThanOrEqual(1_000);
    expect(total.latency_ms?.max).toBeLessThan(DEADLINE_MS);

    // Fairness: the storm was refused on the noisy tenant; the quiet one, within its share, got through.
    const quiet = report.flows.find((f) => f.flow === "quiet");
    expect(quiet?.sent).toBeGreaterThan(0);
    expect(quiet?.by_code).toEqual({ "200": quiet?.sent });

    // /readyz went 503, with Retry-After and a body naming the cause, before the first 503 overloaded…
    const notReady = seen.find((s) => s.status === 503);
    expect(notReady?.retryAfter).toBe("1");
    expect(notReady?.body.ready).toBe(false);
    expect(notReady?.body.waiting_for).toContain("inflight");
    const during = (await readyz(adminUrl)).body.load;
    expect(during.first_not_ready_decision).toBeGreaterThan(0);
    expect(during.first_overloaded_decision).toBeGreaterThan(during.first_not_ready_decision);
    expect(during.refused.inflight_ceiling + during.refused.fair_share).toBe(total.by_reason.overloaded);

    // …and came back once the load stopped.
    watching = false;
    await watcher;
    const after = await readyz(adminUrl);
    expect(after.status).toBe(200);
    expect(after.body.load.inflight).toBe(0);

    expect(node.peakRssBytes()).toBeLessThan(RSS_BOUND_BYTES);
  });
});
