import { encodeFrame, encodeStartPayload, Flags } from "@omnigate/oap";
import { afterEach, describe, expect, it } from "vitest";
import { parseExposition, sampleValue, scrape } from "../../../testing/support/prometheus-text.js";
import type { RawOapConnection } from "../../../testing/support/raw-oap.js";
import { TestScope } from "../../../testing/support/scope.js";
import type { OmnigateNode } from "../src/index.js";
import { CRASHY_APP, CrashingService } from "./support/crashing-service.js";

const scope = new TestScope();
afterEach(() => scope.close());

/** The names issue 4 asks for, plus the supervisor's counter. */
export const GOLDEN = [
  "requests_total",
  "bytes_in_total",
  "bytes_out_total",
  "rejected_total",
  "latency_seconds",
  "inflight",
  "quota_exhaustions_total",
  "bus_overflow_dropped_total",
  "connections",
  "service_restarts_total",
];

function requestFrame(corrId: bigint, app: number, meta: Record<string, unknown>, body = "", tenantId = 0n) {
  return encodeFrame({
    flags: Flags.REQ | Flags.START | Flags.END,
    appProtoId: app,
    tenantId,
    corrId,
    payload: encodeStartPayload(meta, Buffer.from(body)),
  });
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 1_000) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function replies(conn: RawOapConnection, corrIds: bigint[]): Promise<void> {
  for (const id of corrIds) {
    const end = await conn.waitFor((f) => f.corrId === id && (f.flags & Flags.END) !== 0);
    if (!end) throw new Error(`no reply for ${id}`);
  }
}

describe("/metrics", () => {
  let node: OmnigateNode;
  let service: CrashingService;

  async function start(): Promise<RawOapConnection> {
    service = new CrashingService();
    node = await scope.node({}, { services: [service] });
    return scope.raw(node);
  }

  it("scrapes cleanly with every golden metric and the default process metrics", async () => {
    const conn = await start();
    conn.write(requestFrame(1n, 0x0101, {}, "x"));
    await replies(conn, [1n]);
    const res = await fetch(`${node.adminUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const metrics = parseExposition(await res.text());
    for (const name of GOLDEN) expect(metrics.types.has(name), name).toBe(true);
    expect(metrics.types.get("latency_seconds")).toBe("histogram");
    expect(metrics.types.get("inflight")).toBe("gauge");
    expect(metrics.types.get("requests_total")).toBe("counter");
    for (const name of [
      "process_cpu_user_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_eventloop_lag_seconds",
    ]) {
      expect(metrics.types.has(name), name).toBe(true);
    }
    // The histogram's buckets are cumulative and end at +Inf = count.
    const buckets = metrics.samples.filter(
      (s) => s.name === "latency_seconds_bucket" && s.labels.app === "0x0101",
    );
    expect(buckets.map((b) => b.value)).toEqual([...buckets.map((b) => b.value)].sort((a, b) => a - b));
    expect(buckets.at(-1)).toMatchObject({ labels: { le: "+Inf" }, value: 1 });
    expect(sampleValue(metrics, "latency_seconds_count", { app: "0x0101" })).toBe(1);
  });

  it("counts exactly what the clients saw: requests by code, bytes, refusals, quota, in flight, connections", async () => {
    const conn = await start();
    const second = await scope.raw(node);
    let bytesIn = 0;
    const send = (c: RawOapConnection, frame: Uint8Array) => {
      bytesIn += frame.byteLength;
      c.write(frame);
    };
    for (let i = 1n; i <= 5n; i++)
      send(conn, requestFrame(i, 0x0101, { i: Number(i) }, "hello", i * 1_000_000n));
    conn.write(requestFrame(6n, 0x7777, {})); // nothing serves 0x7777: 404 unknown_app
    conn.write(requestFrame(7n, CRASHY_APP, { op: "quota" }));
    conn.write(requestFrame(8n, CRASHY_APP, { op: "quota" }));
    conn.write(requestFrame(9n, CRASHY_APP, { op: "hold" }));
    await replies(conn, [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    await until(() => service.holding === 1);

    const bytesOut = conn.frames.filter((f) => f.appProtoId === 0x0101).reduce((n, f) => n + f.len, 0);
    let m = await scrape(node.adminUrl);
    expect(sampleValue(m, "requests_total", { app: "0x0101", code: "200" })).toBe(5);
    expect(sampleValue(m, "bytes_in_total", { app: "0x0101" })).toBe(bytesIn);
    expect(sampleValue(m, "bytes_out_total", { app: "0x0101" })).toBe(bytesOut);
    expect(sampleValue(m, "requests_total", { app: "unknown", code: "404" })).toBe(1);
    expect(sampleValue(m, "rejected_total", { reason: "unknown_app" })).toBe(1);
    expect(sampleValue(m, "rejected_total", { reason: "quota" })).toBe(2);
    expect(sampleValue(m, "quota_exhaustions_total", { app: "0xf0c1" })).toBe(2);
    expect(sampleValue(m, "requests_total", { app: "0xf0c1", code: "429" })).toBe(2);
    expect(sampleValue(m, "inflight", { app: "0xf0c1" })).toBe(1);
    expect(sampleValue(m, "inflight", { app: "0x0101" })).toBe(0);
    expect(sampleValue(m, "connections", { transport: "tls" })).toBe(2);
    expect(sampleValue(m, "connections", { transport: "wss" })).toBe(0);

    service.release();
    await replies(conn, [9n]);
    second.close();
    await until(() => node.metrics.snapshot().connections === 1);
    m = await scrape(node.adminUrl);
    expect(sampleValue(m, "inflight", { app: "0xf0c1" })).toBe(0);
    expect(sampleValue(m, "requests_total", { app: "0xf0c1", code: "200" })).toBe(1);
    expect(sampleValue(m, "connections", { transport: "tls" })).toBe(1);
  });

  it("counts streams refused before dispatch, and protocol violations, by reason", async () => {
    const conn = await start();
    // A COMP body that is not zstd is refused by the session before any service runs.
    conn.write(
      encodeFrame({
        flags: Flags.REQ | Flags.START | Flags.END | Flags.COMP,
        appProtoId: 0x0101,
        corrId: 1n,
        payload: encodeStartPayload({}, Buffer.from("x")),
      }),
    );
    // A continuation with no open stream.
    conn.write(encodeFrame({ flags: Flags.REQ | Flags.END, appProtoId: 0x0101, corrId: 2n }));
    await replies(conn, [1n, 2n]);
    const m = await scrape(node.adminUrl);
    expect(sampleValue(m, "rejected_total", { reason: "bad_compression" })).toBe(1);
    expect(sampleValue(m, "rejected_total", { reason: "stream_violation" })).toBe(1);
    expect(sampleValue(m, "requests_total", { app: "0x0101", code: "400" })).toBe(1);
    expect(sampleValue(m, "inflight", { app: "0x0101" })).toBe(0);
  });

  it("never labels by tenant or by an unregistered app id", async () => {
    const conn = await start();
    const ids: bigint[] = [];
    for (let i = 0; i < 50; i++) {
      const id = BigInt(i + 1);
      ids.push(id);
      // Random tenants and app ids nothing serves: none may become a label value.
      const app = 0x2000 + Math.floor(Math.random() * 0xc000);
      conn.write(requestFrame(id, app, {}, "", BigInt(Math.floor(Math.random() * 2 ** 48)) << 64n));
    }
    await replies(conn, ids);
    const m = await scrape(node.adminUrl);
    const ours = m.samples.filter((s) => GOLDEN.some((g) => s.name.startsWith(g)));
    const labelNames = new Set(ours.flatMap((s) => Object.keys(s.labels)));
    expect([...labelNames].sort()).toEqual(["app", "code", "le", "reason", "service", "transport"]);
    const apps = new Set(ours.map((s) => s.labels.app).filter((a) => a !== undefined));
    expect([...apps].sort()).toEqual(["0x0000", "0x0101", "0x0201", "0x0301", "0xf0c1", "unknown"]);
    const transports = new Set(ours.map((s) => s.labels.transport).filter((t) => t !== undefined));
    expect([...transports].sort()).toEqual(["tls", "wss"]);
    expect(sampleValue(m, "requests_total", { app: "unknown", code: "404" })).toBe(50);

    // A backend's odd status codes share one label too.
    for (const [i, code] of [299, 599, 12345].entries())
      conn.write(requestFrame(BigInt(100 + i), CRASHY_APP, { op: "code", code }));
    await replies(conn, [100n, 101n, 102n]);
    const after = await scrape(node.adminUrl);
    expect(sampleValue(after, "requests_total", { app: "0xf0c1", code: "other" })).toBe(3);
  });

  it("counts kernel events dropped for a slow subscriber", async () => {
    await start();
    const before = sampleValue(await scrape(node.adminUrl), "bus_overflow_dropped_total");
    expect(before).toBe(0);
    const stuck = node.bus.subscribe();
    const capacity = node.config.busCapacity;
    for (let v = 0; v < capacity + 3; v++) {
      node.bus.publish({ kind: "ConfigUpdated", version: v + 2 });
      // The status page's own subscriber keeps up; only the stuck one overflows.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(stuck.dropped).toBe(3);
    expect(sampleValue(await scrape(node.adminUrl), "bus_overflow_dropped_total")).toBe(3);
  });
});
