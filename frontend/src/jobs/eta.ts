// How long a job has left, from how far it got and how long that took: progress is roughly linear in
// time for Loupe's jobs (images scored, features extracted), so the rate so far predicts the rest.

/** Seconds left for a job `progress` (0–1) of the way through after `elapsedSeconds`; null while
 * too little is done to tell (under 2 %, or under 3 s in). */
export function secondsLeft(progress: number, elapsedSeconds: number): number | null {
  if (!(progress >= 0.02) || progress >= 1 || !(elapsedSeconds >= 3)) return null;
  return (elapsedSeconds * (1 - progress)) / progress;
}

/** "about 3 min left", "about 1 h 20 min left", "less than a minute left". */
export function timeLeftText(seconds: number | null): string {
  if (seconds === null) return "";
  if (seconds < 60) return "less than a minute left";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min left`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `about ${hours} h${rest ? ` ${rest} min` : ""} left`;
}
