// Scribble: drag a rough stroke as wide as the brush (a weak label: "the defect is about here").
import Konva from "konva";

import type { Point } from "../../canvas";
import type { Tool, ToolContext } from "./tool";

/** The stroke takes a new point once the pointer moved this far, in screen pixels. */
const STEP = 2;

export class ScribbleTool implements Tool {
  private draft: { points: Point[]; width: number; shape: Konva.Line } | null = null;

  constructor(private readonly context: ToolContext) {}

  get drawing(): boolean {
    return this.draft !== null;
  }

  cursorColor(): string {
    return this.context.colorOf(this.context.store.defectType);
  }

  down(point: Point): boolean {
    const { viewport } = this.context;
    if (!viewport.inside(point)) return false;
    const width = Math.max(1, this.context.brushSize / viewport.scale);
    const shape = new Konva.Line({
      points: [point.x, point.y, point.x, point.y],
      stroke: this.cursorColor(),
      strokeWidth: width,
      lineCap: "round",
      lineJoin: "round",
      opacity: 0.65,
    });
    viewport.draftLayer.add(shape);
    this.draft = { points: [point], width, shape };
    return true;
  }

  move(point: Point): void {
    const draft = this.draft;
    if (!draft) return;
    const { viewport } = this.context;
    const p = viewport.clamp(point);
    const last = draft.points[draft.points.length - 1];
    if (Math.hypot(p.x - last.x, p.y - last.y) * viewport.scale < STEP) return;
    draft.points.push(p);
    draft.shape.points(draft.points.flatMap((q) => [q.x, q.y]));
    viewport.draftLayer.batchDraw();
  }

  up(): void {
    const draft = this.draft;
    if (!draft) return;
    this.cancel();
    const points = draft.points.map((p) => [p.x, p.y] as [number, number]);
    // A click is a dot: a stroke needs two points.
    if (points.length === 1) points.push([Math.min(this.context.viewport.width, points[0][0] + 0.5), points[0][1]]);
    this.context.addRegion("scribble", { points, width: draft.width });
  }

  cancel(): void {
    this.draft?.shape.destroy();
    this.draft = null;
    this.context.viewport.draftLayer.batchDraw();
  }
}
