import { statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadTiles } from "../../examples/tileserver/load-tiles.js";
import { startTileServer } from "../../examples/tileserver/server.js";
import { launchChromium } from "../support/chromium.js";
import { sampleValue, scrape } from "../support/prometheus-text.js";
import { TestScope } from "../support/scope.js";
import { tempDir } from "../support/temp-dir.js";
import { storageClient } from "./support.js";

const scope = new TestScope();
afterEach(() => scope.close());

describe("the tileserver example in a browser", { timeout: 120_000 }, () => {
  it("shows the map: Leaflet loads its tiles through the node, and the node's storage metrics move", async () => {
    const node = await scope.node();
    const client = await storageClient(scope, node, 0x7117n);
    const loaded = await loadTiles(client, 3);
    expect(loaded.tiles).toBe(1 + 4 + 16 + 64);
    const lines: Array<Record<string, unknown>> = [];
    const server = await startTileServer({
      client,
      index: loaded.index,
      port: 0,
      log: (line) => lines.push(line),
    });
    scope.defer(() => server.close());

    const before = await scrape(node.adminUrl);
    const sentBefore = sampleValue(before, "storage_bytes_out_total") ?? 0;
    const getsBefore = sampleValue(before, "storage_get_first_byte_seconds_count") ?? 0;

    const browser = await launchChromium();
    scope.defer(() => browser.close());
    const page = await browser.context.newPage();
    const external: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(server.url)) external.push(request.url());
    });
    await page.goto(`${server.url}/`);
    // Leaflet adds a tile <img> per visible tile and marks it loaded once the image decoded.
    // Runs in the page (a string, so this file needs no DOM types).
    await page.waitForFunction(
      `(() => {
      const tiles = [...document.querySelectorAll("img.leaflet-tile")];
      return tiles.length >= 4 && tiles.every((img) => img.complete && img.naturalWidth > 0);
    })()`,
      undefined,
      { timeout: 20_000 },
    );
    const widths = (await page.evaluate(
      `[...document.querySelectorAll("img.leaflet-tile")].map((img) => img.naturalWidth)`,
    )) as number[];
    const shots = tempDir("omnigate-tileserver-shot-");
    scope.defer(shots.remove);
    const screenshot = join(shots.path, "map.png");
    await page.screenshot({ path: screenshot });

    expect(widths.length).toBeGreaterThanOrEqual(4);
    for (const width of widths) expect(width).toBe(256);
    expect(statSync(screenshot).size).toBeGreaterThan(0);
    expect(external).toEqual([]);

    // The tiles came through OAP: the node's storage service sent them.
    const after = await scrape(node.adminUrl);
    const tileBytes = lines.filter((l) => l.event === "tile").reduce((sum, l) => sum + Number(l.bytes), 0);
    expect(server.stats.summary().fetches).toBeGreaterThanOrEqual(widths.length);
    expect((sampleValue(after, "storage_bytes_out_total") ?? 0) - sentBefore).toBe(tileBytes);
    expect((sampleValue(after, "storage_get_first_byte_seconds_count") ?? 0) - getsBefore).toBe(
      server.stats.summary().fetches,
    );
    expect(lines.find((l) => l.event === "tile")).toMatchObject({ first_byte_ms: expect.any(Number) });
  });
});
