import type { OapClient } from "@omnigate/sdk";
import { renderTile } from "./render-tile.js";
import { type TileIndex, tileKey } from "./tile-index.js";

export interface LoadResult {
  index: TileIndex;
  tiles: number;
  bytes: number;
  /** Tiles the node already held (PUT is idempotent). */
  alreadyStored: number;
}

/**
 * Renders every tile of zoom levels 0..maxZoom (1 + 4 + 16 + … tiles) and stores each in the
 * node, returning the index z/x/y → address. Nothing is downloaded: the tiles are drawn here.
 */
export async function loadTiles(client: OapClient, maxZoom: number): Promise<LoadResult> {
  const index: TileIndex = new Map();
  let bytes = 0;
  let alreadyStored = 0;
  for (let z = 0; z <= maxZoom; z++) {
    const n = 2 ** z;
    for (let x = 0; x < n; x++) {
      for (let y = 0; y < n; y++) {
        const png = renderTile(z, x, y);
        const stored = await client.storage.put(png);
        index.set(tileKey(z, x, y), stored.addr);
        bytes += png.byteLength;
        if (!stored.created) alreadyStored++;
      }
    }
  }
  return { index, tiles: index.size, bytes, alreadyStored };
}
