// A reviewer's corrections: boxes drawn on the image where the model missed or mislocated a defect,
// sent with the decision. The panes zoom with the wheel and pan by dragging; with the box tool on, a
// drag on the main pane draws a box instead.
import Konva from "konva";

import { type Point, Viewport } from "../canvas";
import { el } from "../dom";
import type { BoxGeometry } from "../types";
import type { ItemRegion } from "./types";

const HUMAN_COLOR = "#ffd400";
const DRAWN_COLOR = "#00e0ff";
/** The smallest box kept, in image pixels each way. */
const MIN_SIDE = 2;

export class Corrections {
  boxes: BoxGeometry[] = [];
  /** Whether a drag draws a box (the box tool). */
  drawing = false;
  /** How many boxes are drawn, in words. */
  readonly text = el("span", { className: "muted small" });
  private draft: { start: Point; shape: Konva.Rect } | null = null;

  /** Zoom, pan and (on the main pane) box drawing on `viewport`; `onBox` after a drag ends. */
  bind(viewport: Viewport, main: () => boolean, onBox: () => void): void {
    const stage = viewport.stage;
    stage.on("wheel", (event) => {
      event.evt.preventDefault();
      viewport.zoom(event.evt.deltaY < 0 ? 1.2 : 1 / 1.2, viewport.screenOf(event.evt));
    });
    let panFrom: Point | null = null;
    stage.on("mousedown", (event) => {
      const screen = viewport.screenOf(event.evt);
      if (this.drawing && main() && event.evt.button === 0) {
        const start = viewport.clamp(viewport.toImage(screen));
        const shape = new Konva.Rect({ x: start.x, y: start.y, width: 0, height: 0, stroke: DRAWN_COLOR, strokeWidth: 2, strokeScaleEnabled: false, dash: [6, 4] });
        viewport.draftLayer.add(shape);
        this.draft = { start, shape };
      } else {
        panFrom = screen;
      }
    });
    stage.on("mousemove", (event) => {
      const screen = viewport.screenOf(event.evt);
      if (this.draft && main()) {
        const at = viewport.clamp(viewport.toImage(screen));
        const { start, shape } = this.draft;
        shape.setAttrs({ x: Math.min(start.x, at.x), y: Math.min(start.y, at.y), width: Math.abs(at.x - start.x), height: Math.abs(at.y - start.y) });
        viewport.draftLayer.batchDraw();
      } else if (panFrom) {
        viewport.panBy(screen.x - panFrom.x, screen.y - panFrom.y);
        panFrom = screen;
      }
    });
    stage.on("mouseup mouseleave", () => {
      panFrom = null;
      if (!this.draft) return;
      const { shape } = this.draft;
      this.draft = null;
      shape.destroy();
      if (shape.width() >= MIN_SIDE && shape.height() >= MIN_SIDE) {
        const round = (value: number) => Math.round(value * 100) / 100;
        this.boxes.push({ x: round(shape.x()), y: round(shape.y()), width: round(shape.width()), height: round(shape.height()) });
      }
      onBox();
    });
  }

  /** The image's own boxes and the drawn ones, on `viewport`. */
  draw(viewport: Viewport | null, human: readonly ItemRegion[]): void {
    if (!viewport) return;
    viewport.shapeLayer.destroyChildren();
    for (const region of human) {
      if (region.kind === "box") {
        const g = region.geometry as BoxGeometry;
        viewport.shapeLayer.add(new Konva.Rect({ ...g, stroke: HUMAN_COLOR, strokeWidth: 2, strokeScaleEnabled: false, listening: false }));
      }
    }
    for (const box of this.boxes) {
      viewport.shapeLayer.add(new Konva.Rect({ ...box, stroke: DRAWN_COLOR, strokeWidth: 2, strokeScaleEnabled: false, dash: [6, 4], listening: false }));
    }
    viewport.shapeLayer.batchDraw();
    this.text.textContent = this.boxes.length ? `${this.boxes.length} box${this.boxes.length === 1 ? "" : "es"} drawn` : "";
  }
}
