import { describe, expect, it } from "vitest";

import { colorize, flag, greyLevels, levelOf, rawOf } from "./heatmap";

describe("levels and raw scores", () => {
  it("spreads [low, high] over 0…255 and clamps outside it", () => {
    expect(levelOf(2, 2, 4)).toBe(0);
    expect(levelOf(4, 2, 4)).toBe(255);
    expect(levelOf(3, 2, 4)).toBe(128); // 127.5 rounds up
    expect(levelOf(1, 2, 4)).toBe(0);
    expect(levelOf(9, 2, 4)).toBe(255);
  });

  it("has no division by zero for a flat map", () => {
    expect(levelOf(2, 2, 2)).toBe(0);
  });

  it("maps a level back to its raw score", () => {
    expect(rawOf(0, 2, 4)).toBe(2);
    expect(rawOf(255, 2, 4)).toBe(4);
    expect(rawOf(51, 0, 10)).toBe(2);
  });
});

describe("pixels", () => {
  it("reads the grey levels from the red channel", () => {
    expect(Array.from(greyLevels(new Uint8ClampedArray([10, 0, 0, 255, 200, 1, 2, 255])))).toEqual([10, 200]);
  });

  it("colours in jet with an alpha of twice the level", () => {
    const into = new Uint8ClampedArray(3 * 4);
    colorize(new Uint8ClampedArray([0, 100, 255]), into);
    expect(Array.from(into.slice(0, 4))).toEqual([0, 0, 128, 0]);
    expect(into[7]).toBe(200);
    expect(Array.from(into.slice(8, 12))).toEqual([128, 0, 0, 255]);
  });

  it("flags the pixels at or above the level and outlines them", () => {
    // 5×5 with a 3×3 block at 200 and one pixel at 150 inside it (the centre).
    const heat = new Uint8ClampedArray(25);
    for (const y of [1, 2, 3]) for (const x of [1, 2, 3]) heat[y * 5 + x] = 200;
    heat[12] = 150;
    const run = (level: number) => {
      const pixels = new Uint8ClampedArray(25 * 4);
      const edges = new Uint8ClampedArray(25 * 4);
      const count = flag(heat, 5, level, pixels, edges);
      const at = (data: Uint8ClampedArray) => Array.from({ length: 25 }, (_, i) => (data[i * 4 + 3] ? 1 : 0));
      return { count, flagged: at(pixels), edges: at(edges), first: Array.from(pixels.slice(6 * 4, 6 * 4 + 4)) };
    };
    const at150 = run(150);
    expect(at150.count).toBe(9);
    expect(at150.first).toEqual([255, 40, 40, 255]);
    // every flagged pixel but the centre touches an unflagged one
    expect(at150.edges.reduce((a: number, b) => a + b, 0)).toBe(8);
    expect(at150.edges[12]).toBe(0);
    // at 151 the centre drops out, and its four neighbours become edges too: all 8 left are edges
    const at151 = run(151);
    expect(at151.count).toBe(8);
    expect(at151.flagged[12]).toBe(0);
    expect(at151.edges.reduce((a: number, b) => a + b, 0)).toBe(8);
  });

  it("flags nothing at level 0", () => {
    const heat = new Uint8ClampedArray([0, 5, 255, 0]);
    expect(flag(heat, 2, 0, new Uint8ClampedArray(16), new Uint8ClampedArray(16))).toBe(0);
  });

  it("outlines flagged pixels on the border", () => {
    const heat = new Uint8ClampedArray([9, 9, 9, 9]);
    const edges = new Uint8ClampedArray(16);
    expect(flag(heat, 2, 1, new Uint8ClampedArray(16), edges)).toBe(4);
    expect([3, 7, 11, 15].map((i) => edges[i])).toEqual([255, 255, 255, 255]);
  });
});
