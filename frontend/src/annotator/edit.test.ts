import { describe, expect, it } from "vitest";

import {
  clampDelta,
  deleteVertex,
  fitBox,
  edgeAt,
  handleAt,
  handleCursor,
  handlePoint,
  HANDLES,
  insertVertex,
  moveBox,
  moveGeometry,
  movePoints,
  moveVertex,
  type Pair,
  resizeBox,
  vertexAt,
} from "./edit";

const image = { width: 640, height: 480 };
const box = { x: 100, y: 100, width: 100, height: 80 };
const square: Pair[] = [
  [10, 10],
  [50, 10],
  [50, 50],
  [10, 50],
];

describe("box handles", () => {
  it("finds a corner before a side, and a side anywhere along it", () => {
    expect(handleAt(box, { x: 102, y: 97 }, 4)).toBe("nw");
    expect(handleAt(box, { x: 200, y: 180 }, 4)).toBe("se");
    expect(handleAt(box, { x: 198, y: 103 }, 4)).toBe("ne");
    expect(handleAt(box, { x: 150, y: 178 }, 4)).toBe("s");
    expect(handleAt(box, { x: 120, y: 100 }, 4)).toBe("n"); // not only at the side's middle
    expect(handleAt(box, { x: 203, y: 140 }, 4)).toBe("e");
  });

  it("finds none inside the box, outside the reach, or beyond the side's ends", () => {
    expect(handleAt(box, { x: 150, y: 140 }, 4)).toBeNull();
    expect(handleAt(box, { x: 94, y: 140 }, 4)).toBeNull();
    expect(handleAt(box, { x: 150, y: 250 }, 4)).toBeNull();
    expect(handleAt(box, { x: 240, y: 100 }, 4)).toBeNull();
  });

  it("reaches as far as it is told: the page passes a constant screen distance over the scale", () => {
    const point = { x: 100 + 0.5, y: 100 - 0.5 };
    expect(handleAt(box, point, 6 / 32)).toBeNull(); // zoomed in 32×: half a pixel is 16 screen px
    expect(handleAt(box, point, 6 / 2)).toBe("nw");
  });

  it("places each handle on the box and gives it a cursor that says which way it goes", () => {
    expect(HANDLES.map((h) => handlePoint(box, h))).toEqual([
      { x: 100, y: 100 }, { x: 150, y: 100 }, { x: 200, y: 100 }, { x: 200, y: 140 },
      { x: 200, y: 180 }, { x: 150, y: 180 }, { x: 100, y: 180 }, { x: 100, y: 140 },
    ]);
    expect(HANDLES.map(handleCursor)).toEqual([
      "nwse-resize", "ns-resize", "nesw-resize", "ew-resize", "nwse-resize", "ns-resize", "nesw-resize", "ew-resize",
    ]);
  });
});

describe("resizing a box", () => {
  it("moves the sides its handle names and keeps the others", () => {
    expect(resizeBox(box, "se", { x: 260, y: 220 }, image, 2)).toEqual({ x: 100, y: 100, width: 160, height: 120 });
    expect(resizeBox(box, "w", { x: 60, y: 999 }, image, 2)).toEqual({ x: 60, y: 100, width: 140, height: 80 });
    expect(resizeBox(box, "n", { x: 0, y: 120 }, image, 2)).toEqual({ x: 100, y: 120, width: 100, height: 60 });
  });

  it("stops at the image's edges", () => {
    expect(resizeBox(box, "nw", { x: -50, y: -30 }, image, 2)).toEqual({ x: 0, y: 0, width: 200, height: 180 });
    expect(resizeBox(box, "se", { x: 900, y: 700 }, image, 2)).toEqual({ x: 100, y: 100, width: 540, height: 380 });
  });

  it("keeps the minimum size instead of flipping over", () => {
    expect(resizeBox(box, "e", { x: 20, y: 0 }, image, 3)).toEqual({ x: 100, y: 100, width: 3, height: 80 });
    expect(resizeBox(box, "n", { x: 0, y: 400 }, image, 3)).toEqual({ x: 100, y: 177, width: 100, height: 3 });
  });

  it("lets the image's edge win over the minimum", () => {
    const thin = { x: 639, y: 10, width: 1, height: 10 };
    const resized = resizeBox(thin, "e", { x: 600, y: 0 }, image, 3);
    expect(resized.x + resized.width).toBeLessThanOrEqual(640);
    expect(resized.width).toBeGreaterThan(0);
  });

  it("adds up exactly at the edge, whatever the box's fractions", () => {
    const odd = { x: 0.1 + 0.2, y: 1 / 3, width: 10.7, height: 5.3 };
    for (let i = 0; i < 50; i++) {
      const to = { x: 630 + i * 0.37, y: 470 + i * 0.41 };
      const resized = resizeBox({ ...odd, x: odd.x + i * 1.1 }, "se", to, image, 2);
      expect(resized.x + resized.width).toBeLessThanOrEqual(640);
      expect(resized.y + resized.height).toBeLessThanOrEqual(480);
    }
  });
});

describe("moving", () => {
  it("moves a box and stops it at the edges, its size kept", () => {
    expect(moveBox(box, { x: 30, y: -20 }, image)).toEqual({ x: 130, y: 80, width: 100, height: 80 });
    expect(moveBox(box, { x: 1000, y: 1000 }, image)).toEqual({ x: 540, y: 400, width: 100, height: 80 });
    expect(moveBox(box, { x: -1000, y: -1000 }, image)).toEqual({ x: 0, y: 0, width: 100, height: 80 });
    const odd = { x: 1 / 3, y: 0.7, width: 99.9 + 0.01, height: 12.345 };
    const moved = moveBox(odd, { x: 1e6, y: 1e6 }, image);
    expect(moved.x + moved.width).toBe(640);
    expect(moved.y + moved.height).toBe(480);
  });

  it("fits a drawn box to the grid, never past the edge", () => {
    const drawn = { x: 200.00600000000003, y: 0.1 + 0.2, width: 119.99399999999997, height: 479.7 };
    const fitted = fitBox(drawn, { width: 320, height: 480 });
    expect(fitted.x + fitted.width).toBeLessThanOrEqual(320);
    expect(fitted.y + fitted.height).toBeLessThanOrEqual(480);
    expect(fitted).toEqual({ x: 200, y: 0.3125, width: 120, height: 479.6875 });
  });

  it("cuts a move down so the whole shape stays inside", () => {
    expect(clampDelta({ x: 10, y: 10 }, { x: 50, y: 50 }, { x: -40, y: 500 }, image)).toEqual({ x: -10, y: 430 });
    expect(movePoints(square, { x: -40, y: 5 }, image)).toEqual([[0, 15], [40, 15], [40, 55], [0, 55]]);
    expect(movePoints(square, { x: 700, y: 0 }, image)[1]).toEqual([640, 10]);
  });

  it("moves points, polygons and scribbles; a mask is not moved", () => {
    expect(moveGeometry("point", { x: 630, y: 5 }, { x: 20, y: -20 }, image)).toEqual({ x: 640, y: 0 });
    expect(moveGeometry("polygon", { points: square }, { x: 5, y: 5 }, image)).toEqual({
      points: [[15, 15], [55, 15], [55, 55], [15, 55]],
    });
    expect(moveGeometry("scribble", { points: [[1, 1], [3, 4]], width: 6 }, { x: -5, y: 0 }, image)).toEqual({
      points: [[0, 1], [2, 4]],
      width: 6,
    });
    expect(moveGeometry("mask", { width: 640, height: 480, counts: [307200] }, { x: 1, y: 1 }, image)).toBeNull();
  });
});

describe("polygon vertices", () => {
  it("finds the nearest vertex within reach", () => {
    expect(vertexAt(square, { x: 49, y: 12 }, 4)).toBe(1);
    expect(vertexAt(square, { x: 30, y: 30 }, 4)).toBeNull();
    expect(vertexAt([[0, 0], [3, 0], [0, 9]], { x: 2, y: 0 }, 4)).toBe(1); // the nearer of two in reach
  });

  it("finds an edge, the closing one too, and where on it", () => {
    expect(edgeAt(square, { x: 30, y: 12 }, 4)).toEqual({ index: 1, at: { x: 30, y: 10 } });
    expect(edgeAt(square, { x: 8, y: 30 }, 4)).toEqual({ index: 4, at: { x: 10, y: 30 } });
    expect(edgeAt(square, { x: 30, y: 30 }, 4)).toBeNull();
  });

  it("inserts a vertex on an edge, in order", () => {
    const hit = edgeAt(square, { x: 30, y: 11 }, 4)!;
    expect(insertVertex(square, hit.index, hit.at)).toEqual([[10, 10], [30, 10], [50, 10], [50, 50], [10, 50]]);
    expect(insertVertex(square, 4, { x: 10, y: 30 }).at(-1)).toEqual([10, 30]);
  });

  it("deletes a vertex, never below three", () => {
    const triangle = deleteVertex(square, 2);
    expect(triangle).toEqual([[10, 10], [50, 10], [10, 50]]);
    expect(deleteVertex(triangle!, 0)).toBeNull();
    expect(deleteVertex(square, 7)).toBeNull();
  });

  it("drags a vertex, kept inside the image", () => {
    expect(moveVertex(square, 2, { x: 70, y: 80 }, image)[2]).toEqual([70, 80]);
    expect(moveVertex(square, 0, { x: -5, y: 900 }, image)).toEqual([[0, 480], [50, 10], [50, 50], [10, 50]]);
  });
});
