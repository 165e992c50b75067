import { createRequire } from "node:module";
import type { GeoJSON } from "geojson";
import GeoJSONVT, { type LegacyTile } from "geojson-vt";

/** One encoded Mapbox Vector Tile (uncompressed protobuf). */
export interface EncodedTile {
  z: number;
  x: number;
  y: number;
  data: Uint8Array;
}

/** The GeoJSON to cut for a range of zooms: lets coarse zooms use coarser geography. */
export interface ZoomBand {
  minZoom: number;
  maxZoom: number;
  layers: Readonly<Record<string, GeoJSON>>;
}

/** Tiles examined so far out of every tile of the pyramid, and the zoom being cut. */
export type PyramidProgress = (done: number, total: number, z: number) => void;

export interface TilePyramidOptions {
  /** Tile coordinate extent (default 4096, the MVT convention). */
  extent?: number;
  onProgress?: PyramidProgress;
}

/** vt-pbf ships no types; this is the one function used from it. */
interface VtPbf {
  fromGeojsonVt(
    layers: Record<string, LegacyTile>,
    options: { version: number; extent?: number },
  ): Uint8Array;
}

// vt-pbf is CommonJS without types, so it is loaded through require with the shape above.
const vtPbf = createRequire(import.meta.url)("vt-pbf") as VtPbf;

const DEFAULT_EXTENT = 4096;

/**
 * Cuts every zoom of the bands into vector tiles, yielding only tiles with at least one
 * feature (open ocean has none), in z, x, y order.
 */
export function* cutTilePyramid(
  bands: readonly ZoomBand[],
  options: TilePyramidOptions = {},
): Generator<EncodedTile> {
  const extent = options.extent ?? DEFAULT_EXTENT;
  const total = bands.reduce((sum, band) => sum + tilesInZooms(band.minZoom, band.maxZoom), 0);
  let done = 0;
  for (const band of bands) {
    const indexes = Object.entries(band.layers).map(
      ([name, geojson]) => [name, new GeoJSONVT(geojson, { maxZoom: band.maxZoom, extent })] as const,
    );
    for (let z = band.minZoom; z <= band.maxZoom; z++) {
      const size = 2 ** z;
      for (let x = 0; x < size; x++) {
        for (let y = 0; y < size; y++) {
          const layers: Record<string, LegacyTile> = {};
          let hasFeatures = false;
          for (const [name, index] of indexes) {
            const tile = index.getTile(z, x, y);
            if (tile === null || tile.features.length === 0) continue;
            layers[name] = tile;
            hasFeatures = true;
          }
          if (!hasFeatures) continue;
          // slice(): pbf hands back a view of its larger growth buffer; keep only the tile.
          yield { z, x, y, data: vtPbf.fromGeojsonVt(layers, { version: 2, extent }).slice() };
        }
        done += size;
        options.onProgress?.(done, total, z);
      }
    }
  }
}

function tilesInZooms(minZoom: number, maxZoom: number): number {
  let count = 0;
  for (let z = minZoom; z <= maxZoom; z++) count += 4 ** z;
  return count;
}
