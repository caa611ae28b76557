// Masks as run-length encodings, exactly as annotations/geometry.py writes them: the image's full
// size, counts alternating runs of 0 and 1 in row-major order, starting with a (possibly empty) 0 run.
import type { MaskGeometry } from "./types";

/** Encode the pixels of an RGBA buffer whose alpha is at least half (inside) as a mask geometry. */
export function encodeAlpha(data: Uint8ClampedArray, width: number, height: number): MaskGeometry {
  const counts: number[] = [];
  const total = width * height;
  let inside = false;
  let run = 0;
  for (let i = 0; i < total; i++) {
    const value = data[i * 4 + 3] >= 128;
    if (value !== inside) {
      counts.push(run);
      run = 0;
      inside = value;
    }
    run++;
  }
  counts.push(run);
  return { width, height, counts };
}

/** Whether a mask has no pixel inside. */
export function isEmpty(mask: MaskGeometry): boolean {
  for (let i = 1; i < mask.counts.length; i += 2) if (mask.counts[i] > 0) return false;
  return true;
}

/** Paint a mask's inside pixels into `data` (RGBA, same size) in one opaque colour; outside stays clear. */
export function paintMask(mask: MaskGeometry, data: Uint8ClampedArray, rgb: [number, number, number]): void {
  data.fill(0);
  let offset = 0;
  for (let i = 0; i < mask.counts.length; i++) {
    const run = mask.counts[i];
    if (i % 2 === 1) {
      for (let p = offset; p < offset + run; p++) {
        data[p * 4] = rgb[0];
        data[p * 4 + 1] = rgb[1];
        data[p * 4 + 2] = rgb[2];
        data[p * 4 + 3] = 255;
      }
    }
    offset += run;
  }
}

/** The smallest box holding a mask's pixels, or null for an empty mask. */
export function maskBounds(mask: MaskGeometry): { x: number; y: number; width: number; height: number } | null {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  let offset = 0;
  for (let i = 0; i < mask.counts.length; i++) {
    const run = mask.counts[i];
    if (i % 2 === 1 && run > 0) {
      const first = offset;
      const last = offset + run - 1;
      const y0 = Math.floor(first / mask.width);
      const y1 = Math.floor(last / mask.width);
      minY = Math.min(minY, y0);
      maxY = Math.max(maxY, y1);
      if (y0 !== y1) {
        minX = 0;
        maxX = mask.width - 1;
      } else {
        minX = Math.min(minX, first % mask.width);
        maxX = Math.max(maxX, last % mask.width);
      }
    }
    offset += run;
  }
  if (maxX < 0) return null;
  return { x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1 };
}
