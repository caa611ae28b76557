// What a drawing tool is given and what it answers. A tool holds only what it is drawing; the labels
// live in the store, and the page adds what a tool finishes through the context.
import type Konva from "konva";

import type { Point, Viewport } from "../../canvas";
import type { Geometry, Kind } from "../../types";
import type { LabelStore, PaintedMask } from "../store";

export interface ToolContext {
  readonly viewport: Viewport;
  readonly store: LabelStore;
  /** The brush's diameter, in screen pixels. */
  readonly brushSize: number;
  colorOf(defectType: number | null): string;
  /** Add a finished region (selected; saved soon). */
  addRegion(kind: Kind, geometry: Geometry): void;
  /** Give a region its edited geometry (one undoable change; saved soon). */
  updateGeometry(key: number, geometry: Geometry): void;
  /** Write back what a brush or eraser stroke did to the masks. */
  paintMasks(masks: PaintedMask[]): void;
  select(key: number | null): void;
  /** A short word in the save status line (why nothing happened). */
  hint(text: string): void;
  /** Draw the page again from the store. */
  render(): void;
  /** Draw the regions again (a drag under way shows through the tool's preview). */
  redrawShapes(): void;
}

/** The keys held when the pointer went down or moved. */
export interface Modifiers {
  alt: boolean;
}

export interface Tool {
  /** The pointer went down at `point` (image pixels) and `screen` (stage pixels): true when the tool
   * follows the drag, so the stage captures the pointer. */
  down(point: Point, screen: Point, modifiers: Modifiers): boolean;
  /** The pointer moved (dragging or not), at an image point that may lie outside the image. */
  move(point: Point): void;
  /** The pointer went up, at a point inside the image. */
  up(point: Point): void;
  /** Drop what is half drawn. */
  cancel(): void;
  /** Whether something is half drawn. */
  readonly drawing: boolean;
  /** Finish what is half drawn (Enter, a double-click, another tool): tools that are clicked, not dragged. */
  finish?(): void;
  /** Delete while drawing: take back the last point. */
  takeBack?(): void;
  /** The colour of the brush-sized cursor; none without it. */
  cursorColor?(): string;
  /** Masks being painted that are not in the labels yet (shown while painting). */
  newMasks?(): number[];
  /** A region as a drag under way draws it, before the drag is an edit. */
  preview?(): { key: number; geometry: Geometry } | null;
  /** Delete pressed: true when the tool took it for a part of the selection (a vertex). */
  deletePart?(): boolean;
  /** A right-click at `point`. */
  contextClick?(point: Point): void;
  /** A double-click at `point` while nothing is half drawn. */
  doubleClick?(point: Point): void;
  /** What pressing here would do, as a CSS cursor ("" for the page's own). */
  cursorAt?(point: Point, screen: Point, modifiers: Modifiers): string;
}

/** The dashed outline of a box or polygon being drawn, in the defect type's colour. */
export function draftStyle(color: string): Konva.ShapeConfig {
  return { stroke: color, strokeWidth: 2, strokeScaleEnabled: false, dash: [5, 4], fill: "rgba(255, 255, 255, 0.08)" };
}
