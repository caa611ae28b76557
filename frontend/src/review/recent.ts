// The latest decisions on this model, newest first: who decided what on which image.
import { getJson } from "../api";
import { el } from "../dom";
import { DECISION_LABEL, type ReviewRow } from "./types";

const SHOWN = 12;

/** Fill `list` with the latest decisions on `modelVersion`, a false positive's reason named as in
 * `reasons`; left as it was when they cannot be read. */
export async function showRecent(list: HTMLElement, modelVersion: number, reasons: readonly [string, string][]): Promise<void> {
  const reasonLabel = new Map(reasons);
  let rows: ReviewRow[];
  try {
    rows = (await getJson<{ results: ReviewRow[] }>(`/api/v1/reviews/?model_version=${modelVersion}`)).results.slice(0, SHOWN);
  } catch {
    return; // the list is a courtesy; the queue works without it
  }
  list.replaceChildren(
    ...rows.map((row) =>
      el(
        "li",
        { dataset: { decision: row.decision } },
        el("strong", { text: row.reviewer ?? "someone" }),
        ` ${DECISION_LABEL[row.decision].toLowerCase()}${row.reason ? ` (${(reasonLabel.get(row.reason) ?? row.reason).toLowerCase()})` : ""} · `,
        el("a", { text: row.image_name, attrs: { href: `/images/${row.image}/` } }),
        el("time", { className: "muted small", text: ` ${new Date(row.created_at).toLocaleTimeString()}`, attrs: { datetime: row.created_at } }),
        row.comment ? el("q", { className: "small", text: row.comment }) : null,
      ),
    ),
  );
  if (!rows.length) list.append(el("li", { className: "muted", text: "No decisions yet." }));
}
