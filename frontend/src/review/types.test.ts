import { describe, expect, it } from "vitest";

import { assignTypeKeys } from "../annotator/keys";
import type { DefectType } from "../types";
import { DECISIONS, REASON_KEYS, reasonKeys, shortcutRows } from "./types";

const reasons: [string, string][] = [
  ["cosmetic", "Acceptable cosmetic variation"],
  ["dust", "Dust on the lens"],
  ["lighting", "Lighting or reflection"],
  ["label_wrong", "Ground truth was wrong"],
];
const types: DefectType[] = [
  { id: 7, name: "dent", color: "#ff0000", hotkey: "1" },
  { id: 8, name: "scratch", color: "#00ff00", hotkey: "k" },
];

describe("the review queue's keys", () => {
  it("gives each false-positive reason its key, in the server's order", () => {
    expect(reasonKeys(reasons).map((r) => [r.value, r.key])).toEqual([
      ["cosmetic", "q"],
      ["dust", "w"],
      ["lighting", "e"],
      ["label_wrong", "r"],
    ]);
    expect(reasonKeys([...reasons, ["new", "New"]]).at(-1)?.key).toBeNull();
  });

  it("takes no key twice: reasons, decisions and the fixed keys apart", () => {
    const rows = shortcutRows({ reasons, defectTypes: [] }, assignTypeKeys([]));
    const keys = rows.flatMap(([row]) => row);
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of REASON_KEYS) expect(DECISIONS.some((d) => d.keys.includes(key))).toBe(false);
  });

  it("lists the defect types last, with Shift and the annotator's key", () => {
    const rows = shortcutRows({ reasons, defectTypes: types }, assignTypeKeys(types));
    expect(rows.slice(-2)).toEqual([
      [["⇧1"], "defect type “dent” for the boxes you draw next"],
      [["⇧K"], "defect type “scratch” for the boxes you draw next"],
    ]);
    expect(rows[4]).toEqual([["q"], "reason of a false positive: acceptable cosmetic variation (then 2 or f)"]);
  });
});
