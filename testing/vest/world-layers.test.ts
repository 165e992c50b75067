import type { Feature, MultiPolygon, Polygon, Position } from "geojson";
import { describe, expect, it } from "vitest";
import { cutLine, cutPolygon } from "../../apps/vest/src/tiles/antimeridian.js";
import { ringContains, signedArea } from "../../apps/vest/src/tiles/planar-rings.js";
import {
  type CountryProperties,
  loadWorldLayers,
  type WorldLayers,
  type WorldResolution,
} from "../../apps/vest/src/tiles/world-layers.js";

type Country = Feature<Polygon | MultiPolygon, CountryProperties>;

function polygonsOf(country: Country): Position[][][] {
  return country.geometry.type === "Polygon" ? [country.geometry.coordinates] : country.geometry.coordinates;
}

/** Inside the country on the plane: in some polygon's exterior and none of its holes. */
function covers(country: Country, point: Position): boolean {
  return polygonsOf(country).some(
    ([exterior, ...holes]) =>
      exterior !== undefined &&
      ringContains(exterior, point) &&
      !holes.some((hole) => ringContains(hole, point)),
  );
}

/** Consecutive positions more than half a turn apart in longitude: an edge drawn across the whole map. */
function longJumps(line: readonly Position[]): Position[][] {
  return line.slice(1).flatMap((position, index) => {
    const previous = line[index] as Position;
    return Math.abs((position[0] ?? 0) - (previous[0] ?? 0)) > 180 ? [[previous, position]] : [];
  });
}

function countryById(layers: WorldLayers, id: string): Country {
  const country = layers.countries.features.find((feature) => feature.properties.id === id);
  if (country === undefined) throw new Error(`no country ${id}`);
  return country;
}

function areaOf(polygons: readonly Position[][][]): number {
  return polygons.reduce(
    (sum, rings) => sum + rings.reduce((ringSum, ring) => ringSum + signedArea(ring), 0),
    0,
  );
}

describe.each<WorldResolution>(["50m", "10m"])("world layers at 1:%s, on the plane", (resolution) => {
  const layers = loadWorldLayers(resolution);
  const lines = [...layers.boundaries.features, ...layers.coastline.features].flatMap(
    (feature) => feature.geometry.coordinates,
  );

  it("have no edge jumping across ±180°", () => {
    const rings = layers.countries.features.flatMap((country) => polygonsOf(country).flat());
    expect(rings.flatMap(longJumps)).toEqual([]);
    expect(lines.flatMap(longJumps)).toEqual([]);
  });

  it("draw no coast or border along ±180°, where Natural Earth cut shapes", () => {
    const along = lines.flatMap((line) =>
      line
        .slice(1)
        .filter((position, index) => Math.abs(position[0] ?? 0) === 180 && position[0] === line[index]?.[0]),
    );
    expect(along).toEqual([]);
  });

  it("wind polygons as RFC 7946: exteriors counter-clockwise, holes clockwise", () => {
    const wrong = layers.countries.features.flatMap((country) =>
      polygonsOf(country).flatMap((rings) =>
        rings.flatMap((ring, index) => {
          const area = signedArea(ring);
          // Natural Earth has a few rings quantised flat (area 0): no winding to check.
          return area === 0 || area > 0 === (index === 0) ? [] : [`${country.properties.name} ring ${index}`];
        }),
      ),
    );
    expect(wrong).toEqual([]);
  });

  it("keep Russia whole on both sides of ±180° and nothing more", () => {
    const russia = countryById(layers, "643");
    expect(russia.properties.name).toBe("Russia");
    for (const inside of [
      [37.6, 55.75], // Moscow
      [172, 66.5], // Chukotka west of 180°
      [-173, 66], // Chukotka east of 180°
      [-179.5, 71.2], // Wrangel Island, both sides
      [179.5, 71.2],
    ]) {
      expect(covers(russia, inside), `Russia at ${inside}`).toBe(true);
    }
    for (const outside of [
      [0, 80], // Arctic Ocean
      [-100, 67], // Canada, in the band the unfixed rings dragged across the map
      [-40, 70], // Greenland
      [-170, 60], // Bering Sea
    ]) {
      expect(covers(russia, outside), `Russia at ${outside}`).toBe(false);
    }
    const polygons = polygonsOf(russia);
    const west = areaOf(polygons.filter((rings) => rings[0]?.every(([lon = 0]) => lon < 0)));
    const east = areaOf(polygons.filter((rings) => rings[0]?.every(([lon = 0]) => lon >= 0)));
    expect(west).toBeGreaterThan(20);
    expect(east).toBeGreaterThan(2000);
    expect(west + east).toBeCloseTo(areaOf(polygons), 6);
  });

  it("close Antarctica along the South Pole, leaving the Ross Sea open", () => {
    const antarctica = countryById(layers, "010");
    for (const inside of [
      [0, -80],
      [90, -75],
      [-90, -80],
      [179.9, -86],
      [-179.9, -86],
      [45, -89.9],
    ]) {
      expect(covers(antarctica, inside), `Antarctica at ${inside}`).toBe(true);
    }
    for (const outside of [
      [0, -60],
      [179.9, -80], // Ross Sea (the ice shelf is not land in Natural Earth)
      [-120, -60],
    ]) {
      expect(covers(antarctica, outside), `Antarctica at ${outside}`).toBe(false);
    }
  });

  it("leave the ocean along Fiji's latitude open", () => {
    const fiji = countryById(layers, "242");
    expect(covers(fiji, [178, -17.8])).toBe(true); // Viti Levu
    const band = layers.countries.features.filter((country) => covers(country, [-100, -16.5]));
    expect(band.map((country) => country.properties.name)).toEqual([]);
  });
});

describe("antimeridian cutting", () => {
  /** Rings as [lon, lat] lists (d3 winding in, RFC 7946 out), sorted for comparison. */
  const areas = (polygons: Position[][][]) => polygons.map((rings) => rings.map(signedArea)).sort();

  it("splits a square straddling ±180° into one on each side", () => {
    // Clockwise (d3): west to east along the top, across 180°.
    const square = [
      [170, 10],
      [-170, 10],
      [-170, -10],
      [170, -10],
      [170, 10],
    ];
    const polygons = cutPolygon([square]);
    expect(areas(polygons)).toEqual([[200], [200]]);
    const lons = polygons.map((rings) => rings[0]?.map(([lon = 0]) => lon) ?? []);
    expect(lons.map((ring) => [Math.min(...ring), Math.max(...ring)]).sort()).toEqual([
      [-180, -170],
      [170, 180],
    ]);
  });

  it("cuts a hole straddling ±180° along with its exterior", () => {
    const square = [
      [170, 10],
      [-170, 10],
      [-170, -10],
      [170, -10],
      [170, 10],
    ];
    const hole = [
      [175, 5],
      [175, -5],
      [-175, -5],
      [-175, 5],
      [175, 5],
    ];
    const polygons = cutPolygon([square, hole]);
    // Each side: 10° × 20° less 5° × 10°, as one ring notched by the hole.
    expect(polygons).toHaveLength(2);
    expect(polygons.map((rings) => areaOf([rings]))).toEqual([150, 150]);
  });

  it("closes a ring round a pole through the map's corners, on the side d3 puts inside", () => {
    // Westward at 80°N: inside (on the right) is north, the cap round the North Pole.
    const northCap = cutPolygon([
      [
        [120, 80],
        [0, 80],
        [-120, 80],
        [120, 80],
      ],
    ]);
    expect(areas(northCap)).toEqual([[3600]]);
    expect(northCap[0]?.[0]).toEqual(
      expect.arrayContaining([
        [-180, 90],
        [0, 90],
        [180, 90],
      ]),
    );

    // 1:50m Antarctica: a coast ring eastward at 70°S and a westward ring hugging the pole;
    // the polygon is what lies inside both, the band between them.
    const band = cutPolygon([
      [
        [-180, -89.999],
        [120, -89.999],
        [0, -89.999],
        [-120, -89.999],
        [-180, -89.999],
      ],
      [
        [-120, -70],
        [0, -70],
        [120, -70],
        [-120, -70],
      ],
    ]);
    expect(band).toHaveLength(1);
    expect(areaOf(band)).toBeCloseTo(360 * 19.999, 6);
  });

  it("keeps a ring that only touches ±180° whole", () => {
    const touching = [
      [178, 0],
      [-180, 1],
      [178, 2],
      [178, 0],
    ];
    expect(cutPolygon([touching])).toEqual([
      [
        [
          [178, 0],
          [180, 1],
          [178, 2],
          [178, 0],
        ],
      ],
    ]);
  });

  it("splits a line at ±180°, the crossing on both parts, and drops edges along it", () => {
    expect(
      cutLine([
        [170, 0],
        [-170, 10],
        [-160, 10],
      ]),
    ).toEqual([
      [
        [170, 0],
        [180, 5],
      ],
      [
        [-180, 5],
        [-170, 10],
        [-160, 10],
      ],
    ]);
    expect(
      cutLine([
        [179, 60],
        [180, 60],
        [180, 65],
        [179, 65],
      ]),
    ).toEqual([
      [
        [179, 60],
        [180, 60],
      ],
      [
        [180, 65],
        [179, 65],
      ],
    ]);
  });
});
