import { describe, expect, it } from "vitest";

import { encodeAlpha, isEmpty, maskBounds, paintMask } from "./rle";

/** An RGBA buffer whose alpha channel is `alpha`, colour channels 0. */
function rgbaOf(alpha: number[]): Uint8ClampedArray {
  const data = new Uint8ClampedArray(alpha.length * 4);
  alpha.forEach((a, i) => (data[i * 4 + 3] = a));
  return data;
}

describe("encodeAlpha", () => {
  it("counts alternating runs, starting with the outside, alpha ≥ 128 inside", () => {
    // 3×2: . X X / . . X (127 is outside, 128 inside)
    expect(encodeAlpha(rgbaOf([0, 255, 255, 0, 127, 128]), 3, 2)).toEqual({ width: 3, height: 2, counts: [1, 2, 2, 1] });
  });

  it("starts with an empty outside run when the first pixel is inside", () => {
    expect(encodeAlpha(rgbaOf([255, 255, 0, 0]), 2, 2).counts).toEqual([0, 2, 2]);
  });

  it("is one outside run for an empty mask", () => {
    expect(encodeAlpha(rgbaOf([0, 0, 0, 0, 0, 0]), 3, 2).counts).toEqual([6]);
  });
});

describe("isEmpty", () => {
  it("is true when no inside run has a pixel", () => {
    expect(isEmpty({ width: 3, height: 2, counts: [6] })).toBe(true);
    expect(isEmpty({ width: 3, height: 2, counts: [2, 0, 4] })).toBe(true);
  });

  it("is false with one inside pixel", () => {
    expect(isEmpty({ width: 3, height: 2, counts: [5, 1] })).toBe(false);
  });
});

describe("paintMask", () => {
  it("paints the inside opaque in the colour and clears everything else", () => {
    const data = new Uint8ClampedArray(6 * 4).fill(7);
    paintMask({ width: 3, height: 2, counts: [1, 2, 2, 1] }, data, [10, 20, 30]);
    const pixel = (i: number) => Array.from(data.slice(i * 4, i * 4 + 4));
    expect([0, 3, 4].map(pixel)).toEqual([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]);
    expect([1, 2, 5].map(pixel)).toEqual([[10, 20, 30, 255], [10, 20, 30, 255], [10, 20, 30, 255]]);
  });

  it("gives back what encodeAlpha read", () => {
    const alpha = [0, 255, 255, 0, 0, 255, 255, 255, 0];
    const mask = encodeAlpha(rgbaOf(alpha), 3, 3);
    const data = new Uint8ClampedArray(9 * 4);
    paintMask(mask, data, [1, 2, 3]);
    expect(encodeAlpha(data, 3, 3)).toEqual(mask);
  });
});

describe("maskBounds", () => {
  it("is the box of a run within one row", () => {
    // 4×3, pixels (1, 0) and (2, 0)
    expect(maskBounds({ width: 4, height: 3, counts: [1, 2, 9] })).toEqual({ x: 1, y: 0, width: 2, height: 1 });
  });

  it("spans the whole width when a run wraps to the next row", () => {
    // 4×3, pixels 3 (x 3, y 0) and 4 (x 0, y 1)
    expect(maskBounds({ width: 4, height: 3, counts: [3, 2, 7] })).toEqual({ x: 0, y: 0, width: 4, height: 2 });
  });

  it("joins several runs", () => {
    // 4×3, pixel (2, 0) and pixel (1, 2)
    expect(maskBounds({ width: 4, height: 3, counts: [2, 1, 6, 1, 2] })).toEqual({ x: 1, y: 0, width: 2, height: 3 });
  });

  it("is null for an empty mask", () => {
    expect(maskBounds({ width: 4, height: 3, counts: [12] })).toBeNull();
  });
});
