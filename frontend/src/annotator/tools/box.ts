// Box: drag a rectangle; a click without a drag is not a box.
import Konva from "konva";

import type { Point } from "../../canvas";
import { draftStyle, type Tool, type ToolContext } from "./tool";

/** The smallest box, in screen pixels each way. */
const MIN_SIDE = 3;

export class BoxTool implements Tool {
  private draft: { start: Point; shape: Konva.Rect } | null = null;

  constructor(private readonly context: ToolContext) {}

  get drawing(): boolean {
    return this.draft !== null;
  }

  down(point: Point): boolean {
    const { viewport, store } = this.context;
    if (!viewport.inside(point)) return false;
    const shape = new Konva.Rect({ ...point, width: 0, height: 0, ...draftStyle(this.context.colorOf(store.defectType)) });
    viewport.draftLayer.add(shape);
    this.draft = { start: point, shape };
    return true;
  }

  move(point: Point): void {
    if (!this.draft) return;
    const end = this.context.viewport.clamp(point);
    this.draft.shape.setAttrs(span(this.draft.start, end));
    this.context.viewport.draftLayer.batchDraw();
  }

  up(point: Point): void {
    const draft = this.draft;
    if (!draft) return;
    this.cancel();
    const box = span(draft.start, point);
    const scale = this.context.viewport.scale;
    if (box.width * scale >= MIN_SIDE && box.height * scale >= MIN_SIDE) this.context.addRegion("box", box);
  }

  cancel(): void {
    this.draft?.shape.destroy();
    this.draft = null;
    this.context.viewport.draftLayer.batchDraw();
  }
}

function span(a: Point, b: Point): { x: number; y: number; width: number; height: number } {
  return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), width: Math.abs(b.x - a.x), height: Math.abs(b.y - a.y) };
}
