// The annotator page (/images/<id>/annotate/): verdict and regions of one image, keyboard first,
// saved automatically on top of the version it read (If-Match), never over someone else's labels.
// The labels live in a store (annotator/store.ts), each tool in its module (annotator/tools/), the
// controls in annotator/panel.ts; this module joins them to the stage, the pointer and the keys.
import "./annotator.css";

import Konva from "konva";

import { type Conflict, getAnnotation } from "./api";
import { AutoSave, type SaveState } from "./annotator/autosave";
import { assignTypeKeys, type ToolId, TOOLS, type TypeKeys, VERDICTS } from "./annotator/keys";
import { Panel } from "./annotator/panel";
import { LabelStore, type PaintedMask } from "./annotator/store";
import { handlePoints } from "./annotator/edit";
import { makeTools, type Modifiers, type Tool, type ToolContext, type Tools } from "./annotator/tools";
import { type Point, Viewport } from "./canvas";
import { DefectColors } from "./colors";
import { el } from "./dom";
import { isTyping } from "./shortcuts";
import type { AnnotationOut, Config, Geometry, Kind, MaskGeometry, Verdict } from "./types";

class Annotator implements ToolContext {
  readonly viewport: Viewport;
  readonly store: LabelStore;
  brushSize = 16;
  private readonly saver: AutoSave;
  private readonly panel: Panel;
  private readonly colors: DefectColors;
  private readonly keys: TypeKeys;
  private readonly tools: Tools;
  private toolId: ToolId = "select";
  private showLabels = true;
  private panFrom: Point | null = null;
  private spaceHeld = false;
  private readonly cursor = new Konva.Circle({ radius: 8, stroke: "#fff", strokeWidth: 1, strokeScaleEnabled: false, visible: false, listening: false });

  constructor(
    private readonly root: HTMLElement,
    private readonly config: Config,
  ) {
    this.store = new LabelStore(config.canEdit, config.defectTypes[0]?.id ?? null);
    this.saver = new AutoSave(this.store, config.annotationUrl, {
      status: (state) => this.setStatus(state),
      conflict: (error) => this.onConflict(error),
    });
    this.colors = new DefectColors(config.defectTypes);
    this.keys = assignTypeKeys(config.defectTypes);
    this.panel = new Panel(config, this.keys, this.colors, {
      setVerdict: (verdict) => this.setVerdict(verdict),
      undo: () => this.undo(),
      redo: () => this.redo(),
      fit: () => this.viewport.fit(),
      go: (url) => void this.go(url),
      setTool: (tool) => this.setTool(tool),
      pickDefectType: (id) => this.edited(this.store.pickDefectType(id)),
      togglePrecision: () => this.edited(this.store.togglePrecision()),
      setBrush: (size) => {
        this.brushSize = size;
        this.render();
      },
      select: (key) => this.select(key),
    });
    const stage = el("div", { className: "annotator-stage", attrs: { tabindex: "0", "aria-label": "Image and its labels" } });
    this.panel.mount(root, stage);
    this.viewport = new Viewport(stage, config.width, config.height);
    this.viewport.draftLayer.add(this.cursor);
    this.viewport.onView = () => this.drawShapes();
    this.tools = makeTools(this);
    this.listen(stage);
    this.render();
    if (!config.canEdit) {
      this.panel.showBanner("info", `Read only: you are a ${config.role || "visitor"} in this project; annotators and above can change labels.`);
    }
  }

  async start(): Promise<void> {
    const picture = new Image();
    picture.decoding = "async";
    picture.onload = () => this.viewport.setPicture(picture);
    picture.onerror = () => this.panel.showBanner("error", "The image could not be loaded; the labels can still be edited.");
    picture.src = this.config.displayUrl;
    this.viewport.fit();
    try {
      this.load(await getAnnotation(this.config.annotationUrl));
    } catch (error) {
      this.setStatus("error", `The labels could not be loaded: ${(error as Error).message}`);
    }
  }

  private load(out: AnnotationOut): void {
    this.store.load(out);
    this.cancelDraft();
    this.render();
  }

  private get tool(): Tool {
    return this.tools[this.toolId];
  }

  // --- the tools' context and the edits ------------------------------------------------------------

  colorOf(defectType: number | null): string {
    return this.colors.colorOf(defectType);
  }

  addRegion(kind: Kind, geometry: Geometry): void {
    this.edited(this.store.addRegion(kind, geometry));
  }

  updateGeometry(key: number, geometry: Geometry): void {
    this.edited(this.store.updateRegion(key, { geometry }));
  }

  paintMasks(masks: PaintedMask[]): void {
    this.edited(this.store.paintMasks(masks));
  }

  select(key: number | null): void {
    this.store.select(key);
    this.render();
  }

  hint(text: string): void {
    this.panel.status.textContent = text;
  }

  /** Draw what the store holds now, and save soon when `changed`. */
  private edited(changed: boolean): void {
    this.render();
    if (changed) this.saver.schedule();
  }

  private setVerdict(verdict: Verdict): void {
    if (!this.store.editable) return this.readOnlyHint();
    this.edited(this.store.setVerdict(verdict));
  }

  private undo(): void {
    if (!this.store.editable) return;
    this.cancelDraft();
    if (this.store.undo()) this.edited(true);
  }

  private redo(): void {
    if (!this.store.editable) return;
    this.cancelDraft();
    if (this.store.redo()) this.edited(true);
  }

  private setTool(id: ToolId): void {
    if (id !== "select" && !this.store.editable) return this.readOnlyHint();
    // Leaving a tool keeps what can be kept: a polygon being clicked is closed.
    if (id !== this.toolId && this.tool.drawing) this.tool.finish?.();
    this.cancelDraft();
    this.toolId = id;
    this.viewport.container.style.cursor = "";
    this.render();
  }

  private cancelDraft(): void {
    this.panFrom = null;
    this.tool.cancel();
  }

  private resizeBrush(factor: number): void {
    this.brushSize = Math.round(Math.min(120, Math.max(2, this.brushSize * factor + (factor > 1 ? 1 : -1))));
    this.render();
  }

  // --- saving and conflicts ----------------------------------------------------------------------

  private async onConflict(error: Conflict): Promise<void> {
    this.cancelDraft();
    const reload = { label: "Reload theirs", action: () => void this.reloadTheirs() };
    try {
      const theirs = await getAnnotation(this.config.annotationUrl);
      const who = theirs.updated_by ? ` by ${theirs.updated_by}` : "";
      this.panel.showBanner(
        "conflict",
        `Someone else saved these labels (version ${theirs.version}${who}) after you opened them. ` +
          "Your latest changes were NOT saved and nothing of theirs was overwritten.",
        reload,
      );
    } catch {
      this.panel.showBanner("conflict", `Someone else saved these labels (version ${error.currentVersion}) after you opened them; your latest changes were not saved.`, reload);
    }
    // Said once the banner says why, so the page never shows a conflict without its explanation.
    this.setStatus("conflict");
    this.render();
  }

  private async reloadTheirs(): Promise<void> {
    try {
      const theirs = await getAnnotation(this.config.annotationUrl);
      this.store.conflict = false;
      this.panel.hideBanner();
      this.load(theirs);
      this.setStatus();
    } catch (error) {
      this.panel.showBanner("conflict", `Their labels could not be loaded: ${(error as Error).message}`, {
        label: "Try again",
        action: () => void this.reloadTheirs(),
      });
    }
  }

  private async go(url: string | null): Promise<void> {
    if (!url) return;
    if (!this.config.canEdit || (await this.saver.save())) window.location.assign(url);
  }

  private setStatus(state?: SaveState, message?: string): void {
    const value = state ?? this.saver.state;
    const { version, updatedBy } = this.store;
    const text: Record<SaveState, string> = {
      loading: "Loading…",
      saved: `Saved · version ${version}${updatedBy ? ` by ${updatedBy}` : ""}`,
      dirty: "Unsaved changes…",
      saving: "Saving…",
      conflict: "Not saved: conflict",
      error: `Not saved: ${this.saver.lastError}`,
      readonly: `Read only · version ${version}`,
    };
    this.root.dataset.saveState = value;
    this.root.dataset.version = String(version);
    this.panel.status.textContent = message ?? text[value];
    this.panel.status.className = `save-status save-${value}`;
  }

  private readOnlyHint(): void {
    if (this.store.conflict) return;
    if (!this.config.canEdit) this.hint("Read only: your role cannot change labels");
  }

  // --- drawing -----------------------------------------------------------------------------------

  render(): void {
    const state = this.store.state;
    this.panel.render(this.store, this.toolId, this.brushSize);
    this.root.dataset.tool = this.toolId;
    this.root.dataset.regions = String(state.regions.length);
    const masks = state.regions.filter((r) => r.kind === "mask");
    for (const region of masks) this.viewport.mask(region.key, region.geometry as MaskGeometry, this.colorOf(region.defect_type));
    const painting = this.tool.newMasks?.() ?? [];
    this.viewport.showMasks([...masks.map((r) => r.key), ...painting], this.showLabels);
    this.drawShapes();
    this.setStatus();
  }

  redrawShapes(): void {
    this.drawShapes();
  }

  /** The vector regions, a drag under way as it goes, and the selected region's handles. */
  private drawShapes(): void {
    const preview = this.tool.preview?.() ?? null;
    const regions = this.showLabels ? this.store.state.regions.map((r) => (r.key === preview?.key ? { ...r, geometry: preview.geometry } : r)) : [];
    const selected = this.store.selected;
    this.viewport.drawRegions(regions, (r) => this.colorOf(r.defect_type), selected);
    const region = regions.find((r) => r.key === selected);
    if (region && this.toolId === "select" && this.store.editable) {
      this.viewport.drawHandles(handlePoints(region.kind, region.geometry), this.colorOf(region.defect_type), this.tools.select.selectedVertex());
    }
    this.updateCursor(null);
  }

  private updateCursor(point: Point | null): void {
    const color = this.tool.cursorColor?.();
    if (!point || color === undefined || !this.store.editable) {
      if (this.cursor.visible()) {
        this.cursor.visible(false);
        this.viewport.draftLayer.batchDraw();
      }
      return;
    }
    this.cursor.setAttrs({ x: point.x, y: point.y, radius: this.brushSize / 2 / this.viewport.scale, visible: true, stroke: color });
    this.viewport.draftLayer.batchDraw();
  }

  // --- pointer -----------------------------------------------------------------------------------

  private listen(stage: HTMLElement): void {
    stage.addEventListener("pointerdown", (event) => this.pointerDown(event, stage));
    stage.addEventListener("pointermove", (event) => this.pointerMove(event));
    stage.addEventListener("pointerup", (event) => this.pointerUp(event));
    stage.addEventListener("pointercancel", () => this.cancelDraft());
    stage.addEventListener("pointerleave", () => this.updateCursor(null));
    stage.addEventListener("dblclick", (event) => {
      event.preventDefault();
      if (this.tool.drawing) this.tool.finish?.();
      else this.tool.doubleClick?.(this.viewport.toImage(this.viewport.screenOf(event)));
    });
    stage.addEventListener("contextmenu", (event) => event.preventDefault());
    stage.addEventListener(
      "wheel",
      (event) => {
        event.preventDefault();
        const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
        this.viewport.zoom(Math.exp(-delta * 0.0015), this.viewport.screenOf(event));
      },
      { passive: false },
    );
    document.addEventListener("keydown", (event) => this.keyDown(event));
    document.addEventListener("keyup", (event) => {
      if (event.code === "Space") {
        this.spaceHeld = false;
        stage.classList.remove("panning");
      }
    });
    window.addEventListener("beforeunload", (event) => {
      if (this.saver.unsaved) event.preventDefault();
    });
    window.addEventListener("pagehide", () => this.saver.lastTry());
  }

  private pointerDown(event: PointerEvent, stage: HTMLElement): void {
    stage.focus({ preventScroll: true });
    const screen = this.viewport.screenOf(event);
    if (event.button === 1 || (event.button === 0 && this.spaceHeld)) {
      event.preventDefault();
      this.cancelDraft();
      this.panFrom = screen;
      stage.setPointerCapture(event.pointerId);
      stage.classList.add("panning");
      return;
    }
    const point = this.viewport.toImage(screen);
    if (event.button === 2 && this.store.editable) return this.tool.contextClick?.(point);
    if (event.button !== 0) return;
    // Without the right to edit every tool only selects.
    const tool = this.store.editable ? this.tool : this.tools.select;
    if (tool.down(point, screen, modifiers(event))) {
      stage.setPointerCapture(event.pointerId);
      this.viewport.draftLayer.batchDraw();
    }
  }

  private pointerMove(event: PointerEvent): void {
    const screen = this.viewport.screenOf(event);
    const point = this.viewport.toImage(screen);
    this.updateCursor(point);
    if (this.panFrom) {
      this.viewport.panBy(screen.x - this.panFrom.x, screen.y - this.panFrom.y);
      this.panFrom = screen;
      return;
    }
    // The pointer says what a press would do; during a drag it keeps what it said at the start.
    if (!this.tool.drawing) this.viewport.container.style.cursor = this.tool.cursorAt?.(point, screen, modifiers(event)) ?? "";
    this.tool.move(point);
  }

  private pointerUp(event: PointerEvent): void {
    if (this.panFrom) {
      this.panFrom = null;
      (event.currentTarget as HTMLElement).classList.remove("panning");
      return;
    }
    this.tool.up(this.viewport.clamp(this.viewport.toImage(this.viewport.screenOf(event))));
  }

  // --- keyboard ----------------------------------------------------------------------------------

  private keyDown(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null;
    if (isTyping(target)) {
      if (event.key === "Escape") target?.blur();
      return;
    }
    if (this.panel.sheet.takes(event)) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const run = (action: () => void) => {
      event.preventDefault();
      action();
    };
    if (event.ctrlKey || event.metaKey) {
      if (key === "z") run(() => (event.shiftKey ? this.redo() : this.undo()));
      else if (key === "y") run(() => this.redo());
      else if (key === "s") run(() => void this.saver.save());
      return;
    }
    if (event.altKey) return;
    if (event.code === "Space") {
      event.preventDefault();
      this.spaceHeld = true;
      this.viewport.container.classList.add("panning");
      return;
    }
    const tool = TOOLS.find((t) => t.key === key);
    const verdict = VERDICTS.find((v) => v.key && v.key === key);
    const type = this.keys.byKey.get(key);
    if (tool) return run(() => this.setTool(tool.id));
    if (verdict) return run(() => this.setVerdict(verdict.id));
    if (type) return run(() => this.edited(this.store.pickDefectType(type.id)));
    switch (key) {
      case "Escape":
        if (this.panFrom || this.tool.drawing) this.cancelDraft();
        else this.select(null);
        return;
      case "Enter":
        if (this.tool.drawing && this.tool.finish) run(() => this.tool.finish?.());
        return;
      case "Delete":
      case "Backspace":
        return run(() => {
          if (this.tool.drawing && this.tool.takeBack) this.tool.takeBack();
          else if (!this.store.editable || this.tool.deletePart?.()) return;
          else if (this.store.deleteSelected()) this.edited(true);
        });
      case "?":
        return run(() => this.panel.sheet.toggle());
      case "[":
        return run(() => void this.go(this.config.previousUrl));
      case "]":
        return run(() => void this.go(this.config.nextUrl));
      case "-":
      case "_":
        return run(() => this.resizeBrush(1 / 1.25));
      case "=":
      case "+":
        return run(() => this.resizeBrush(1.25));
      case "f":
        return run(() => this.viewport.fit());
      case "h":
        return run(() => {
          this.showLabels = !this.showLabels;
          this.render();
        });
      case "x":
        return run(() => this.edited(this.store.togglePrecision()));
    }
  }
}

function modifiers(event: MouseEvent): Modifiers {
  return { alt: event.altKey };
}

function main(): void {
  const root = document.getElementById("annotator");
  const data = document.getElementById("annotator-config");
  if (!root || !data) return;
  const config = JSON.parse(data.textContent ?? "{}") as Config;
  void new Annotator(root, config).start();
}

main();
