// Select: a click picks the region drawn under it (a vector shape first, else the topmost mask there);
// a drag edits the selected region. Inside it, the drag moves it; on a box's corner or side it
// resizes the box; on a polygon's vertex it moves the vertex. Alt-click or a double-click on the
// selected polygon's edge adds a vertex there; Delete or a right-click removes a vertex. Each edit is
// one undoable change, made when the pointer goes up: while dragging only the drawing follows.
import type { Point } from "../../canvas";
import type { BoxGeometry, Geometry, PolygonGeometry, Region } from "../../types";
import {
  deleteVertex,
  edgeAt,
  type Handle,
  handleAt,
  handleCursor,
  insertVertex,
  MIN_POLYGON_VERTICES,
  moveGeometry,
  moveVertex,
  type Pair,
  resizeBox,
  vertexAt,
} from "../edit";
import type { Modifiers, Tool, ToolContext } from "./tool";

/** How near a handle or vertex the pointer must be, in screen pixels at any zoom. */
export const REACH = 6;
/** A press becomes a drag once the pointer moved this far, in screen pixels (a click never edits). */
const DRAG_START = 3;
/** The smallest box a resize leaves, in screen pixels (as the box tool), and never under 1 image px. */
const MIN_SIDE = 3;

type Grab = { region: Region; start: Point; dragging: boolean } & (
  | { mode: "move" }
  | { mode: "resize"; handle: Handle }
  | { mode: "vertex"; index: number; points: Pair[] }
);

export class SelectTool implements Tool {
  private grab: Grab | null = null;
  private draft: Geometry | null = null;
  /** The selected polygon vertex (Delete removes it), while its polygon is selected. */
  private vertex: { key: number; index: number } | null = null;

  constructor(private readonly context: ToolContext) {}

  get drawing(): boolean {
    return this.grab !== null;
  }

  down(point: Point, screen: Point, modifiers: Modifiers): boolean {
    const { store, viewport } = this.context;
    const selected = store.selectedRegion;
    const grab = store.editable && selected ? this.grabOn(selected, point, modifiers.alt) : null;
    if (grab) {
      this.grab = grab;
      this.context.redrawShapes();
      return true;
    }
    this.vertex = null;
    this.context.select(viewport.regionAt(screen) ?? this.maskAt(point));
    const region = store.selectedRegion;
    if (!store.editable || !region || region.kind === "mask") return false;
    this.grab = { region, start: point, dragging: false, mode: "move" };
    return true;
  }

  move(point: Point): void {
    const grab = this.grab;
    if (!grab) return;
    const { viewport } = this.context;
    if (!grab.dragging && Math.hypot(point.x - grab.start.x, point.y - grab.start.y) * viewport.scale < DRAG_START) return;
    grab.dragging = true;
    const delta = { x: point.x - grab.start.x, y: point.y - grab.start.y };
    if (grab.mode === "move") this.draft = moveGeometry(grab.region.kind, grab.region.geometry, delta, viewport);
    else if (grab.mode === "resize") {
      const minSide = Math.max(1, MIN_SIDE / viewport.scale);
      this.draft = resizeBox(grab.region.geometry as BoxGeometry, grab.handle, point, viewport, minSide);
    } else this.draft = { points: moveVertex(grab.points, grab.index, point, viewport) };
    this.context.redrawShapes();
  }

  up(): void {
    const grab = this.grab;
    const draft = this.draft;
    this.grab = null;
    this.draft = null;
    if (grab && draft && JSON.stringify(draft) !== JSON.stringify(grab.region.geometry)) {
      this.context.updateGeometry(grab.region.key, draft);
    } else {
      this.context.redrawShapes();
    }
  }

  cancel(): void {
    const grabbed = this.grab !== null;
    this.grab = null;
    this.draft = null;
    if (grabbed) this.context.redrawShapes();
  }

  /** The selected region as it is drawn now: with the geometry of a drag under way. */
  preview(): { key: number; geometry: Geometry } | null {
    return this.grab && this.draft ? { key: this.grab.region.key, geometry: this.draft } : null;
  }

  /** The selected vertex of the selected polygon, if any. */
  selectedVertex(): number | null {
    const region = this.context.store.selectedRegion;
    const vertex = this.vertex;
    if (!vertex || region?.key !== vertex.key || region.kind !== "polygon") return null;
    return vertex.index < (region.geometry as PolygonGeometry).points.length ? vertex.index : null;
  }

  /** Delete pressed: the selected vertex goes (true), unless none is selected (false). */
  deletePart(): boolean {
    const index = this.selectedVertex();
    if (index === null) return false;
    this.removeVertex(this.context.store.selectedRegion!, index);
    return true;
  }

  /** A right-click on a vertex of the selected polygon removes it. */
  contextClick(point: Point): void {
    const region = this.context.store.selectedRegion;
    if (!this.context.store.editable || region?.kind !== "polygon") return;
    const index = vertexAt((region.geometry as PolygonGeometry).points, point, this.reach());
    if (index !== null) this.removeVertex(region, index);
  }

  /** A double-click on the selected polygon's edge adds a vertex there. */
  doubleClick(point: Point): void {
    const region = this.context.store.selectedRegion;
    if (!this.context.store.editable || region?.kind !== "polygon") return;
    const points = (region.geometry as PolygonGeometry).points;
    if (vertexAt(points, point, this.reach()) !== null) return;
    const edge = edgeAt(points, point, this.reach());
    if (!edge) return;
    this.vertex = { key: region.key, index: edge.index };
    this.context.updateGeometry(region.key, { points: insertVertex(points, edge.index, edge.at) });
  }

  /** What a press at `point` would do, as a CSS cursor ("" for the page's own). */
  cursorAt(point: Point, screen: Point, modifiers: Modifiers): string {
    const { store, viewport } = this.context;
    const selected = store.selectedRegion;
    if (store.editable && selected) {
      const reach = this.reach();
      if (selected.kind === "box") {
        const handle = handleAt(selected.geometry as BoxGeometry, point, reach);
        if (handle) return handleCursor(handle);
      } else if (selected.kind === "polygon") {
        const points = (selected.geometry as PolygonGeometry).points;
        if (vertexAt(points, point, reach) !== null) return "crosshair";
        if (modifiers.alt && edgeAt(points, point, reach)) return "copy";
      }
    }
    const key = viewport.regionAt(screen);
    if (key !== null) return store.editable ? "move" : "pointer";
    return this.maskAt(point) !== null ? "pointer" : "";
  }

  private reach(): number {
    return REACH / this.context.viewport.scale;
  }

  /** A drag that starts on the selected region's handle, vertex or (with Alt) edge. */
  private grabOn(region: Region, point: Point, alt: boolean): Grab | null {
    const reach = this.reach();
    const start = { region, start: point, dragging: false };
    if (region.kind === "box") {
      const handle = handleAt(region.geometry as BoxGeometry, point, reach);
      return handle ? { ...start, mode: "resize", handle } : null;
    }
    if (region.kind !== "polygon") return null;
    const points = (region.geometry as PolygonGeometry).points;
    const index = vertexAt(points, point, reach);
    if (index !== null) {
      this.vertex = { key: region.key, index };
      return { ...start, mode: "vertex", index, points };
    }
    const edge = alt ? edgeAt(points, point, reach) : null;
    if (!edge) return null;
    // The new vertex is there at once, and follows the drag if there is one.
    const inserted = insertVertex(points, edge.index, edge.at);
    this.vertex = { key: region.key, index: edge.index };
    this.draft = { points: inserted };
    return { ...start, mode: "vertex", index: edge.index, points: inserted };
  }

  private removeVertex(region: Region, index: number): void {
    const points = deleteVertex((region.geometry as PolygonGeometry).points, index);
    if (!points) {
      this.context.hint(`A polygon keeps at least ${MIN_POLYGON_VERTICES} vertices; to remove it whole, click inside it, then Delete`);
      return;
    }
    this.vertex = null;
    this.context.updateGeometry(region.key, { points });
  }

  private maskAt(point: Point): number | null {
    const masks = this.context.store.state.regions.filter((r) => r.kind === "mask");
    for (let i = masks.length - 1; i >= 0; i--) {
      if (this.context.viewport.maskAt(masks[i].key)?.contains(point)) return masks[i].key;
    }
    return null;
  }
}
