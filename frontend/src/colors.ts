// The colours both canvases share: a defect type's colour (and the server's colour for "no defect
// type"), colours as numbers, and the jet colour map of the heatmaps.
import type { DefectType } from "./types";

/** The server's colour for a region without a defect type (its pages draw such masks in it too). */
export const NO_DEFECT_TYPE_COLOR = "#ff00ff";

/** "#rrggbb" as numbers; anything else is the colour of "no defect type". */
export function hexToRgb(color: string): [number, number, number] {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!match) return [255, 0, 255];
  return [parseInt(match[1], 16), parseInt(match[2], 16), parseInt(match[3], 16)];
}

/** A "#rrggbb" colour with an alpha, as CSS: rgba(r, g, b, alpha). */
export function rgba(color: string, alpha: number): string {
  const [r, g, b] = hexToRgb(color);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** The jet colour map at a grey level 0…255, as the server draws overlays (inference/services/heatmaps.py). */
export function jet(level: number): [number, number, number] {
  const x = level / 255;
  const channel = (offset: number) => Math.round(Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - offset))) * 255);
  return [channel(3), channel(2), channel(1)];
}

/** The colours and names of a collection's defect types, by id; `null` is "no defect type". */
export class DefectColors {
  constructor(private readonly types: readonly DefectType[]) {}

  colorOf(id: number | null): string {
    return this.types.find((type) => type.id === id)?.color ?? NO_DEFECT_TYPE_COLOR;
  }

  nameOf(id: number | null): string {
    return this.types.find((type) => type.id === id)?.name ?? "no defect type";
  }
}
