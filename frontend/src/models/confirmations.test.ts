import { describe, expect, it } from "vitest";

import { flaggedAt, promoteLines, thresholdLines } from "./confirmations";

describe("flaggedAt", () => {
  it("counts the flagged scores at both thresholds, at or above", () => {
    expect(flaggedAt([0.1, 0.5, 0.9, 1.2], 0.5, 1.0)).toEqual({ before: 3, after: 1 });
    expect(flaggedAt([0.1, 0.5], null, 0.1)).toEqual({ before: null, after: 2 });
  });
});

describe("the confirmations", () => {
  it("name what leaves production", () => {
    expect(promoteLines("model 7", "model 5")[1]).toContain("model 5 leaves production");
    expect(promoteLines("model 7", null)[1]).toBe("No model is in production yet.");
  });

  it("say how many decisions change and whether the line is affected", () => {
    const lines = thresholdLines("model 7", "1.25", { before: 4, after: 2 }, 10, true);
    expect(lines[1]).toBe("Of its 10 scored test images, 2 are flagged defective at it (4 now).");
    expect(lines).toHaveLength(3);
    expect(thresholdLines("model 7", "1.25", { before: null, after: 2 }, 10, false)).toHaveLength(2);
  });
});
