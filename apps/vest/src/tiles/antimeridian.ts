import type { MultiLineString, MultiPolygon, Polygon, Position } from "geojson";
import { nestRings, rewindPolygon } from "./planar-rings.js";

/*
 * world-atlas geometry is spherical (made for d3-geo): an edge between 179.9° and −179.9° is a
 * short hop across the antimeridian, and a ring may go round a pole. Drawn on the plane, such
 * an edge runs across the whole map. These functions cut the geometry at ±180° so every edge
 * is short on the plane too.
 *
 * Polygons follow d3's winding (interior on the right of travel: exteriors clockwise with y
 * up). Cut rings are rejoined along the map's edge keeping the interior on the right, i.e.
 * walking the edge clockwise; that closes a ring round a pole through the map's corners and
 * intersects the rings of one polygon correctly (Antarctica at 1:50m is a coast ring plus a
 * ring round the pole at −89.999°).
 */

/** Web Mercator's latitude limit: lines entirely beyond it would only trace the map's edge. */
const MERCATOR_MAX_LATITUDE = 85.0511287798066;
/** Perimeter of the lon/lat rectangle in degrees, walked clockwise from its north-west corner. */
const PERIMETER = 1080;
/**
 * Vertices of the map's edge by position along it: the corners, plus a vertex mid-way along
 * each pole so that no edge spans over 180° (which would read as a crossing again).
 */
const EDGE_VERTICES: readonly (readonly [number, Position])[] = [
  [180, [0, 90]],
  [360, [180, 90]],
  [540, [180, -90]],
  [720, [0, -90]],
  [900, [-180, -90]],
  [1080, [-180, 90]],
];

/** Part of a cut ring: from one crossing of ±180° to the next, both ends on the map's edge. */
interface Segment {
  points: Position[];
  start: number;
  end: number;
}

export function cutMultiLineString(geometry: MultiLineString): MultiLineString {
  return { type: "MultiLineString", coordinates: geometry.coordinates.flatMap(cutLine) };
}

/** The polygons cut at ±180°, with RFC 7946 winding; undefined when nothing is left. */
export function cutPolygons(geometry: Polygon | MultiPolygon): Polygon | MultiPolygon | undefined {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  const cut = polygons.flatMap(cutPolygon);
  if (cut.length === 0) return undefined;
  return cut.length === 1
    ? { type: "Polygon", coordinates: cut[0] as Position[][] }
    : { type: "MultiPolygon", coordinates: cut };
}

/** A line as parts that never cross ±180°, each crossing point on both sides. */
export function cutLine(line: readonly Position[]): Position[][] {
  const points = toNeighbourSide(line, false);
  const parts: Position[][] = [];
  let part: Position[] = [];
  const flush = () => {
    // Parts entirely beyond Mercator's limit (the 1:50m ring round the South Pole) only trace the map's edge.
    if (part.length >= 2 && part.some(([, lat = 0]) => Math.abs(lat) <= MERCATOR_MAX_LATITUDE))
      parts.push(part);
    part = [];
  };
  let previous: Position | undefined;
  for (const point of points) {
    if (previous !== undefined) {
      if (crosses(previous, point)) {
        const [exit, entry] = crossing(previous, point);
        pushDistinct(part, exit);
        flush();
        part.push(entry);
      } else if (onAntimeridian(previous) && previous[0] === point[0]) {
        // An edge along ±180° is where Natural Earth cut a shape, not a coast or a border.
        flush();
      }
    }
    pushDistinct(part, point);
    previous = point;
  }
  flush();
  return parts;
}

/** One polygon (exterior first) as planar polygons that never cross ±180°, RFC 7946 winding. */
export function cutPolygon(rings: readonly Position[][]): Position[][][] {
  const whole: Position[][] = [];
  const segments: Segment[] = [];
  let crossed = false;
  for (const ring of rings) {
    const split = splitRing(ring);
    if (split === undefined) continue;
    if ("ring" in split) whole.push(split.ring);
    else {
      crossed = true;
      segments.push(...split.segments);
    }
  }
  if (!crossed) return whole.length === 0 ? [] : [rewindPolygon(whole)];
  // Ring order no longer says exterior or hole once rings are cut and rejoined: winding does.
  return nestRings([...whole, ...rejoin(segments)]);
}

/** The ring whole when it does not cross ±180°, else its segments; undefined for a degenerate ring. */
function splitRing(ring: readonly Position[]): { ring: Position[] } | { segments: Segment[] } | undefined {
  const vertices = toNeighbourSide(ring.slice(0, -1), true);
  const count = vertices.length;
  if (count < 3 || vertices.every(onAntimeridian)) return undefined;
  const at = (index: number) => vertices[index % count] as Position;
  let first = -1;
  for (let index = 0; index < count && first < 0; index++) {
    if (crosses(at(index), at(index + 1))) first = index;
  }
  if (first < 0) return { ring: [...vertices, at(0)] };

  const segments: Segment[] = [];
  let points: Position[] = [crossing(at(first), at(first + 1))[1]];
  for (let step = 1; step <= count; step++) {
    const vertex = at(first + step);
    pushDistinct(points, vertex);
    const next = at(first + step + 1);
    if (!crosses(vertex, next)) continue;
    const [exit, entry] = crossing(vertex, next);
    pushDistinct(points, exit);
    segments.push({ points, start: edgePosition(points[0] as Position), end: edgePosition(exit) });
    points = [entry];
  }
  return { segments };
}

/**
 * Closes cut segments into rings along the map's edge: from a segment's end, clockwise to the
 * nearest segment start, through any corner passed.
 */
function rejoin(segments: readonly Segment[]): Position[][] {
  const open = new Set(segments);
  const rings: Position[][] = [];
  for (const first of segments) {
    if (!open.delete(first)) continue;
    const ring: Position[] = [];
    let current = first;
    for (;;) {
      for (const point of current.points) pushDistinct(ring, point);
      let next = first;
      let distance = clockwise(current.end, first.start);
      for (const candidate of open) {
        const toCandidate = clockwise(current.end, candidate.start);
        if (toCandidate < distance) [next, distance] = [candidate, toCandidate];
      }
      for (const vertex of edgeVerticesWithin(current.end, distance)) pushDistinct(ring, vertex);
      if (next === first) break;
      open.delete(next);
      current = next;
    }
    pushDistinct(ring, ring[0] as Position);
    if (ring.length >= 4) rings.push(ring);
  }
  return rings;
}

/** Where a point on x = ±180° lies along the map's edge, clockwise from the north-west corner. */
function edgePosition([lon = 0, lat = 0]: Position): number {
  return lon > 0 ? 360 + (90 - lat) : 900 + (90 + lat);
}

function clockwise(from: number, to: number): number {
  return (((to - from) % PERIMETER) + PERIMETER) % PERIMETER;
}

function edgeVerticesWithin(from: number, distance: number): Position[] {
  return EDGE_VERTICES.map(([position, vertex]) => [clockwise(from, position), vertex] as const)
    .filter(([offset]) => offset > 0 && offset < distance)
    .sort((a, b) => a[0] - b[0])
    .map(([, vertex]) => vertex);
}

/** A longitude step over half a turn is the short way across ±180°, as d3 reads it. */
function crosses([lon0 = 0]: Position, [lon1 = 0]: Position): boolean {
  return Math.abs(lon1 - lon0) > 180;
}

/** Where the edge from a to b meets ±180°: the point on a's side, then the same on b's. */
function crossing([lon0 = 0, lat0 = 0]: Position, [lon1 = 0, lat1 = 0]: Position): [Position, Position] {
  const edge = lon0 > 0 ? 180 : -180;
  const unwrapped = lon1 + 2 * edge;
  const span = unwrapped - lon0;
  const t = span === 0 ? 0 : (edge - lon0) / span;
  const lat = lat0 + t * (lat1 - lat0);
  return [
    [edge, lat],
    [-edge, lat],
  ];
}

function onAntimeridian([lon = 0]: Position): boolean {
  return Math.abs(lon) === 180;
}

/**
 * −180° and 180° are one meridian to d3, so a vertex on it may carry either sign. Giving it
 * the sign of the vertex before it (or after it, at a line's start) keeps a shape that only
 * touches ±180° from seeming to cross it.
 */
function toNeighbourSide(points: readonly Position[], cyclic: boolean): Position[] {
  const sides = points.map(([lon = 0]) => (Math.abs(lon) === 180 ? 0 : Math.sign(lon)));
  let side = 0;
  if (cyclic) side = sides.findLast((value) => value !== 0) ?? 0;
  else side = sides.find((value) => value !== 0) ?? 0;
  return points.map((point, index) => {
    const own = sides[index] ?? 0;
    if (own !== 0) {
      side = own;
      return point;
    }
    return side === 0 || (point[0] ?? 0) * side > 0 ? point : [-(point[0] ?? 0), ...point.slice(1)];
  });
}

function pushDistinct(points: Position[], point: Position): void {
  const last = points.at(-1);
  if (last === undefined || last[0] !== point[0] || last[1] !== point[1]) points.push(point);
}
