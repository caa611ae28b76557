// What a threshold does on labeled test scores: the confusion matrix, its rates, ROC and PR curves.
// An image is flagged defective when its score is at or above the threshold, as on the server.

/** One row of GET /api/v1/model-versions/{id}/scores/. */
export interface ScoreRow {
  image: number;
  score: number;
  normalized_score: number;
  /** The image's current verdict: 1 defective, 0 normal, null not labeled either way. */
  label: 0 | 1 | null;
}

export interface Labeled {
  image: number;
  score: number;
  defective: boolean;
}

export interface Counts {
  tp: number;
  fn: number;
  fp: number;
  tn: number;
}

export interface Rates {
  precision: number | null;
  recall: number | null;
  fpr: number | null;
  f1: number | null;
}

export interface XY {
  x: number;
  y: number;
}

export function labeled(rows: readonly ScoreRow[]): Labeled[] {
  return rows
    .filter((row) => row.label !== null)
    .map((row) => ({ image: row.image, score: row.score, defective: row.label === 1 }));
}

/** Whether both classes are present: curves and AUROC mean nothing otherwise. */
export function hasBothClasses(rows: readonly Labeled[]): boolean {
  return rows.some((row) => row.defective) && rows.some((row) => !row.defective);
}

export function confusion(rows: readonly Labeled[], threshold: number): Counts {
  const counts: Counts = { tp: 0, fn: 0, fp: 0, tn: 0 };
  for (const row of rows) {
    const flagged = row.score >= threshold;
    if (row.defective) counts[flagged ? "tp" : "fn"] += 1;
    else counts[flagged ? "fp" : "tn"] += 1;
  }
  return counts;
}

const ratio = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);

export function rates(c: Counts): Rates {
  return {
    precision: ratio(c.tp, c.tp + c.fp),
    recall: ratio(c.tp, c.tp + c.fn),
    fpr: ratio(c.fp, c.fp + c.tn),
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
  };
}

/** The counts at every distinct score taken as the threshold, from the highest score down; images
 * with equal scores change sides together. */
function sweep(rows: readonly Labeled[]): Counts[] {
  const sorted = [...rows].sort((a, b) => b.score - a.score);
  const positives = sorted.filter((row) => row.defective).length;
  const counts: Counts[] = [];
  let tp = 0;
  let fp = 0;
  sorted.forEach((row, index) => {
    if (row.defective) tp += 1;
    else fp += 1;
    if (index === sorted.length - 1 || sorted[index + 1].score !== row.score) {
      counts.push({ tp, fp, fn: positives - tp, tn: sorted.length - positives - fp });
    }
  });
  return counts;
}

/** ROC curve: (false-positive rate, true-positive rate), from (0, 0) to (1, 1). */
export function rocCurve(rows: readonly Labeled[]): XY[] {
  if (!hasBothClasses(rows)) return [];
  return [{ x: 0, y: 0 }, ...sweep(rows).map((c) => ({ x: c.fp / (c.fp + c.tn), y: c.tp / (c.tp + c.fn) }))];
}

/** Area under a curve whose x never decreases (trapezoids; ties count half, as in AUROC). */
export function area(points: readonly XY[]): number {
  let sum = 0;
  for (let i = 1; i < points.length; i++) {
    sum += ((points[i].x - points[i - 1].x) * (points[i].y + points[i - 1].y)) / 2;
  }
  return sum;
}

/** PR curve: (recall, precision) at each threshold, from the highest one down. */
export function prCurve(rows: readonly Labeled[]): XY[] {
  if (!hasBothClasses(rows)) return [];
  return sweep(rows).map((c) => ({ x: c.tp / (c.tp + c.fn), y: c.tp / (c.tp + c.fp) }));
}

/** The best F1 over all thresholds. */
export function f1Max(rows: readonly Labeled[]): number | null {
  if (!hasBothClasses(rows)) return null;
  return sweep(rows).reduce((best, c) => Math.max(best, rates(c).f1 ?? 0), 0);
}

export interface Histogram {
  /** Left edge of each bin, then the right edge of the last. */
  edges: number[];
  normal: number[];
  defective: number[];
}

export function histogram(rows: readonly Labeled[], low: number, high: number, bins: number): Histogram {
  const width = (high - low) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => low + i * width);
  const normal = new Array<number>(bins).fill(0);
  const defective = new Array<number>(bins).fill(0);
  for (const row of rows) {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor((row.score - low) / width)));
    (row.defective ? defective : normal)[bin] += 1;
  }
  return { edges, normal, defective };
}

/** A score said as on every page: the normalized score (0–1, the threshold at 0.5) with the raw one,
 * in the model's own units, beside it. */
export function scoreText(normalized: number, raw: number): string {
  const side = normalized >= 0.5 ? "at or above" : "below";
  return `${normalized.toFixed(2)} (${side} 0.5; raw ${raw.toPrecision(4)})`;
}

/** A version's map of raw scores to normalized ones (`ScoreNormalizer`, inference/ml/thresholds.py):
 * piecewise linear, low → 0, threshold → 0.5, high → 1, clipped to 0–1. */
export interface Normalizer {
  low: number;
  threshold: number;
  high: number;
}

export function normalize(normalizer: Normalizer, raw: number): number {
  const { low, threshold, high } = normalizer;
  const value =
    raw < threshold ? (0.5 * (raw - low)) / (threshold - low) : 0.5 + (0.5 * (raw - threshold)) / (high - threshold);
  return Math.min(1, Math.max(0, value));
}
