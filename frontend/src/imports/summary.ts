// What an import job's result says, for people: counts, then each refused file with its reason.

export interface RefusedFile {
  file: string;
  reason: string;
}

export interface ImportResult {
  layout: string;
  images: number;
  added: number;
  duplicates: number;
  masks: number;
  empty_masks: number;
  refused_count: number;
  refused: RefusedFile[];
  labeled?: number; // images given labels by a label file (COCO, LabelMe, YOLO, CVAT) or by their MVTec folder
  kept_labels?: RefusedFile[]; // images that kept the label a person gave them
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One line: "12 images added, 3 already in the collection (skipped), 2 refused". */
export function summaryLine(result: ImportResult): string {
  const parts = [`${count(result.added, "image")} added`];
  parts.push(`${result.duplicates} already in the collection (skipped)`);
  parts.push(`${result.refused_count} refused`);
  let line = parts.join(", ");
  if (result.masks) line += `; ${count(result.masks, "ground-truth mask")} read`;
  // The MVTec AD layout labels by folder (train/good, test/<defect>); the other formats by their files.
  const from = result.layout === "mvtec" ? "their folders" : "the label files";
  if (result.labeled) line += `; ${count(result.labeled, "image")} labeled from ${from}`;
  return line;
}

const LABEL_FORMATS: Record<string, string> = { coco: "COCO", labelme: "LabelMe", yolo: "YOLO", cvat: "CVAT" };

export function layoutName(layout: string): string {
  if (layout === "mvtec") return "the MVTec AD layout";
  if (layout === "folder") return "a plain folder";
  return `${LABEL_FORMATS[layout] ?? layout} labels`;
}

function fileList(doc: Document, files: RefusedFile[], label: string): HTMLUListElement {
  const list = doc.createElement("ul");
  list.className = "import-refused";
  list.setAttribute("aria-label", label);
  for (const { file, reason } of files) {
    const item = doc.createElement("li");
    const name = doc.createElement("code");
    name.textContent = file;
    item.append(name, `: ${reason}`);
    list.append(item);
  }
  return list;
}

/** Draw the summary into `container` (text only: file names are the user's, never markup). */
export function renderSummary(container: HTMLElement, result: ImportResult): void {
  const doc = container.ownerDocument;
  container.replaceChildren();
  const head = doc.createElement("p");
  head.className = "import-summary-line";
  head.textContent = `Imported from ${layoutName(result.layout)}: ${summaryLine(result)}.`;
  container.append(head);
  const kept = result.kept_labels ?? [];
  if (kept.length) {
    const note = doc.createElement("p");
    note.textContent = `${count(kept.length, "image")} kept the label a person gave ${kept.length === 1 ? "it" : "them"}:`;
    container.append(note, fileList(doc, kept, "Labels kept"));
  }
  if (!result.refused.length) return;
  container.append(fileList(doc, result.refused, "Refused files"));
  const unlisted = result.refused_count - result.refused.length;
  if (unlisted > 0) {
    const more = doc.createElement("p");
    more.className = "muted small";
    more.textContent = `… and ${count(unlisted, "more file")} refused (not listed).`;
    container.append(more);
  }
}
