import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { FeatureCollection, MultiLineString, MultiPolygon, Polygon } from "geojson";
import { feature, mesh, neighbors } from "topojson-client";
import type { GeometryCollection, GeometryObject, Topology } from "topojson-specification";
import { cutMultiLineString, cutPolygons } from "./antimeridian.js";

/** Natural Earth detail levels shipped by world-atlas that the map uses. */
export type WorldResolution = "50m" | "10m";

/**
 * A country's tile properties. `id` is the ISO 3166-1 numeric code ("" for the few disputed
 * areas Natural Earth leaves without one); `tint` is a map colouring index (0..4 in practice)
 * chosen so that neighbouring countries differ, which a palette by `id` could not promise.
 */
export interface CountryProperties {
  id: string;
  name: string;
  tint: number;
}

/** The GeoJSON layers cut into tiles, by layer name. */
export interface WorldLayers {
  countries: FeatureCollection<Polygon | MultiPolygon, CountryProperties>;
  /** Land borders between two countries. */
  boundaries: FeatureCollection<MultiLineString>;
  /** Arcs with land on one side only: coasts (and the outer edge of disputed areas). */
  coastline: FeatureCollection<MultiLineString>;
}

type CountryObjects = { countries: GeometryCollection<{ name?: string }> };

const requireFromHere = createRequire(import.meta.url);

/**
 * Reads world-atlas's countries topology at the given resolution and derives the layers.
 * world-atlas is spherical (for d3-geo); the layers are planar, cut at ±180° for tiling.
 */
export function loadWorldLayers(resolution: WorldResolution): WorldLayers {
  const file = requireFromHere.resolve(`world-atlas/countries-${resolution}.json`);
  const topology = JSON.parse(readFileSync(file, "utf8")) as Topology<CountryObjects>;
  return worldLayersFromTopology(topology);
}

export function worldLayersFromTopology(topology: Topology<CountryObjects>): WorldLayers {
  const countriesObject = topology.objects.countries;
  const tints = tintCountries(countriesObject.geometries);
  const countries = feature(topology, countriesObject);
  return {
    countries: {
      type: "FeatureCollection",
      features: countries.features.flatMap((country, index) => {
        if (country.geometry.type !== "Polygon" && country.geometry.type !== "MultiPolygon") return [];
        const geometry = cutPolygons(country.geometry);
        if (geometry === undefined) return [];
        const properties: CountryProperties = {
          id: country.id === undefined ? "" : String(country.id),
          name: country.properties?.name ?? "",
          tint: tints[index] ?? 0,
        };
        return [{ type: "Feature" as const, geometry, properties }];
      }),
    },
    boundaries: lineLayer(mesh(topology, countriesObject, (a, b) => a !== b)),
    coastline: lineLayer(mesh(topology, countriesObject, (a, b) => a === b)),
  };
}

function lineLayer(geometry: MultiLineString): FeatureCollection<MultiLineString> {
  return {
    type: "FeatureCollection",
    features: [{ type: "Feature", geometry: cutMultiLineString(geometry), properties: {} }],
  };
}

/**
 * Greedy graph colouring, most-connected countries first (Welsh–Powell): on the world's
 * border graph this lands on at most five tints, so a small palette never puts the same
 * colour on both sides of a border.
 */
function tintCountries(geometries: readonly GeometryObject[]): number[] {
  const adjacency = neighbors([...geometries]);
  const order = geometries.map((_, index) => index);
  order.sort((a, b) => (adjacency[b]?.length ?? 0) - (adjacency[a]?.length ?? 0) || a - b);
  const tints = new Array<number>(geometries.length).fill(-1);
  for (const index of order) {
    const taken = new Set((adjacency[index] ?? []).map((neighbour) => tints[neighbour]));
    let tint = 0;
    while (taken.has(tint)) tint++;
    tints[index] = tint;
  }
  return tints;
}
