// Live pages: the parts of a server-drawn page marked `data-live="<name>"` are drawn again from the
// server, in place, when something they show has changed (a job finished: new versions, new scores,
// follow-on jobs). The server stays the one place that draws them; page scripts listen for
// `loupe:refreshed` to bind to what is new, and mark a part `data-live-hold` while someone is in the
// middle of something there (images selected), so it is left as it is.

export const REFRESHED = "loupe:refreshed";

/** Replace each outermost live part of `current` by the part of the same name in `fresh`; returns
 * their names. A part the fresh page no longer has is left as it is. */
export function swapLiveParts(current: ParentNode, fresh: ParentNode): string[] {
  const swapped: string[] = [];
  for (const part of current.querySelectorAll<HTMLElement>("[data-live]")) {
    if (part.parentElement?.closest("[data-live]")) continue; // drawn again with the part around it
    if (part.dataset.liveHold !== undefined) continue; // someone is in the middle of something there
    const name = part.dataset.live ?? "";
    const replacement = fresh.querySelector<HTMLElement>(`[data-live="${CSS.escape(name)}"]`);
    if (!replacement) continue;
    part.replaceWith(document.importNode(replacement, true));
    swapped.push(name);
  }
  return swapped;
}

let pending: Promise<void> | null = null;
// Parts left as they were at a refresh because they were held: drawn again once let go.
const stale = new Set<string>();

/** Hold a live part (someone is in the middle of something there) or let it go; let go after a
 * refresh passed it by, it is drawn again then. */
export function holdLivePart(part: HTMLElement, held: boolean): void {
  part.toggleAttribute("data-live-hold", held);
  if (!held && stale.delete(part.dataset.live ?? "")) void refreshLiveParts();
}

/** Draw the page's live parts again (one request at a time; a failure leaves the page as it is). */
export function refreshLiveParts(): Promise<void> {
  pending ??= (async () => {
    try {
      const answer = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!answer.ok) return;
      const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
      for (const part of document.querySelectorAll<HTMLElement>("[data-live][data-live-hold]")) {
        stale.add(part.dataset.live ?? "");
      }
      const swapped = swapLiveParts(document, fresh);
      for (const name of swapped) stale.delete(name);
      if (swapped.length) document.dispatchEvent(new CustomEvent(REFRESHED, { detail: swapped }));
    } catch {
      // Offline or the server is restarting: the page keeps what it shows.
    } finally {
      pending = null;
    }
  })();
  return pending;
}
