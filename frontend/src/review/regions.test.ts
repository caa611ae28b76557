import { describe, expect, it } from "vitest";

import { flaggedTypesText } from "./regions";

const region = (area: number, defect_type?: string, type_probability?: number) => ({
  x: 0, y: 0, width: 1, height: 1, area, defect_type, type_probability,
});

describe("the types of the flagged regions", () => {
  it("names each type once, the largest total area first, at its most confident", () => {
    const text = flaggedTypesText([region(10, "dent", 0.64), region(30, "scratch", 0.912), region(25, "dent", 0.7)]);
    expect(text).toBe("dent 70%, scratch 91%");
  });

  it("is empty when the model names no types", () => {
    expect(flaggedTypesText([region(10), region(5)])).toBe("");
    expect(flaggedTypesText([])).toBe("");
  });
});
