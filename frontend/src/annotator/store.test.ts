import { describe, expect, it } from "vitest";

import type { AnnotationOut, MaskGeometry } from "../types";
import { LabelStore } from "./store";

const MASK: MaskGeometry = { width: 4, height: 1, counts: [1, 2, 1] };
const EMPTY: MaskGeometry = { width: 4, height: 1, counts: [4] };

function answer(change: Partial<AnnotationOut> = {}): AnnotationOut {
  return {
    image: 7,
    verdict: "unlabeled",
    regions: [],
    version: 3,
    etag: '"3"',
    updated_by: "ann",
    updated_at: "2025-01-01T00:00:00Z",
    ...change,
  };
}

function loaded(change: Partial<AnnotationOut> = {}, canEdit = true): LabelStore {
  const store = new LabelStore(canEdit, 5);
  store.load(answer(change));
  return store;
}

describe("loading", () => {
  it("edits nothing before the labels are read", () => {
    const store = new LabelStore(true, 5);
    expect(store.editable).toBe(false);
    expect(store.setVerdict("normal")).toBe(false);
    expect(store.state.verdict).toBe("unlabeled");
    expect(store.dirty).toBe(false);
  });

  it("takes the server's labels, keys its regions and is not dirty", () => {
    const store = loaded({
      verdict: "defective",
      regions: [
        { id: 40, kind: "box", geometry: { x: 1, y: 2, width: 3, height: 4 }, precision: "rough", defect_type: 5 },
        { id: 41, kind: "point", geometry: { x: 1, y: 1 }, precision: "exact", defect_type: null },
      ],
    });
    expect(store.editable).toBe(true);
    expect(store.state.verdict).toBe("defective");
    expect(store.state.regions.map((r) => [r.key, r.kind, r.precision, r.defect_type])).toEqual([
      [1, "box", "rough", 5],
      [2, "point", "exact", null],
    ]);
    expect([store.version, store.etag, store.updatedBy]).toEqual([3, '"3"', "ann"]);
    expect(store.dirty).toBe(false);
    expect(store.canUndo).toBe(false);
  });

  it("never edits for a role that cannot", () => {
    const store = loaded({}, false);
    expect(store.editable).toBe(false);
    expect(store.addRegion("point", { x: 1, y: 1 })).toBe(false);
    expect(store.state.regions).toEqual([]);
  });
});

describe("edits", () => {
  it("adds a region of the current type and precision, selects it, and makes an unlabeled image defective", () => {
    const store = loaded();
    store.precision = "rough";
    expect(store.addRegion("box", { x: 0, y: 0, width: 2, height: 2 })).toBe(true);
    const [region] = store.state.regions;
    expect([region.kind, region.precision, region.defect_type]).toEqual(["box", "rough", 5]);
    expect(store.selected).toBe(region.key);
    expect(store.state.verdict).toBe("defective");
    expect(store.dirty).toBe(true);
  });

  it("keeps a verdict other than unlabeled, and a scribble is always rough", () => {
    const store = loaded({ verdict: "unsure" });
    store.addRegion("scribble", { points: [[0, 0], [1, 1]], width: 2 });
    expect(store.state.verdict).toBe("unsure");
    expect(store.state.regions[0].precision).toBe("rough");
  });

  it("gives the selected region a picked defect type and precision", () => {
    const store = loaded();
    store.addRegion("point", { x: 1, y: 1 });
    expect(store.pickDefectType(9)).toBe(true);
    expect(store.togglePrecision()).toBe(true);
    expect(store.state.regions[0]).toMatchObject({ defect_type: 9, precision: "rough" });
    // the same type again changes nothing
    expect(store.pickDefectType(9)).toBe(false);
  });

  it("only changes what new regions get when nothing is selected", () => {
    const store = loaded();
    store.addRegion("point", { x: 1, y: 1 });
    store.select(null);
    expect(store.pickDefectType(9)).toBe(false);
    expect(store.state.regions[0].defect_type).toBe(5);
    expect(store.defectType).toBe(9);
  });

  it("selecting a region takes its type and precision for new ones", () => {
    const store = loaded({ regions: [{ id: 1, kind: "point", geometry: { x: 1, y: 1 }, precision: "rough", defect_type: 2 }] });
    store.select(1);
    expect([store.defectType, store.precision]).toEqual([2, "rough"]);
    expect(store.selectedRegion?.kind).toBe("point");
  });

  it("deletes the selected region", () => {
    const store = loaded();
    store.addRegion("point", { x: 1, y: 1 });
    expect(store.deleteSelected()).toBe(true);
    expect(store.state.regions).toEqual([]);
    expect(store.selected).toBeNull();
    expect(store.deleteSelected()).toBe(false);
  });
});

describe("undo and redo", () => {
  it("go back and forth through the edits and drop a selection whose region went", () => {
    const store = loaded();
    store.setVerdict("normal");
    store.addRegion("point", { x: 1, y: 1 });
    expect(store.undo()).toBe(true);
    expect(store.state).toEqual({ verdict: "normal", regions: [] });
    expect(store.selected).toBeNull();
    expect(store.undo()).toBe(true);
    expect(store.state.verdict).toBe("unlabeled");
    expect(store.dirty).toBe(false);
    expect(store.undo()).toBe(false);
    expect(store.redo() && store.redo()).toBe(true);
    expect(store.state.regions).toHaveLength(1);
  });

  it("stop during a conflict", () => {
    const store = loaded();
    store.setVerdict("normal");
    store.conflict = true;
    expect(store.editable).toBe(false);
    expect(store.undo()).toBe(false);
    expect(store.state.verdict).toBe("normal");
  });
});

describe("masks", () => {
  it("adds a painted new mask unselected, and an image with it is defective", () => {
    const store = loaded();
    store.precision = "rough";
    const key = store.newKey();
    expect(store.paintMasks([{ key, geometry: MASK, empty: false, isNew: true }])).toBe(true);
    expect(store.state.regions).toEqual([{ key, kind: "mask", geometry: MASK, precision: "rough", defect_type: 5 }]);
    expect(store.state.verdict).toBe("defective");
    expect(store.selected).toBeNull();
  });

  it("drops a new mask that stayed empty", () => {
    const store = loaded();
    store.paintMasks([{ key: store.newKey(), geometry: EMPTY, empty: true, isNew: true }]);
    expect(store.state).toEqual({ verdict: "unlabeled", regions: [] });
  });

  it("updates a repainted mask and removes an erased one", () => {
    const store = loaded({
      verdict: "defective",
      regions: [
        { id: 1, kind: "mask", geometry: EMPTY, precision: "exact", defect_type: 5 },
        { id: 2, kind: "mask", geometry: MASK, precision: "exact", defect_type: 6 },
      ],
    });
    store.paintMasks([
      { key: 1, geometry: MASK, empty: false, isNew: false },
      { key: 2, geometry: EMPTY, empty: true, isNew: false },
    ]);
    expect(store.state.regions.map((r) => [r.key, r.geometry])).toEqual([[1, MASK]]);
  });
});

describe("saving", () => {
  it("is clean once the state sent is saved, and dirty after the next edit", () => {
    const store = loaded();
    store.setVerdict("normal");
    const sent = store.state;
    store.markSaved(answer({ version: 4, etag: '"4"', updated_by: "me" }), sent);
    expect(store.dirty).toBe(false);
    expect([store.version, store.etag, store.updatedBy]).toEqual([4, '"4"', "me"]);
    store.setVerdict("defective");
    expect(store.dirty).toBe(true);
  });

  it("stays dirty when an edit came while the save was under way", () => {
    const store = loaded();
    store.setVerdict("normal");
    const sent = store.state;
    store.setVerdict("unsure");
    store.markSaved(answer({ version: 4 }), sent);
    expect(store.dirty).toBe(true);
  });
});
