import { readFile, rename, writeFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { bytesToHeader, Compression } from "pmtiles";
import { writePmtiles } from "./pmtiles-writer.js";
import { cutTilePyramid, type PyramidProgress, type ZoomBand } from "./tile-pyramid.js";
import { loadWorldLayers } from "./world-layers.js";

/**
 * Names what goes into the archive (sources, zoom bands, layer fields, style of cutting).
 * Change it whenever any of that changes, so cached archives are rebuilt.
 */
export const WORLD_ARCHIVE_BUILD = "vest-world-2";
/** Metadata key holding WORLD_ARCHIVE_BUILD (`version` is reserved for semver by the spec). */
const BUILD_METADATA_KEY = "vest_build";

/** Zooms up to this one use Natural Earth 1:50m; finer zooms use 1:10m. */
const COARSE_MAX_ZOOM = 4;
const DEFAULT_MAX_ZOOM = 6;

export interface WorldArchiveOptions {
  /** Highest zoom cut (default 6). */
  maxZoom?: number;
  onProgress?: PyramidProgress;
}

export interface WorldArchive {
  /** The PMTiles v3 archive. */
  bytes: Uint8Array;
  /** Tiles addressed (non-empty tiles of the pyramid). */
  tiles: number;
  /** Distinct tile contents stored. */
  uniqueTiles: number;
  maxZoom: number;
  /** Time spent building; 0 when the archive came from the cache. */
  buildMs: number;
}

/** Cuts the world map into a PMTiles archive of vector tiles: zooms 0..maxZoom. */
export async function buildWorldArchive(options: WorldArchiveOptions = {}): Promise<WorldArchive> {
  const started = performance.now();
  const maxZoom = options.maxZoom ?? DEFAULT_MAX_ZOOM;
  const bands: ZoomBand[] = [
    { minZoom: 0, maxZoom: Math.min(maxZoom, COARSE_MAX_ZOOM), layers: { ...loadWorldLayers("50m") } },
  ];
  if (maxZoom > COARSE_MAX_ZOOM) {
    bands.push({ minZoom: COARSE_MAX_ZOOM + 1, maxZoom, layers: { ...loadWorldLayers("10m") } });
  }
  const tiles = [...cutTilePyramid(bands, options.onProgress ? { onProgress: options.onProgress } : {})];
  const bytes = writePmtiles(tiles, {
    metadata: worldMetadata(maxZoom),
    minZoom: 0,
    maxZoom,
    center: [0, 20, 1],
  });
  const header = bytesToHeader(toArrayBuffer(bytes.subarray(0, 127)));
  return {
    bytes,
    tiles: header.numAddressedTiles,
    uniqueTiles: header.numTileContents,
    maxZoom,
    buildMs: Math.round(performance.now() - started),
  };
}

/**
 * The archive in cacheFile when it was built by this build for the same max zoom; otherwise
 * builds it and replaces the file (temp file + rename, so a reader never sees half a file).
 */
export async function loadOrBuildArchive(
  cacheFile: string,
  options: WorldArchiveOptions = {},
): Promise<WorldArchive> {
  const maxZoom = options.maxZoom ?? DEFAULT_MAX_ZOOM;
  const cached = await readCachedArchive(cacheFile, maxZoom);
  if (cached !== undefined) return cached;
  const built = await buildWorldArchive(options);
  const temporary = `${cacheFile}.${process.pid}.tmp`;
  await writeFile(temporary, built.bytes);
  await rename(temporary, cacheFile);
  return built;
}

async function readCachedArchive(file: string, maxZoom: number): Promise<WorldArchive | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch {
    return undefined;
  }
  try {
    const header = bytesToHeader(toArrayBuffer(bytes.subarray(0, 127)));
    if (header.specVersion !== 3 || header.internalCompression !== Compression.Gzip) return undefined;
    if (header.maxZoom !== maxZoom) return undefined;
    const metadataBytes = bytes.subarray(
      header.jsonMetadataOffset,
      header.jsonMetadataOffset + header.jsonMetadataLength,
    );
    const metadata: unknown = JSON.parse(new TextDecoder().decode(gunzipSync(metadataBytes)));
    if (typeof metadata !== "object" || metadata === null) return undefined;
    if ((metadata as Record<string, unknown>)[BUILD_METADATA_KEY] !== WORLD_ARCHIVE_BUILD) return undefined;
    return {
      bytes,
      tiles: header.numAddressedTiles,
      uniqueTiles: header.numTileContents,
      maxZoom,
      buildMs: 0,
    };
  } catch {
    // Not a PMTiles archive we can read (truncated, foreign): rebuild it.
    return undefined;
  }
}

/** Deterministic (no dates): the same build yields the same bytes, hence the same b3 address. */
function worldMetadata(maxZoom: number): Record<string, unknown> {
  const layer = (id: string, description: string, fields: Record<string, string>) => ({
    id,
    description,
    fields,
    minzoom: 0,
    maxzoom: maxZoom,
  });
  return {
    name: "Vest world",
    description: `Countries, land borders and coastlines from Natural Earth (1:50m to zoom ${COARSE_MAX_ZOOM}, 1:10m above)`,
    attribution: "Natural Earth",
    type: "baselayer",
    [BUILD_METADATA_KEY]: WORLD_ARCHIVE_BUILD,
    vector_layers: [
      layer("countries", "Country polygons", {
        id: "String",
        name: "String",
        tint: "Number",
      }),
      layer("boundaries", "Land borders between countries", {}),
      layer("coastline", "Coastlines", {}),
    ],
  };
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}
