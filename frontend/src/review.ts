// The review queue (/collections/<id>/review/): one prediction at a time, its heatmap over the image,
// a threshold that redraws what the model flags as it moves, and a decision by key. Each decision is
// written into the image's labels by the server; the queue never hands one item to two reviewers.
// The look of bars and panels comes from the annotator's stylesheet, which the page links as well.
import "./review.css";

import { errorText, failure, post } from "./api";
import { assignTypeKeys, type TypeKeys } from "./annotator/keys";
import { Viewport } from "./canvas";
import { DefectColors } from "./colors";
import { canvasOf, el, kbd, loadImage } from "./dom";
import { DecisionControls } from "./review/controls";
import { Corrections } from "./review/corrections";
import { colorize, flag, greyLevels, levelOf, rawOf } from "./review/heatmap";
import { showRecent } from "./review/recent";
import { flaggedTypesText } from "./review/regions";
import { DECISION_LABEL, DECISIONS, type Decision, type Item, reasonKeys, type ReviewConfig, shortcutRows } from "./review/types";
import { encodeAlpha, isEmpty } from "./rle";
import { scoreText } from "./scores";
import { isTyping, keyOf, ShortcutSheet } from "./shortcuts";

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
  private readonly colors: DefectColors;
  private readonly typeKeys: TypeKeys;
  private readonly controls: DecisionControls;
  private readonly corrections: Corrections;
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
  private readonly recent = el("ol", { className: "review-recent" });
  private readonly sheet: ShortcutSheet;
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
    this.colors = new DefectColors(config.defectTypes);
    this.typeKeys = assignTypeKeys(config.defectTypes);
    this.sheet = new ShortcutSheet(shortcutRows(config, this.typeKeys));
    this.controls = new DecisionControls(config, this.typeKeys, this.colors, {
      decide: (decision) => void this.decide(decision),
      skip: () => void this.skip(),
      refocus: () => this.refocus(),
    });
    this.corrections = new Corrections(
      () => this.controls.defectType,
      (id) => this.colors.colorOf(id),
    );
    this.build();
    document.addEventListener("keydown", (event) => this.onKey(event));
    // Only reviewers take items from the queue; everyone else sees who decided what.
    if (config.canReview) void this.next();
    else this.root.dataset.state = "readonly";
    void showRecent(this.recent, config.modelVersion, config.reasons);
  }

  // --- layout -----------------------------------------------------------------------------------

  private build(): void {
    this.opacitySlider.value = String(this.opacity);
    this.slider.addEventListener("input", () => this.setLevel(Number(this.slider.value)));
    this.opacitySlider.addEventListener("input", () => {
      this.opacity = Number(this.opacitySlider.value);
      this.drawOverlays();
    });
    const toggle = (button: HTMLButtonElement, action: () => void) =>
      button.addEventListener("click", () => {
        action();
        this.refocus();
      });
    toggle(this.toggles.heat, () => this.toggleHeat());
    toggle(this.toggles.side, () => this.toggleSide());
    toggle(this.toggles.golden, () => this.toggleGolden());
    toggle(this.toggles.box, () => this.toggleBox());

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
      this.controls.buildDecisions(this.corrections.text),
      el("section", { className: "review-recent-section" }, el("h2", { text: "Recent decisions" }), this.recent),
    );
    const bar = el(
      "div",
      { className: "annotator-bar" },
      el("div", { className: "button-group" }, this.toggles.heat, this.toggles.side, this.toggles.golden, this.toggles.box),
      this.controls.buildTypes(),
      el("span", { className: "bar-gap" }),
      this.status,
      el("button", { className: "button", text: "?", title: "Keyboard shortcuts", attrs: { type: "button", "aria-label": "Keyboard shortcuts" }, onClick: () => this.sheet.toggle() }),
    );
    this.root.append(bar, el("div", { className: "review-body" }, this.panes, side), this.sheet.dialog);
  }

  private say(text: string, kind: "info" | "error" = "info"): void {
    this.status.textContent = text;
    this.status.dataset.kind = kind;
  }

  // --- the queue --------------------------------------------------------------------------------

  private async next(): Promise<void> {
    this.busy = true;
    try {
      const response = await post("/api/v1/reviews/next/", {
        model_version: this.config.modelVersion,
        scope: this.config.scope,
      });
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
    this.heat = greyLevels(context.getImageData(0, 0, width, height).data);
    this.item = item;
    this.corrections.boxes = [];
    this.controls.reset();
    this.paintHeat();
    this.buildPanes(picture, golden);
    this.setLevel(levelOf(this.config.threshold, item.prediction.heatmap_low, item.prediction.heatmap_high));
    this.showInfo();
    this.root.dataset.state = "ready";
    this.root.dataset.predictionId = String(item.prediction.id);
    this.root.dataset.imageId = String(item.image.id);
    // A new image: whatever control had the focus (the comment box) gives the keys back.
    this.refocus();
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
      this.corrections.bind(viewport, () => viewport === this.right, () => this.drawBoxes());
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
      ["Score", scoreText(item.prediction.normalized_score, item.prediction.score)],
      ["Model says", item.prediction.is_defective ? "defective" : "normal"],
      ["Label now", item.annotation.verdict],
      ["Regions", String(item.annotation.regions.length)],
    ];
    const types = flaggedTypesText(item.prediction.regions);
    if (types) rows.splice(3, 0, ["Model names", types]);
    this.info.replaceChildren(...rows.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", {}, value)]));
    this.info.querySelectorAll("dd")[2].dataset.field = "model";
  }

  // --- the heatmap and the threshold --------------------------------------------------------------

  private paintHeat(): void {
    const { width, height } = this.item!.image;
    const [canvas, context] = this.colored;
    canvas.width = width;
    canvas.height = height;
    const pixels = context.createImageData(width, height);
    colorize(this.heat!, pixels.data);
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
    const count = flag(this.heat, width, this.threshold, pixels.data, edges.data);
    context.putImageData(pixels, 0, 0);
    const [outlineCanvas, outlineContext] = this.outline;
    outlineCanvas.width = width;
    outlineCanvas.height = height;
    outlineContext.putImageData(edges, 0, 0);
    const raw = rawOf(this.threshold, this.item.prediction.heatmap_low, this.item.prediction.heatmap_high);
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
    this.corrections.drawing = !this.corrections.drawing;
    this.toggles.box.setAttribute("aria-pressed", String(this.corrections.drawing));
    this.root.dataset.tool = this.corrections.drawing ? "box" : "look";
  }

  private drawBoxes(): void {
    this.corrections.draw(this.right, this.item?.annotation.regions ?? []);
  }

  // --- decisions ---------------------------------------------------------------------------------

  /** The regions to send, if the decision changes them: the reviewer's boxes added to what is there,
   * or, for a true defect with nothing marked yet, what the heatmap flags at this threshold as a
   * rough mask (heatmap → label). `undefined` leaves the regions to the server's rules. */
  private regionsFor(decision: Decision): object[] | undefined {
    const item = this.item!;
    const existing = item.annotation.regions.map(({ kind, geometry, precision, defect_type }) => ({ kind, geometry, precision, defect_type }));
    if (this.corrections.boxes.length) return [...existing, ...this.corrections.regions()];
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
    const button = this.controls.decisionButtons.get(decision)!;
    button.classList.add("pressed");
    try {
      const response = await post("/api/v1/reviews/", {
        prediction: item.prediction.id,
        decision,
        version: item.annotation.version,
        comment: this.controls.comment.value.trim(),
        reason: decision === "false_positive" ? this.controls.reason : "",
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
      void showRecent(this.recent, this.config.modelVersion, this.config.reasons);
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

  // --- keys ----------------------------------------------------------------------------------------

  private onKey(event: KeyboardEvent): void {
    // Typing in the comment box types; a button or slider clicked a moment ago does not keep the keys.
    if (isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (this.sheet.takes(event)) return;
    const key = keyOf(event);
    // Shift and a defect type's key picks the type of the boxes drawn next.
    const type = event.shiftKey ? this.typeKeys.byKey.get(key) : undefined;
    if (type) {
      event.preventDefault();
      this.controls.pickDefectType(type.id);
      return;
    }
    const reason = reasonKeys(this.config.reasons).find((r) => r.key === key);
    const decision = DECISIONS.find((d) => d.keys.includes(key));
    const step = event.shiftKey ? 10 : 2;
    const actions: Record<string, () => void> = {
      "?": () => this.sheet.toggle(),
      s: () => void this.skip(),
      o: () => this.toggleHeat(),
      v: () => this.toggleSide(),
      g: () => this.toggleGolden(),
      b: () => this.toggleBox(),
      c: () => this.controls.comment.focus(),
      backspace: () => {
        this.corrections.boxes.pop();
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
    } else if (reason) {
      event.preventDefault();
      this.controls.pickReason(reason.value);
    } else if (actions[key]) {
      event.preventDefault();
      actions[key]();
    }
  }

  /** The keys go to the image (the main pane), not to a control clicked a moment ago. */
  private refocus(): void {
    const active = document.activeElement;
    if (active instanceof HTMLElement && this.root.contains(active)) active.blur();
    this.right?.container.focus({ preventScroll: true });
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
