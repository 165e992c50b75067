import type { ExpressionSpecification, StyleSpecification } from "maplibre-gl";

/** The style's only source: the world archive's vector tiles. */
export const WORLD_SOURCE_ID = "world";

const OCEAN = "#cddfeb";
const COASTLINE = "#8fb1c9";
const BORDER = "#a39a8c";
/** Muted land tints, one per value of the tiles' `tint` (a map colouring keeping neighbours apart). */
const [TINT_0, TINT_1, TINT_2, TINT_3, TINT_4] = ["#f2efe6", "#e9eddf", "#efe7dc", "#e6e9ee", "#ede3e3"];

/** tint → colour, wrapping around should a tint ever exceed the palette. */
const landColour: ExpressionSpecification = [
  "match",
  ["%", ["coalesce", ["get", "tint"], 0], 5],
  0,
  TINT_0,
  1,
  TINT_1,
  2,
  TINT_2,
  3,
  TINT_3,
  TINT_4,
];

/**
 * The world map: ocean, tinted countries, dashed land borders and coastlines. No text or
 * icons, hence no glyphs or sprite: nothing is fetched besides the tiles.
 * `sourceUrl` is the archive's TileJSON URL, e.g. `pmtiles://b3:…`.
 */
export function worldMapStyle(sourceUrl: string): StyleSpecification {
  return {
    version: 8,
    name: "Vest world",
    sources: {
      [WORLD_SOURCE_ID]: { type: "vector", url: sourceUrl, attribution: "Natural Earth" },
    },
    layers: [
      { id: "ocean", type: "background", paint: { "background-color": OCEAN } },
      {
        id: "countries",
        type: "fill",
        source: WORLD_SOURCE_ID,
        "source-layer": "countries",
        paint: { "fill-color": landColour, "fill-antialias": true },
      },
      {
        id: "coastline",
        type: "line",
        source: WORLD_SOURCE_ID,
        "source-layer": "coastline",
        layout: { "line-join": "round", "line-cap": "round" },
        paint: {
          "line-color": COASTLINE,
          "line-width": ["interpolate", ["linear"], ["zoom"], 0, 0.5, 6, 1.4, 10, 2],
        },
      },
      {
        id: "boundaries",
        type: "line",
        source: WORLD_SOURCE_ID,
        "source-layer": "boundaries",
        layout: { "line-join": "round" },
        paint: {
          "line-color": BORDER,
          "line-width": ["interpolate", ["linear"], ["zoom"], 0, 0.5, 6, 1.2, 10, 1.8],
          "line-dasharray": [3, 2],
        },
      },
    ],
  };
}
