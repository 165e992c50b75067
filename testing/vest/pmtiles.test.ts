import { randomInt } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { VectorTile, type VectorTileFeature } from "@mapbox/vector-tile";
import Pbf from "pbf";
import {
  Compression,
  PMTiles,
  type RangeResponse,
  type Source,
  TileType,
  tileIdToZxy,
  zxyToTileId,
} from "pmtiles";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildWorldArchive,
  loadOrBuildArchive,
  WORLD_ARCHIVE_BUILD,
  type WorldArchive,
} from "../../apps/vest/src/tiles/build-archive.js";
import { type PmtilesTile, tileId, writePmtiles } from "../../apps/vest/src/tiles/pmtiles-writer.js";
import { OapRangeSource, type RangeReadStat } from "../../apps/vest/src/web/oap-pmtiles-source.js";
import { tempDir } from "../support/temp-dir.js";

/** A pmtiles Source over bytes in memory, short at the end like a file or HTTP server. */
class MemorySource implements Source {
  constructor(private readonly bytes: Uint8Array) {}
  getKey(): string {
    return "memory";
  }
  async getBytes(offset: number, length: number): Promise<RangeResponse> {
    // A copy: a Node Buffer's slice() would be a view of the whole file.
    return { data: new Uint8Array(this.bytes.subarray(offset, offset + length)).buffer };
  }
}

/** A storage reader with the node's range semantics: inclusive `start-end`, short at the end, 416 past it. */
function memoryStorage(address: string, object: Uint8Array) {
  const requests: string[] = [];
  return {
    requests,
    async getBytes(addr: string, options: { range: string; signal?: AbortSignal }): Promise<Uint8Array> {
      requests.push(options.range);
      if (addr !== address) throw new Error("404 not_found");
      const match = /^(\d+)-(\d+)$/.exec(options.range);
      if (!match) throw new Error(`400 bad range ${options.range}`);
      const start = Number(match[1]);
      const end = Math.min(Number(match[2]), object.length - 1);
      if (start >= object.length || end < start) throw new Error("416 range_not_satisfiable");
      // A view into the whole object, as a pooled Node Buffer would be.
      return Buffer.from(object.buffer, object.byteOffset + start, end - start + 1);
    },
  };
}

function decodeVectorTile(data: ArrayBuffer): VectorTile {
  return new VectorTile(new Pbf(new Uint8Array(data)));
}

function layerFeatures(tile: VectorTile, name: string): VectorTileFeature[] {
  const layer = tile.layers[name];
  if (layer === undefined) return [];
  return Array.from({ length: layer.length }, (_, index) => layer.feature(index));
}

function countryNames(tile: VectorTile): string[] {
  const layer = tile.layers.countries;
  if (layer === undefined) return [];
  return Array.from({ length: layer.length }, (_, index) => String(layer.feature(index).properties.name));
}

describe("world archive", () => {
  const MAX_ZOOM = 3;
  let archive: WorldArchive;
  let reader: PMTiles;

  beforeAll(async () => {
    archive = await buildWorldArchive({ maxZoom: MAX_ZOOM });
    reader = new PMTiles(new MemorySource(archive.bytes));
  });

  it("has a v3 header for gzipped vector tiles over the world", async () => {
    const header = await reader.getHeader();
    expect(header).toMatchObject({
      specVersion: 3,
      tileType: TileType.Mvt,
      internalCompression: Compression.Gzip,
      tileCompression: Compression.Gzip,
      clustered: true,
      minZoom: 0,
      maxZoom: MAX_ZOOM,
      numAddressedTiles: archive.tiles,
      numTileContents: archive.uniqueTiles,
      rootDirectoryOffset: 127,
    });
    expect(header.minLon).toBe(-180);
    expect(header.maxLon).toBe(180);
    expect(header.minLat).toBeCloseTo(-85.0511, 3);
    expect(header.maxLat).toBeCloseTo(85.0511, 3);
    expect(header.rootDirectoryOffset + header.rootDirectoryLength).toBeLessThanOrEqual(16_384);
    expect(archive.uniqueTiles).toBeLessThanOrEqual(archive.tiles);
    expect(header.numTileEntries).toBeLessThanOrEqual(archive.tiles);
  });

  it("describes its layers in the metadata", async () => {
    const metadata = (await reader.getMetadata()) as {
      attribution: string;
      vest_build: string;
      vector_layers: { id: string; fields: Record<string, string>; minzoom: number; maxzoom: number }[];
    };
    expect(metadata.attribution).toBe("Natural Earth");
    expect(metadata.vest_build).toBe(WORLD_ARCHIVE_BUILD);
    expect(metadata.vector_layers.map((layer) => layer.id)).toEqual(["countries", "boundaries", "coastline"]);
    const countries = metadata.vector_layers[0];
    expect(Object.keys(countries?.fields ?? {})).toEqual(expect.arrayContaining(["id", "name"]));
    expect(countries).toMatchObject({ minzoom: 0, maxzoom: MAX_ZOOM });
  });

  it("serves vector tiles with countries, borders and coasts", async () => {
    const world = await reader.getZxy(0, 0, 0);
    expect(world).toBeDefined();
    const worldTile = decodeVectorTile(world?.data ?? new ArrayBuffer(0));
    expect(Object.keys(worldTile.layers).sort()).toEqual(["boundaries", "coastline", "countries"]);
    expect(countryNames(worldTile)).toEqual(expect.arrayContaining(["France", "Brazil", "Japan"]));

    // Western Europe at zoom 3.
    const europe = await reader.getZxy(3, 4, 2);
    const europeTile = decodeVectorTile(europe?.data ?? new ArrayBuffer(0));
    expect(countryNames(europeTile)).toEqual(expect.arrayContaining(["France", "Germany", "Spain"]));
    const france = Array.from({ length: europeTile.layers.countries?.length ?? 0 }, (_, index) =>
      europeTile.layers.countries?.feature(index),
    ).find((feature) => feature?.properties.name === "France");
    expect(france?.properties.id).toBe("250");
    expect(france?.type).toBe(3);
    expect(france?.loadGeometry().length).toBeGreaterThan(0);
    expect(europeTile.layers.boundaries?.length).toBeGreaterThan(0);
  });

  it("draws no line across a whole tile and winds polygons as MVT wants", async () => {
    // A coast or border edge jumping between +180° and −180° would run through whole tiles.
    const across: string[] = [];
    const misWound: string[] = [];
    for (let z = 0; z <= MAX_ZOOM; z++) {
      for (let x = 0; x < 2 ** z; x++) {
        for (let y = 0; y < 2 ** z; y++) {
          const data = (await reader.getZxy(z, x, y))?.data;
          if (data === undefined) continue;
          const tile = decodeVectorTile(data);
          for (const feature of [...layerFeatures(tile, "coastline"), ...layerFeatures(tile, "boundaries")]) {
            const lines = feature.loadGeometry();
            const long = lines.some((line) =>
              line.some((point, i) => i > 0 && Math.abs(point.x - (line[i - 1]?.x ?? 0)) >= feature.extent),
            );
            if (long) across.push(`${z}/${x}/${y}`);
          }
          for (const feature of layerFeatures(tile, "countries")) {
            // MVT: exteriors are positive by the surveyor's formula in tile coordinates, and a
            // feature's largest ring is an exterior. Specks (atolls of a few units²) are left
            // out: rounding to the tile grid can flip them.
            const areas = feature.loadGeometry().map((ring) =>
              ring.reduce((sum, point, i) => {
                const next = ring[(i + 1) % ring.length] ?? point;
                return sum + point.x * next.y - next.x * point.y;
              }, 0),
            );
            const largest = areas.reduce((max, area) => (Math.abs(area) > Math.abs(max) ? area : max), 0);
            if (largest < -200) misWound.push(`${String(feature.properties.name)} in ${z}/${x}/${y}`);
          }
        }
      }
    }
    expect(across).toEqual([]);
    expect(misWound).toEqual([]);
  });

  it("has no tile over open ocean, at any read", async () => {
    // The South Pacific west of Chile and the Bering Sea's open north-west corner of the grid.
    for (const [z, x, y] of [
      [3, 1, 5],
      [3, 0, 0],
    ] as const) {
      expect(await reader.getZxy(z, x, y)).toBeUndefined();
      expect(await reader.getZxy(z, x, y)).toBeUndefined();
    }
    expect(await reader.getZxy(MAX_ZOOM + 1, 0, 0)).toBeUndefined();
  });

  it("is reused from its cache file by the same build, rebuilt otherwise", async () => {
    const dir = tempDir("vest-archive-");
    try {
      const file = join(dir.path, "world.pmtiles");
      const first = await loadOrBuildArchive(file, { maxZoom: 1 });
      expect(readFileSync(file)).toEqual(Buffer.from(first.bytes));
      const second = await loadOrBuildArchive(file, { maxZoom: 1 });
      expect(second).toMatchObject({
        buildMs: 0,
        tiles: first.tiles,
        uniqueTiles: first.uniqueTiles,
        maxZoom: 1,
      });
      expect(Buffer.from(second.bytes)).toEqual(Buffer.from(first.bytes));

      const other = await loadOrBuildArchive(file, { maxZoom: 0 });
      expect(other.maxZoom).toBe(0);
      expect((await new PMTiles(new MemorySource(readFileSync(file))).getHeader()).maxZoom).toBe(0);

      writeFileSync(file, "not an archive");
      const rebuilt = await loadOrBuildArchive(file, { maxZoom: 1 });
      expect(Buffer.from(rebuilt.bytes)).toEqual(Buffer.from(first.bytes));
    } finally {
      dir.remove();
    }
  });
});

describe("PMTiles writer", () => {
  /** Many small tiles at zoom 12 on scattered ids, so the root alone would exceed 16 KiB. */
  function scatteredTiles(count: number): Map<number, Uint8Array> {
    const tiles = new Map<number, Uint8Array>();
    const firstAtZoom12 = zxyToTileId(12, 0, 0);
    const shared = Uint8Array.of(7, 7, 7);
    while (tiles.size < count) {
      const id = firstAtZoom12 + randomInt(4 ** 12);
      // Every tenth tile repeats one content (deduplicated); the rest are unique.
      const data =
        tiles.size % 10 === 0 ? shared : Uint8Array.from({ length: 1 + randomInt(60) }, () => randomInt(256));
      tiles.set(id, data);
    }
    // A run of consecutive ids with one content: one directory entry.
    for (let offset = 0; offset < 50; offset++) tiles.set(firstAtZoom12 + 1000 + offset, shared);
    return tiles;
  }

  function asTiles(byId: Map<number, Uint8Array>): PmtilesTile[] {
    return [...byId].map(([id, data]) => {
      const [z, x, y] = tileIdToZxy(id);
      return { z, x, y, data };
    });
  }

  it("splits a large directory into leaves and reads back every sampled tile", async () => {
    const byId = scatteredTiles(20_000);
    const bytes = writePmtiles(asTiles(byId), { metadata: { vector_layers: [] }, tileCompression: "none" });
    const reader = new PMTiles(new MemorySource(bytes));
    const header = await reader.getHeader();
    expect(header.leafDirectoryLength).toBeGreaterThan(0);
    expect(header.rootDirectoryOffset + header.rootDirectoryLength).toBeLessThanOrEqual(16_384);
    expect(header).toMatchObject({ minZoom: 12, maxZoom: 12, tileCompression: Compression.None });
    expect(header.numAddressedTiles).toBe(byId.size);
    expect(header.numTileEntries).toBeLessThan(byId.size);
    expect(header.numTileContents).toBeLessThan(byId.size);

    const ids = [...byId.keys()];
    const sample = [
      ...ids.slice(0, 20),
      ...ids.slice(-20),
      ...Array.from({ length: 300 }, () => ids[randomInt(ids.length)]),
    ];
    for (const id of sample) {
      const [z, x, y] = tileIdToZxy(id as number);
      const tile = await reader.getZxy(z, x, y);
      expect(new Uint8Array(tile?.data ?? new ArrayBuffer(0))).toEqual(byId.get(id as number));
    }
    const missing = ids.reduce((max, id) => Math.max(max, id), 0) + 1;
    if (missing < zxyToTileId(13, 0, 0)) {
      const [z, x, y] = tileIdToZxy(missing);
      expect(await reader.getZxy(z, x, y)).toBeUndefined();
    }
  });

  it("computes the spec's Hilbert tile ids", () => {
    expect([
      tileId(0, 0, 0),
      tileId(1, 0, 0),
      tileId(1, 0, 1),
      tileId(1, 1, 1),
      tileId(1, 1, 0),
      tileId(2, 0, 0),
    ]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(tileId(12, 3423, 1763)).toBe(19_078_479);
    for (let sample = 0; sample < 2000; sample++) {
      const z = randomInt(27);
      const x = randomInt(2 ** z);
      const y = randomInt(2 ** z);
      expect(tileId(z, x, y)).toBe(zxyToTileId(z, x, y));
    }
    expect(() => tileId(2, 4, 0)).toThrow(RangeError);
  });

  it("refuses an empty archive and a tile given twice", () => {
    expect(() => writePmtiles([], { metadata: {} })).toThrow();
    const tile = { z: 1, x: 0, y: 0, data: Uint8Array.of(1) };
    expect(() => writePmtiles([tile, { ...tile }], { metadata: {} })).toThrow(/twice/);
  });
});

describe("OapRangeSource", () => {
  const ADDRESS = "b3:00ff";
  let archive: Uint8Array;

  beforeAll(async () => {
    archive = (await buildWorldArchive({ maxZoom: 2 })).bytes;
  });

  it("returns exactly the bytes of each range, short at the object's end", async () => {
    const storage = memoryStorage(ADDRESS, archive);
    const reads: RangeReadStat[] = [];
    const source = new OapRangeSource(storage, ADDRESS, { onRead: (stat) => reads.push(stat) });
    expect(source.getKey()).toBe(ADDRESS);

    for (let sample = 0; sample < 50; sample++) {
      const offset = randomInt(archive.length);
      const length = 1 + randomInt(5000);
      const { data } = await source.getBytes(offset, length);
      expect(new Uint8Array(data)).toEqual(archive.slice(offset, offset + length));
      expect(data.byteLength).toBe(Math.min(length, archive.length - offset));
    }
    const tail = await source.getBytes(archive.length - 10, 100);
    expect(new Uint8Array(tail.data)).toEqual(archive.slice(-10));
    expect(storage.requests.at(-1)).toBe(`${archive.length - 10}-${archive.length + 89}`);
    expect(reads.at(-1)).toMatchObject({ offset: archive.length - 10, length: 100, bytes: 10 });
    expect(reads).toHaveLength(51);
  });

  it("serves an archive to the pmtiles reader", async () => {
    const source = new OapRangeSource(memoryStorage(ADDRESS, archive), ADDRESS);
    const overOap = new PMTiles(source);
    const inMemory = new PMTiles(new MemorySource(archive));
    expect(await overOap.getHeader()).toEqual(await inMemory.getHeader());
    expect(await overOap.getMetadata()).toEqual(await inMemory.getMetadata());
    for (const [z, x, y] of [
      [0, 0, 0],
      [2, 2, 1],
      [2, 3, 3],
    ] as const) {
      const tile = await overOap.getZxy(z, x, y);
      const expected = await inMemory.getZxy(z, x, y);
      expect(new Uint8Array(tile?.data ?? new ArrayBuffer(0))).toEqual(
        new Uint8Array(expected?.data ?? new ArrayBuffer(0)),
      );
    }
  });

  it("passes the caller's abort signal to the storage read", async () => {
    const seen: (AbortSignal | undefined)[] = [];
    const source = new OapRangeSource(
      {
        async getBytes(_addr, options) {
          seen.push(options.signal);
          return new Uint8Array(4);
        },
      },
      ADDRESS,
    );
    const controller = new AbortController();
    await source.getBytes(0, 4, controller.signal);
    expect(seen).toEqual([controller.signal]);
  });
});
