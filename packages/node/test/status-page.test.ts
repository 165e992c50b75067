import { connect } from "@omnigate/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { launchChromium } from "../../../testing/support/chromium.js";
import { TestScope } from "../../../testing/support/scope.js";
import { CRASHY_APP, CrashingService } from "./support/crashing-service.js";

const scope = new TestScope();
afterEach(() => scope.close());

interface PageDocument {
  getElementById(id: string): { textContent: string | null } | null;
}

interface StatusJson {
  ready: boolean;
  inflight: number;
  requests: number;
  quota_rejections: number;
  restarts: number;
  connections: number;
  services: Array<{ service: string; state: string }>;
  events: Array<{ kind: string }>;
}

describe("/status", () => {
  it("serves a self-contained page and the JSON it reads", async () => {
    const node = await scope.node();
    const page = await fetch(`${node.adminUrl}/status`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'; script-src 'sha256-/);
    const html = await page.text();
    expect(html).not.toMatch(/<link|src=|https?:\/\/(?!www\.w3\.org)/);

    const res = await fetch(`${node.adminUrl}/status.json`);
    expect(res.headers.get("content-type")).toBe("application/json");
    const status = (await res.json()) as StatusJson;
    expect(status).toMatchObject({ ready: true, inflight: 0, requests: 0, quota_rejections: 0, restarts: 0 });
    expect(status.services.map((s) => [s.service, s.state])).toEqual([
      ["control", "running"],
      ["echo", "running"],
      ["mailbox", "running"],
      ["storage", "running"],
    ]);
    expect(status.events.map((e) => e.kind)).toContain("ConfigUpdated");
  });

  it("renders in headless Chromium and its numbers follow the load", async () => {
    const service = new CrashingService();
    const node = await scope.node(
      { statusRefreshMs: 100, backoffInitialMs: 1, backoffMaxMs: 10 },
      { services: [service] },
    );
    const browser = await launchChromium();
    scope.defer(() => browser.close());
    const page = await browser.context.newPage();
    await page.goto(`${node.adminUrl}/status`);
    const number = async (id: string) => Number(await page.textContent(`#${id}`));
    const shows = (id: string, value: string) =>
      page.waitForFunction(
        // Runs in the page, where `document` exists (this project's types have no DOM lib).
        ([i, v]) =>
          (globalThis as unknown as { document: PageDocument }).document.getElementById(i as string)
            ?.textContent === v,
        [id, value],
        { timeout: 10_000 },
      );

    await shows("ready", "ready");
    await shows("requests", "0");
    await shows("inflight", "0");
    expect(await page.textContent("#services")).toContain("crashy");

    const client = await connect(node.oapUrl, { ca: node.caPem });
    scope.defer(() => client.close());
    // Load: 40 echoes, 3 requests held open, 2 quota refusals and one crash.
    await Promise.all(Array.from({ length: 40 }, () => client.request(0x0101, { body: Buffer.from("x") })));
    const held = [1, 2, 3].map(() => client.request(CRASHY_APP, { meta: { op: "hold" } }));
    for (let i = 0; i < 2; i++) await client.request(CRASHY_APP, { meta: { op: "quota" } }).catch(() => {});
    await client.request(CRASHY_APP, { meta: { op: "throw" } }).catch(() => {});

    await shows("inflight", "3");
    await shows("quota_rejections", "2");
    await shows("restarts", "1");
    expect(await number("requests")).toBeGreaterThanOrEqual(43);
    expect(await number("connections")).toBe(1);

    service.release();
    await Promise.all(held);
    await shows("inflight", "0");
    // 46 requests from the load, plus the client's HELLO.
    expect(node.metrics.snapshot().requests).toBe(47);
    await shows("requests", "47");
    expect(await page.textContent("#events")).toContain("ServiceCrashed");
  });
});
