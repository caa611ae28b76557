// The annotator's controls around the stage: the bar (verdicts, undo, navigation, save status), the
// tool rail, the side panel (defect types, precision, brush, regions), banners and the shortcut sheet.
// Buttons call the page's actions; render() shows the store's state on them.
import type { DefectColors } from "../colors";
import { el, kbd, swatch } from "../dom";
import { ShortcutSheet } from "../shortcuts";
import type { Config, DefectType, Kind, Verdict } from "../types";
import { shortcutRows, type ToolId, TOOLS, type TypeKeys, VERDICTS } from "./keys";
import type { LabelStore } from "./store";

const KIND_LABEL: Record<Kind, string> = {
  box: "Box",
  polygon: "Polygon",
  mask: "Mask",
  scribble: "Scribble",
  point: "Point",
};

export interface PanelActions {
  setVerdict(verdict: Verdict): void;
  undo(): void;
  redo(): void;
  fit(): void;
  go(url: string): void;
  setTool(tool: ToolId): void;
  pickDefectType(id: number | null): void;
  togglePrecision(): void;
  setBrush(size: number): void;
  select(key: number): void;
}

export class Panel {
  readonly status = el("span", { className: "save-status", attrs: { role: "status", "aria-live": "polite" } });
  readonly sheet: ShortcutSheet;
  private readonly banner = el("div", { className: "annotator-banner", attrs: { role: "alert" } });
  private readonly toolButtons = new Map<ToolId, HTMLButtonElement>();
  private readonly verdictButtons = new Map<Verdict, HTMLButtonElement>();
  private readonly typeButtons = new Map<number | null, HTMLButtonElement>();
  private readonly regionList = el("ol", { className: "region-list" });
  private readonly regionCount = el("span", { className: "muted" });
  private readonly precisionButton = el("button", { className: "button", attrs: { type: "button", "data-action": "precision" } });
  private readonly brushLabel = el("span", { className: "muted small" });
  private readonly brushInput = el("input", { attrs: { type: "range", min: "2", max: "120", "aria-label": "Brush size" } });
  private readonly undoButton = el("button", { className: "button", text: "Undo", attrs: { type: "button", title: "Ctrl+Z" } });
  private readonly redoButton = el("button", { className: "button", text: "Redo", attrs: { type: "button", title: "Ctrl+Shift+Z" } });

  constructor(
    private readonly config: Config,
    private readonly keys: TypeKeys,
    private readonly colors: DefectColors,
    private readonly actions: PanelActions,
  ) {
    this.sheet = new ShortcutSheet(shortcutRows(config.defectTypes, keys), "table compact");
  }

  /** Fill `root`: the bar, the banner, the rail, `stage` and the side panel, and the sheet. */
  mount(root: HTMLElement, stage: HTMLElement): void {
    root.replaceChildren(this.buildBar(), this.banner, el("div", { className: "annotator-body" }, this.buildRail(), stage, this.buildSide()), this.sheet.dialog);
    this.banner.hidden = true;
  }

  showBanner(kind: string, text: string, button?: { label: string; action: () => void }): void {
    this.banner.className = `annotator-banner banner-${kind}`;
    this.banner.replaceChildren(el("span", { text }));
    if (button) {
      this.banner.append(el("button", { className: "button primary", text: button.label, attrs: { type: "button" }, onClick: button.action }));
    }
    this.banner.hidden = false;
  }

  hideBanner(): void {
    this.banner.hidden = true;
    this.banner.replaceChildren();
  }

  render(store: LabelStore, tool: ToolId, brushSize: number): void {
    const editable = store.editable;
    for (const [id, button] of this.toolButtons) {
      button.setAttribute("aria-pressed", String(id === tool));
      button.disabled = id !== "select" && !editable;
    }
    for (const [verdict, button] of this.verdictButtons) {
      button.setAttribute("aria-pressed", String(verdict === store.state.verdict));
      button.disabled = !editable;
    }
    for (const [id, button] of this.typeButtons) button.setAttribute("aria-pressed", String(id === store.defectType));
    this.precisionButton.textContent = "";
    this.precisionButton.append(store.precision === "exact" ? "Exact" : "Rough", " ", kbd("X"));
    this.precisionButton.dataset.precision = store.precision;
    this.brushLabel.textContent = `${brushSize} px on screen (-/=)`;
    this.brushInput.value = String(brushSize);
    this.undoButton.disabled = !editable || !store.canUndo;
    this.redoButton.disabled = !editable || !store.canRedo;
    this.renderRegionList(store);
  }

  private renderRegionList(store: LabelStore): void {
    const regions = store.state.regions;
    this.regionCount.textContent = `(${regions.length})`;
    const items = regions.map((region, index) => {
      const button = el(
        "button",
        { className: "region-item", attrs: { type: "button", "aria-pressed": String(region.key === store.selected) }, dataset: { kind: region.kind }, onClick: () => this.actions.select(region.key) },
        el("span", { className: "region-number", text: `#${index + 1}` }),
        swatch(this.colors.colorOf(region.defect_type)),
        el("span", { className: "region-kind", text: KIND_LABEL[region.kind] }),
        el("span", { className: "region-type", text: this.colors.nameOf(region.defect_type) }),
        el("span", { className: `badge precision-${region.precision}`, text: region.precision }),
      );
      return el("li", {}, button);
    });
    if (items.length === 0) items.push(el("li", { className: "muted small", text: "No regions yet: pick a tool (B, P, R, S, O) and draw." }));
    this.regionList.replaceChildren(...items);
  }

  private buildBar(): HTMLElement {
    const verdicts = el("div", { className: "button-group", attrs: { role: "group", "aria-label": "Verdict" } });
    for (const verdict of VERDICTS) {
      const button = el(
        "button",
        { className: `button verdict-button verdict-${verdict.id}`, attrs: { type: "button", "aria-pressed": "false" }, dataset: { verdict: verdict.id }, onClick: () => this.actions.setVerdict(verdict.id) },
        verdict.label,
        verdict.key ? kbd(verdict.key.toUpperCase()) : null,
      );
      this.verdictButtons.set(verdict.id, button);
      verdicts.append(button);
    }
    this.undoButton.addEventListener("click", () => this.actions.undo());
    this.redoButton.addEventListener("click", () => this.actions.redo());
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
      el("button", { className: "button", text: "Fit", title: "F", attrs: { type: "button" }, onClick: () => this.actions.fit() }),
      this.status,
      el("span", { className: "bar-gap" }),
      el("a", { className: "button subtle", text: "Image page", attrs: { href: this.config.imageUrl } }),
      navigation,
      el("button", { className: "button", text: "?", title: "Keyboard shortcuts", attrs: { type: "button", "aria-label": "Keyboard shortcuts" }, onClick: () => this.sheet.toggle() }),
    );
  }

  private navButton(label: string, key: string, url: string | null, rel: string): HTMLElement {
    if (!url) return el("span", { className: "button disabled", text: label });
    const link = el("a", { className: "button", text: label, title: key, attrs: { href: url, rel } });
    link.addEventListener("click", (event) => {
      event.preventDefault();
      this.actions.go(url);
    });
    return link;
  }

  private buildRail(): HTMLElement {
    const rail = el("div", { className: "tool-rail", attrs: { role: "toolbar", "aria-label": "Tools", "aria-orientation": "vertical" } });
    for (const tool of TOOLS) {
      const button = el(
        "button",
        { className: "tool-button", title: `${tool.label} (${tool.key.toUpperCase()}): ${tool.help}`, attrs: { type: "button", "aria-pressed": "false" }, dataset: { tool: tool.id }, onClick: () => this.actions.setTool(tool.id) },
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
      const key = type ? this.keys.ofType.get(type.id) : undefined;
      const button = el(
        "button",
        { className: "type-button", attrs: { type: "button", "aria-pressed": "false" }, dataset: { defectType: String(id ?? "") }, onClick: () => this.actions.pickDefectType(id) },
        swatch(this.colors.colorOf(id)),
        el("span", { className: "type-name", text: type?.name ?? "No defect type" }),
        key ? kbd(key) : null,
      );
      this.typeButtons.set(id, button);
      types.append(button);
    }
    if (this.config.defectTypes.length === 0) types.prepend(el("p", { className: "muted small", text: "This collection has no defect types yet." }));

    this.precisionButton.addEventListener("click", () => this.actions.togglePrecision());
    this.brushInput.addEventListener("input", () => this.actions.setBrush(Number(this.brushInput.value)));
    this.brushInput.addEventListener("change", () => this.brushInput.blur());
    return el(
      "aside",
      { className: "annotator-side" },
      el("section", {}, el("h2", { text: "Defect type" }), types),
      el("section", {}, el("h2", { text: "Precision" }), this.precisionButton),
      el("section", {}, el("h2", { text: "Brush" }), this.brushInput, this.brushLabel),
      el("section", { className: "regions-section" }, el("h2", {}, "Regions ", this.regionCount), this.regionList),
    );
  }
}
