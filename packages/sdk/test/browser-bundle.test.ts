import { randomFillSync } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createContext, runInContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { buildBrowserBundle } from "../../../scripts/browser-bundle.js";
import { tempDir } from "../../../testing/support/temp-dir.js";
import type * as BrowserSdk from "../src/browser.js";
import { startTestNode, type TestNode } from "./support/node.js";

const ECHO = 0x0101;
const MiB = 1024 * 1024;

describe("the browser bundle (npm run build:browser)", () => {
  const dir = tempDir("omnigate-sdk-browser-");
  let t: TestNode;

  beforeAll(async () => {
    t = await startTestNode();
  });
  afterAll(async () => {
    await t?.stop();
    dir.remove();
  });

  it("builds as one ES module with no node: import, exporting what a page uses", async () => {
    const bundle = await buildBrowserBundle(join(dir.path, "omnigate-sdk.js"));
    expect(bundle.text).not.toMatch(/["'`]node:/);
    expect(bundle.text).not.toMatch(/\brequire\(/);
    expect(bundle.text).not.toMatch(/@napi-rs|zstd-napi/);
    const sdk = (await import(pathToFileURL(bundle.outfile).href)) as typeof BrowserSdk;
    for (const name of [
      "connect",
      "createClient",
      "OapClient",
      "OapConnectionError",
      "OapRequestError",
      "OapTimeoutError",
      "MailboxClient",
      "StorageClient",
      "StorageIntegrityError",
      "addressOf",
    ] as const) {
      expect(typeof sdk[name], name).toBe("function");
    }
  });

  it("refuses oap+tls:// URLs and Node's trust options: a page has neither raw TLS nor a CA to give", async () => {
    const bundle = await buildBrowserBundle(join(dir.path, "refusals.js"));
    const sdk = (await import(pathToFileURL(bundle.outfile).href)) as typeof BrowserSdk;
    expect(() => sdk.createClient(t.node.oapUrl)).toThrow(/wss:\/\/host:port\/oap/);
    const options = { ca: t.node.caPem } as unknown as BrowserSdk.BrowserConnectOptions;
    expect(() => sdk.createClient(wsUrlOf(t), options)).toThrow(/ca has no effect in a browser/);
  });

  it("runs in a realm with no Buffer, process or Node module: HELLO, echo, mailbox, verified storage over wss", async () => {
    const bundle = await buildBrowserBundle(join(dir.path, "omnigate-sdk.iife.js"), "iife");
    const { sdk, bytes } = loadInBrowserLikeRealm(bundle.text);
    // What a page's WebSocket would be; the test's trust is the node's dev CA.
    const ca = t.node.caPem;
    class PageWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { ca });
      }
    }
    const options = { WebSocket: PageWebSocket, tenant: 5n, defaultDeadlineMs: 60_000 };
    const client = await sdk.connect(wsUrlOf(t), options);
    const sender = await sdk.connect(wsUrlOf(t), options);
    try {
      expect(client.hello.transports).toContain("wss");
      const echo = await client.request(ECHO, { body: "from a page" });
      expect(Buffer.from(echo.body).toString()).toBe("from a page");
      const big = randomFillSync(new Uint8Array(2 * MiB));
      const bigEcho = await client.request(ECHO, { body: big });
      expect(Buffer.from(bigEcho.body).equals(big)).toBe(true);

      const received: string[] = [];
      const subscription = (async () => {
        for await (const msg of client.mailbox.subscribe("page-jobs", { credit: 2 })) {
          received.push(Buffer.from(msg.body).toString());
          await msg.ack();
          if (received.length === 3) break;
        }
      })();
      for (const text of ["x", "y", "z"]) await sender.mailbox.send("page-jobs", text);
      await subscription;
      expect(received).toEqual(["x", "y", "z"]);

      // Made in the page's realm, as a page's own bytes would be (put() tells bytes from streams by instanceof).
      const object = randomFillSync(bytes(5 * MiB));
      const put = await client.storage.put(object);
      expect(put.addr).toBe(await sdk.addressOf(object));
      const back = await sender.storage.getBytes(put.addr);
      expect(Buffer.from(back).equals(object)).toBe(true);
    } finally {
      await Promise.all([client.close(), sender.close()]);
    }
  });
});

/**
 * Runs the IIFE bundle in a fresh realm that has only what a page has (URL, TextEncoder,
 * timers, AbortController, performance, atob, WebAssembly) and no Buffer, process or require,
 * so the SDK's browser paths run, not their Node twins.
 */
function loadInBrowserLikeRealm(iife: string): {
  sdk: typeof BrowserSdk;
  /** A zeroed Uint8Array of the page's realm. */
  bytes: (size: number) => Uint8Array;
} {
  const page = createContext({
    URL,
    TextEncoder,
    TextDecoder,
    AbortController,
    AbortSignal,
    Event,
    EventTarget,
    DOMException,
    performance,
    atob,
    btoa,
    console,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    queueMicrotask,
  });
  runInContext(`${iife}\nglobalThis.omnigate = omnigate;`, page);
  expect(runInContext("typeof Buffer + typeof process + typeof require", page)).toBe(
    "undefinedundefinedundefined",
  );
  return {
    sdk: (page as { omnigate: typeof BrowserSdk }).omnigate,
    bytes: runInContext("(size) => new Uint8Array(size)", page) as (size: number) => Uint8Array,
  };
}

function wsUrlOf(t: TestNode): string {
  const url = t.node.wsUrl;
  if (!url) throw new Error("the test node has no WebSocket listener");
  return url;
}
