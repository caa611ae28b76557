// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";

import { renderSummary, summaryLine, type ImportResult } from "./summary";

const RESULT: ImportResult = {
  layout: "mvtec",
  images: 12,
  added: 9,
  duplicates: 1,
  masks: 4,
  empty_masks: 0,
  refused_count: 3,
  refused: [
    { file: "bottle/test/crack/<b>x</b>.png", reason: "the image data is truncated or corrupt" },
    { file: "bottle/readme.txt", reason: "not an image file (.txt)" },
  ],
};

describe("summaryLine", () => {
  it("says what was added, skipped as duplicates and refused", () => {
    expect(summaryLine(RESULT)).toBe(
      "9 images added, 1 already in the collection (skipped), 3 refused; 4 ground-truth masks read",
    );
    expect(summaryLine({ ...RESULT, added: 1, masks: 0 })).toBe(
      "1 image added, 1 already in the collection (skipped), 3 refused",
    );
  });

  it("says where the labels came from: the MVTec AD layout's folders, or a format's label files", () => {
    expect(summaryLine({ ...RESULT, labeled: 9 })).toBe(
      "9 images added, 1 already in the collection (skipped), 3 refused; 4 ground-truth masks read; " +
        "9 images labeled from their folders",
    );
    expect(summaryLine({ ...RESULT, layout: "coco", masks: 0, labeled: 1 })).toBe(
      "9 images added, 1 already in the collection (skipped), 3 refused; 1 image labeled from the label files",
    );
  });
});

describe("renderSummary", () => {
  it("lists each refused file with its reason, as text, and counts the unlisted ones", () => {
    const container = document.createElement("div");
    renderSummary(container, RESULT);
    expect(container.querySelector(".import-summary-line")?.textContent).toBe(
      "Imported from the MVTec AD layout: 9 images added, 1 already in the collection (skipped), 3 refused; 4 ground-truth masks read.",
    );
    const items = [...container.querySelectorAll(".import-refused li")].map((li) => li.textContent);
    expect(items).toEqual([
      "bottle/test/crack/<b>x</b>.png: the image data is truncated or corrupt",
      "bottle/readme.txt: not an image file (.txt)",
    ]);
    expect(container.querySelector("b")).toBeNull(); // a file name is never markup
    expect(container.textContent).toContain("and 1 more file refused (not listed)");
  });

  it("names label formats and lists the images that kept a person's label", () => {
    const container = document.createElement("div");
    const kept = [{ file: "images/a.png", reason: "labeled by ana" }];
    renderSummary(container, { ...RESULT, layout: "labelme", labeled: 2, kept_labels: kept, masks: 0, refused: [], refused_count: 0 });
    expect(container.querySelector(".import-summary-line")?.textContent).toBe(
      "Imported from LabelMe labels: 9 images added, 1 already in the collection (skipped), 0 refused; 2 images labeled from the label files.",
    );
    expect(container.querySelector("[aria-label='Labels kept'] li")?.textContent).toBe("images/a.png: labeled by ana");
  });

  it("draws no list when nothing was refused", () => {
    const container = document.createElement("div");
    renderSummary(container, { ...RESULT, layout: "folder", refused: [], refused_count: 0 });
    expect(container.querySelector("ul")).toBeNull();
    expect(container.textContent).toContain("Imported from a plain folder");
  });
});
