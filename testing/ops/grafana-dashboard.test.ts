import { readFileSync } from "node:fs";
import { connect } from "@omnigate/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { scrape } from "../support/prometheus-text.js";
import { TestScope } from "../support/scope.js";

const scope = new TestScope();
afterEach(() => scope.close());

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}

const dashboard = JSON.parse(
  readFileSync(new URL("../../ops/grafana/omnigate.json", import.meta.url), "utf8"),
) as {
  uid: string;
  panels: Panel[];
};
const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
/** Every metric a query selects: the dashboard writes each selector as name{...}. */
const referenced = new Set(
  exprs.flatMap((e) => [...e.matchAll(/([a-z_:][a-z0-9_:]*)\{/g)].map((m) => m[1] as string)),
);

describe("ops/grafana/omnigate.json", () => {
  it("charts every golden metric", () => {
    expect(dashboard.uid).toBe("omnigate-node");
    const golden = [
      "requests_total",
      "bytes_in_total",
      "bytes_out_total",
      "rejected_total",
      "latency_seconds_bucket",
      "inflight",
      "quota_exhaustions_total",
      "bus_overflow_dropped_total",
      "connections",
      "service_restarts_total",
    ];
    for (const name of golden) expect(referenced.has(name), name).toBe(true);
  });

  it("queries only series a running node exposes", async () => {
    const node = await scope.node();
    const client = await connect(node.oapUrl, { ca: node.caPem });
    scope.defer(() => client.close());
    await client.request(0x0101, { body: Buffer.from("x") });
    const exposed = new Set((await scrape(node.adminUrl)).samples.map((s) => s.name));
    for (const name of referenced) expect(exposed.has(name), name).toBe(true);
  });
});
