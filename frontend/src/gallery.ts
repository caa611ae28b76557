// The collection grid's selection and bulk actions (/collections/<id>/): tick tiles (Shift-click for a
// range, "select all on this page", Esc to clear), then set their verdict or move them to a split in
// one request to /api/v1/images/bulk/. The page then reloads, so every count and badge is the server's.
import { ApiError, postJson } from "./api";
import { el } from "./dom";
import { holdLivePart, REFRESHED } from "./live";

interface BulkResult {
  changed: number;
  unchanged: number;
}

// The outcome survives the reload in the tab's session storage, and is shown once.
const MESSAGE_KEY = "loupe-gallery-message";

function showMessage(): void {
  const message = sessionStorage.getItem(MESSAGE_KEY);
  if (message === null) return;
  sessionStorage.removeItem(MESSAGE_KEY);
  const list = el("ul", { className: "messages" }, el("li", { className: "message message-success", text: message }));
  document.querySelector(".page-head")?.before(list);
}

function images(count: number): string {
  return `${count} image${count === 1 ? "" : "s"}`;
}

function describe(result: BulkResult, done: string): string {
  const already = result.unchanged ? `; ${images(result.unchanged)} already ${result.unchanged === 1 ? "was" : "were"}` : "";
  return `${images(result.changed)} ${done}${already}.`;
}

function setUp(bar: HTMLElement): void {
  const boxes = [...document.querySelectorAll<HTMLInputElement>(".tile-select")];
  const selectAll = document.querySelector<HTMLInputElement>("[data-select-all]");
  const count = bar.querySelector<HTMLElement>("[data-selected-count]")!;
  const status = bar.querySelector<HTMLElement>(".action-status")!;
  const buttons = [...bar.querySelectorAll<HTMLButtonElement>("button")];
  // Where a Shift-click range starts: the box clicked last.
  let anchor: number | null = null;

  const tileOf = (box: HTMLInputElement): HTMLElement => box.closest<HTMLElement>(".tile")!;
  const selected = (): HTMLInputElement[] => boxes.filter((box) => box.checked);

  function refresh(): void {
    const n = selected().length;
    bar.hidden = n === 0;
    // A selection stays put: the grid is not drawn again under it (frontend/src/live.ts).
    const live = bar.closest<HTMLElement>("[data-live]");
    if (live && live.hasAttribute("data-live-hold") !== n > 0) holdLivePart(live, n > 0);
    count.textContent = String(n);
    status.textContent = "";
    for (const box of boxes) tileOf(box).classList.toggle("selected", box.checked);
    if (selectAll) {
      selectAll.checked = n === boxes.length;
      selectAll.indeterminate = n > 0 && n < boxes.length;
    }
  }

  function setAll(checked: boolean): void {
    for (const box of boxes) box.checked = checked;
    anchor = null;
    refresh();
  }

  boxes.forEach((box, index) => {
    // Shift-clicking would also select the page's text between the two boxes.
    box.addEventListener("mousedown", (event) => {
      if (event.shiftKey) event.preventDefault();
    });
    box.addEventListener("click", (event) => {
      if (event.shiftKey && anchor !== null) {
        for (let i = Math.min(anchor, index); i <= Math.max(anchor, index); i++) boxes[i].checked = box.checked;
      }
      anchor = index;
      refresh();
    });
  });
  selectAll?.addEventListener("change", () => setAll(selectAll.checked));
  clearSelection = () => setAll(false);

  async function apply(change: { verdict?: string; split?: string }, done: string): Promise<void> {
    const ids = selected().map((box) => Number(tileOf(box).dataset.imageId));
    for (const button of buttons) button.disabled = true;
    status.textContent = `Changing ${images(ids.length)}…`;
    try {
      const result = await postJson<BulkResult>(bar.dataset.bulkUrl!, { images: ids, ...change });
      sessionStorage.setItem(MESSAGE_KEY, describe(result, done));
      location.reload();
    } catch (error) {
      status.textContent = `Nothing was changed: ${error instanceof ApiError ? error.message : String(error)}`;
      for (const button of buttons) button.disabled = false;
    }
  }

  for (const button of buttons) {
    const label = button.textContent?.trim() ?? "";
    const { verdict, split } = button.dataset;
    if (verdict) button.addEventListener("click", () => void apply({ verdict }, `set to ${label}`));
    else if (split) button.addEventListener("click", () => void apply({ split }, `moved to ${label}`));
    else if ("clear" in button.dataset) button.addEventListener("click", () => setAll(false));
  }
  refresh();
}

// Esc clears the selection of the grid drawn now (it may have been drawn again since the page loaded).
let clearSelection = (): void => {};
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") clearSelection();
});

function bind(): void {
  const bar = document.querySelector<HTMLElement>(".action-bar");
  if (bar) setUp(bar);
}

showMessage();
document.addEventListener(REFRESHED, bind);
bind();
