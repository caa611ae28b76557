import { describe, expect, it } from "vitest";

import {
  area,
  confusion,
  f1Max,
  hasBothClasses,
  histogram,
  labeled,
  normalize,
  prCurve,
  rates,
  rocCurve,
  scoreText,
  type ScoreRow,
} from "./scores";

// Four labeled images and one unlabeled; by score: A 0.9 defective, B 0.8 normal, C 0.7 defective, D 0.3 normal.
const ROWS: ScoreRow[] = [
  { image: 1, score: 0.9, normalized_score: 0.9, label: 1 },
  { image: 2, score: 0.8, normalized_score: 0.8, label: 0 },
  { image: 3, score: 0.7, normalized_score: 0.7, label: 1 },
  { image: 4, score: 0.3, normalized_score: 0.3, label: 0 },
  { image: 5, score: 0.5, normalized_score: 0.5, label: null },
];
const LABELED = labeled(ROWS);

describe("labeled", () => {
  it("keeps the labeled images, defective when the label is 1", () => {
    expect(LABELED.map((row) => [row.image, row.defective])).toEqual([[1, true], [2, false], [3, true], [4, false]]);
    expect(hasBothClasses(LABELED)).toBe(true);
    expect(hasBothClasses(LABELED.filter((row) => row.defective))).toBe(false);
  });
});

describe("confusion and rates", () => {
  it("flags A and B at 0.75", () => {
    const counts = confusion(LABELED, 0.75);
    expect(counts).toEqual({ tp: 1, fn: 1, fp: 1, tn: 1 });
    expect(rates(counts)).toEqual({ precision: 0.5, recall: 0.5, fpr: 0.5, f1: 0.5 });
  });

  it("flags a score equal to the threshold", () => {
    const counts = confusion(LABELED, 0.7);
    expect(counts).toEqual({ tp: 2, fn: 0, fp: 1, tn: 1 });
    // precision 2/3, recall 1, fpr 1/2, F1 = 2·2 / (2·2 + 1 + 0) = 4/5
    const r = rates(counts);
    expect(r.precision).toBeCloseTo(2 / 3, 12);
    expect(r.recall).toBe(1);
    expect(r.fpr).toBe(0.5);
    expect(r.f1).toBeCloseTo(0.8, 12);
  });

  it("has no rate without its denominator", () => {
    expect(rates({ tp: 0, fn: 0, fp: 0, tn: 0 })).toEqual({ precision: null, recall: null, fpr: null, f1: null });
  });
});

describe("curves", () => {
  it("ROC steps through every score from the highest", () => {
    expect(rocCurve(LABELED)).toEqual([
      { x: 0, y: 0 },
      { x: 0, y: 0.5 }, // A
      { x: 0.5, y: 0.5 }, // B
      { x: 0.5, y: 1 }, // C
      { x: 1, y: 1 }, // D
    ]);
  });

  it("AUROC is the share of defective–normal pairs in the right order: 3 of 4", () => {
    expect(area(rocCurve(LABELED))).toBe(0.75);
  });

  it("counts tied scores half", () => {
    const tied = labeled([
      { image: 1, score: 0.5, normalized_score: 0.5, label: 1 },
      { image: 2, score: 0.5, normalized_score: 0.5, label: 0 },
    ]);
    expect(rocCurve(tied)).toEqual([{ x: 0, y: 0 }, { x: 1, y: 1 }]);
    expect(area(rocCurve(tied))).toBe(0.5);
  });

  it("PR is (recall, precision) at each threshold", () => {
    const curve = prCurve(LABELED);
    expect(curve.map((p) => p.x)).toEqual([0.5, 0.5, 1, 1]);
    expect(curve[0].y).toBe(1);
    expect(curve[1].y).toBe(0.5);
    expect(curve[2].y).toBeCloseTo(2 / 3, 12);
    expect(curve[3].y).toBe(0.5);
  });

  it("F1-max is the best threshold's F1: 0.8 at C", () => {
    // A: 2/3, B: 1/2, C: 4/5, D: 2/3
    expect(f1Max(LABELED)).toBeCloseTo(0.8, 12);
  });

  it("means nothing with one class", () => {
    const normals = LABELED.filter((row) => !row.defective);
    expect(rocCurve(normals)).toEqual([]);
    expect(prCurve(normals)).toEqual([]);
    expect(f1Max(normals)).toBeNull();
  });
});

describe("histogram", () => {
  it("bins each class, the edges included", () => {
    expect(histogram(LABELED, 0, 1, 4)).toEqual({
      edges: [0, 0.25, 0.5, 0.75, 1],
      normal: [0, 1, 0, 1], // D 0.3, B 0.8
      defective: [0, 0, 1, 1], // C 0.7, A 0.9
    });
  });

  it("puts scores outside the range into the first and last bins", () => {
    const rows = [
      { image: 1, score: -0.1, defective: false },
      { image: 2, score: 1, defective: true },
      { image: 3, score: 2, defective: true },
    ];
    const bins = histogram(rows, 0, 1, 2);
    expect(bins.normal).toEqual([1, 0]);
    expect(bins.defective).toEqual([0, 2]);
  });
});

describe("scoreText", () => {
  it("says the normalized score first, against 0.5, with the raw score beside it", () => {
    expect(scoreText(0.734, 1.23456)).toBe("0.73 (at or above 0.5; raw 1.235)");
    expect(scoreText(0.2, 0.01)).toBe("0.20 (below 0.5; raw 0.01000)");
  });
});

describe("normalize", () => {
  const normalizer = { low: 0.2, threshold: 1.0, high: 1.8 };

  it("maps low, the threshold and high to 0, 0.5 and 1, linearly between", () => {
    expect(normalize(normalizer, 0.2)).toBe(0);
    expect(normalize(normalizer, 1.0)).toBe(0.5);
    expect(normalize(normalizer, 1.8)).toBe(1);
    expect(normalize(normalizer, 0.6)).toBeCloseTo(0.25, 12);
    expect(normalize(normalizer, 1.2)).toBeCloseTo(0.625, 12);
  });

  it("clips scores outside the range", () => {
    expect(normalize(normalizer, -5)).toBe(0);
    expect(normalize(normalizer, 9)).toBe(1);
  });

  it("is what scoreText says beside the raw score", () => {
    expect(scoreText(normalize(normalizer, 0.9), 0.9)).toBe("0.44 (below 0.5; raw 0.9000)");
  });
});
