// Brush and eraser: paint mask pixels at image resolution. The brush paints into the selected mask,
// else the defect type's latest mask, else a new one; the eraser erases from the selected mask, else
// from every mask. The stroke is written back (run-length encoded) when the pointer goes up.
import type { MaskCanvas, Point } from "../../canvas";
import { encodeAlpha, isEmpty } from "../../rle";
import type { Tool, ToolContext } from "./tool";

interface Target {
  key: number;
  mask: MaskCanvas;
  isNew: boolean;
}

export class PaintTool implements Tool {
  private draft: { targets: Target[]; last: Point; size: number } | null = null;

  constructor(
    private readonly context: ToolContext,
    private readonly erase: boolean,
  ) {}

  get drawing(): boolean {
    return this.draft !== null;
  }

  cursorColor(): string {
    return this.erase ? "#ffffff" : this.context.colorOf(this.context.store.defectType);
  }

  newMasks(): number[] {
    return this.draft ? this.draft.targets.filter((t) => t.isNew).map((t) => t.key) : [];
  }

  down(point: Point): boolean {
    const targets = this.targets();
    if (!targets) return false;
    const size = Math.max(1, this.context.brushSize / this.context.viewport.scale);
    this.draft = { targets, last: point, size };
    this.context.render();
    this.paint(point, point);
    return true;
  }

  move(point: Point): void {
    if (!this.draft) return;
    this.paint(this.draft.last, point);
    this.draft.last = point;
  }

  up(): void {
    const draft = this.draft;
    if (!draft) return;
    this.draft = null;
    const { width, height } = this.context.viewport;
    this.context.paintMasks(
      draft.targets.map(({ key, mask, isNew }) => {
        const geometry = encodeAlpha(mask.pixels(), width, height);
        return { key, geometry, empty: isEmpty(geometry), isNew };
      }),
    );
  }

  cancel(): void {
    const draft = this.draft;
    this.draft = null;
    if (!draft) return;
    // An unfinished stroke: put the masks back as they were.
    for (const target of draft.targets) target.mask.redraw();
    this.context.render();
    this.context.viewport.draftLayer.batchDraw();
  }

  private targets(): Target[] | null {
    const { store, viewport } = this.context;
    const selected = store.selectedRegion;
    const masks = store.state.regions.filter((r) => r.kind === "mask");
    if (this.erase) {
      const from = selected?.kind === "mask" ? [selected] : masks;
      const targets = from.flatMap((r) => {
        const mask = viewport.maskAt(r.key);
        return mask ? [{ key: r.key, mask, isNew: false }] : [];
      });
      if (targets.length === 0) {
        this.context.hint("Nothing to erase: the eraser works on masks");
        return null;
      }
      return targets;
    }
    const into = selected?.kind === "mask" ? selected : [...masks].reverse().find((r) => r.defect_type === store.defectType);
    const existing = into ? viewport.maskAt(into.key) : undefined;
    if (into && existing) return [{ key: into.key, mask: existing, isNew: false }];
    const key = store.newKey();
    return [{ key, mask: viewport.mask(key, null, this.context.colorOf(store.defectType)), isNew: true }];
  }

  private paint(from: Point, to: Point): void {
    if (!this.draft) return;
    const { size } = this.draft;
    for (const { mask } of this.draft.targets) {
      const context = mask.context;
      context.save();
      context.globalCompositeOperation = this.erase ? "destination-out" : "source-over";
      context.strokeStyle = context.fillStyle = mask.color;
      context.lineWidth = size;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.beginPath();
      context.moveTo(from.x, from.y);
      // A dot: a line of no length draws nothing.
      context.lineTo(to.x + (from.x === to.x && from.y === to.y ? 0.01 : 0), to.y);
      context.stroke();
      context.restore();
    }
    this.context.viewport.drawMasks();
  }
}
