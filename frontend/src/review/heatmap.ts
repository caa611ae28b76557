// The heatmap's pixels without a page: grey levels 0…255 spread over the prediction's raw range
// [low, high], the jet colours drawn over the image, and what a threshold level flags (every pixel at
// or above it) with its outline. Buffers are RGBA, row-major, one entry per image pixel.
import { jet } from "../colors";

/** The flagged pixels' colour, and their outline's. */
const FLAG_RGBA = [255, 40, 40, 255];
const OUTLINE_RGBA = [255, 255, 255, 255];

/** The grey level (0…255) of a raw score in [low, high]. */
export function levelOf(raw: number, low: number, high: number): number {
  return Math.round(Math.min(255, Math.max(0, ((raw - low) / Math.max(high - low, 1e-12)) * 255)));
}

/** The raw score of a grey level. */
export function rawOf(level: number, low: number, high: number): number {
  return low + (level / 255) * (high - low);
}

/** The grey levels of an RGBA picture of the heatmap (its red channel). */
export function greyLevels(rgba: Uint8ClampedArray): Uint8ClampedArray {
  const heat = new Uint8ClampedArray(rgba.length / 4);
  for (let i = 0; i < heat.length; i++) heat[i] = rgba[i * 4];
  return heat;
}

/** Paint `heat` in jet colours into `into`; low levels fade out, so the picture stays visible where
 * the model sees nothing. */
export function colorize(heat: Uint8ClampedArray, into: Uint8ClampedArray): void {
  const table = Array.from({ length: 256 }, (_, level) => jet(level));
  for (let i = 0; i < heat.length; i++) {
    const level = heat[i];
    const [r, g, b] = table[level];
    into.set([r, g, b, Math.min(255, level * 2)], i * 4);
  }
}

/** Mark in `pixels` every pixel at or above `level` (none at level 0), in `edges` those of them with a
 * neighbour outside (or on the border); the number flagged. */
export function flag(heat: Uint8ClampedArray, width: number, level: number, pixels: Uint8ClampedArray, edges: Uint8ClampedArray): number {
  const inside = (i: number) => level > 0 && heat[i] >= level;
  let count = 0;
  for (let i = 0; i < heat.length; i++) {
    if (!inside(i)) continue;
    pixels.set(FLAG_RGBA, i * 4);
    count++;
    const x = i % width;
    const border = x === 0 || x === width - 1 || i < width || i >= heat.length - width;
    if (border || !inside(i - 1) || !inside(i + 1) || !inside(i - width) || !inside(i + width)) {
      edges.set(OUTLINE_RGBA, i * 4);
    }
  }
  return count;
}
