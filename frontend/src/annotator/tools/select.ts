// Select: a click picks the region drawn under it, a vector shape first, else the topmost mask there.
import type { Point } from "../../canvas";
import type { Tool, ToolContext } from "./tool";

export class SelectTool implements Tool {
  readonly drawing = false;

  constructor(private readonly context: ToolContext) {}

  down(point: Point, screen: Point): boolean {
    this.context.select(this.context.viewport.regionAt(screen) ?? this.maskAt(point));
    return false;
  }

  move(): void {}

  up(): void {}

  cancel(): void {}

  private maskAt(point: Point): number | null {
    const masks = this.context.store.state.regions.filter((r) => r.kind === "mask");
    for (let i = masks.length - 1; i >= 0; i--) {
      if (this.context.viewport.maskAt(masks[i].key)?.contains(point)) return masks[i].key;
    }
    return null;
  }
}
