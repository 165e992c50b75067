import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import type { VestQuotas } from "../../apps/vest/src/node-runner/node-config.js";
import { type RunningVest, type StartVestOptions, startVest } from "../../apps/vest/src/start-vest.js";
import { launchChromium, trustCertificateArg } from "../support/chromium.js";
import { tempDir } from "../support/temp-dir.js";

/** A Vest on ephemeral 127.0.0.1 ports in a fresh directory, plus a Chromium that trusts its node. */
export interface VestRig {
  vest: RunningVest;
  context: BrowserContext;
  dir: string;
  close(): Promise<void>;
}

export async function startVestRig(
  options: { quotas?: VestQuotas; nodeFlags?: string[]; maxZoom?: number } = {},
): Promise<VestRig> {
  const dir = tempDir("vest-test-");
  const start: StartVestOptions = {
    dir: dir.path,
    ports: { oap: 0, ws: 0, admin: 0, backend: 0, web: 0 },
    ...options,
  };
  let vest: RunningVest;
  try {
    vest = await startVest(start);
  } catch (err) {
    dir.remove();
    throw err;
  }
  const serverCert = readFileSync(join(vest.layout.nodeDataDir, "tls", "server.pem"), "utf8");
  // WebGL (MapLibre) through SwiftShader: the GPU process must stay on.
  const browser = await launchChromium([trustCertificateArg(serverCert), "--enable-unsafe-swiftshader"], {
    gpu: true,
  }).catch(async (err: unknown) => {
    await vest.stop();
    dir.remove();
    throw err;
  });
  return {
    vest,
    context: browser.context,
    dir: dir.path,
    async close() {
      await browser.close().catch(() => {});
      await vest.stop();
      dir.remove();
    },
  };
}

/** A page signed in as `user` in `room`, with the app ready (map created, room joined). */
export async function openUser(rig: VestRig, user: string, room = "lobby"): Promise<Page> {
  const page = await rig.context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  // Two users in one browser profile: each page keeps its state under its own user name.
  await page.goto(`${rig.vest.pageUrl}?user=${user}&room=${room}`);
  await waitReady(page);
  return page;
}

/** What the page exposes as `window.vest` (apps/vest/src/web/main.ts), as far as tests use it. */
interface VestPageGlobals {
  vest: {
    map: {
      map: {
        loaded(): boolean;
        areTilesLoaded(): boolean;
        jumpTo(options: { center: [number, number]; zoom: number }): void;
      };
      reads: { count: number };
    };
    busyLog: BusyEpisode[];
  };
}

/** One change of a rail's busy state, as the page logs it. */
export interface BusyEpisode {
  rail: string;
  busy: boolean;
  at: number;
  code?: number;
}

// Waits go through locators, not string predicates: the page's Content-Security-Policy
// (no 'unsafe-eval') refuses to evaluate strings, and the test keeps that policy on.

export async function waitReady(page: Page): Promise<void> {
  await page
    .locator('body[data-ready="true"], body[data-view="error"]')
    .waitFor({ state: "attached", timeout: 30_000 });
  if ((await page.locator('body[data-view="error"]').count()) > 0) {
    throw new Error((await page.locator("#fatal").textContent()) ?? "the page failed");
  }
}

/** Waits until at least `n` elements match `selector`. */
export async function waitForCount(page: Page, selector: string, n: number, timeout = 30_000): Promise<void> {
  await page
    .locator(selector)
    .nth(n - 1)
    .waitFor({ state: "attached", timeout });
}

/** Waits until some message on screen contains `needle`. */
export async function waitForText(page: Page, needle: string, timeout = 30_000): Promise<void> {
  await page.locator("#messages li.msg .msg-text", { hasText: needle }).first().waitFor({ timeout });
}

/** Waits for the busy banner's state: "busy" (a rail is refused for load) or "idle". */
export async function waitForBusy(page: Page, state: "busy" | "idle", timeout: number): Promise<void> {
  await page.locator(`#busy[data-state="${state}"]`).waitFor({ state: "attached", timeout });
}

/** Waits until MapLibre has every tile of the view loaded and drawn. */
export async function mapSettled(page: Page, timeout = 30_000): Promise<void> {
  await page.waitForFunction(
    () => {
      const { map } = (globalThis as unknown as VestPageGlobals).vest.map;
      return map.loaded() && map.areTilesLoaded();
    },
    undefined,
    { timeout },
  );
}

/** Range reads of the archive the page made so far. */
export function rangeReads(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as VestPageGlobals).vest.map.reads.count);
}

/** The page's log of busy states per rail. */
export function busyLog(page: Page): Promise<BusyEpisode[]> {
  return page.evaluate(() => (globalThis as unknown as VestPageGlobals).vest.busyLog);
}

/** Moves the map, as a pan and zoom would. */
export async function jumpTo(page: Page, center: [number, number], zoom: number): Promise<void> {
  await page.evaluate((view) => (globalThis as unknown as VestPageGlobals).vest.map.map.jumpTo(view), {
    center,
    zoom,
  });
}

/** Types a message into the composer and sends it, as a user would. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  await page.fill("#composer-text", text);
  await page.press("#composer-text", "Enter");
}

/** The room's messages on screen, in order: sender, text, state. */
export function messagesOnScreen(
  page: Page,
): Promise<Array<{ from: string; text: string; state: string; id: string }>> {
  return page.$$eval("#messages li.msg", (items) =>
    items.map((item) => ({
      from: item.getAttribute("data-from") ?? "",
      id: item.getAttribute("data-id") ?? "",
      state: item.getAttribute("data-state") ?? "",
      text: item.querySelector(".msg-text")?.textContent ?? "",
    })),
  );
}
