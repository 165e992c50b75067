import { encodeFrame, encodeStartPayload, Flags } from "@omnigate/oap";
import { connect, type OapClient, OapRequestError } from "@omnigate/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { sampleValue, scrape } from "../../../testing/support/prometheus-text.js";
import { TestScope } from "../../../testing/support/scope.js";
import type { KernelEvent, OmnigateNode, ServiceHealth } from "../src/index.js";
import { KernelBus } from "../src/kernel/bus.js";
import { Supervisor } from "../src/kernel/supervisor.js";
import { CRASHY_APP, CrashingService } from "./support/crashing-service.js";
import { captureLogs } from "./support/log-capture.js";

const scope = new TestScope();
afterEach(() => scope.close());

/** Fast restarts, so a test waits milliseconds for the supervisor rather than seconds. */
const FAST_RESTARTS = { backoffInitialMs: 1, backoffMaxMs: 10 };

async function client(node: OmnigateNode): Promise<OapClient> {
  const c = await connect(node.oapUrl, { ca: node.caPem });
  scope.defer(() => c.close());
  return c;
}

async function failure(call: Promise<unknown>): Promise<OapRequestError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OapRequestError);
  return err as OapRequestError;
}

function crashy(node: OmnigateNode): ServiceHealth {
  const health = node.services().find((s) => s.service === "crashy");
  if (!health) throw new Error("crashy is not supervised");
  return health;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 1_000) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function collect(node: OmnigateNode): KernelEvent[] {
  const events: KernelEvent[] = [];
  const subscription = node.bus.subscribe();
  void (async () => {
    for await (const event of subscription) events.push(event);
  })();
  return events;
}

describe("service supervision", () => {
  it("restarts a service that throws; while it is down its requests get 503 service_crashed; metric and log show it", async () => {
    const logs = captureLogs();
    const service = new CrashingService();
    const node = await scope.node(FAST_RESTARTS, { services: [service], logger: logs.logger });
    const events = collect(node);
    const c = await client(node);
    expect((await c.request(CRASHY_APP, { meta: { op: "ok" } })).code).toBe(200);

    // The restart will wait at start() until the test lets it go, so "down" lasts as long as needed.
    service.holdStarts();
    const bug = await failure(c.request(CRASHY_APP, { meta: { op: "throw" } }));
    expect([bug.code, bug.reason]).toEqual([500, "internal"]);
    await until(() => service.starts === 2);
    expect(crashy(node)).toMatchObject({ state: "restarting", ok: false, restarts: 1, crashes_in_window: 1 });

    const refused = await Promise.all(
      [1, 2, 3].map(() => failure(c.request(CRASHY_APP, { meta: { op: "ok" } }))),
    );
    for (const err of refused) {
      expect([err.code, err.reason]).toEqual([503, "service_crashed"]);
      expect(err.retryAfterMs).toBeGreaterThanOrEqual(100);
    }
    // Other services are untouched.
    expect((await c.request(0x0101, { body: Buffer.from("hi") })).code).toBe(200);

    service.releaseStarts();
    await until(() => crashy(node).state === "running");
    expect((await c.request(CRASHY_APP, { meta: { op: "ok" } })).code).toBe(200);
    expect(service.stops).toBe(1);

    const metrics = await scrape(node.adminUrl);
    expect(sampleValue(metrics, "service_restarts_total", { service: "crashy" })).toBe(1);
    expect(sampleValue(metrics, "service_restarts_total", { service: "echo" })).toBe(0);
    expect(sampleValue(metrics, "rejected_total", { reason: "service_crashed" })).toBe(3);
    expect(sampleValue(metrics, "requests_total", { app: "0xf0c1", code: "503" })).toBe(3);
    expect(sampleValue(metrics, "requests_total", { app: "0xf0c1", code: "500" })).toBe(1);

    const crashLine = logs.lines.filter((l) => l.msg === "service crashed");
    expect(crashLine).toEqual([
      expect.objectContaining({
        level: 50,
        service: "crashy",
        app: "0xf0c1",
        reason: "Error: boom on request",
        origin: "handler",
      }),
    ]);
    expect(logs.lines.some((l) => l.msg === "service restarted" && l.service === "crashy")).toBe(true);
    // Each refused request has its own line with the request's fields (and no body).
    const refusals = logs.lines.filter((l) => l.msg === "request" && l.reason === "service_crashed");
    expect(refusals).toHaveLength(3);
    for (const line of refusals) {
      expect(line).toMatchObject({ app: "0xf0c1", code: 503, tenant: "0x0" });
      expect(Object.keys(line)).toEqual(
        expect.arrayContaining(["corr_id", "tenant", "app", "code", "reason", "latency_ms", "peer"]),
      );
    }

    expect(events).toEqual(
      expect.arrayContaining([
        { kind: "ServiceCrashed", service: "crashy", reason: "Error: boom on request" },
        { kind: "Health", service: "crashy", ok: false },
        { kind: "Health", service: "crashy", ok: true },
      ]),
    );
  });

  it("counts a rejected promise, a failed start() and a reported crash as crashes", async () => {
    const service = new CrashingService();
    const node = await scope.node(FAST_RESTARTS, { services: [service] });
    const c = await client(node);

    await failure(c.request(CRASHY_APP, { meta: { op: "reject" } }));
    await until(() => crashy(node).state === "running" && crashy(node).restarts === 1);
    expect(crashy(node).last_crash).toBe("RangeError: async boom");

    service.crashInBackground();
    expect(crashy(node).state).toBe("crashed");
    await until(() => crashy(node).state === "running" && crashy(node).restarts === 2);
    expect(crashy(node).last_crash).toBe("Error: lost its backend");

    // A start() that fails is one more crash, and the supervisor keeps trying.
    service.failStarts = true;
    service.crashInBackground();
    await until(() => crashy(node).crashes_in_window >= 4);
    expect(crashy(node).last_crash).toBe("Error: cannot open its store");
    service.failStarts = false;
    await until(() => crashy(node).state === "running");
    expect((await c.request(CRASHY_APP, { meta: { op: "ok" } })).code).toBe(200);
  });

  it("quarantines a service that crashes more than 5 times within a minute", async () => {
    const logs = captureLogs();
    const service = new CrashingService();
    const node = await scope.node(FAST_RESTARTS, { services: [service], logger: logs.logger });
    const c = await client(node);
    service.failStarts = true;
    service.crashInBackground();
    await until(() => crashy(node).state === "quarantined");
    // Crash 1 (reported), then 5 restarts whose start() failed: the 6th crash quarantines.
    expect(crashy(node)).toMatchObject({ restarts: 5, crashes_in_window: 6, ok: false });
    expect(service.starts).toBe(6);

    const refused = await failure(c.request(CRASHY_APP, { meta: { op: "ok" } }));
    expect([refused.code, refused.reason]).toEqual([503, "service_crashed"]);
    // The hint points at the end of the quarantine (supervisor.quarantine_ms, 5 min by default).
    expect(refused.retryAfterMs).toBeGreaterThan(60_000);
    expect(logs.lines.filter((l) => l.msg === "service quarantined after repeated crashes")).toEqual([
      expect.objectContaining({
        service: "crashy",
        reason: "Error: cannot open its store",
        crashes_in_window: 6,
      }),
    ]);
    const metrics = await scrape(node.adminUrl);
    expect(sampleValue(metrics, "service_restarts_total", { service: "crashy" })).toBe(5);
  });

  it("answers an OapError as a plain error reply, without a crash", async () => {
    const service = new CrashingService();
    const node = await scope.node(FAST_RESTARTS, { services: [service] });
    const c = await client(node);
    const refused = await failure(c.request(CRASHY_APP, { meta: { op: "quota" } }));
    expect([refused.code, refused.reason]).toEqual([429, "quota"]);
    expect(crashy(node)).toMatchObject({ state: "running", restarts: 0, crashes_in_window: 0 });
  });

  it("does not count a request torn down mid-flight as a crash", async () => {
    const node = await scope.node(FAST_RESTARTS);
    const raw = await scope.raw(node);
    // Echo with a delay sleeps on the request's abort signal; closing the connection aborts it.
    raw.write(
      encodeFrame({
        flags: Flags.REQ | Flags.START | Flags.END,
        appProtoId: 0x0101,
        corrId: 1n,
        payload: encodeStartPayload({ delay_ms: 5_000 }, Buffer.from("x")),
      }),
    );
    await until(() => node.metrics.snapshot().inflight === 1);
    raw.close();
    await until(() => node.metrics.snapshot().inflight === 0);
    expect(node.services().find((s) => s.service === "echo")).toMatchObject({
      state: "running",
      restarts: 0,
    });
  });
});

describe("Supervisor", () => {
  it("undoes a start() that finishes after shutdown began", async () => {
    const { logger } = captureLogs();
    const bus = new KernelBus(8);
    const supervisor = new Supervisor({
      policy: {
        backoffInitialMs: 1,
        backoffMaxMs: 10,
        crashLimit: 5,
        crashWindowMs: 60_000,
        quarantineMs: 60_000,
        startTimeoutMs: 5_000,
      },
      bus,
      log: logger,
      onRestart: () => {},
    });
    const service = new CrashingService();
    supervisor.supervise(service);
    service.holdStarts();
    const starting = supervisor.startAll();
    await until(() => service.starts === 1);
    const stopping = supervisor.stopAll();
    service.releaseStarts();
    await Promise.all([starting, stopping]);
    expect(service.stops).toBe(2);
    expect(supervisor.health()).toEqual([
      expect.objectContaining({ service: "crashy", state: "stopped", ok: false }),
    ]);
  });
});
