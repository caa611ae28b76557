// The annotator page (/images/<id>/annotate/): verdict and regions of one image, keyboard first,
// saved automatically on top of the version it read (If-Match), never over someone else's labels.
import "./annotator.css";

import Konva from "konva";

import { ApiError, Conflict, getAnnotation, putAnnotation } from "./api";
import { type Point, type MaskCanvas, Viewport } from "./canvas";
import { el, kbd, swatch } from "./dom";
import { History } from "./history";
import { encodeAlpha, isEmpty } from "./rle";
import type {
  AnnotationOut,
  Config,
  DefectType,
  Kind,
  LabelState,
  MaskGeometry,
  Precision,
  Region,
  Verdict,
} from "./types";

type Tool = "select" | "box" | "polygon" | "brush" | "eraser" | "scribble" | "point";
type SaveState = "loading" | "saved" | "dirty" | "saving" | "conflict" | "error" | "readonly";

const TOOLS: { id: Tool; label: string; key: string; help: string }[] = [
  { id: "select", label: "Select", key: "v", help: "click a region to select it; Delete removes it" },
  { id: "box", label: "Box", key: "b", help: "drag a rectangle" },
  { id: "polygon", label: "Polygon", key: "p", help: "click the corners; Enter or double-click closes" },
  { id: "brush", label: "Brush", key: "r", help: "paint a mask (into the selected mask, else the defect type's)" },
  { id: "eraser", label: "Eraser", key: "e", help: "erase mask pixels (the selected mask's, else every mask's)" },
  { id: "scribble", label: "Scribble", key: "s", help: "drag a rough stroke as wide as the brush" },
  { id: "point", label: "Point", key: "o", help: "click a spot" },
];
const VERDICTS: { id: Verdict; label: string; key: string }[] = [
  { id: "normal", label: "Normal", key: "n" },
  { id: "defective", label: "Defective", key: "d" },
  { id: "unsure", label: "Unsure", key: "u" },
  { id: "unlabeled", label: "Unlabeled", key: "" },
];
const OTHER_KEYS: [string, string][] = [
  ["1 … 9", "pick a defect type (or its own key); changes the selected region's type too"],
  ["x", "rough / exact for new regions (and the selected one)"],
  ["Delete", "delete the selected region (while drawing a polygon: its last point)"],
  ["Esc", "stop drawing; clear the selection"],
  ["Ctrl+Z / Ctrl+Shift+Z", "undo / redo"],
  ["Ctrl+S", "save now (it also saves by itself)"],
  ["[ / ]", "previous / next image in the collection (saves first)"],
  ["- / =", "smaller / larger brush"],
  ["wheel", "zoom at the pointer"],
  ["Space+drag, middle drag", "pan"],
  ["f", "fit the image to the window"],
  ["h", "hide / show the labels"],
  ["?", "this sheet"],
];
const RESERVED = new Set([
  ...TOOLS.map((t) => t.key),
  ...VERDICTS.map((v) => v.key).filter(Boolean),
  "x", "f", "h", "?", "[", "]", "-", "=", "+", "_", " ",
]);
const NO_DEFECT_TYPE_COLOR = "#ff00ff";
const KIND_LABEL: Record<Kind, string> = {
  box: "Box",
  polygon: "Polygon",
  mask: "Mask",
  scribble: "Scribble",
  point: "Point",
};
const SAVE_DELAY_MS = 800;
const RETRY_DELAY_MS = 5000;

type Draft =
  | { kind: "box"; start: Point; shape: Konva.Rect }
  | { kind: "polygon"; points: Point[]; shape: Konva.Line }
  | { kind: "scribble"; points: Point[]; width: number; shape: Konva.Line }
  | { kind: "paint"; erase: boolean; targets: { key: number; mask: MaskCanvas; isNew: boolean }[]; last: Point; size: number }
  | { kind: "pan"; last: Point };

class Annotator {
  private readonly viewport: Viewport;
  private readonly history = new History<LabelState>({ verdict: "unlabeled", regions: [] });
  private readonly keys = new Map<string, DefectType>();
  private readonly keyOf = new Map<number, string>();
  private savedState: LabelState | null = null;
  private etag = "";
  private version = 0;
  private updatedBy: string | null = null;
  private nextKey = 1;
  private selected: number | null = null;
  private tool: Tool = "select";
  private defectType: number | null;
  private precision: Precision = "exact";
  private brushSize = 16;
  private showLabels = true;
  private draft: Draft | null = null;
  private spaceHeld = false;
  private conflict = false;
  private loaded = false;
  private saveTimer = 0;
  private inflight: Promise<boolean> | null = null;
  private lastError = "";
  private readonly cursor = new Konva.Circle({ radius: 8, stroke: "#fff", strokeWidth: 1, strokeScaleEnabled: false, visible: false, listening: false });

  // DOM
  private readonly status = el("span", { className: "save-status", attrs: { role: "status", "aria-live": "polite" } });
  private readonly banner = el("div", { className: "annotator-banner", attrs: { role: "alert" } });
  private readonly toolButtons = new Map<Tool, HTMLButtonElement>();
  private readonly verdictButtons = new Map<Verdict, HTMLButtonElement>();
  private readonly typeButtons = new Map<number | null, HTMLButtonElement>();
  private readonly regionList = el("ol", { className: "region-list" });
  private readonly regionCount = el("span", { className: "muted" });
  private readonly precisionButton = el("button", { className: "button", attrs: { type: "button", "data-action": "precision" } });
  private readonly brushLabel = el("span", { className: "muted small" });
  private readonly undoButton = el("button", { className: "button", text: "Undo", attrs: { type: "button", title: "Ctrl+Z" } });
  private readonly redoButton = el("button", { className: "button", text: "Redo", attrs: { type: "button", title: "Ctrl+Shift+Z" } });
  private readonly sheet = el("dialog", { className: "shortcut-sheet", attrs: { "aria-label": "Keyboard shortcuts" } });

  constructor(
    private readonly root: HTMLElement,
    private readonly config: Config,
  ) {
    this.defectType = config.defectTypes[0]?.id ?? null;
    this.assignKeys();
    const stage = el("div", { className: "annotator-stage", attrs: { tabindex: "0", "aria-label": "Image and its labels" } });
    root.replaceChildren(this.buildBar(), this.banner, el("div", { className: "annotator-body" }, this.buildRail(), stage, this.buildSide()), this.buildSheet());
    this.banner.hidden = true;
    this.viewport = new Viewport(stage, config.width, config.height);
    this.viewport.draftLayer.add(this.cursor);
    this.viewport.onView = () => this.drawShapes();
    this.listen(stage);
    this.render();
    if (!config.canEdit) {
      this.showBanner("info", `Read only: you are a ${config.role || "visitor"} in this project; annotators and above can change labels.`);
    }
  }

  // --- start -------------------------------------------------------------------------------------

  async start(): Promise<void> {
    const picture = new Image();
    picture.decoding = "async";
    picture.onload = () => this.viewport.setPicture(picture);
    picture.onerror = () => this.showBanner("error", "The image could not be loaded; the labels can still be edited.");
    picture.src = this.config.displayUrl;
    this.viewport.fit();
    try {
      const out = await getAnnotation(this.config.annotationUrl);
      this.loaded = true;
      this.apply(out);
    } catch (error) {
      this.setStatus("error", `The labels could not be loaded: ${(error as Error).message}`);
    }
  }

  private apply(out: AnnotationOut): void {
    const state: LabelState = {
      verdict: out.verdict,
      regions: out.regions.map((r) => ({
        key: this.nextKey++,
        kind: r.kind,
        geometry: r.geometry,
        precision: r.precision,
        defect_type: r.defect_type,
      })),
    };
    this.etag = out.etag;
    this.version = out.version;
    this.updatedBy = out.updated_by;
    this.history.reset(state);
    this.savedState = state;
    this.selected = null;
    this.cancelDraft();
    this.render();
  }

  // --- state -------------------------------------------------------------------------------------

  private get state(): LabelState {
    return this.history.current;
  }

  private get editable(): boolean {
    return this.config.canEdit && this.loaded && !this.conflict;
  }

  private get dirty(): boolean {
    return this.savedState !== null && this.state !== this.savedState;
  }

  private commit(next: LabelState): void {
    if (!this.editable || next === this.state) return;
    this.history.push(next);
    if (this.selected !== null && !next.regions.some((r) => r.key === this.selected)) this.selected = null;
    this.render();
    this.scheduleSave();
  }

  private addRegion(kind: Kind, geometry: Region["geometry"], key = this.nextKey++): void {
    const region: Region = { key, kind, geometry, precision: kind === "scribble" ? "rough" : this.precision, defect_type: this.defectType };
    // A region says the image has a defect: an unlabeled image becomes defective.
    const verdict = this.state.verdict === "unlabeled" ? "defective" : this.state.verdict;
    this.commit({ verdict, regions: [...this.state.regions, region] });
    this.selected = key;
    this.render();
  }

  private updateRegion(key: number, change: Partial<Region>): void {
    this.commit({ ...this.state, regions: this.state.regions.map((r) => (r.key === key ? { ...r, ...change } : r)) });
  }

  private deleteSelected(): void {
    if (this.selected === null) return;
    const key = this.selected;
    this.commit({ ...this.state, regions: this.state.regions.filter((r) => r.key !== key) });
  }

  private setVerdict(verdict: Verdict): void {
    if (!this.editable) return this.readOnlyHint();
    this.commit({ ...this.state, verdict });
  }

  private pickDefectType(id: number | null): void {
    this.defectType = id;
    const region = this.selectedRegion();
    if (region && this.editable && region.defect_type !== id) this.updateRegion(region.key, { defect_type: id });
    this.render();
  }

  private togglePrecision(): void {
    this.precision = this.precision === "exact" ? "rough" : "exact";
    const region = this.selectedRegion();
    if (region && this.editable) this.updateRegion(region.key, { precision: this.precision });
    this.render();
  }

  private selectedRegion(): Region | undefined {
    return this.state.regions.find((r) => r.key === this.selected);
  }

  private select(key: number | null): void {
    this.selected = key;
    const region = this.selectedRegion();
    if (region) {
      this.precision = region.precision;
      this.defectType = region.defect_type;
    }
    this.render();
  }

  private undo(): void {
    if (!this.editable) return;
    this.cancelDraft();
    if (this.history.undo()) this.afterHistory();
  }

  private redo(): void {
    if (!this.editable) return;
    this.cancelDraft();
    if (this.history.redo()) this.afterHistory();
  }

  private afterHistory(): void {
    if (this.selected !== null && !this.state.regions.some((r) => r.key === this.selected)) this.selected = null;
    this.render();
    this.scheduleSave();
  }

  private colorOf(defectType: number | null): string {
    return this.config.defectTypes.find((d) => d.id === defectType)?.color ?? NO_DEFECT_TYPE_COLOR;
  }

  private typeName(defectType: number | null): string {
    return this.config.defectTypes.find((d) => d.id === defectType)?.name ?? "no defect type";
  }

  private assignKeys(): void {
    const taken = new Set<string>();
    for (const type of this.config.defectTypes) {
      const key = type.hotkey.toLowerCase();
      if (key && !RESERVED.has(key) && !taken.has(key)) {
        this.keys.set(key, type);
        this.keyOf.set(type.id, key);
        taken.add(key);
      }
    }
    let digit = 1;
    for (const type of this.config.defectTypes) {
      if (this.keyOf.has(type.id)) continue;
      while (digit <= 9 && taken.has(String(digit))) digit++;
      if (digit > 9) break;
      this.keys.set(String(digit), type);
      this.keyOf.set(type.id, String(digit));
      taken.add(String(digit));
    }
  }

  // --- saving ------------------------------------------------------------------------------------

  private scheduleSave(delay = SAVE_DELAY_MS): void {
    window.clearTimeout(this.saveTimer);
    this.setStatus();
    if (this.dirty && !this.conflict) this.saveTimer = window.setTimeout(() => void this.save(), delay);
  }

  /** Save what is unsaved; true once everything is saved. Edits made meanwhile are saved after. */
  async save(): Promise<boolean> {
    window.clearTimeout(this.saveTimer);
    if (this.inflight) {
      await this.inflight;
      return this.save();
    }
    if (this.conflict) return false;
    if (!this.dirty) return true;
    this.inflight = this.put();
    try {
      return await this.inflight;
    } finally {
      this.inflight = null;
      this.setStatus();
    }
  }

  private async put(): Promise<boolean> {
    const state = this.state;
    this.lastError = "";
    this.setStatus("saving");
    try {
      const out = await putAnnotation(this.config.annotationUrl, this.etag, state);
      this.etag = out.etag;
      this.version = out.version;
      this.updatedBy = out.updated_by;
      this.savedState = state;
    } catch (error) {
      if (error instanceof Conflict) {
        await this.onConflict(error);
        return false;
      }
      const failure = error as ApiError;
      this.lastError = failure.message;
      this.setStatus("error");
      // Not reachable or a server error: try again by itself; a refusal waits for the next edit.
      if (failure.status === 0 || failure.status >= 500) this.saveTimer = window.setTimeout(() => void this.save(), RETRY_DELAY_MS);
      return false;
    }
    return this.dirty ? this.put() : true;
  }

  private async onConflict(error: Conflict): Promise<void> {
    this.conflict = true;
    this.cancelDraft();
    this.setStatus("conflict");
    let who = "";
    try {
      const theirs = await getAnnotation(this.config.annotationUrl);
      who = theirs.updated_by ? ` by ${theirs.updated_by}` : "";
      this.showBanner(
        "conflict",
        `Someone else saved these labels (version ${theirs.version}${who}) after you opened them. ` +
          "Your latest changes were NOT saved and nothing of theirs was overwritten.",
        { label: "Reload theirs", action: () => this.reloadTheirs() },
      );
    } catch {
      this.showBanner("conflict", `Someone else saved these labels (version ${error.currentVersion}) after you opened them; your latest changes were not saved.`, {
        label: "Reload theirs",
        action: () => this.reloadTheirs(),
      });
    }
    this.render();
  }

  private async reloadTheirs(): Promise<void> {
    try {
      const theirs = await getAnnotation(this.config.annotationUrl);
      this.conflict = false;
      this.hideBanner();
      this.apply(theirs);
      this.setStatus();
    } catch (error) {
      this.showBanner("conflict", `Their labels could not be loaded: ${(error as Error).message}`, {
        label: "Try again",
        action: () => this.reloadTheirs(),
      });
    }
  }

  private async go(url: string | null): Promise<void> {
    if (!url) return;
    if (!this.config.canEdit || (await this.save())) window.location.assign(url);
  }

  private setStatus(state?: SaveState, message?: string): void {
    let value: SaveState;
    if (state) value = state;
    else if (!this.config.canEdit) value = "readonly";
    else if (this.conflict) value = "conflict";
    else if (!this.loaded) value = "loading";
    else if (this.inflight) value = "saving";
    else if (this.lastError) value = "error";
    else value = this.dirty ? "dirty" : "saved";
    const text: Record<SaveState, string> = {
      loading: "Loading…",
      saved: `Saved · version ${this.version}${this.updatedBy ? ` by ${this.updatedBy}` : ""}`,
      dirty: "Unsaved changes…",
      saving: "Saving…",
      conflict: "Not saved: conflict",
      error: `Not saved: ${this.lastError}`,
      readonly: `Read only · version ${this.version}`,
    };
    this.root.dataset.saveState = value;
    this.root.dataset.version = String(this.version);
    this.status.textContent = message ?? text[value];
    this.status.className = `save-status save-${value}`;
  }

  // --- banners and the shortcut sheet -------------------------------------------------------------

  private showBanner(kind: string, text: string, button?: { label: string; action: () => void }): void {
    this.banner.className = `annotator-banner banner-${kind}`;
    this.banner.replaceChildren(el("span", { text }));
    if (button) {
      this.banner.append(el("button", { className: "button primary", text: button.label, attrs: { type: "button" }, onClick: button.action }));
    }
    this.banner.hidden = false;
  }

  private hideBanner(): void {
    this.banner.hidden = true;
    this.banner.replaceChildren();
  }

  private readOnlyHint(): void {
    if (this.conflict) return;
    if (!this.config.canEdit) this.status.textContent = "Read only: your role cannot change labels";
  }

  private toggleSheet(): void {
    if (this.sheet.open) this.sheet.close();
    else this.sheet.showModal();
  }

  // --- the DOM -----------------------------------------------------------------------------------

  private buildBar(): HTMLElement {
    const verdicts = el("div", { className: "button-group", attrs: { role: "group", "aria-label": "Verdict" } });
    for (const verdict of VERDICTS) {
      const button = el(
        "button",
        { className: `button verdict-button verdict-${verdict.id}`, attrs: { type: "button", "aria-pressed": "false" }, dataset: { verdict: verdict.id }, onClick: () => this.setVerdict(verdict.id) },
        verdict.label,
        verdict.key ? kbd(verdict.key.toUpperCase()) : null,
      );
      this.verdictButtons.set(verdict.id, button);
      verdicts.append(button);
    }
    this.undoButton.addEventListener("click", () => this.undo());
    this.redoButton.addEventListener("click", () => this.redo());
    const navigation = el("div", { className: "button-group" });
    navigation.append(
      this.navButton("← Previous", "[", this.config.previousUrl, "prev"),
      this.navButton("Next →", "]", this.config.nextUrl, "next"),
    );
    return el(
      "div",
      { className: "annotator-bar" },
      verdicts,
      el("div", { className: "button-group" }, this.undoButton, this.redoButton),
      el("button", { className: "button", text: "Fit", title: "F", attrs: { type: "button" }, onClick: () => this.viewport.fit() }),
      this.status,
      el("span", { className: "bar-gap" }),
      el("a", { className: "button subtle", text: "Image page", attrs: { href: this.config.imageUrl } }),
      navigation,
      el("button", { className: "button", text: "?", title: "Keyboard shortcuts", attrs: { type: "button", "aria-label": "Keyboard shortcuts" }, onClick: () => this.toggleSheet() }),
    );
  }

  private navButton(label: string, key: string, url: string | null, rel: string): HTMLElement {
    if (!url) return el("span", { className: "button disabled", text: label });
    const link = el("a", { className: "button", text: label, title: key, attrs: { href: url, rel } });
    link.addEventListener("click", (event) => {
      event.preventDefault();
      void this.go(url);
    });
    return link;
  }

  private buildRail(): HTMLElement {
    const rail = el("div", { className: "tool-rail", attrs: { role: "toolbar", "aria-label": "Tools", "aria-orientation": "vertical" } });
    for (const tool of TOOLS) {
      const button = el(
        "button",
        { className: "tool-button", title: `${tool.label} (${tool.key.toUpperCase()}): ${tool.help}`, attrs: { type: "button", "aria-pressed": "false" }, dataset: { tool: tool.id }, onClick: () => this.setTool(tool.id) },
        el("span", { text: tool.label }),
        kbd(tool.key.toUpperCase()),
      );
      this.toolButtons.set(tool.id, button);
      rail.append(button);
    }
    return rail;
  }

  private buildSide(): HTMLElement {
    const types = el("div", { className: "type-picker", attrs: { role: "group", "aria-label": "Defect type" } });
    const entries: (DefectType | null)[] = [...this.config.defectTypes, null];
    for (const type of entries) {
      const id = type?.id ?? null;
      const key = type ? this.keyOf.get(type.id) : undefined;
      const button = el(
        "button",
        { className: "type-button", attrs: { type: "button", "aria-pressed": "false" }, dataset: { defectType: String(id ?? "") }, onClick: () => this.pickDefectType(id) },
        swatch(type?.color ?? NO_DEFECT_TYPE_COLOR),
        el("span", { className: "type-name", text: type?.name ?? "No defect type" }),
        key ? kbd(key) : null,
      );
      this.typeButtons.set(id, button);
      types.append(button);
    }
    if (this.config.defectTypes.length === 0) types.prepend(el("p", { className: "muted small", text: "This collection has no defect types yet." }));

    this.precisionButton.addEventListener("click", () => this.togglePrecision());
    const brush = el("input", { attrs: { type: "range", min: "2", max: "120", value: String(this.brushSize), "aria-label": "Brush size" } });
    brush.addEventListener("input", () => {
      this.brushSize = Number(brush.value);
      this.render();
    });
    brush.addEventListener("change", () => brush.blur());
    this.brushInput = brush;
    return el(
      "aside",
      { className: "annotator-side" },
      el("section", {}, el("h2", { text: "Defect type" }), types),
      el("section", {}, el("h2", { text: "Precision" }), this.precisionButton),
      el("section", {}, el("h2", { text: "Brush" }), brush, this.brushLabel),
      el("section", { className: "regions-section" }, el("h2", {}, "Regions ", this.regionCount), this.regionList),
    );
  }

  private brushInput: HTMLInputElement | null = null;

  private buildSheet(): HTMLElement {
    const table = el("table", { className: "table compact" });
    const row = (key: string, what: string) => table.append(el("tr", {}, el("td", {}, kbd(key)), el("td", { text: what })));
    for (const tool of TOOLS) row(tool.key.toUpperCase(), `${tool.label}: ${tool.help}`);
    for (const verdict of VERDICTS) if (verdict.key) row(verdict.key.toUpperCase(), `verdict ${verdict.label.toLowerCase()}`);
    for (const [key, what] of OTHER_KEYS) row(key, what);
    for (const type of this.config.defectTypes) {
      const key = this.keyOf.get(type.id);
      if (key) row(key, `defect type “${type.name}”`);
    }
    const close = el("button", { className: "button", text: "Close", attrs: { type: "button" }, onClick: () => this.sheet.close() });
    this.sheet.append(el("h2", { text: "Keyboard shortcuts" }), table, close);
    return this.sheet;
  }

  private setTool(tool: Tool): void {
    if (tool !== "select" && !this.editable) {
      this.readOnlyHint();
      return;
    }
    if (this.draft?.kind === "polygon" && tool !== "polygon") this.finishPolygon();
    this.cancelDraft();
    this.tool = tool;
    this.render();
  }

  private render(): void {
    const state = this.state;
    for (const [tool, button] of this.toolButtons) {
      button.setAttribute("aria-pressed", String(tool === this.tool));
      button.disabled = tool !== "select" && !this.editable;
    }
    for (const [verdict, button] of this.verdictButtons) {
      button.setAttribute("aria-pressed", String(verdict === state.verdict));
      button.disabled = !this.editable;
    }
    for (const [id, button] of this.typeButtons) button.setAttribute("aria-pressed", String(id === this.defectType));
    this.precisionButton.textContent = "";
    this.precisionButton.append(this.precision === "exact" ? "Exact" : "Rough", " ", kbd("X"));
    this.precisionButton.dataset.precision = this.precision;
    this.brushLabel.textContent = `${this.brushSize} px on screen (-/=)`;
    if (this.brushInput) this.brushInput.value = String(this.brushSize);
    this.undoButton.disabled = !this.editable || !this.history.canUndo;
    this.redoButton.disabled = !this.editable || !this.history.canRedo;
    this.root.dataset.tool = this.tool;
    this.root.dataset.regions = String(state.regions.length);
    this.renderRegionList();

    const masks = state.regions.filter((r) => r.kind === "mask");
    for (const region of masks) this.viewport.mask(region.key, region.geometry as MaskGeometry, this.colorOf(region.defect_type));
    const painting = this.draft?.kind === "paint" ? this.draft.targets.filter((t) => t.isNew).map((t) => t.key) : [];
    this.viewport.showMasks([...masks.map((r) => r.key), ...painting], this.showLabels);
    this.drawShapes();
    this.setStatus();
  }

  private drawShapes(): void {
    this.viewport.drawRegions(this.showLabels ? this.state.regions : [], (r) => this.colorOf(r.defect_type), this.selected);
    this.updateCursor(null);
  }

  private renderRegionList(): void {
    const regions = this.state.regions;
    this.regionCount.textContent = `(${regions.length})`;
    const items = regions.map((region, index) => {
      const button = el(
        "button",
        { className: "region-item", attrs: { type: "button", "aria-pressed": String(region.key === this.selected) }, dataset: { kind: region.kind }, onClick: () => this.select(region.key) },
        el("span", { className: "region-number", text: `#${index + 1}` }),
        swatch(this.colorOf(region.defect_type)),
        el("span", { className: "region-kind", text: KIND_LABEL[region.kind] }),
        el("span", { className: "region-type", text: this.typeName(region.defect_type) }),
        el("span", { className: `badge precision-${region.precision}`, text: region.precision }),
      );
      return el("li", {}, button);
    });
    if (items.length === 0) items.push(el("li", { className: "muted small", text: "No regions yet: pick a tool (B, P, R, S, O) and draw." }));
    this.regionList.replaceChildren(...items);
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
      if (this.draft?.kind === "polygon") this.finishPolygon();
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
      if (this.config.canEdit && !this.conflict && (this.dirty || this.inflight)) event.preventDefault();
    });
    window.addEventListener("pagehide", () => {
      // Leaving anyway with unsaved edits: one last try that outlives the page.
      if (this.config.canEdit && !this.conflict && this.dirty && !this.inflight) {
        void putAnnotation(this.config.annotationUrl, this.etag, this.state, true).catch(() => undefined);
      }
    });
  }

  private pointerDown(event: PointerEvent, stage: HTMLElement): void {
    stage.focus({ preventScroll: true });
    const screen = this.viewport.screenOf(event);
    if (event.button === 1 || (event.button === 0 && this.spaceHeld)) {
      event.preventDefault();
      this.cancelDraft();
      this.draft = { kind: "pan", last: screen };
      stage.setPointerCapture(event.pointerId);
      stage.classList.add("panning");
      return;
    }
    if (event.button !== 0) return;
    const point = this.viewport.toImage(screen);
    if (this.tool === "select" || !this.editable) {
      this.select(this.viewport.regionAt(screen) ?? this.maskAt(point));
      return;
    }
    switch (this.tool) {
      case "box": {
        if (!this.viewport.inside(point)) return;
        const shape = new Konva.Rect({ ...point, width: 0, height: 0, ...this.draftStyle() });
        this.viewport.draftLayer.add(shape);
        this.draft = { kind: "box", start: point, shape };
        break;
      }
      case "polygon": {
        const p = this.viewport.clamp(point);
        if (this.draft?.kind === "polygon") {
          const points = this.draft.points;
          const near = (q: Point) => Math.hypot(q.x - p.x, q.y - p.y) * this.viewport.scale < 6;
          if (points.length >= 3 && near(points[0])) return this.finishPolygon();
          if (near(points[points.length - 1])) return; // the second click of a double-click
          points.push(p);
        } else {
          if (!this.viewport.inside(point)) return;
          const shape = new Konva.Line({ points: [], ...this.draftStyle() });
          this.viewport.draftLayer.add(shape);
          this.draft = { kind: "polygon", points: [p], shape };
        }
        this.drawPolygonDraft(p);
        return; // a polygon is clicked, not dragged: no capture
      }
      case "scribble": {
        if (!this.viewport.inside(point)) return;
        const width = Math.max(1, this.brushSize / this.viewport.scale);
        const shape = new Konva.Line({ points: [point.x, point.y, point.x, point.y], stroke: this.colorOf(this.defectType), strokeWidth: width, lineCap: "round", lineJoin: "round", opacity: 0.65 });
        this.viewport.draftLayer.add(shape);
        this.draft = { kind: "scribble", points: [point], width, shape };
        break;
      }
      case "point":
        if (this.viewport.inside(point)) this.addRegion("point", { x: point.x, y: point.y });
        return;
      case "brush":
      case "eraser":
        if (!this.startPaint(point, this.tool === "eraser")) return;
        break;
    }
    stage.setPointerCapture(event.pointerId);
    this.viewport.draftLayer.batchDraw();
  }

  private pointerMove(event: PointerEvent): void {
    const screen = this.viewport.screenOf(event);
    const point = this.viewport.toImage(screen);
    this.updateCursor(point);
    const draft = this.draft;
    if (!draft) return;
    switch (draft.kind) {
      case "pan":
        this.viewport.panBy(screen.x - draft.last.x, screen.y - draft.last.y);
        draft.last = screen;
        return;
      case "box": {
        const end = this.viewport.clamp(point);
        draft.shape.setAttrs({
          x: Math.min(draft.start.x, end.x),
          y: Math.min(draft.start.y, end.y),
          width: Math.abs(end.x - draft.start.x),
          height: Math.abs(end.y - draft.start.y),
        });
        break;
      }
      case "polygon":
        this.drawPolygonDraft(this.viewport.clamp(point));
        return;
      case "scribble": {
        const p = this.viewport.clamp(point);
        const last = draft.points[draft.points.length - 1];
        if (Math.hypot(p.x - last.x, p.y - last.y) * this.viewport.scale < 2) return;
        draft.points.push(p);
        draft.shape.points(draft.points.flatMap((q) => [q.x, q.y]));
        break;
      }
      case "paint":
        this.paint(draft.last, point);
        draft.last = point;
        return;
    }
    this.viewport.draftLayer.batchDraw();
  }

  private pointerUp(event: PointerEvent): void {
    const draft = this.draft;
    if (!draft) return;
    const point = this.viewport.clamp(this.viewport.toImage(this.viewport.screenOf(event)));
    switch (draft.kind) {
      case "pan":
        this.draft = null;
        (event.currentTarget as HTMLElement).classList.remove("panning");
        return;
      case "box": {
        this.cancelDraft();
        const x = Math.min(draft.start.x, point.x);
        const y = Math.min(draft.start.y, point.y);
        const width = Math.abs(point.x - draft.start.x);
        const height = Math.abs(point.y - draft.start.y);
        // A click without a drag is not a box.
        if (width * this.viewport.scale >= 3 && height * this.viewport.scale >= 3) this.addRegion("box", { x, y, width, height });
        return;
      }
      case "scribble": {
        this.cancelDraft();
        const points = draft.points.map((p) => [p.x, p.y] as [number, number]);
        if (points.length === 1) points.push([Math.min(this.config.width, points[0][0] + 0.5), points[0][1]]);
        this.addRegion("scribble", { points, width: draft.width });
        return;
      }
      case "paint":
        this.finishPaint(draft);
        return;
      default:
        return;
    }
  }

  private draftStyle(): Konva.ShapeConfig {
    const color = this.colorOf(this.defectType);
    return { stroke: color, strokeWidth: 2, strokeScaleEnabled: false, dash: [5, 4], fill: "rgba(255, 255, 255, 0.08)" };
  }

  private drawPolygonDraft(pointer: Point): void {
    if (this.draft?.kind !== "polygon") return;
    const points = [...this.draft.points, pointer];
    this.draft.shape.points(points.flatMap((p) => [p.x, p.y]));
    this.draft.shape.closed(points.length >= 3);
    this.viewport.draftLayer.batchDraw();
  }

  private finishPolygon(): void {
    if (this.draft?.kind !== "polygon") return;
    const points = this.draft.points.map((p) => [p.x, p.y] as [number, number]);
    this.cancelDraft();
    if (points.length >= 3) this.addRegion("polygon", { points });
    else this.status.textContent = "A polygon needs at least 3 points";
  }

  private cancelDraft(): void {
    const draft = this.draft;
    this.draft = null;
    if (!draft) return;
    if ("shape" in draft) draft.shape.destroy();
    if (draft.kind === "paint") {
      // An unfinished stroke: put the masks back as they were.
      for (const target of draft.targets) {
        target.mask.redraw();
      }
      this.render();
    }
    this.viewport.draftLayer.batchDraw();
  }

  private updateCursor(point: Point | null): void {
    const painting = this.tool === "brush" || this.tool === "eraser" || this.tool === "scribble";
    if (!point || !painting || !this.editable) {
      if (this.cursor.visible()) {
        this.cursor.visible(false);
        this.viewport.draftLayer.batchDraw();
      }
      return;
    }
    this.cursor.setAttrs({ x: point.x, y: point.y, radius: this.brushSize / 2 / this.viewport.scale, visible: true, stroke: this.tool === "eraser" ? "#ffffff" : this.colorOf(this.defectType) });
    this.viewport.draftLayer.batchDraw();
  }

  // --- masks -------------------------------------------------------------------------------------

  private maskAt(point: Point): number | null {
    const masks = this.state.regions.filter((r) => r.kind === "mask");
    for (let i = masks.length - 1; i >= 0; i--) {
      if (this.viewport.maskAt(masks[i].key)?.contains(point)) return masks[i].key;
    }
    return null;
  }

  private startPaint(point: Point, erase: boolean): boolean {
    const selected = this.selectedRegion();
    const masks = this.state.regions.filter((r) => r.kind === "mask");
    let targets: { key: number; mask: MaskCanvas; isNew: boolean }[];
    if (erase) {
      const from = selected?.kind === "mask" ? [selected] : masks;
      targets = from.map((r) => ({ key: r.key, mask: this.viewport.maskAt(r.key)!, isNew: false })).filter((t) => t.mask);
      if (targets.length === 0) {
        this.status.textContent = "Nothing to erase: the eraser works on masks";
        return false;
      }
    } else {
      // Paint into the selected mask, else this defect type's latest mask, else a new one.
      const into = selected?.kind === "mask" ? selected : [...masks].reverse().find((r) => r.defect_type === this.defectType);
      if (into) targets = [{ key: into.key, mask: this.viewport.maskAt(into.key)!, isNew: false }];
      else {
        const key = this.nextKey++;
        targets = [{ key, mask: this.viewport.mask(key, null, this.colorOf(this.defectType)), isNew: true }];
      }
    }
    const size = Math.max(1, this.brushSize / this.viewport.scale);
    this.draft = { kind: "paint", erase, targets, last: point, size };
    this.render();
    this.paint(point, point);
    return true;
  }

  private paint(from: Point, to: Point): void {
    if (this.draft?.kind !== "paint") return;
    const { erase, size } = this.draft;
    for (const { mask } of this.draft.targets) {
      const context = mask.context;
      context.save();
      context.globalCompositeOperation = erase ? "destination-out" : "source-over";
      context.strokeStyle = context.fillStyle = mask.color;
      context.lineWidth = size;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.beginPath();
      context.moveTo(from.x, from.y);
      context.lineTo(to.x + (from.x === to.x && from.y === to.y ? 0.01 : 0), to.y);
      context.stroke();
      context.restore();
    }
    this.viewport.drawMasks();
  }

  private finishPaint(draft: Extract<Draft, { kind: "paint" }>): void {
    this.draft = null;
    let regions = [...this.state.regions];
    let added: number | null = null;
    for (const target of draft.targets) {
      const geometry = encodeAlpha(target.mask.pixels(), this.config.width, this.config.height);
      const empty = isEmpty(geometry);
      if (target.isNew) {
        if (!empty) {
          regions.push({ key: target.key, kind: "mask", geometry, precision: this.precision, defect_type: this.defectType });
          added = target.key;
        }
      } else if (empty) {
        regions = regions.filter((r) => r.key !== target.key);
      } else {
        regions = regions.map((r) => (r.key === target.key ? { ...r, geometry } : r));
      }
    }
    const verdict = added !== null && this.state.verdict === "unlabeled" ? "defective" : this.state.verdict;
    this.commit({ verdict, regions });
    if (added !== null) this.selected = null;
    this.render();
  }

  // --- keyboard ----------------------------------------------------------------------------------

  private keyDown(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null;
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (this.sheet.open) {
      if (event.key === "?") {
        event.preventDefault();
        this.sheet.close();
      }
      return;
    }
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (event.ctrlKey || event.metaKey) {
      if (key === "z") this.runKey(event, () => (event.shiftKey ? this.redo() : this.undo()));
      else if (key === "y") this.runKey(event, () => this.redo());
      else if (key === "s") this.runKey(event, () => void this.save());
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
    const type = this.keys.get(key);
    if (tool) return this.runKey(event, () => this.setTool(tool.id));
    if (verdict) return this.runKey(event, () => this.setVerdict(verdict.id));
    if (type) return this.runKey(event, () => this.pickDefectType(type.id));
    switch (key) {
      case "Escape":
        if (this.draft) this.cancelDraft();
        else this.select(null);
        return;
      case "Enter":
        if (this.draft?.kind === "polygon") this.runKey(event, () => this.finishPolygon());
        return;
      case "Delete":
      case "Backspace":
        return this.runKey(event, () => {
          if (this.draft?.kind === "polygon") {
            this.draft.points.pop();
            if (this.draft.points.length === 0) this.cancelDraft();
            else this.drawPolygonDraft(this.draft.points[this.draft.points.length - 1]);
          } else if (this.editable) this.deleteSelected();
        });
      case "?":
        return this.runKey(event, () => this.toggleSheet());
      case "[":
        return this.runKey(event, () => void this.go(this.config.previousUrl));
      case "]":
        return this.runKey(event, () => void this.go(this.config.nextUrl));
      case "-":
      case "_":
        return this.runKey(event, () => this.resizeBrush(1 / 1.25));
      case "=":
      case "+":
        return this.runKey(event, () => this.resizeBrush(1.25));
      case "f":
        return this.runKey(event, () => this.viewport.fit());
      case "h":
        return this.runKey(event, () => {
          this.showLabels = !this.showLabels;
          this.render();
        });
      case "x":
        return this.runKey(event, () => this.togglePrecision());
    }
  }

  private runKey(event: KeyboardEvent, action: () => void): void {
    event.preventDefault();
    action();
  }

  private resizeBrush(factor: number): void {
    this.brushSize = Math.round(Math.min(120, Math.max(2, this.brushSize * factor + (factor > 1 ? 1 : -1))));
    this.render();
  }
}

function main(): void {
  const root = document.getElementById("annotator");
  const data = document.getElementById("annotator-config");
  if (!root || !data) return;
  const config = JSON.parse(data.textContent ?? "{}") as Config;
  const annotator = new Annotator(root, config);
  void annotator.start();
}

main();
