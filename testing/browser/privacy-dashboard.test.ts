/**
 * The privacy dashboard end to end: a node on 127.0.0.1 with privacy.dashboard = on and
 * one-second periods serves real OAP/1 requests through the SDK, releases them at period
 * close, and Debian's Chromium reads the result at /privacy on the admin port. With the
 * dashboard off (the default) the page is a 404 that says how to turn it on.
 */
import { connect, OapRequestError } from "@omnigate/sdk";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { OmnigateNode } from "../../packages/node/src/index.js";
import type { PrivacySnapshot } from "../../packages/node/src/privacy/usage-releases.js";
import { launchChromium } from "../support/chromium.js";
import { TestScope } from "../support/scope.js";

const ECHO = 0x0101;
const MAILBOX = 0x0201;

const scope = new TestScope();
afterEach(() => scope.close());

async function privacyJson(node: OmnigateNode): Promise<PrivacySnapshot> {
  const res = await fetch(`${node.adminUrl}/privacy.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as PrivacySnapshot;
}

/** Waits (bounded, as a failure) until the node's dashboard shows what `ready` looks for. */
function dashboardShows(
  node: OmnigateNode,
  ready: (s: PrivacySnapshot) => boolean,
): Promise<PrivacySnapshot> {
  return vi.waitFor(
    async () => {
      const snapshot = await privacyJson(node);
      if (!ready(snapshot)) throw new Error("not yet");
      return snapshot;
    },
    { timeout: 20_000, interval: 100 },
  );
}

async function echoRequests(node: OmnigateNode, n: number, tenant = 0n): Promise<void> {
  const client = await connect(node.oapUrl, { ca: node.caPem });
  try {
    for (let i = 0; i < n; i++) {
      const reply = await client.request(ECHO, { body: `hello ${i}`, tenant });
      expect(reply.body.toString()).toBe(`hello ${i}`);
    }
  } finally {
    await client.close();
  }
}

describe("/privacy in Chromium", () => {
  it("shows the echo app's noisy releases, ε per release and the budget until it is exhausted", async () => {
    const node = await scope.node({
      privacyDashboard: "on",
      privacyPeriodSeconds: 1,
      privacyEpsilon: "0.5",
      privacyBudget: "1",
    });
    await echoRequests(node, 5);
    await dashboardShows(node, (s) => s.releases.some((e) => e.kind === "release"));

    const browser = await launchChromium();
    scope.defer(() => browser.close());
    const page = await browser.context.newPage();
    const response = await page.goto(`${node.adminUrl}/privacy`);
    expect(response?.status()).toBe(200);
    expect(await page.textContent("#epsilon")).toBe("0.5");
    expect(await page.textContent("#contribution-cap")).toBe("100");
    expect(await page.textContent("#mechanism")).toContain("discrete Laplace");
    expect(await page.textContent("#releases thead")).toContain("echo");
    // The page is one snapshot: whatever was released by then, the budget shown matches it.
    const releasedRows = await page.locator("#releases tr.release").count();
    expect(releasedRows).toBeGreaterThanOrEqual(1);
    expect(await page.locator("#releases tr.release td.epsilon").allTextContents()).toEqual(
      new Array(releasedRows).fill("0.5"),
    );
    expect(await page.textContent("#budget-remaining")).toBe(releasedRows === 1 ? "0.5" : "0");
    expect(await page.locator(`figure[data-app="${ECHO}"] svg rect`).count()).toBe(releasedRows);

    // Budget 1 at ε 0.5: two releases, then every period is refused.
    await dashboardShows(node, (s) => s.releases.some((e) => e.kind === "refusal"));
    await page.reload();
    expect(await page.textContent("#status")).toBe("budget exhausted, no further releases");
    expect(await page.textContent("#exhausted")).toContain("Budget exhausted, no further releases");
    expect(await page.locator("#releases tr.release").count()).toBe(2);
    expect(await page.locator("#releases tr.refusal").count()).toBe(1);
    expect(await page.textContent("#budget-spent")).toBe("1 of 1");
    expect(await page.textContent("#budget-remaining")).toBe("0");
  });

  it("is a 404 saying how to turn it on while privacy.dashboard is off", async () => {
    const node = await scope.node();
    const browser = await launchChromium();
    scope.defer(() => browser.close());
    const page = await browser.context.newPage();
    const response = await page.goto(`${node.adminUrl}/privacy`);
    expect(response?.status()).toBe(404);
    expect(await page.textContent("body")).toContain('privacy.dashboard = "on"');
    expect(await page.textContent("body")).toContain("--privacy-dashboard on");
    const json = await fetch(`${node.adminUrl}/privacy.json`);
    expect(json.status).toBe(404);
    expect(json.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  });
});

describe("what the dashboard counts", () => {
  it("releases exactly the requests served (HELLO and failed requests left out) when the noise is negligible", async () => {
    // ε = 100000 with Δ = 100 is a noise scale of 1/1000: a draw is not 0 with probability about e^-1000.
    const node = await scope.node({
      privacyDashboard: "on",
      privacyPeriodSeconds: 1,
      privacyEpsilon: "100000",
      privacyBudget: "999999999",
    });
    await echoRequests(node, 4, 1n);
    await echoRequests(node, 3, 2n);
    const client = await connect(node.oapUrl, { ca: node.caPem });
    await expect(client.request(MAILBOX, { meta: { op: "NO_SUCH_OP" } })).rejects.toBeInstanceOf(
      OapRequestError,
    );
    await client.close();

    const total = (s: PrivacySnapshot, app: number) =>
      s.releases.reduce(
        (sum, e) => sum + (e.kind === "release" ? (e.counts.find((c) => c.app === app)?.count ?? 0) : 0),
        0,
      );
    const snapshot = await dashboardShows(node, (s) => total(s, ECHO) >= 7);
    expect(total(snapshot, ECHO)).toBe(7);
    expect(total(snapshot, MAILBOX)).toBe(0);
    // Every routed app is in every release, control plane excluded.
    for (const entry of snapshot.releases) {
      if (entry.kind === "release")
        expect(entry.counts.map((c) => c.name)).toEqual(["echo", "mailbox", "storage"]);
    }
  });
});
