/**
 * Which part of the world a user looks at: a map view is the tiles of a 4 × 3 viewport at
 * zoom 4 or 5, read from the Vest world archive by range reads (as the page's map does,
 * several in flight), around one of four places. Within a class the view wanders by up to a
 * tile and the zoom varies, as a real user's does.
 */
import { PMTiles } from "pmtiles";
import type { StorageAddress } from "../../../apps/vest/src/web/oap-pmtiles-source.js";
import { OapRangeSource } from "../../../apps/vest/src/web/oap-pmtiles-source.js";
import { type Scenario, type SessionResult, sleep, timedActions, windowTailMs } from "./scenario.js";

const PLACES: Record<string, [number, number]> = {
  europe: [10, 50],
  "north-america": [-85, 40],
  "east-asia": [118, 33],
  "south-america": [-58, -18],
};

const VIEW_COLUMNS = 4;
const VIEW_ROWS = 3;

function tileOf(lon: number, lat: number, z: number): [number, number] {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const r = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
  return [x, y];
}

/** The tiles of one view of `place`, wandering by up to one tile, at zoom 4 or 5. */
export function viewTiles(place: string, random: () => number): Array<[number, number, number]> {
  const [lon, lat] = PLACES[place] as [number, number];
  const z = random() < 0.5 ? 4 : 5;
  const [cx, cy] = tileOf(lon, lat, z);
  const x0 = cx - 2 + Math.floor(random() * 3) - 1;
  const y0 = cy - 1 + Math.floor(random() * 3) - 1;
  const n = 2 ** z;
  const tiles: Array<[number, number, number]> = [];
  for (let dy = 0; dy < VIEW_ROWS; dy++) {
    for (let dx = 0; dx < VIEW_COLUMNS; dx++) {
      tiles.push([z, (((x0 + dx) % n) + n) % n, Math.min(n - 1, Math.max(0, y0 + dy))]);
    }
  }
  return tiles;
}

export const mapViews: Scenario = {
  name: "map-view",
  secret: "which of four places the user's map shows (12 tiles at zoom 4–5)",
  classes: Object.keys(PLACES),
  async session(rig, { shaping, labels, sessionId, random }): Promise<SessionResult> {
    const { client, wire } = await rig.observed(shaping);
    try {
      const archive = new PMTiles(
        new OapRangeSource(
          { getBytes: (a, options) => client.storage.getBytes(a, options) },
          rig.vest.archive.addr as StorageAddress,
        ),
      );
      // Header and root directory first, as the page does on load: not part of any view.
      await archive.getZxy(0, 0, 0);
      const tail = windowTailMs(shaping);
      await sleep(tail);
      return await timedActions(wire, { labels, sessionId, tailMs: tail }, (label) =>
        Promise.all(viewTiles(label, random).map(([z, x, y]) => archive.getZxy(z, x, y))),
      );
    } finally {
      await client.close();
    }
  },
};
