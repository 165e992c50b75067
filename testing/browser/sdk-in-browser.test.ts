import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect } from "@omnigate/sdk";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OmnigateNode } from "../../packages/node/src/index.js";
import { BROWSER_BUNDLE, buildBrowserBundle } from "../../scripts/browser-bundle.js";
import { launchChromium, trustCertificateArg } from "../support/chromium.js";
import { TestScope } from "../support/scope.js";

/**
 * The browser SDK in a real page: Debian's Chromium loads the bundle from a test server on
 * 127.0.0.1, connects to a node over WSS with a capability, and uses every rail a browser app
 * needs. A page of another host name (localhost) is refused before any session exists.
 */
const scope = new TestScope();
let node: OmnigateNode;
let site: Server;
let siteUrl: string;
let browser: Awaited<ReturnType<typeof launchChromium>>;

const PAGE = `<!doctype html><meta charset="utf-8"><title>Omnigate SDK test page</title>
<p>SDK test page</p><script type="module" src="/page.js"></script>`;
const PAGE_SCRIPT = readFileSync(new URL("./page.js", import.meta.url), "utf8");

/** What page.js puts on `window` (the scenarios run in the page, not in the test process). */
interface PageApi {
  echoOnce(url: string, cap: string): Promise<unknown>;
  requestWithoutCap(url: string): Promise<string>;
  receiveOne(url: string, cap: string, topic: string): Promise<unknown>;
  sendOne(url: string, cap: string, topic: string, message: string): Promise<string>;
  verifiedGet(url: string, cap: string, addr: string): Promise<unknown>;
  tryConnect(url: string): Promise<string>;
}
declare const window: { omnigateTest: PageApi; pageReady?: boolean; subscribed?: boolean };

beforeAll(async () => {
  const { text: bundle } = await buildBrowserBundle();
  node = await scope.node({ authMode: "on" });
  site = createServer((req, res) => {
    if (req.url === "/omnigate-sdk.js" || req.url === "/page.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(req.url === "/page.js" ? PAGE_SCRIPT : bundle);
    } else {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(PAGE);
    }
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
  browser = await launchChromium([trustCertificateArg(node.tls.cert)]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await scope.close();
});

async function openPage(origin: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on("pageerror", (err) => console.error(`page error: ${err.message}`));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => window.pageReady === true);
  return page;
}

describe("the SDK in Chromium over WSS", () => {
  const cap = () => node.auth.devCap as string;
  const url = () => node.wsUrl as string;

  it("loads from a page, connects with a capability, says HELLO and echoes", async () => {
    const page = await openPage(siteUrl);
    const result = await page.evaluate(({ u, c }) => window.omnigateTest.echoOnce(u, c), {
      u: url(),
      c: cap(),
    });
    expect(result).toEqual({
      transports: ["tls", "wss"],
      auth: "on",
      code: 200,
      body: "hello from a page",
      nodeGlobals: "undefinedundefined",
    });
    await page.close();
  });

  it("gets the node's 401 for a call without a capability, as over TLS", async () => {
    const page = await openPage(siteUrl);
    expect(await page.evaluate((u) => window.omnigateTest.requestWithoutCap(u), url())).toBe(
      "401 unauthenticated",
    );
    await page.close();
  });

  it("carries a mailbox message from one page to a SUBSCRIBE on another", async () => {
    const [receiver, sender] = await Promise.all([openPage(siteUrl), openPage(siteUrl)]);
    const topic = "rooms/browser-test";
    const received = receiver.evaluate(({ u, c, t }) => window.omnigateTest.receiveOne(u, c, t), {
      u: url(),
      c: cap(),
      t: topic,
    });
    await receiver.waitForFunction(() => window.subscribed === true);
    const sent = await sender.evaluate(
      ({ u, c, t }) => window.omnigateTest.sendOne(u, c, t, "ciphertext from page A"),
      { u: url(), c: cap(), t: topic },
    );
    expect(sent).toBe("string");
    expect(await received).toEqual({ text: "ciphertext from page A", e2e: true });
    await Promise.all([receiver.close(), sender.close()]);
  });

  it("reads a 5 MiB object with a verified GET whose bytes match", async () => {
    const object = randomBytes(5 * 1024 * 1024);
    const writer = await connect(node.oapUrl, { ca: node.caPem, cap: cap() });
    const { addr } = await writer.storage.put(object);
    await writer.close();
    const page = await openPage(siteUrl);
    const seen = await page.evaluate(({ u, c, a }) => window.omnigateTest.verifiedGet(u, c, a), {
      u: url(),
      c: cap(),
      a: addr,
    });
    expect(seen).toEqual({
      size: object.byteLength,
      sha256: createHash("sha256").update(object).digest("hex"),
    });
    await page.close();
  });

  it("gives a page of another host name no session", async () => {
    const before = node.metrics.snapshot().rejectedByReason.forbidden ?? 0;
    const page = await openPage(siteUrl.replace("127.0.0.1", "localhost"));
    expect(await page.evaluate((u) => window.omnigateTest.tryConnect(u), url())).toBe("OapConnectionError");
    expect(node.metrics.snapshot().rejectedByReason.forbidden).toBe(before + 1);
    expect(node.admission().connections).toBe(0);
    await page.close();
  });

  it("ships a bundle with no Node module in it", () => {
    const text = readFileSync(BROWSER_BUNDLE, "utf8");
    expect(text).not.toMatch(/["']node:[a-z_/]+["']/);
  });
});
