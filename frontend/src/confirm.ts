// Asking before a change that matters (promoting a model, saving a threshold): a modal <dialog> in the
// page that says what will change, with the action named on its button. Not window.confirm, which
// cannot say it in more than one line and which browsers let pages suppress.
import { el } from "./dom";

/** Resolves true when the person confirms, false when they cancel (button, Escape or backdrop). */
export function confirmChange(title: string, lines: readonly string[], action: string): Promise<boolean> {
  const confirmButton = el("button", { className: "button primary", text: action, attrs: { value: "yes" } });
  const dialog = el(
    "dialog",
    { className: "confirm-dialog", attrs: { "aria-labelledby": "confirm-title" } },
    el(
      "form",
      { attrs: { method: "dialog" } },
      el("h2", { text: title, attrs: { id: "confirm-title" } }),
      ...lines.map((line) => el("p", { text: line })),
      el(
        "div",
        { className: "confirm-actions" },
        el("button", { className: "button", text: "Cancel", attrs: { value: "no" } }),
        confirmButton,
      ),
    ),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "yes");
      dialog.remove();
    });
    dialog.showModal();
    confirmButton.focus();
  });
}
