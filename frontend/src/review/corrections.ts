// A reviewer's corrections: boxes drawn on the image where the model missed or mislocated a defect,
// sent with the decision, each with the defect type picked when it was drawn. The panes zoom with the
// wheel and pan by dragging; with the box tool on, a drag on the main pane draws a box instead.
import Konva from "konva";

import { fitBox } from "../annotator/edit";
import { type Point, Viewport } from "../canvas";
import { el } from "../dom";
import type { BoxGeometry } from "../types";
import type { ItemRegion } from "./types";

const HUMAN_COLOR = "#ffd400";

/** A box the reviewer drew, with its defect type (`null`: none). */
export interface DrawnBox {
  geometry: BoxGeometry;
  defectType: number | null;
}
/** The smallest box kept, in image pixels each way. */
const MIN_SIDE = 2;

export class Corrections {
  boxes: DrawnBox[] = [];
  /** Whether a drag draws a box (the box tool). */
  drawing = false;
  /** How many boxes are drawn, in words. */
  readonly text = el("span", { className: "muted small" });
  private draft: { start: Point; shape: Konva.Rect } | null = null;

  constructor(
    /** The defect type of the next box. */
    private readonly defectType: () => number | null,
    private readonly colorOf: (defectType: number | null) => string,
  ) {}

  /** The boxes as regions to save: rough, as drawn in a hurry. */
  regions(): { kind: "box"; geometry: BoxGeometry; precision: "rough"; defect_type: number | null }[] {
    return this.boxes.map(({ geometry, defectType }) => ({ kind: "box", geometry, precision: "rough", defect_type: defectType }));
  }

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
        const shape = new Konva.Rect({ x: start.x, y: start.y, width: 0, height: 0, stroke: this.colorOf(this.defectType()), strokeWidth: 2, strokeScaleEnabled: false, dash: [6, 4] });
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
        const geometry = fitBox({ x: shape.x(), y: shape.y(), width: shape.width(), height: shape.height() }, viewport);
        this.boxes.push({ geometry, defectType: this.defectType() });
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
    for (const { geometry, defectType } of this.boxes) {
      viewport.shapeLayer.add(new Konva.Rect({ ...geometry, stroke: this.colorOf(defectType), strokeWidth: 2, strokeScaleEnabled: false, dash: [6, 4], listening: false }));
    }
    viewport.shapeLayer.batchDraw();
    this.text.textContent = this.boxes.length ? `${this.boxes.length} box${this.boxes.length === 1 ? "" : "es"} drawn` : "";
  }
}
