// What promoting a version or saving a threshold will change, said before it happens.

/** How many of `scores` are flagged (score ≥ threshold) at the saved threshold and at a new one. */
export function flaggedAt(
  scores: readonly number[],
  saved: number | null,
  next: number,
): { before: number | null; after: number } {
  const count = (threshold: number): number => scores.filter((score) => score >= threshold).length;
  return { before: saved === null ? null : count(saved), after: count(next) };
}

export function promoteLines(name: string, production: string | null): string[] {
  return [
    `${name} becomes the production model: the line's inspection service answers with it from its next ` +
      "request, and the gallery, image pages and review queue show its scores.",
    production ? `${production} leaves production (it can be promoted again later).` : "No model is in production yet.",
  ];
}

export function thresholdLines(
  name: string,
  threshold: string,
  flagged: { before: number | null; after: number },
  total: number,
  inProduction: boolean,
): string[] {
  const lines = [
    `Every prediction of ${name} is decided again at ${threshold}, and its normalized scores move so that ` +
      "0.5 is the new threshold.",
    flagged.before === null
      ? `${flagged.after} of its ${total} scored test images are flagged defective at it.`
      : `Of its ${total} scored test images, ${flagged.after} are flagged defective at it (${flagged.before} now).`,
  ];
  if (inProduction) lines.push("It is in production: the line decides with the new threshold from its next request.");
  return lines;
}
