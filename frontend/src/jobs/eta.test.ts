import { describe, expect, it } from "vitest";

import { secondsLeft, timeLeftText } from "./eta";

describe("secondsLeft", () => {
  it("extrapolates the rate so far", () => {
    expect(secondsLeft(0.25, 60)).toBeCloseTo(180);
    expect(secondsLeft(0.5, 10)).toBeCloseTo(10);
  });

  it("says nothing while too little is done, or when finished", () => {
    expect(secondsLeft(0.01, 100)).toBeNull();
    expect(secondsLeft(0.5, 1)).toBeNull();
    expect(secondsLeft(1, 100)).toBeNull();
    expect(secondsLeft(Number.NaN, 100)).toBeNull();
  });
});

describe("timeLeftText", () => {
  it("rounds to what a person wants to know", () => {
    expect(timeLeftText(null)).toBe("");
    expect(timeLeftText(20)).toBe("less than a minute left");
    expect(timeLeftText(170)).toBe("about 3 min left");
    expect(timeLeftText(3600)).toBe("about 1 h left");
    expect(timeLeftText(4800)).toBe("about 1 h 20 min left");
  });
});
