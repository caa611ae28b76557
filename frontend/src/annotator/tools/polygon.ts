// Polygon: click the corners; a click on the first corner, Enter or a double-click closes it.
import Konva from "konva";

import type { Point } from "../../canvas";
import { draftStyle, type Tool, type ToolContext } from "./tool";

/** How near a click must be to a corner to hit it, in screen pixels. */
const NEAR = 6;

export class PolygonTool implements Tool {
  private draft: { points: Point[]; shape: Konva.Line } | null = null;

  constructor(private readonly context: ToolContext) {}

  get drawing(): boolean {
    return this.draft !== null;
  }

  down(point: Point): boolean {
    const { viewport } = this.context;
    const p = viewport.clamp(point);
    if (this.draft) {
      const points = this.draft.points;
      const near = (q: Point) => Math.hypot(q.x - p.x, q.y - p.y) * viewport.scale < NEAR;
      if (points.length >= 3 && near(points[0])) {
        this.finish();
        return false;
      }
      if (near(points[points.length - 1])) return false; // the second click of a double-click
      points.push(p);
    } else {
      if (!viewport.inside(point)) return false;
      const shape = new Konva.Line({ points: [], ...draftStyle(this.context.colorOf(this.context.store.defectType)) });
      viewport.draftLayer.add(shape);
      this.draft = { points: [p], shape };
    }
    this.drawTo(p);
    return false; // a polygon is clicked, not dragged: no capture
  }

  move(point: Point): void {
    this.drawTo(this.context.viewport.clamp(point));
  }

  up(): void {}

  finish(): void {
    if (!this.draft) return;
    const points = this.draft.points.map((p) => [p.x, p.y] as [number, number]);
    this.cancel();
    if (points.length >= 3) this.context.addRegion("polygon", { points });
    else this.context.hint("A polygon needs at least 3 points");
  }

  takeBack(): void {
    if (!this.draft) return;
    const points = this.draft.points;
    points.pop();
    if (points.length === 0) this.cancel();
    else this.drawTo(points[points.length - 1]);
  }

  cancel(): void {
    this.draft?.shape.destroy();
    this.draft = null;
    this.context.viewport.draftLayer.batchDraw();
  }

  /** The corners so far and a last edge to the pointer. */
  private drawTo(pointer: Point): void {
    if (!this.draft) return;
    const points = [...this.draft.points, pointer];
    this.draft.shape.points(points.flatMap((p) => [p.x, p.y]));
    this.draft.shape.closed(points.length >= 3);
    this.context.viewport.draftLayer.batchDraw();
  }
}
