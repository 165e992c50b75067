import type { Position } from "geojson";

/** Shoelace area in lon/lat with y up: positive for counter-clockwise rings. */
export function signedArea(ring: readonly Position[]): number {
  let sum = 0;
  for (let i = 1; i < ring.length; i++) {
    const [x0 = 0, y0 = 0] = ring[i - 1] as Position;
    const [x1 = 0, y1 = 0] = ring[i] as Position;
    sum += x0 * y1 - x1 * y0;
  }
  return sum / 2;
}

/** Even-odd ray cast; a point on the boundary may land either way. */
export function ringContains(ring: readonly Position[], [x = 0, y = 0]: Position): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi = 0, yi = 0] = ring[i] as Position;
    const [xj = 0, yj = 0] = ring[j] as Position;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * The polygon with RFC 7946 winding (exterior counter-clockwise, holes clockwise), roles
 * taken from ring order. geojson-vt also canonicalises by ring order, so this mainly keeps
 * the layers valid GeoJSON.
 */
export function rewindPolygon(rings: readonly Position[][]): Position[][] {
  return rings.map((ring, index) => {
    const counterClockwise = signedArea(ring) > 0;
    return counterClockwise === (index === 0) ? ring : [...ring].reverse();
  });
}

/**
 * Groups loose closed rings into polygons by their winding in the d3 convention (interior on
 * the right: exteriors clockwise, holes counter-clockwise). Each hole joins the smallest
 * exterior containing it; a hole inside none has nothing to cut out of and is dropped.
 * Output winding is RFC 7946.
 */
export function nestRings(rings: readonly Position[][]): Position[][][] {
  const exteriors: { ring: Position[]; area: number; holes: Position[][] }[] = [];
  const holes: Position[][] = [];
  for (const ring of rings) {
    const area = signedArea(ring);
    if (area < 0) exteriors.push({ ring, area: -area, holes: [] });
    else if (area > 0) holes.push(ring);
  }
  exteriors.sort((a, b) => a.area - b.area);
  for (const hole of holes) {
    const probe = interiorProbe(hole);
    exteriors.find((exterior) => ringContains(exterior.ring, probe))?.holes.push(hole);
  }
  return exteriors.map((exterior) => rewindPolygon([exterior.ring, ...exterior.holes]));
}

/** A vertex off the antimeridian when there is one: vertices on it may be shared with the exterior. */
function interiorProbe(ring: readonly Position[]): Position {
  return ring.find((position) => Math.abs(position[0] ?? 0) !== 180) ?? (ring[0] as Position);
}
