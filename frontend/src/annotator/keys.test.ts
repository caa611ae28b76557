import { describe, expect, it } from "vitest";

import type { DefectType } from "../types";
import { assignTypeKeys, RESERVED, shortcutRows, TOOLS, VERDICTS } from "./keys";

const type = (id: number, hotkey = ""): DefectType => ({ id, name: `type ${id}`, color: "#000000", hotkey });

describe("defect type keys", () => {
  it("gives a type its own free key, and the next free digit otherwise", () => {
    // "b" is the box tool's key; "K" is free (keys are lower case); the second "k" is taken.
    const keys = assignTypeKeys([type(1, "b"), type(2, "K"), type(3, "k"), type(4, "1"), type(5)]);
    expect([...keys.ofType.entries()]).toEqual([[2, "k"], [4, "1"], [1, "2"], [3, "3"], [5, "4"]]);
    expect(keys.byKey.get("k")?.id).toBe(2);
  });

  it("runs out after 9", () => {
    const keys = assignTypeKeys(Array.from({ length: 11 }, (_, i) => type(i + 1)));
    expect(keys.ofType.size).toBe(9);
    expect(keys.ofType.has(10)).toBe(false);
  });

  it("lists every key on the sheet, the types' last", () => {
    const types = [type(1, "k")];
    const rows = shortcutRows(types, assignTypeKeys(types));
    expect(rows[0][0]).toEqual(["V"]);
    expect(rows[0][1]).toMatch(/^Select: click a region to select it, drag it to move it/);
    expect(rows.at(-1)).toEqual([["k"], "defect type “type 1”"]);
    expect(rows.some(([keys]) => keys[0] === "N")).toBe(true);
  });
});

describe("reserved keys", () => {
  it("hold every tool's and verdict's key, so no defect type takes one", () => {
    for (const key of [...TOOLS.map((t) => t.key), ...VERDICTS.map((v) => v.key).filter(Boolean)]) {
      expect(RESERVED.has(key)).toBe(true);
    }
  });
});
