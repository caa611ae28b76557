import type { FlaggedRegion } from "./types";

/** What the model calls the regions it flags, largest first: "scratch 91%, dent 64%"; empty when it
 * names no types (it learned none, or flags nothing). One entry per type, at its most confident. */
export function flaggedTypesText(regions: readonly FlaggedRegion[]): string {
  const best = new Map<string, { area: number; probability: number }>();
  for (const region of regions) {
    if (!region.defect_type) continue;
    const seen = best.get(region.defect_type);
    best.set(region.defect_type, {
      area: (seen?.area ?? 0) + region.area,
      probability: Math.max(seen?.probability ?? 0, region.type_probability ?? 0),
    });
  }
  return [...best.entries()]
    .sort(([, a], [, b]) => b.area - a.area)
    .map(([name, { probability }]) => `${name} ${Math.round(probability * 100)}%`)
    .join(", ");
}
