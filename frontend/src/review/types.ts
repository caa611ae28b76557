// What the review page reads: its configuration, the queue's items and the recent decisions, and the
// decisions a reviewer can take (with their keys).
import type { TypeKeys } from "../annotator/keys";
import type { Shortcut } from "../shortcuts";
import type { DefectType, Geometry, Kind, Precision, Verdict } from "../types";

export type Decision = "true_defect" | "false_positive" | "missed_defect" | "unsure";

/** The page's configuration, from the template's json_script. */
export interface ReviewConfig {
  modelVersion: number;
  /** Which undecided images the queue serves: "new" (no human label, outside the train split) or "all". */
  scope: "new" | "all";
  collectionUrl: string;
  canReview: boolean;
  threshold: number;
  /** The false-positive reasons, [value, label], in the server's order. */
  reasons: [string, string][];
  /** The collection's defect types: what a box drawn for a missed defect can be. */
  defectTypes: DefectType[];
}

export interface ItemRegion {
  kind: Kind;
  geometry: Geometry;
  precision: Precision;
  defect_type: number | null;
}

/** A region a prediction flags, image px; `defect_type` is the type the model names, when it learned types. */
export interface FlaggedRegion {
  x: number;
  y: number;
  width: number;
  height: number;
  area: number;
  defect_type?: string;
  type_probability?: number;
}

/** One item of POST /api/v1/reviews/next/. */
export interface Item {
  prediction: {
    id: number;
    score: number;
    normalized_score: number;
    is_defective: boolean;
    heatmap: string;
    heatmap_low: number;
    heatmap_high: number;
    regions: FlaggedRegion[];
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

/** One row of GET /api/v1/reviews/. */
export interface ReviewRow {
  reviewer: string | null;
  decision: Decision;
  reason: string;
  comment: string;
  image: number;
  image_name: string;
  created_at: string;
}

export const DECISIONS: readonly { id: Decision; label: string; keys: [string, string] }[] = [
  { id: "true_defect", label: "True defect", keys: ["1", "d"] },
  { id: "false_positive", label: "False positive", keys: ["2", "f"] },
  { id: "missed_defect", label: "Missed defect", keys: ["3", "m"] },
  { id: "unsure", label: "Unsure", keys: ["4", "u"] },
];

/** The keys of the false-positive reasons, in the order the server lists them (cosmetic, dust,
 * lighting, label wrong): the row under the decisions' digits. */
export const REASON_KEYS: readonly string[] = ["q", "w", "e", "r"];

/** Each reason with its key (a reason past the keys has none). */
export function reasonKeys(reasons: readonly [string, string][]): { value: string; label: string; key: string | null }[] {
  return reasons.map(([value, label], index) => ({ value, label, key: REASON_KEYS[index] ?? null }));
}

/** How a defect type's key is shown here: the annotator's key with Shift (the digits decide). */
export function typeKeyLabel(key: string): string {
  return `⇧${key.toUpperCase()}`;
}

export const DECISION_LABEL = Object.fromEntries(DECISIONS.map((d) => [d.id, d.label])) as Record<Decision, string>;

const OTHER_KEYS: readonly [string, string][] = [
  ["b", "draw a box where the model missed or mislocated a defect (sent with the decision, with the defect type picked)"],
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

/** The rows of the shortcut sheet: the decisions, the reasons, the other keys, the defect types. */
export function shortcutRows(config: Pick<ReviewConfig, "reasons" | "defectTypes">, typeKeys: TypeKeys): Shortcut[] {
  const rows: Shortcut[] = DECISIONS.map((decision): Shortcut => [decision.keys, decision.label]);
  for (const reason of reasonKeys(config.reasons)) {
    if (reason.key) rows.push([[reason.key], `reason of a false positive: ${reason.label.toLowerCase()} (then 2 or f)`]);
  }
  rows.push(...OTHER_KEYS.map(([key, what]): Shortcut => [[key], what]));
  for (const type of config.defectTypes) {
    const key = typeKeys.ofType.get(type.id);
    if (key) rows.push([[typeKeyLabel(key)], `defect type “${type.name}” for the boxes you draw next`]);
  }
  return rows;
}
