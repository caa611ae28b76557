// How the models page writes its numbers: metrics, raw scores and rates.

/** A metric to `digits` decimals; a dash when there is none. */
export function fixed(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? "—" : value.toFixed(digits);
}

/** A raw score: six significant digits, whatever the algorithm's units. */
export function score(value: number): string {
  return String(Number(value.toPrecision(6)));
}

export function percent(value: number | null): string {
  return value === null ? "—" : `${(value * 100).toFixed(1)}%`;
}
