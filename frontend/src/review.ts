// The review queue (/collections/<id>/review/): one prediction at a time, its heatmap over the image,
// a threshold that redraws what the model flags as it moves, and a decision by key. Each decision is
// written into the image's labels by the server; the queue never hands one item to two reviewers.
// The look of bars and panels comes from the annotator's stylesheet, which the page links as well.
import "./review.css";

import Konva from "konva";

import { ApiError, errorText, failure, getJson, post } from "./api";
import { type Point, Viewport } from "./canvas";
import { el, kbd } from "./dom";
import { encodeAlpha, isEmpty } from "./rle";
import type { BoxGeometry, Geometry, Kind, Precision, Verdict } from "./types";

type Decision = "true_defect" | "false_positive" | "missed_defect" | "unsure";

interface ReviewConfig {
  modelVersion: number;
  collectionUrl: string;
  canReview: boolean;
  threshold: number;
  reasons: [string, string][];
}

interface ItemRegion {
  kind: Kind;
  geometry: Geometry;
  precision: Precision;
  defect_type: number | null;
}

interface Item {
  prediction: {
    id: number;
    score: number;
    normalized_score: number;
    is_defective: boolean;
    heatmap: string;
    heatmap_low: number;
    heatmap_high: number;
    regions: { x: number; y: number; width: number; height: number; area: number }[];
  };
  image: {
    id: number;
    name: string;
    width: number;
    height: number;
    display_url: string;
    page_url: string;
    nearest_normal_url: string | null;
  };
  annotation: { version: number; verdict: Verdict; regions: ItemRegion[] };
  pending: number;
}

interface ReviewRow {
  reviewer: string | null;
  decision: Decision;
  reason: string;
  comment: string;
  image: number;
  image_name: string;
  created_at: string;
}

const DECISIONS: { id: Decision; label: string; keys: string[] }[] = [
  { id: "true_defect", label: "True defect", keys: ["1", "d"] },
  { id: "false_positive", label: "False positive", keys: ["2", "f"] },
  { id: "missed_defect", label: "Missed defect", keys: ["3", "m"] },
  { id: "unsure", label: "Unsure", keys: ["4", "u"] },
];
const OTHER_KEYS: [string, string][] = [
  ["b", "draw a box where the model missed or mislocated a defect (sent with the decision)"],
  ["Backspace", "remove the last box you drew"],
  ["c", "write a comment (Enter: back to the image)"],
  ["s", "skip: give this image back to the queue and take the next"],
  ["← / →", "lower / raise the threshold"],
  ["[ / ]", "less / more heatmap"],
  ["o", "heatmap on / off"],
  ["v", "side by side: the image beside its heatmap"],
  ["g", "golden sample: the nearest normal training image in the left pane"],
  ["wheel, drag", "zoom, pan"],
  ["?", "this sheet"],
];
const DECISION_LABEL = Object.fromEntries(DECISIONS.map((d) => [d.id, d.label])) as Record<Decision, string>;
const FLAG_RGB: [number, number, number] = [255, 40, 40];
const OUTLINE_RGBA = [255, 255, 255, 255];

/** The jet colour map, as the server draws overlays (inference/services/heatmaps.py). */
function jet(level: number): [number, number, number] {
  const x = level / 255;
  const channel = (offset: number) => Math.round(Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - offset))) * 255);
  return [channel(3), channel(2), channel(1)];
}

function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new ApiError(`could not load ${url}`, 0));
    image.src = url;
  });
}

function canvasOf(width: number, height: number): [HTMLCanvasElement, CanvasRenderingContext2D] {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return [canvas, canvas.getContext("2d", { willReadFrequently: true })!];
}

class ReviewQueue {
  private item: Item | null = null;
  private heat: Uint8ClampedArray | null = null; // grey levels of the heatmap, one per image pixel
  private readonly colored: [HTMLCanvasElement, CanvasRenderingContext2D] = canvasOf(1, 1);
  private readonly flagged: [HTMLCanvasElement, CanvasRenderingContext2D] = canvasOf(1, 1);
  private readonly outline: [HTMLCanvasElement, CanvasRenderingContext2D] = canvasOf(1, 1);
  private humanMasks: HTMLCanvasElement | null = null; // the image's mask labels, in their colours
  private threshold = 0;
  private opacity = 0.45;
  private showHeat = true;
  private sideBySide = false;
  private golden = false;
  private boxes: BoxGeometry[] = [];
  private boxTool = false;
  private draft: { start: Point; shape: Konva.Rect } | null = null;
  private busy = false;
  private left: Viewport | null = null;
  private right: Viewport | null = null;
  private syncing = false;

  private readonly status = el("p", { className: "review-status", attrs: { role: "status", "aria-live": "polite" } });
  private readonly panes = el("div", { className: "review-panes" });
  private readonly info = el("dl", { className: "review-info" });
  private readonly slider = el("input", { attrs: { type: "range", min: "0", max: "255", step: "1", "aria-label": "Threshold" } });
  private readonly thresholdText = el("output", { className: "threshold-value" });
  private readonly flaggedText = el("span", { className: "muted small" });
  private readonly opacitySlider = el("input", { attrs: { type: "range", min: "0", max: "1", step: "0.05", "aria-label": "Heatmap opacity" } });
  private readonly reason = el("select", { attrs: { "aria-label": "Why it is a false positive" } });
  private readonly comment = el("textarea", { attrs: { rows: "2", placeholder: "Comment (optional)", "aria-label": "Comment" } });
  private readonly boxesText = el("span", { className: "muted small" });
  private readonly recent = el("ol", { className: "review-recent" });
  private readonly sheet = el("dialog", { className: "shortcut-sheet", attrs: { "aria-label": "Keyboard shortcuts" } });
  private readonly decisionButtons = new Map<Decision, HTMLButtonElement>();
  private readonly toggles = {
    heat: el("button", { className: "button", attrs: { type: "button", "aria-pressed": "true" } }, "Heatmap ", kbd("o")),
    side: el("button", { className: "button", attrs: { type: "button", "aria-pressed": "false" } }, "Side by side ", kbd("v")),
    golden: el("button", { className: "button", attrs: { type: "button", "aria-pressed": "false" } }, "Golden sample ", kbd("g")),
    box: el("button", { className: "button", attrs: { type: "button", "aria-pressed": "false" } }, "Box ", kbd("b")),
  };

  constructor(
    private readonly root: HTMLElement,
    private readonly config: ReviewConfig,
  ) {
    this.build();
    document.addEventListener("keydown", (event) => this.onKey(event));
    // Only reviewers take items from the queue; everyone else sees who decided what.
    if (config.canReview) void this.next();
    else this.root.dataset.state = "readonly";
    void this.loadRecent();
  }

  // --- layout -----------------------------------------------------------------------------------

  private build(): void {
    this.reason.append(el("option", { text: "Reason (optional)", attrs: { value: "" } }));
    for (const [value, label] of this.config.reasons) this.reason.append(el("option", { text: label, attrs: { value } }));
    this.opacitySlider.value = String(this.opacity);
    this.slider.addEventListener("input", () => this.setLevel(Number(this.slider.value)));
    this.opacitySlider.addEventListener("input", () => {
      this.opacity = Number(this.opacitySlider.value);
      this.drawOverlays();
    });
    this.comment.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        this.comment.blur();
      }
    });
    this.toggles.heat.addEventListener("click", () => this.toggleHeat());
    this.toggles.side.addEventListener("click", () => this.toggleSide());
    this.toggles.golden.addEventListener("click", () => this.toggleGolden());
    this.toggles.box.addEventListener("click", () => this.toggleBox());

    const decisions = el("div", { className: "review-decisions" });
    for (const decision of DECISIONS) {
      const button = el(
        "button",
        { className: `button decision decision-${decision.id}`, attrs: { type: "button" }, dataset: { decision: decision.id } },
        decision.label + " ",
        kbd(decision.keys[0]),
        kbd(decision.keys[1]),
      );
      button.disabled = !this.config.canReview;
      button.addEventListener("click", () => void this.decide(decision.id));
      this.decisionButtons.set(decision.id, button);
      decisions.append(button);
    }
    const skip = el("button", { className: "button subtle", attrs: { type: "button" }, onClick: () => void this.skip() }, "Skip ", kbd("s"));

    const side = el(
      "aside",
      { className: "annotator-side review-side" },
      el("section", {}, el("h2", { text: "This image" }), this.info),
      el(
        "section",
        {},
        el("h2", { text: "Threshold" }),
        this.slider,
        el("div", { className: "review-row" }, this.thresholdText, this.flaggedText),
        el("label", { className: "small" }, "Heatmap opacity ", kbd("["), kbd("]"), this.opacitySlider),
      ),
      el("section", {}, el("h2", { text: "Decision" }), decisions, this.reason, this.comment, el("div", { className: "review-row" }, skip, this.boxesText)),
      el("section", { className: "review-recent-section" }, el("h2", { text: "Recent decisions" }), this.recent),
    );
    const bar = el(
      "div",
      { className: "annotator-bar" },
      el("div", { className: "button-group" }, this.toggles.heat, this.toggles.side, this.toggles.golden, this.toggles.box),
      el("span", { className: "bar-gap" }),
      this.status,
      el("button", { className: "button", text: "?", title: "Keyboard shortcuts", attrs: { type: "button", "aria-label": "Keyboard shortcuts" }, onClick: () => this.toggleSheet() }),
    );
    this.root.append(bar, el("div", { className: "review-body" }, this.panes, side), this.buildSheet());
  }

  private buildSheet(): HTMLDialogElement {
    const table = el("table", { className: "table" });
    for (const decision of DECISIONS) {
      table.append(el("tr", {}, el("td", {}, kbd(decision.keys[0]), " ", kbd(decision.keys[1])), el("td", { text: decision.label })));
    }
    for (const [key, help] of OTHER_KEYS) table.append(el("tr", {}, el("td", {}, kbd(key)), el("td", { text: help })));
    this.sheet.append(
      el("h2", { text: "Keyboard shortcuts" }),
      table,
      el("button", { className: "button", text: "Close", attrs: { type: "button" }, onClick: () => this.sheet.close() }),
    );
    return this.sheet;
  }

  private toggleSheet(): void {
    if (this.sheet.open) this.sheet.close();
    else this.sheet.showModal();
  }

  private say(text: string, kind: "info" | "error" = "info"): void {
    this.status.textContent = text;
    this.status.dataset.kind = kind;
  }

  // --- the queue --------------------------------------------------------------------------------

  private async next(): Promise<void> {
    this.busy = true;
    try {
      const response = await post("/api/v1/reviews/next/", { model_version: this.config.modelVersion });
      if (response.status === 204) {
        this.item = null;
        this.root.dataset.state = "empty";
        this.panes.replaceChildren(
          el("div", { className: "review-empty" }, el("p", { text: "Nothing left to review for this model." }), el("a", { className: "button", text: "Back to the collection", attrs: { href: this.config.collectionUrl } })),
        );
        this.info.replaceChildren();
        this.say("The queue is empty.");
        return;
      }
      if (!response.ok) throw await failure(response);
      await this.show((await response.json()) as Item);
    } catch (error) {
      this.say(error instanceof Error ? error.message : String(error), "error");
      this.root.dataset.state = "error";
    } finally {
      this.busy = false;
    }
  }

  private async show(item: Item): Promise<void> {
    const [picture, heatmap] = await Promise.all([loadImage(item.image.display_url), loadImage(item.prediction.heatmap)]);
    const golden = item.image.nearest_normal_url ? await loadImage(item.image.nearest_normal_url).catch(() => null) : null;
    this.humanMasks = null;
    if (item.annotation.regions.some((region) => region.kind === "mask")) {
      const labels = await loadImage(`/images/${item.image.id}/labels.png?v=${item.annotation.version}`).catch(() => null);
      if (labels) {
        const [canvas, context] = canvasOf(item.image.width, item.image.height);
        context.drawImage(labels, 0, 0);
        this.humanMasks = canvas;
      }
    }
    const { width, height } = item.image;
    const [, context] = canvasOf(width, height);
    context.drawImage(heatmap, 0, 0, width, height);
    const grey = context.getImageData(0, 0, width, height).data;
    this.heat = new Uint8ClampedArray(width * height);
    for (let i = 0; i < this.heat.length; i++) this.heat[i] = grey[i * 4];
    this.item = item;
    this.boxes = [];
    this.comment.value = "";
    this.reason.value = "";
    this.paintHeat();
    this.buildPanes(picture, golden);
    this.setLevel(this.levelOf(this.config.threshold));
    this.showInfo();
    this.root.dataset.state = "ready";
    this.root.dataset.predictionId = String(item.prediction.id);
    this.root.dataset.imageId = String(item.image.id);
    this.say(`${item.pending} image${item.pending === 1 ? "" : "s"} left to review`);
  }

  private buildPanes(picture: HTMLImageElement, golden: HTMLImageElement | null): void {
    const { width, height } = this.item!.image;
    this.panes.replaceChildren();
    this.panes.classList.toggle("side-by-side", this.sideBySide);
    const make = (): Viewport => {
      const container = el("div", { className: "annotator-stage review-stage", attrs: { tabindex: "0" } });
      this.panes.append(container);
      const viewport = new Viewport(container, width, height);
      this.bindPointer(viewport);
      viewport.fit();
      return viewport;
    };
    this.left = this.sideBySide ? make() : null;
    this.right = make();
    this.right.setPicture(picture);
    if (this.left) {
      this.left.setPicture(this.golden && golden ? golden : picture);
      this.left.container.dataset.pane = this.golden && golden ? "golden" : "image";
      const [a, b] = [this.left, this.right];
      a.onView = () => this.sync(b, a);
      b.onView = () => this.sync(a, b);
    }
    this.toggles.golden.disabled = !golden;
    this.drawOverlays();
    this.drawBoxes();
  }

  private sync(target: Viewport, source: Viewport): void {
    if (this.syncing) return;
    this.syncing = true;
    target.follow(source);
    this.syncing = false;
  }

  private showInfo(): void {
    const item = this.item!;
    const rows: [string, Node | string][] = [
      ["Image", el("a", { text: item.image.name, attrs: { href: item.image.page_url } })],
      ["Score", `${item.prediction.score.toPrecision(4)} (${Math.round(item.prediction.normalized_score * 100)}%)`],
      ["Model says", item.prediction.is_defective ? "defective" : "normal"],
      ["Label now", item.annotation.verdict],
      ["Regions", String(item.annotation.regions.length)],
    ];
    this.info.replaceChildren(...rows.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", {}, value)]));
    this.info.querySelectorAll("dd")[2].dataset.field = "model";
  }

  // --- the heatmap and the threshold --------------------------------------------------------------

  private levelOf(raw: number): number {
    const { heatmap_low: low, heatmap_high: high } = this.item!.prediction;
    return Math.round(Math.min(255, Math.max(0, ((raw - low) / Math.max(high - low, 1e-12)) * 255)));
  }

  private rawOf(level: number): number {
    const { heatmap_low: low, heatmap_high: high } = this.item!.prediction;
    return low + (level / 255) * (high - low);
  }

  private paintHeat(): void {
    const { width, height } = this.item!.image;
    const [canvas, context] = this.colored;
    canvas.width = width;
    canvas.height = height;
    const pixels = context.createImageData(width, height);
    const lut = Array.from({ length: 256 }, (_, level) => jet(level));
    for (let i = 0; i < this.heat!.length; i++) {
      const level = this.heat![i];
      const [r, g, b] = lut[level];
      // Low scores fade out, so the picture stays visible where the model sees nothing.
      pixels.data.set([r, g, b, Math.min(255, level * 2)], i * 4);
    }
    context.putImageData(pixels, 0, 0);
  }

  /** Redraw what the model flags at this grey level: every heatmap pixel at or above it. */
  private setLevel(level: number): void {
    if (!this.item || !this.heat) return;
    this.threshold = Math.min(255, Math.max(0, Math.round(level)));
    this.slider.value = String(this.threshold);
    const { width, height } = this.item.image;
    const [canvas, context] = this.flagged;
    canvas.width = width;
    canvas.height = height;
    const pixels = context.createImageData(width, height);
    const edges = context.createImageData(width, height);
    const heat = this.heat;
    const cut = this.threshold;
    const inside = (i: number) => cut > 0 && heat[i] >= cut;
    let count = 0;
    for (let i = 0; i < heat.length; i++) {
      if (!inside(i)) continue;
      pixels.data.set([...FLAG_RGB, 255], i * 4);
      count++;
      // The outline: flagged pixels with a neighbour (or the border) outside.
      const x = i % width;
      const border = x === 0 || x === width - 1 || i < width || i >= heat.length - width;
      if (border || !inside(i - 1) || !inside(i + 1) || !inside(i - width) || !inside(i + width)) {
        edges.data.set(OUTLINE_RGBA, i * 4);
      }
    }
    context.putImageData(pixels, 0, 0);
    const [outlineCanvas, outlineContext] = this.outline;
    outlineCanvas.width = width;
    outlineCanvas.height = height;
    outlineContext.putImageData(edges, 0, 0);
    const raw = this.rawOf(this.threshold);
    this.thresholdText.textContent = raw.toPrecision(4);
    this.flaggedText.textContent = `${count.toLocaleString()} px flagged (${((100 * count) / this.heat.length).toFixed(1)}%)`;
    this.root.dataset.flagged = String(count);
    this.drawOverlays();
  }

  private drawOverlays(): void {
    if (!this.right) return;
    const outline = { canvas: this.outline[0], opacity: 1 };
    const labels = this.humanMasks ? [{ canvas: this.humanMasks, opacity: 0.6 }] : [];
    const overlays = [...(this.showHeat ? [{ canvas: this.colored[0], opacity: this.opacity }] : []), ...labels, outline];
    this.right.setOverlays(overlays);
    this.left?.setOverlays([]);
  }

  private toggleHeat(): void {
    this.showHeat = !this.showHeat;
    this.toggles.heat.setAttribute("aria-pressed", String(this.showHeat));
    this.drawOverlays();
  }

  private async rebuild(): Promise<void> {
    if (!this.item) return;
    const item = this.item;
    const [picture, golden] = await Promise.all([
      loadImage(item.image.display_url),
      item.image.nearest_normal_url ? loadImage(item.image.nearest_normal_url).catch(() => null) : Promise.resolve(null),
    ]);
    this.buildPanes(picture, golden);
  }

  private toggleSide(): void {
    this.sideBySide = !this.sideBySide;
    this.toggles.side.setAttribute("aria-pressed", String(this.sideBySide));
    void this.rebuild();
  }

  private toggleGolden(): void {
    if (this.toggles.golden.disabled) return;
    this.golden = !this.golden;
    if (this.golden && !this.sideBySide) {
      this.sideBySide = true;
      this.toggles.side.setAttribute("aria-pressed", "true");
    }
    this.toggles.golden.setAttribute("aria-pressed", String(this.golden));
    void this.rebuild();
  }

  // --- corrections: boxes drawn on the image ------------------------------------------------------

  private toggleBox(): void {
    this.boxTool = !this.boxTool;
    this.toggles.box.setAttribute("aria-pressed", String(this.boxTool));
    this.root.dataset.tool = this.boxTool ? "box" : "look";
  }

  private bindPointer(viewport: Viewport): void {
    const stage = viewport.stage;
    stage.on("wheel", (event) => {
      event.evt.preventDefault();
      viewport.zoom(event.evt.deltaY < 0 ? 1.2 : 1 / 1.2, viewport.screenOf(event.evt));
    });
    let panFrom: Point | null = null;
    stage.on("mousedown", (event) => {
      const screen = viewport.screenOf(event.evt);
      if (this.boxTool && viewport === this.right && event.evt.button === 0) {
        const start = viewport.clamp(viewport.toImage(screen));
        const shape = new Konva.Rect({ x: start.x, y: start.y, width: 0, height: 0, stroke: "#00e0ff", strokeWidth: 2, strokeScaleEnabled: false, dash: [6, 4] });
        viewport.draftLayer.add(shape);
        this.draft = { start, shape };
      } else {
        panFrom = screen;
      }
    });
    stage.on("mousemove", (event) => {
      const screen = viewport.screenOf(event.evt);
      if (this.draft && viewport === this.right) {
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
      if (shape.width() >= 2 && shape.height() >= 2) {
        const round = (value: number) => Math.round(value * 100) / 100;
        this.boxes.push({ x: round(shape.x()), y: round(shape.y()), width: round(shape.width()), height: round(shape.height()) });
      }
      this.drawBoxes();
    });
  }

  private drawBoxes(): void {
    const viewport = this.right;
    if (!viewport) return;
    viewport.shapeLayer.destroyChildren();
    const human = this.item?.annotation.regions ?? [];
    for (const region of human) {
      if (region.kind === "box") {
        const g = region.geometry as BoxGeometry;
        viewport.shapeLayer.add(new Konva.Rect({ ...g, stroke: "#ffd400", strokeWidth: 2, strokeScaleEnabled: false, listening: false }));
      }
    }
    for (const box of this.boxes) {
      viewport.shapeLayer.add(new Konva.Rect({ ...box, stroke: "#00e0ff", strokeWidth: 2, strokeScaleEnabled: false, dash: [6, 4], listening: false }));
    }
    viewport.shapeLayer.batchDraw();
    this.boxesText.textContent = this.boxes.length ? `${this.boxes.length} box${this.boxes.length === 1 ? "" : "es"} drawn` : "";
  }

  // --- decisions ---------------------------------------------------------------------------------

  /** The regions to send, if the decision changes them: the reviewer's boxes added to what is there,
   * or, for a true defect with nothing marked yet, what the heatmap flags at this threshold as a
   * rough mask (heatmap → label). `undefined` leaves the regions to the server's rules. */
  private regionsFor(decision: Decision): object[] | undefined {
    const item = this.item!;
    const existing = item.annotation.regions.map(({ kind, geometry, precision, defect_type }) => ({ kind, geometry, precision, defect_type }));
    if (this.boxes.length) {
      return [...existing, ...this.boxes.map((geometry) => ({ kind: "box", geometry, precision: "rough", defect_type: null }))];
    }
    if (decision === "true_defect" && !existing.length) {
      const [canvas, context] = this.flagged;
      const mask = encodeAlpha(context.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height);
      if (!isEmpty(mask)) return [{ kind: "mask", geometry: mask, precision: "rough", defect_type: null }];
    }
    return undefined;
  }

  private async decide(decision: Decision): Promise<void> {
    if (!this.item || this.busy || !this.config.canReview) return;
    this.busy = true;
    const item = this.item;
    const button = this.decisionButtons.get(decision)!;
    button.classList.add("pressed");
    try {
      const response = await post("/api/v1/reviews/", {
        prediction: item.prediction.id,
        decision,
        version: item.annotation.version,
        comment: this.comment.value.trim(),
        reason: decision === "false_positive" ? this.reason.value : "",
        regions: this.regionsFor(decision),
      });
      if (response.status === 412) {
        this.say("Someone changed this image's labels a moment ago: here they are now; decide again.", "error");
        this.busy = false;
        await this.next();
        return;
      }
      if (response.status === 409) {
        this.say(`${errorText(await response.json())}`, "error");
        this.busy = false;
        await this.next();
        return;
      }
      if (!response.ok) throw await failure(response);
      this.busy = false;
      await this.next();
      this.say(`${DECISION_LABEL[decision]}: ${item.image.name} saved. ${this.status.textContent ?? ""}`);
      void this.loadRecent();
    } catch (error) {
      this.say(error instanceof Error ? error.message : String(error), "error");
    } finally {
      this.busy = false;
      button.classList.remove("pressed");
    }
  }

  private async skip(): Promise<void> {
    if (!this.item || this.busy) return;
    const skipped = this.item.prediction.id;
    this.busy = true;
    try {
      const response = await post("/api/v1/reviews/release/", { prediction: skipped });
      if (!response.ok) throw await failure(response);
    } catch (error) {
      this.say(error instanceof Error ? error.message : String(error), "error");
      this.busy = false;
      return;
    }
    this.busy = false;
    await this.next();
  }

  private async loadRecent(): Promise<void> {
    let rows: ReviewRow[];
    try {
      rows = (await getJson<{ results: ReviewRow[] }>(`/api/v1/reviews/?model_version=${this.config.modelVersion}`)).results.slice(0, 12);
    } catch {
      return; // the list is a courtesy; the queue works without it
    }
    this.recent.replaceChildren(
      ...rows.map((row) =>
        el(
          "li",
          { dataset: { decision: row.decision } },
          el("strong", { text: row.reviewer ?? "someone" }),
          ` ${DECISION_LABEL[row.decision].toLowerCase()} · `,
          el("a", { text: row.image_name, attrs: { href: `/images/${row.image}/` } }),
          el("time", { className: "muted small", text: ` ${new Date(row.created_at).toLocaleTimeString()}`, attrs: { datetime: row.created_at } }),
          row.comment ? el("q", { className: "small", text: row.comment }) : null,
        ),
      ),
    );
    if (!rows.length) this.recent.append(el("li", { className: "muted", text: "No decisions yet." }));
  }

  // --- keys ----------------------------------------------------------------------------------------

  private onKey(event: KeyboardEvent): void {
    const target = event.target as HTMLElement;
    if (target === this.comment || target === this.reason || event.ctrlKey || event.metaKey || event.altKey) return;
    if (this.sheet.open) {
      if (event.key === "?" || event.key === "Escape") this.sheet.close();
      return;
    }
    const key = event.key.toLowerCase();
    const decision = DECISIONS.find((d) => d.keys.includes(key));
    const step = event.shiftKey ? 10 : 2;
    const actions: Record<string, () => void> = {
      "?": () => this.toggleSheet(),
      s: () => void this.skip(),
      o: () => this.toggleHeat(),
      v: () => this.toggleSide(),
      g: () => this.toggleGolden(),
      b: () => this.toggleBox(),
      c: () => this.comment.focus(),
      backspace: () => {
        this.boxes.pop();
        this.drawBoxes();
      },
      arrowleft: () => this.setLevel(this.threshold - step),
      arrowright: () => this.setLevel(this.threshold + step),
      "[": () => this.setOpacity(this.opacity - 0.1),
      "]": () => this.setOpacity(this.opacity + 0.1),
    };
    if (decision) {
      event.preventDefault();
      void this.decide(decision.id);
    } else if (actions[key]) {
      event.preventDefault();
      actions[key]();
    }
  }

  private setOpacity(value: number): void {
    this.opacity = Math.round(Math.min(1, Math.max(0, value)) * 100) / 100;
    this.opacitySlider.value = String(this.opacity);
    this.drawOverlays();
  }
}

const root = document.getElementById("review");
const configNode = document.getElementById("review-config");
if (root && configNode) new ReviewQueue(root, JSON.parse(configNode.textContent ?? "{}") as ReviewConfig);
