// The keyboard shortcut sheet of the annotator and the review page: a dialog listing keys and what
// they do, opened and closed by "?". While it is open it takes every key, so nothing happens behind it.
import { el, kbd } from "./dom";

/** One row: the keys that do it (shown side by side) and what it does. */
export type Shortcut = readonly [keys: readonly string[], what: string];

export class ShortcutSheet {
  readonly dialog = el("dialog", { className: "shortcut-sheet", attrs: { "aria-label": "Keyboard shortcuts" } });

  constructor(rows: readonly Shortcut[], tableClass = "table") {
    const table = el("table", { className: tableClass });
    for (const [keys, what] of rows) {
      const cell = el("td");
      keys.forEach((key, index) => cell.append(...(index ? [" "] : []), kbd(key)));
      table.append(el("tr", {}, cell, el("td", { text: what })));
    }
    const close = el("button", { className: "button", text: "Close", attrs: { type: "button" }, onClick: () => this.dialog.close() });
    this.dialog.append(el("h2", { text: "Keyboard shortcuts" }), table, close);
  }

  get open(): boolean {
    return this.dialog.open;
  }

  toggle(): void {
    if (this.dialog.open) this.dialog.close();
    else this.dialog.showModal();
  }

  /** A key pressed while the sheet may be open: true when the sheet took it ("?" and Esc close it). */
  takes(event: KeyboardEvent): boolean {
    if (!this.dialog.open) return false;
    if (event.key === "?") {
      event.preventDefault();
      this.dialog.close();
    } else if (event.key === "Escape") {
      this.dialog.close();
    }
    return true;
  }
}
