// The keyboard shortcuts of the annotator and the review page: whose a key press is (the page's, or
// the text field's it is typed into), and the sheet, a dialog listing keys and what they do, opened
// and closed by "?". While the sheet is open it takes every key, so nothing happens behind it.
import { el, kbd } from "./dom";

/** The key pressed, as the review queue's shortcuts name it ("d", "arrowleft"): lower case, and a
 * digit or letter as itself with Shift held too (Shift+1 is "1", not "!", whatever the keyboard's layout). */
export function keyOf(event: Pick<KeyboardEvent, "key" | "code" | "shiftKey">): string {
  const base = event.shiftKey ? /^(?:Digit|Key)(\w)$/.exec(event.code) : null;
  if (base) return base[1].toLowerCase();
  return event.key.toLowerCase();
}

/** Inputs whose keys are not text: after a click on one, the page's keys still work. */
const NOT_TEXT = new Set(["button", "checkbox", "color", "file", "image", "radio", "range", "reset", "submit"]);

/** Whether a key pressed in `target` is typing into a text field (or a list), not a shortcut. A
 * button, slider or checkbox that has the focus after a click does not take the page's keys. */
export function isTyping(target: EventTarget | null): boolean {
  const element = target as Partial<HTMLElement> | null;
  if (!element?.tagName) return false;
  if (element.isContentEditable || element.tagName === "TEXTAREA" || element.tagName === "SELECT") return true;
  return element.tagName === "INPUT" && !NOT_TEXT.has((element as HTMLInputElement).type);
}

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
