// The labels of one image as the annotator edits them, with no page around them: the state (verdict
// and regions) with undo and redo, the selection, what a new region gets (defect type, precision), and
// where the state stands with the server (the version it was read at, what was saved last). Every
// edit makes a new state; each method says whether it changed the state, so the page knows when to
// draw and save.
import { History } from "../history";
import type { AnnotationOut, Geometry, Kind, LabelState, MaskGeometry, Precision, Region, Verdict } from "../types";

/** A mask after a brush or eraser stroke; `isNew` when the stroke started it. */
export interface PaintedMask {
  key: number;
  geometry: MaskGeometry;
  empty: boolean;
  isNew: boolean;
}

export class LabelStore {
  private readonly history = new History<LabelState>({ verdict: "unlabeled", regions: [] });
  private saved: LabelState | null = null;
  private nextKey = 1;
  private etagValue = "";
  private versionValue = 0;
  private updatedByValue: string | null = null;
  private selectedKey: number | null = null;
  /** The defect type and precision of the next region (and of the selected one). */
  defectType: number | null;
  precision: Precision = "exact";
  /** Whether the labels were read from the server yet. */
  loaded = false;
  /** Someone else saved first: nothing is edited or saved until their labels are loaded. */
  conflict = false;

  constructor(
    readonly canEdit: boolean,
    defectType: number | null,
  ) {
    this.defectType = defectType;
  }

  get state(): LabelState {
    return this.history.current;
  }

  get editable(): boolean {
    return this.canEdit && this.loaded && !this.conflict;
  }

  /** Whether the state differs from the one saved last. */
  get dirty(): boolean {
    return this.saved !== null && this.state !== this.saved;
  }

  get etag(): string {
    return this.etagValue;
  }

  get version(): number {
    return this.versionValue;
  }

  get updatedBy(): string | null {
    return this.updatedByValue;
  }

  get canUndo(): boolean {
    return this.history.canUndo;
  }

  get canRedo(): boolean {
    return this.history.canRedo;
  }

  get selected(): number | null {
    return this.selectedKey;
  }

  get selectedRegion(): Region | undefined {
    return this.state.regions.find((r) => r.key === this.selectedKey);
  }

  /** A key no region on this page has. */
  newKey(): number {
    return this.nextKey++;
  }

  /** Start over from the server's labels (on opening, or taking theirs after a conflict). */
  load(out: AnnotationOut): void {
    const state: LabelState = {
      verdict: out.verdict,
      regions: out.regions.map((r) => ({
        key: this.newKey(),
        kind: r.kind,
        geometry: r.geometry,
        precision: r.precision,
        defect_type: r.defect_type,
      })),
    };
    this.loaded = true;
    this.remember(out);
    this.history.reset(state);
    this.saved = state;
    this.selectedKey = null;
  }

  /** `state` was saved and the server answered `out`. */
  markSaved(out: AnnotationOut, state: LabelState): void {
    this.remember(out);
    this.saved = state;
  }

  private remember(out: AnnotationOut): void {
    this.etagValue = out.etag;
    this.versionValue = out.version;
    this.updatedByValue = out.updated_by;
  }

  /** Make `next` the state (undoably), unless nothing may be edited now. */
  commit(next: LabelState): boolean {
    if (!this.editable || next === this.state) return false;
    this.history.push(next);
    this.dropLostSelection();
    return true;
  }

  /** Add a region of the current defect type and precision (a scribble is always rough) and select it. */
  addRegion(kind: Kind, geometry: Geometry, key = this.newKey()): boolean {
    const region: Region = { key, kind, geometry, precision: kind === "scribble" ? "rough" : this.precision, defect_type: this.defectType };
    if (!this.commit({ verdict: this.verdictWithDefect(), regions: [...this.state.regions, region] })) return false;
    this.selectedKey = key;
    return true;
  }

  updateRegion(key: number, change: Partial<Omit<Region, "key">>): boolean {
    return this.commit({ ...this.state, regions: this.state.regions.map((r) => (r.key === key ? { ...r, ...change } : r)) });
  }

  deleteSelected(): boolean {
    const key = this.selectedKey;
    if (key === null) return false;
    return this.commit({ ...this.state, regions: this.state.regions.filter((r) => r.key !== key) });
  }

  setVerdict(verdict: Verdict): boolean {
    return this.commit({ ...this.state, verdict });
  }

  /** The defect type of new regions; the selected region takes it too. */
  pickDefectType(id: number | null): boolean {
    this.defectType = id;
    const region = this.selectedRegion;
    return region !== undefined && region.defect_type !== id && this.updateRegion(region.key, { defect_type: id });
  }

  /** Rough ↔ exact for new regions; the selected region takes it too. */
  togglePrecision(): boolean {
    this.precision = this.precision === "exact" ? "rough" : "exact";
    const region = this.selectedRegion;
    return region !== undefined && this.updateRegion(region.key, { precision: this.precision });
  }

  /** Select a region (or none); its defect type and precision become those of new regions. */
  select(key: number | null): void {
    this.selectedKey = key;
    const region = this.selectedRegion;
    if (region) {
      this.precision = region.precision;
      this.defectType = region.defect_type;
    }
  }

  /** Write back the masks a stroke changed: a new mask joins unless it stayed empty, an emptied one goes. */
  paintMasks(masks: readonly PaintedMask[]): boolean {
    let regions = [...this.state.regions];
    let added = false;
    for (const mask of masks) {
      if (mask.isNew) {
        if (!mask.empty) {
          regions.push({ key: mask.key, kind: "mask", geometry: mask.geometry, precision: this.precision, defect_type: this.defectType });
          added = true;
        }
      } else if (mask.empty) {
        regions = regions.filter((r) => r.key !== mask.key);
      } else {
        regions = regions.map((r) => (r.key === mask.key ? { ...r, geometry: mask.geometry } : r));
      }
    }
    const changed = this.commit({ verdict: added ? this.verdictWithDefect() : this.state.verdict, regions });
    if (added) this.selectedKey = null;
    return changed;
  }

  undo(): boolean {
    if (!this.editable || !this.history.undo()) return false;
    this.dropLostSelection();
    return true;
  }

  redo(): boolean {
    if (!this.editable || !this.history.redo()) return false;
    this.dropLostSelection();
    return true;
  }

  /** A region says the image has a defect: an unlabeled image becomes defective. */
  private verdictWithDefect(): Verdict {
    return this.state.verdict === "unlabeled" ? "defective" : this.state.verdict;
  }

  private dropLostSelection(): void {
    if (this.selectedKey !== null && !this.state.regions.some((r) => r.key === this.selectedKey)) this.selectedKey = null;
  }
}
