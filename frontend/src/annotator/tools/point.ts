// Point: a click marks a spot.
import type { Point } from "../../canvas";
import type { Tool, ToolContext } from "./tool";

export class PointTool implements Tool {
  readonly drawing = false;

  constructor(private readonly context: ToolContext) {}

  down(point: Point): boolean {
    if (this.context.viewport.inside(point)) this.context.addRegion("point", { x: point.x, y: point.y });
    return false;
  }

  move(): void {}

  up(): void {}

  cancel(): void {}
}
