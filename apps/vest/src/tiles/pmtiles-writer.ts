import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";

/**
 * A writer of PMTiles v3 archives (spec: github.com/protomaps/PMTiles, spec/v3/spec.md).
 * Layout: header, root directory, JSON metadata, leaf directories, tile data. Tiles are
 * written in tile-id order (clustered), identical contents are stored once, and runs of
 * consecutive ids with the same content become one directory entry.
 */

/** A tile to store, its data uncompressed (the writer applies the tile compression). */
export interface PmtilesTile {
  z: number;
  x: number;
  y: number;
  data: Uint8Array;
}

export type PmtilesTileType = "mvt" | "png" | "jpeg" | "webp" | "avif";

export interface PmtilesWriteOptions {
  /** The JSON metadata object (for mvt it must carry `vector_layers`). */
  metadata: Readonly<Record<string, unknown>>;
  /** Default "mvt". */
  tileType?: PmtilesTileType;
  /** How the writer stores each tile: "gzip" (default) or "none" (for already compressed images). */
  tileCompression?: "gzip" | "none";
  /** [minLon, minLat, maxLon, maxLat]; default the whole Web Mercator world. */
  bounds?: readonly [number, number, number, number];
  /** [lon, lat, zoom] a viewer may start at; default the middle of the bounds at the min zoom. */
  center?: readonly [number, number, number];
  /** Default: the lowest and highest zoom among the tiles. */
  minZoom?: number;
  maxZoom?: number;
}

const HEADER_BYTES = 127;
/** The header and the root directory must fit in the first 16 KiB a reader fetches. */
const ROOT_FETCH_BYTES = 16_384;
/** Entries per leaf directory to start from; doubled until the root fits. */
const INITIAL_LEAF_ENTRIES = 4096;
const WEB_MERCATOR_WORLD: readonly [number, number, number, number] = [-180, -85.0511287, 180, 85.0511287];

const COMPRESSION = { none: 1, gzip: 2 } as const;
const TILE_TYPE: Record<PmtilesTileType, number> = { mvt: 1, png: 2, jpeg: 3, webp: 4, avif: 5 };

/** Position of a tile on the concatenated Hilbert curves of zooms 0, 1, 2, … (spec §4.1). */
export function tileId(z: number, x: number, y: number): number {
  if (!Number.isInteger(z) || z < 0 || z > 26) throw new RangeError(`zoom ${z} is outside 0..26`);
  const size = 2 ** z;
  if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= size || y >= size) {
    throw new RangeError(`tile ${z}/${x}/${y} is outside its zoom`);
  }
  const tilesBelow = (4 ** z - 1) / 3;
  let distance = 0;
  let col = x;
  let row = y;
  // Arithmetic rather than << beyond 2^31: ids exceed 32 bits from zoom 16 on.
  for (let half = size / 2; half >= 1; half /= 2) {
    const right = col & half ? 1 : 0;
    const down = row & half ? 1 : 0;
    distance += half * half * ((3 * right) ^ down);
    if (down === 0) {
      if (right === 1) {
        col = half - 1 - (col & (half - 1));
        row = half - 1 - (row & (half - 1));
      }
      [col, row] = [row, col];
    }
  }
  return tilesBelow + distance;
}

interface DirectoryEntry {
  tileId: number;
  offset: number;
  length: number;
  /** 0 marks a leaf directory. */
  runLength: number;
}

/** Writes the archive; throws when there is no tile or two tiles share a z/x/y. */
export function writePmtiles(tiles: Iterable<PmtilesTile>, options: PmtilesWriteOptions): Uint8Array {
  const tileCompression = options.tileCompression ?? "gzip";
  const sorted = [...tiles].map((tile) => ({ id: tileId(tile.z, tile.x, tile.y), tile }));
  if (sorted.length === 0) throw new Error("a PMTiles archive needs at least one tile");
  sorted.sort((a, b) => a.id - b.id);

  const { entries, blobs, dataLength } = layOutTileData(sorted, tileCompression);
  const { root, leaves } = buildDirectories(entries);
  const metadata = gzipSync(new TextEncoder().encode(JSON.stringify(options.metadata)));

  const zooms = sorted.map(({ tile }) => tile.z);
  const minZoom = options.minZoom ?? Math.min(...zooms);
  const maxZoom = options.maxZoom ?? Math.max(...zooms);
  const bounds = options.bounds ?? WEB_MERCATOR_WORLD;
  const center = options.center ?? [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, minZoom];

  const rootOffset = HEADER_BYTES;
  const metadataOffset = rootOffset + root.length;
  const leavesOffset = metadataOffset + metadata.length;
  const leavesLength = leaves.reduce((sum, leaf) => sum + leaf.length, 0);
  const dataOffset = leavesOffset + leavesLength;

  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  header.set(new TextEncoder().encode("PMTiles"), 0);
  view.setUint8(7, 3);
  const u64 = (at: number, value: number) => view.setBigUint64(at, BigInt(value), true);
  u64(8, rootOffset);
  u64(16, root.length);
  u64(24, metadataOffset);
  u64(32, metadata.length);
  u64(40, leavesOffset);
  u64(48, leavesLength);
  u64(56, dataOffset);
  u64(64, dataLength);
  u64(72, sorted.length);
  u64(80, entries.length);
  u64(88, blobs.length);
  view.setUint8(96, 1); // clustered: data in tile-id order
  view.setUint8(97, COMPRESSION.gzip);
  view.setUint8(98, COMPRESSION[tileCompression]);
  view.setUint8(99, TILE_TYPE[options.tileType ?? "mvt"]);
  view.setUint8(100, minZoom);
  view.setUint8(101, maxZoom);
  const position = (at: number, lon: number, lat: number) => {
    view.setInt32(at, Math.round(lon * 1e7), true);
    view.setInt32(at + 4, Math.round(lat * 1e7), true);
  };
  position(102, bounds[0], bounds[1]);
  position(110, bounds[2], bounds[3]);
  view.setUint8(118, center[2]);
  position(119, center[0], center[1]);

  return concat([header, root, metadata, ...leaves, ...blobs], dataOffset + dataLength);
}

/** Stores each distinct content once, in first-use order, and merges runs of the same content. */
function layOutTileData(
  sorted: readonly { id: number; tile: PmtilesTile }[],
  compression: "gzip" | "none",
): { entries: DirectoryEntry[]; blobs: Uint8Array[]; dataLength: number } {
  const entries: DirectoryEntry[] = [];
  const blobs: Uint8Array[] = [];
  const stored = new Map<string, { offset: number; length: number }>();
  let dataLength = 0;
  let previousId = -1;
  for (const { id, tile } of sorted) {
    if (id === previousId) throw new Error(`tile ${tile.z}/${tile.x}/${tile.y} is given twice`);
    previousId = id;
    const key = createHash("sha256").update(tile.data).digest("base64");
    let place = stored.get(key);
    if (place === undefined) {
      const blob = compression === "gzip" ? gzipSync(tile.data) : tile.data;
      place = { offset: dataLength, length: blob.length };
      stored.set(key, place);
      blobs.push(blob);
      dataLength += blob.length;
    }
    const last = entries.at(-1);
    if (last !== undefined && last.offset === place.offset && last.tileId + last.runLength === id) {
      last.runLength++;
    } else {
      entries.push({ tileId: id, offset: place.offset, length: place.length, runLength: 1 });
    }
  }
  return { entries, blobs, dataLength };
}

/**
 * One root directory when it fits in the first 16 KiB with the header; otherwise leaf
 * directories of a fixed number of entries, grown until the root pointing at them fits.
 */
function buildDirectories(entries: readonly DirectoryEntry[]): { root: Uint8Array; leaves: Uint8Array[] } {
  const whole = gzipSync(serializeDirectory(entries));
  if (HEADER_BYTES + whole.length <= ROOT_FETCH_BYTES) return { root: whole, leaves: [] };
  for (let leafEntries = INITIAL_LEAF_ENTRIES; ; leafEntries *= 2) {
    const leaves: Uint8Array[] = [];
    const rootEntries: DirectoryEntry[] = [];
    let offset = 0;
    for (let start = 0; start < entries.length; start += leafEntries) {
      const chunk = entries.slice(start, start + leafEntries);
      const leaf = gzipSync(serializeDirectory(chunk));
      rootEntries.push({ tileId: chunk[0]?.tileId ?? 0, offset, length: leaf.length, runLength: 0 });
      leaves.push(leaf);
      offset += leaf.length;
    }
    const root = gzipSync(serializeDirectory(rootEntries));
    if (HEADER_BYTES + root.length <= ROOT_FETCH_BYTES) return { root, leaves };
  }
}

/** Spec §4.2: count, then delta tile ids, run lengths, lengths, offsets (0 = right after the previous). */
function serializeDirectory(entries: readonly DirectoryEntry[]): Uint8Array {
  const out: number[] = [];
  writeVarint(out, entries.length);
  let lastId = 0;
  for (const entry of entries) {
    writeVarint(out, entry.tileId - lastId);
    lastId = entry.tileId;
  }
  for (const entry of entries) writeVarint(out, entry.runLength);
  for (const entry of entries) writeVarint(out, entry.length);
  entries.forEach((entry, index) => {
    const previous = index > 0 ? entries[index - 1] : undefined;
    const contiguous = previous !== undefined && entry.offset === previous.offset + previous.length;
    writeVarint(out, contiguous ? 0 : entry.offset + 1);
  });
  return Uint8Array.from(out);
}

/** Protobuf-style varint; division rather than shifts so values above 2^32 survive. */
function writeVarint(out: number[], value: number): void {
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

function concat(parts: readonly Uint8Array[], totalLength: number): Uint8Array {
  const out = new Uint8Array(totalLength);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
