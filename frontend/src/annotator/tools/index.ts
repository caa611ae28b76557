// One tool per id (the ids, keys and help texts are in ../keys.ts).
import type { ToolId } from "../keys";
import { BoxTool } from "./box";
import { PaintTool } from "./paint";
import { PointTool } from "./point";
import { PolygonTool } from "./polygon";
import { ScribbleTool } from "./scribble";
import { SelectTool } from "./select";
import type { Tool, ToolContext } from "./tool";

export type { Modifiers, Tool, ToolContext } from "./tool";

/** Every tool by id; the select tool also tells which vertex is selected (drawn with the handles). */
export type Tools = Record<ToolId, Tool> & { select: SelectTool };

export function makeTools(context: ToolContext): Tools {
  return {
    select: new SelectTool(context),
    box: new BoxTool(context),
    polygon: new PolygonTool(context),
    brush: new PaintTool(context, false),
    eraser: new PaintTool(context, true),
    scribble: new ScribbleTool(context),
    point: new PointTool(context),
  };
}
