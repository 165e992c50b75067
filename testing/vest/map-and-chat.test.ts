/**
 * The Vest pilot end to end, in Debian's Chromium: two users in two pages, the map drawn
 * from the archive by range reads over OAP, and 50 end-to-end-encrypted messages from A to B
 * shown in order and exactly once, with B reloading its page mid-conversation.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  jumpTo,
  mapSettled,
  messagesOnScreen,
  openUser,
  rangeReads,
  sendMessage,
  startVestRig,
  type VestRig,
  waitForCount,
  waitReady,
} from "./support.js";

let rig: VestRig;
let shots: string;
let alice: Page;
let bob: Page;

beforeAll(async () => {
  rig = await startVestRig();
  // VEST_SCREENSHOT_DIR keeps them (the README's come from here); by default they go with the rig.
  shots = process.env.VEST_SCREENSHOT_DIR ?? join(rig.dir, "screenshots");
  mkdirSync(shots, { recursive: true });
  alice = await openUser(rig, "alice");
  bob = await openUser(rig, "bob");
}, 120_000);

afterAll(async () => {
  await rig?.close();
});

/** Pixels of the map canvas by colour class: ocean, land (any tint) and other. */
async function mapPixels(page: Page, file: string): Promise<{ ocean: number; land: number; total: number }> {
  const shot = await page.locator("#map canvas").screenshot();
  writeFileSync(file, shot);
  const png = PNG.sync.read(shot);
  const near = (i: number, hex: string) => {
    const v = Number.parseInt(hex.slice(1), 16);
    return (
      Math.abs((png.data[i] as number) - (v >> 16)) < 8 &&
      Math.abs((png.data[i + 1] as number) - ((v >> 8) & 255)) < 8 &&
      Math.abs((png.data[i + 2] as number) - (v & 255)) < 8
    );
  };
  const tints = ["#f2efe6", "#e9eddf", "#efe7dc", "#e6e9ee", "#ede3e3"];
  let ocean = 0;
  let land = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    if (near(i, "#cddfeb")) ocean++;
    else if (tints.some((t) => near(i, t))) land++;
  }
  return { ocean, land, total: png.width * png.height };
}

describe("the Vest pilot in the browser", () => {
  it("draws the world from the archive, and a pan and a zoom read new tiles over OAP", async () => {
    await mapSettled(alice);
    const first = await mapPixels(alice, join(shots, "world.png"));
    // Real geography: both sea and land fill the view (the tiles were decoded and drawn).
    expect(first.ocean / first.total).toBeGreaterThan(0.1);
    expect(first.land / first.total).toBeGreaterThan(0.1);
    const readsBefore = await rangeReads(alice);
    expect(readsBefore).toBeGreaterThanOrEqual(3); // header, directory, tiles

    await jumpTo(alice, [-74, 41], 5.5);
    await mapSettled(alice);
    const zoomed = await mapPixels(alice, join(shots, "zoomed.png"));
    const readsAfter = await rangeReads(alice);
    expect(readsAfter).toBeGreaterThan(readsBefore);
    expect(zoomed.land / zoomed.total).toBeGreaterThan(0.1);
    await alice.screenshot({ path: join(shots, "page.png") });
  }, 60_000);

  it("delivers 50 encrypted messages from A to B in order, exactly once, across B's reload", async () => {
    const texts = Array.from(
      { length: 50 },
      (_, i) => `message ${String(i + 1).padStart(2, "0")} from alice`,
    );
    for (const text of texts.slice(0, 25)) await sendMessage(alice, text);
    await waitForCount(bob, '#messages li.msg[data-from="alice"]', 10);
    // Mid-conversation: B reloads while messages are still arriving.
    await bob.reload();
    await waitReady(bob);
    for (const text of texts.slice(25)) await sendMessage(alice, text);

    await waitForCount(bob, '#messages li.msg[data-from="alice"]', 50, 60_000);
    // Give any redelivery a moment to show up twice, if it ever would.
    await bob.waitForTimeout(1_500);
    const seen = (await messagesOnScreen(bob)).filter((m) => m.from === "alice");
    expect(seen.map((m) => m.text)).toEqual(texts);
    expect(new Set(seen.map((m) => m.id)).size).toBe(50);

    // A sees every message delivered (B's encrypted receipts came back).
    await waitForCount(alice, '#messages li.msg.mine[data-state="delivered"]', 50, 60_000);
    const mine = await messagesOnScreen(alice);
    expect(mine.filter((m) => m.from === "alice").map((m) => m.text)).toEqual(texts);
  }, 180_000);

  it("lays out map and chat on a narrow window too", async () => {
    await bob.screenshot({ path: join(shots, "chat.png") });
    await alice.setViewportSize({ width: 420, height: 860 });
    await mapSettled(alice);
    const map = await alice.locator("#map").boundingBox();
    const chat = await alice.locator(".chat").boundingBox();
    const composer = await alice.locator("#composer").boundingBox();
    if (!map || !chat || !composer) throw new Error("map, chat or composer is not shown");
    // Stacked: the map above the chat, both as wide as the window, the composer on screen.
    expect(map.width).toBeGreaterThan(400);
    expect(chat.width).toBeGreaterThan(400);
    expect(map.y + map.height).toBeLessThanOrEqual(chat.y + 1);
    expect(composer.y + composer.height).toBeLessThanOrEqual(860);
    await alice.screenshot({ path: join(shots, "narrow.png") });
  }, 60_000);
});
