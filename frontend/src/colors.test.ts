import { describe, expect, it } from "vitest";

import { DefectColors, hexToRgb, jet, NO_DEFECT_TYPE_COLOR, rgba } from "./colors";

describe("colours", () => {
  it("reads #rrggbb, in either case", () => {
    expect(hexToRgb("#ff8000")).toEqual([255, 128, 0]);
    expect(hexToRgb("#0A0b0C")).toEqual([10, 11, 12]);
  });

  it("takes anything else for the colour of no defect type", () => {
    expect(hexToRgb("red")).toEqual(hexToRgb(NO_DEFECT_TYPE_COLOR));
    expect(hexToRgb("#fff")).toEqual([255, 0, 255]);
  });

  it("writes CSS rgba()", () => {
    expect(rgba("#102030", 0.5)).toBe("rgba(16, 32, 48, 0.5)");
  });

  it("maps grey levels as the jet map: dark blue, green, dark red", () => {
    // x = level / 255; each channel is clamp(1.5 - |4x - offset|) with offsets 3 (red), 2, 1 (blue).
    expect(jet(0)).toEqual([0, 0, 128]);
    expect(jet(255)).toEqual([128, 0, 0]);
    // x = 0.5: red 1.5 - 1 = 0.5, green 1.5 - 0 → 1, blue 0.5
    expect(jet(127.5)).toEqual([128, 255, 128]);
  });

  it("gives a defect type's colour and name, and defaults for none", () => {
    const colors = new DefectColors([{ id: 3, name: "scratch", color: "#112233", hotkey: "" }]);
    expect(colors.colorOf(3)).toBe("#112233");
    expect(colors.nameOf(3)).toBe("scratch");
    expect(colors.colorOf(null)).toBe(NO_DEFECT_TYPE_COLOR);
    expect(colors.colorOf(99)).toBe(NO_DEFECT_TYPE_COLOR);
    expect(colors.nameOf(null)).toBe("no defect type");
  });
});
