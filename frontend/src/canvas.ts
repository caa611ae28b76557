// The Konva stage: the image drawn at its native size in image pixels, the stage scaled and moved for
// zoom and pan, regions drawn on top. Everything here is in image pixels unless it says "screen".
import Konva from "konva";

import { hexToRgb, rgba } from "./colors";
import { maskBounds, paintMask } from "./rle";
import type {
  BoxGeometry,
  MaskGeometry,
  PointGeometry,
  PolygonGeometry,
  Region,
  ScribbleGeometry,
} from "./types";

export interface Point {
  x: number;
  y: number;
}

const MAX_SCALE = 64;
/** A handle's side, in screen pixels at any zoom. */
const HANDLE_SIZE = 8;
const MASK_OPACITY = 0.45;

/** One mask region's pixels, at image resolution, in its colour; what the brush paints into. */
export class MaskCanvas {
  readonly canvas: HTMLCanvasElement;
  readonly context: CanvasRenderingContext2D;

  constructor(
    width: number,
    height: number,
    public geometry: MaskGeometry | null,
    public color: string,
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.width = width;
    this.canvas.height = height;
    this.context = this.canvas.getContext("2d", { willReadFrequently: true })!;
    this.redraw();
  }

  /** Draw `geometry` again (after a stroke, so the screen shows exactly what is saved). */
  redraw(): void {
    const { width, height } = this.canvas;
    if (!this.geometry) {
      this.context.clearRect(0, 0, width, height);
      return;
    }
    const image = this.context.createImageData(width, height);
    paintMask(this.geometry, image.data, hexToRgb(this.color));
    this.context.putImageData(image, 0, 0);
  }

  pixels(): Uint8ClampedArray {
    return this.context.getImageData(0, 0, this.canvas.width, this.canvas.height).data;
  }

  contains(point: Point): boolean {
    const x = Math.floor(point.x);
    const y = Math.floor(point.y);
    if (x < 0 || y < 0 || x >= this.canvas.width || y >= this.canvas.height) return false;
    return this.context.getImageData(x, y, 1, 1).data[3] >= 128;
  }
}

export class Viewport {
  readonly stage: Konva.Stage;
  private readonly imageLayer = new Konva.Layer({ listening: false });
  private readonly overlayLayer = new Konva.Layer({ listening: false });
  private readonly maskLayer = new Konva.Layer({ listening: false, imageSmoothingEnabled: false });
  readonly shapeLayer = new Konva.Layer();
  readonly draftLayer = new Konva.Layer({ listening: false });
  private readonly picture = new Konva.Image({ image: undefined, x: 0, y: 0 });
  private readonly masks = new Map<number, MaskCanvas>();
  private fitted = 1;
  /** The shapes changed since their hit canvas was drawn (Konva draws it on the next frame). */
  private hitStale = false;
  /** Still as fit() left it: a resize (a banner, a window change) fits again. */
  private autoFit = true;
  /** Called after every zoom or pan (the region outlines depend on the scale). */
  onView: () => void = () => {};

  constructor(
    readonly container: HTMLDivElement,
    readonly width: number,
    readonly height: number,
  ) {
    this.stage = new Konva.Stage({
      container: container,
      width: Math.max(1, container.clientWidth),
      height: Math.max(1, container.clientHeight),
    });
    this.picture.width(width);
    this.picture.height(height);
    this.imageLayer.add(
      new Konva.Rect({ x: 0, y: 0, width, height, fill: "#000", listening: false }),
      this.picture,
    );
    this.stage.add(this.imageLayer, this.overlayLayer, this.maskLayer, this.shapeLayer, this.draftLayer);
    new ResizeObserver(() => this.resize()).observe(container);
  }

  setPicture(image: HTMLImageElement): void {
    this.picture.image(image);
    this.imageLayer.batchDraw();
  }

  get scale(): number {
    return this.stage.scaleX();
  }

  /** Pictures drawn over the image at its size (a heatmap, a thresholded map), each with its opacity. */
  setOverlays(overlays: { canvas: HTMLCanvasElement; opacity: number }[]): void {
    this.overlayLayer.destroyChildren();
    for (const { canvas, opacity } of overlays) {
      this.overlayLayer.add(
        new Konva.Image({ image: canvas, x: 0, y: 0, width: this.width, height: this.height, opacity }),
      );
    }
    this.overlayLayer.batchDraw();
  }

  /** Show the same part of the image, at the same scale, as `other` (side-by-side panes). */
  follow(other: Viewport): void {
    this.autoFit = false;
    this.stage.scale({ x: other.scale, y: other.scale });
    this.stage.position(other.stage.position());
    this.changed();
  }

  private resize(): void {
    const width = Math.max(1, this.container.clientWidth);
    const height = Math.max(1, this.container.clientHeight);
    if (width === this.stage.width() && height === this.stage.height()) return;
    this.stage.size({ width, height });
    if (this.autoFit) this.fit();
    else this.changed();
  }

  /** The whole image in view, centred. */
  fit(): void {
    const margin = 16;
    const scale = Math.min(
      (this.stage.width() - 2 * margin) / this.width,
      (this.stage.height() - 2 * margin) / this.height,
    );
    this.fitted = Math.max(scale, 1e-3);
    this.autoFit = true;
    this.stage.scale({ x: this.fitted, y: this.fitted });
    this.stage.position({
      x: (this.stage.width() - this.width * this.fitted) / 2,
      y: (this.stage.height() - this.height * this.fitted) / 2,
    });
    this.changed();
  }

  /** Zoom by `factor` keeping the image point under `screen` where it is. */
  zoom(factor: number, screen?: Point): void {
    const at = screen ?? { x: this.stage.width() / 2, y: this.stage.height() / 2 };
    const old = this.scale;
    const scale = Math.min(MAX_SCALE, Math.max(this.fitted / 4, old * factor));
    const anchor = this.toImage(at);
    this.autoFit = false;
    this.stage.scale({ x: scale, y: scale });
    this.stage.position({ x: at.x - anchor.x * scale, y: at.y - anchor.y * scale });
    this.changed();
  }

  panBy(dx: number, dy: number): void {
    this.autoFit = false;
    this.stage.position({ x: this.stage.x() + dx, y: this.stage.y() + dy });
    this.changed();
  }

  private changed(): void {
    // Zoomed in far enough to tell pixels apart: show them, not a blur.
    this.imageLayer.imageSmoothingEnabled(this.scale < 2);
    const data = this.container.dataset;
    data.scale = String(this.scale);
    data.x = String(this.stage.x());
    data.y = String(this.stage.y());
    this.onView();
    this.stage.batchDraw();
  }

  /** Screen (container) coordinates → image pixels. */
  toImage(screen: Point): Point {
    return { x: (screen.x - this.stage.x()) / this.scale, y: (screen.y - this.stage.y()) / this.scale };
  }

  screenOf(event: MouseEvent): Point {
    const box = this.container.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  }

  clamp(point: Point): Point {
    return {
      x: Math.min(this.width, Math.max(0, point.x)),
      y: Math.min(this.height, Math.max(0, point.y)),
    };
  }

  inside(point: Point): boolean {
    return point.x >= 0 && point.y >= 0 && point.x <= this.width && point.y <= this.height;
  }

  // --- masks -----------------------------------------------------------------------------------

  /** The canvas of a mask region, made or brought up to date with its geometry and colour. */
  mask(key: number, geometry: MaskGeometry | null, color: string): MaskCanvas {
    let mask = this.masks.get(key);
    if (!mask) {
      mask = new MaskCanvas(this.width, this.height, geometry, color);
      this.masks.set(key, mask);
    } else if (mask.geometry !== geometry || mask.color !== color) {
      mask.geometry = geometry;
      mask.color = color;
      mask.redraw();
    }
    return mask;
  }

  /** Show `keys`' masks, in this order, forgetting the canvases of masks no longer there. */
  showMasks(keys: number[], visible: boolean): void {
    for (const key of [...this.masks.keys()]) if (!keys.includes(key)) this.masks.delete(key);
    this.maskLayer.destroyChildren();
    if (visible) {
      for (const key of keys) {
        this.maskLayer.add(
          new Konva.Image({
            image: this.masks.get(key)!.canvas,
            x: 0,
            y: 0,
            width: this.width,
            height: this.height,
            opacity: MASK_OPACITY,
          }),
        );
      }
    }
    this.maskLayer.batchDraw();
  }

  drawMasks(): void {
    this.maskLayer.batchDraw();
  }

  maskAt(key: number): MaskCanvas | undefined {
    return this.masks.get(key);
  }

  // --- vector regions --------------------------------------------------------------------------

  /** Draw the vector regions (masks are drawn by showMasks) and the selection outline. */
  drawRegions(regions: readonly Region[], colorOf: (region: Region) => string, selected: number | null): void {
    this.shapeLayer.destroyChildren();
    this.hitStale = true;
    const pixel = 1 / this.scale;
    for (const region of regions) {
      const shape = regionShape(region, colorOf(region), pixel, region.key === selected);
      if (shape) {
        shape.setAttr("regionKey", region.key);
        this.shapeLayer.add(shape);
      }
      if (region.key === selected) {
        const bounds = regionBounds(region);
        if (bounds) {
          this.shapeLayer.add(
            new Konva.Rect({
              ...bounds,
              x: bounds.x - 3 * pixel,
              y: bounds.y - 3 * pixel,
              width: bounds.width + 6 * pixel,
              height: bounds.height + 6 * pixel,
              stroke: "#ffffff",
              strokeWidth: 1,
              dash: [4, 3],
              strokeScaleEnabled: false,
              listening: false,
              name: "selection",
            }),
          );
        }
      }
    }
    this.shapeLayer.batchDraw();
  }

  /** Square handles at `points`, the same size on screen at any zoom; `active` (an index) filled. */
  drawHandles(points: readonly Point[], color: string, active: number | null): void {
    const side = HANDLE_SIZE / this.scale;
    points.forEach((point, index) => {
      this.shapeLayer.add(
        new Konva.Rect({
          x: point.x - side / 2,
          y: point.y - side / 2,
          width: side,
          height: side,
          fill: index === active ? color : "#ffffff",
          stroke: index === active ? "#ffffff" : color,
          strokeWidth: 1.5,
          strokeScaleEnabled: false,
          listening: false,
          name: "handle",
        }),
      );
    });
    this.shapeLayer.batchDraw();
  }

  /** The key of the vector region drawn at a screen point, if any. */
  regionAt(screen: Point): number | null {
    // A press right after an edit must hit the shapes as they are now, not those of the last frame.
    if (this.hitStale) {
      this.shapeLayer.drawHit();
      this.hitStale = false;
    }
    const shape = this.shapeLayer.getIntersection(screen);
    const key = shape?.getAttr("regionKey");
    return typeof key === "number" ? key : null;
  }
}

function regionShape(region: Region, color: string, pixel: number, selected: boolean): Konva.Shape | null {
  const rough = region.precision === "rough";
  const outline = {
    stroke: color,
    strokeWidth: selected ? 3 : 2,
    strokeScaleEnabled: false,
    dash: rough ? [6, 4] : undefined,
    fill: rgba(color, selected ? 0.28 : 0.14),
    hitStrokeWidth: 8,
  };
  switch (region.kind) {
    case "box": {
      const g = region.geometry as BoxGeometry;
      return new Konva.Rect({ x: g.x, y: g.y, width: g.width, height: g.height, ...outline });
    }
    case "polygon": {
      const g = region.geometry as PolygonGeometry;
      return new Konva.Line({ points: g.points.flat(), closed: true, ...outline });
    }
    case "scribble": {
      const g = region.geometry as ScribbleGeometry;
      return new Konva.Line({
        points: g.points.flat(),
        stroke: color,
        strokeWidth: g.width,
        lineCap: "round",
        lineJoin: "round",
        opacity: selected ? 0.9 : 0.65,
        hitStrokeWidth: Math.max(g.width, 8 * pixel),
      });
    }
    case "point": {
      const g = region.geometry as PointGeometry;
      return new Konva.Circle({
        x: g.x,
        y: g.y,
        radius: (selected ? 7 : 5) * pixel,
        fill: color,
        stroke: "#ffffff",
        strokeWidth: 1.5,
        strokeScaleEnabled: false,
      });
    }
    default:
      return null;
  }
}

/** A region's extent in image pixels. */
export function regionBounds(region: Region): { x: number; y: number; width: number; height: number } | null {
  switch (region.kind) {
    case "box":
      return { ...(region.geometry as BoxGeometry) };
    case "point": {
      const g = region.geometry as PointGeometry;
      return { x: g.x, y: g.y, width: 0, height: 0 };
    }
    case "mask":
      return maskBounds(region.geometry as MaskGeometry);
    default: {
      const g = region.geometry as PolygonGeometry | ScribbleGeometry;
      const xs = g.points.map((p) => p[0]);
      const ys = g.points.map((p) => p[1]);
      const pad = region.kind === "scribble" ? (g as ScribbleGeometry).width / 2 : 0;
      const x = Math.min(...xs) - pad;
      const y = Math.min(...ys) - pad;
      return { x, y, width: Math.max(...xs) + pad - x, height: Math.max(...ys) + pad - y };
    }
  }
}
