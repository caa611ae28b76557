// Editing regions after they are drawn, as plain geometry (image pixels, no page): which handle or
// vertex is under the pointer, resizing and moving boxes, dragging, adding and deleting polygon
// vertices, moving any vector region. Nothing ever leaves the image: the server refuses such a region.
import type { Point } from "../canvas";
import type { BoxGeometry, Geometry, Kind, PointGeometry, PolygonGeometry, ScribbleGeometry } from "../types";

export interface Size {
  width: number;
  height: number;
}

export type Pair = [number, number];

/** A box's resize handles: its corners and the middles of its sides, by compass direction. */
export type Handle = "nw" | "n" | "ne" | "e" | "se" | "s" | "sw" | "w";

export const HANDLES: readonly Handle[] = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];

/** A polygon keeps at least this many vertices (the server refuses fewer). */
export const MIN_POLYGON_VERTICES = 3;

/** Edited boxes are snapped to 1/16 px, so their sides add up exactly (x + width never passes the
 * image's edge by a rounding error). */
const GRID = 16;

const snap = (value: number) => Math.round(value * GRID) / GRID;

/** Where `handle` sits on `box`. */
export function handlePoint(box: BoxGeometry, handle: Handle): Point {
  const x = handle.includes("w") ? box.x : handle.includes("e") ? box.x + box.width : box.x + box.width / 2;
  const y = handle.includes("n") ? box.y : handle.includes("s") ? box.y + box.height : box.y + box.height / 2;
  return { x, y };
}

/** Where the selected region's handles are drawn: a box's corners and sides, a polygon's vertices
 * (in order, so a handle's index is its vertex's); other kinds have none. */
export function handlePoints(kind: Kind, geometry: Geometry): Point[] {
  if (kind === "box") return HANDLES.map((handle) => handlePoint(geometry as BoxGeometry, handle));
  if (kind === "polygon") return (geometry as PolygonGeometry).points.map(([x, y]) => ({ x, y }));
  return [];
}

/** The handle of `box` within `reach` of `point`: a corner first, else a side anywhere along it. */
export function handleAt(box: BoxGeometry, point: Point, reach: number): Handle | null {
  const right = box.x + box.width;
  const bottom = box.y + box.height;
  const near = (a: number, b: number) => Math.abs(a - b) <= reach;
  const withinX = point.x >= box.x - reach && point.x <= right + reach;
  const withinY = point.y >= box.y - reach && point.y <= bottom + reach;
  if (!withinX || !withinY) return null;
  const vertical = near(point.y, box.y) ? "n" : near(point.y, bottom) ? "s" : "";
  const horizontal = near(point.x, box.x) ? "w" : near(point.x, right) ? "e" : "";
  return ((vertical + horizontal) as Handle) || null;
}

/** The CSS cursor that says which way a handle resizes. */
export function handleCursor(handle: Handle): string {
  if (handle === "n" || handle === "s") return "ns-resize";
  if (handle === "e" || handle === "w") return "ew-resize";
  return handle === "nw" || handle === "se" ? "nwse-resize" : "nesw-resize";
}

/** `box` with the sides `handle` names moved to `to`; the other sides stay. A side stops `minSide`
 * short of its opposite one (no flipping over) and at the image's edge. */
export function resizeBox(box: BoxGeometry, handle: Handle, to: Point, image: Size, minSide: number): BoxGeometry {
  let left = box.x;
  let top = box.y;
  let right = box.x + box.width;
  let bottom = box.y + box.height;
  // Where the minimum and the image's edge disagree (a box thinner than the minimum at the edge),
  // the edge wins.
  if (handle.includes("w")) left = Math.max(0, Math.min(to.x, right - minSide));
  if (handle.includes("e")) right = Math.min(image.width, Math.max(to.x, left + minSide));
  if (handle.includes("n")) top = Math.max(0, Math.min(to.y, bottom - minSide));
  if (handle.includes("s")) bottom = Math.min(image.height, Math.max(to.y, top + minSide));
  return sides(snap(left), snap(top), snap(right), snap(bottom), image);
}

function sides(left: number, top: number, right: number, bottom: number, image: Size): BoxGeometry {
  const x = clamp(left, 0, image.width);
  const y = clamp(top, 0, image.height);
  return { x, y, width: clamp(right, 0, image.width) - x, height: clamp(bottom, 0, image.height) - y };
}

/** `box` moved by `delta`, stopped at the image's edges. */
export function moveBox(box: BoxGeometry, delta: Point, image: Size): BoxGeometry {
  const width = Math.min(snap(box.width), image.width);
  const height = Math.min(snap(box.height), image.height);
  const x = clamp(snap(box.x + delta.x), 0, image.width - width);
  const y = clamp(snap(box.y + delta.y), 0, image.height - height);
  return { x, y, width, height };
}

/** `box` snapped and kept inside the image exactly (as every edit leaves it). */
export function fitBox(box: BoxGeometry, image: Size): BoxGeometry {
  return moveBox(box, { x: 0, y: 0 }, image);
}

/** `delta` cut down so that points spanning `from`…`to` stay inside the image. */
export function clampDelta(from: Point, to: Point, delta: Point, image: Size): Point {
  return {
    x: clamp(delta.x, Math.min(0, -from.x), Math.max(0, image.width - to.x)),
    y: clamp(delta.y, Math.min(0, -from.y), Math.max(0, image.height - to.y)),
  };
}

/** Points moved together by `delta`, the whole shape stopped at the image's edges. */
export function movePoints(points: readonly Pair[], delta: Point, image: Size): Pair[] {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const from = { x: Math.min(...xs), y: Math.min(...ys) };
  const to = { x: Math.max(...xs), y: Math.max(...ys) };
  const d = clampDelta(from, to, delta, image);
  // Clamped one by one as well: a sum may pass the edge by a rounding error.
  return points.map(([x, y]) => [clamp(x + d.x, 0, image.width), clamp(y + d.y, 0, image.height)]);
}

/** A vector region's geometry moved by `delta` inside the image; `null` for a mask (not moved). */
export function moveGeometry(kind: Kind, geometry: Geometry, delta: Point, image: Size): Geometry | null {
  switch (kind) {
    case "box":
      return moveBox(geometry as BoxGeometry, delta, image);
    case "point": {
      const g = geometry as PointGeometry;
      return { x: clamp(g.x + delta.x, 0, image.width), y: clamp(g.y + delta.y, 0, image.height) };
    }
    case "polygon":
      return { points: movePoints((geometry as PolygonGeometry).points, delta, image) };
    case "scribble": {
      const g = geometry as ScribbleGeometry;
      return { points: movePoints(g.points, delta, image), width: g.width };
    }
    default:
      return null;
  }
}

/** The vertex nearest to `point` within `reach`, if any. */
export function vertexAt(points: readonly Pair[], point: Point, reach: number): number | null {
  let best: number | null = null;
  let bestDistance = reach;
  points.forEach(([x, y], index) => {
    const distance = Math.hypot(x - point.x, y - point.y);
    if (distance <= bestDistance) {
      best = index;
      bestDistance = distance;
    }
  });
  return best;
}

/** The closed polygon's edge nearest to `point` within `reach`: `index` is the place a vertex put on
 * it takes (after the edge's first end), `at` the nearest point of the edge. */
export function edgeAt(points: readonly Pair[], point: Point, reach: number): { index: number; at: Point } | null {
  let best: { index: number; at: Point } | null = null;
  let bestDistance = reach;
  points.forEach(([ax, ay], i) => {
    const [bx, by] = points[(i + 1) % points.length];
    const length = (bx - ax) ** 2 + (by - ay) ** 2;
    const t = length ? clamp(((point.x - ax) * (bx - ax) + (point.y - ay) * (by - ay)) / length, 0, 1) : 0;
    const at = { x: ax + t * (bx - ax), y: ay + t * (by - ay) };
    const distance = Math.hypot(at.x - point.x, at.y - point.y);
    if (distance <= bestDistance) {
      best = { index: i + 1, at };
      bestDistance = distance;
    }
  });
  return best;
}

/** `points` with a new vertex `at`, at position `index`. */
export function insertVertex(points: readonly Pair[], index: number, at: Point): Pair[] {
  return [...points.slice(0, index), [at.x, at.y], ...points.slice(index)];
}

/** `points` without vertex `index`; `null` when the polygon would keep fewer than three. */
export function deleteVertex(points: readonly Pair[], index: number): Pair[] | null {
  if (points.length <= MIN_POLYGON_VERTICES || index < 0 || index >= points.length) return null;
  return points.filter((_, i) => i !== index);
}

/** `points` with vertex `index` at `to`, kept inside the image. */
export function moveVertex(points: readonly Pair[], index: number, to: Point, image: Size): Pair[] {
  return points.map((p, i) => (i === index ? [clamp(to.x, 0, image.width), clamp(to.y, 0, image.height)] : p));
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
