// The annotator's keys: one per tool and verdict, the fixed ones, and the defect types' (their own
// hotkey where it is free, else the next free digit). The shortcut sheet lists exactly these.
import type { Shortcut } from "../shortcuts";
import reserved from "../../../annotations/reserved_hotkeys.json";
import type { DefectType, Verdict } from "../types";

export type ToolId = "select" | "box" | "polygon" | "brush" | "eraser" | "scribble" | "point";

export const TOOLS: readonly { id: ToolId; label: string; key: string; help: string }[] = [
  { id: "select", label: "Select", key: "v", help: "click a region to select it, drag it to move it; drag a box's corner or side to resize it, a polygon's vertex to move it" },
  { id: "box", label: "Box", key: "b", help: "drag a rectangle" },
  { id: "polygon", label: "Polygon", key: "p", help: "click the corners; Enter or double-click closes" },
  { id: "brush", label: "Brush", key: "r", help: "paint a mask (into the selected mask, else the defect type's)" },
  { id: "eraser", label: "Eraser", key: "e", help: "erase mask pixels (the selected mask's, else every mask's)" },
  { id: "scribble", label: "Scribble", key: "s", help: "drag a rough stroke as wide as the brush" },
  { id: "point", label: "Point", key: "o", help: "click a spot" },
];

export const VERDICTS: readonly { id: Verdict; label: string; key: string }[] = [
  { id: "normal", label: "Normal", key: "n" },
  { id: "defective", label: "Defective", key: "d" },
  { id: "unsure", label: "Unsure", key: "u" },
  { id: "unlabeled", label: "Unlabeled", key: "" },
];

const OTHER_KEYS: readonly [string, string][] = [
  ["1 … 9", "pick a defect type (or its own key); changes the selected region's type too"],
  ["x", "rough / exact for new regions (and the selected one)"],
  ["Delete", "delete the selected region (its selected vertex; while drawing a polygon: its last point)"],
  ["Alt+click, double-click", "on the selected polygon's edge: add a vertex there"],
  ["right-click", "on the selected polygon's vertex: remove it (a polygon keeps 3)"],
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

/** Keys a defect type's own hotkey cannot take: one list, which the server's defect-type rules read too. */
export const RESERVED: ReadonlySet<string> = new Set(reserved.keys);

/** Which key picks which defect type, both ways. */
export interface TypeKeys {
  byKey: Map<string, DefectType>;
  ofType: Map<number, string>;
}

/** Each type its own hotkey if free and not reserved, else the next free digit 1…9 (while they last). */
export function assignTypeKeys(types: readonly DefectType[]): TypeKeys {
  const byKey = new Map<string, DefectType>();
  const ofType = new Map<number, string>();
  const give = (key: string, type: DefectType) => {
    byKey.set(key, type);
    ofType.set(type.id, key);
  };
  for (const type of types) {
    const key = type.hotkey.toLowerCase();
    if (key && !RESERVED.has(key) && !byKey.has(key)) give(key, type);
  }
  let digit = 1;
  for (const type of types) {
    if (ofType.has(type.id)) continue;
    while (digit <= 9 && byKey.has(String(digit))) digit++;
    if (digit > 9) break;
    give(String(digit), type);
  }
  return { byKey, ofType };
}

/** The rows of the shortcut sheet: tools, verdicts, the fixed keys, then the defect types. */
export function shortcutRows(types: readonly DefectType[], keys: TypeKeys): Shortcut[] {
  const rows: Shortcut[] = TOOLS.map((tool) => [[tool.key.toUpperCase()], `${tool.label}: ${tool.help}`]);
  for (const verdict of VERDICTS) if (verdict.key) rows.push([[verdict.key.toUpperCase()], `verdict ${verdict.label.toLowerCase()}`]);
  for (const [key, what] of OTHER_KEYS) rows.push([[key], what]);
  for (const type of types) {
    const key = keys.ofType.get(type.id);
    if (key) rows.push([[key], `defect type “${type.name}”`]);
  }
  return rows;
}
