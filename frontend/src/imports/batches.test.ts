import { describe, expect, it } from "vitest";

import { batchForm, batchesOf } from "./batches";
import type { PathedFile } from "./walk";

function item(path: string, size: number): PathedFile {
  return { path, file: new File([new Uint8Array(size)], path.split("/").pop() ?? path) };
}

describe("batchesOf", () => {
  it("cuts files by count and by size, and sends each zip alone after them", () => {
    const items = [
      item("d/a.png", 10),
      item("d/b.png", 10),
      item("set.zip", 500),
      item("d/c.png", 10),
      item("d/d.png", 60),
      item("d/e.png", 5),
    ];
    const batches = batchesOf(items, { maxFiles: 2, maxBytes: 50 });
    expect(batches.map((batch) => batch.files.map((f) => f.path))).toEqual([
      ["d/a.png", "d/b.png"],
      ["d/c.png"],
      ["d/d.png"], // bigger than the size limit: alone
      ["d/e.png"],
      [],
    ]);
    expect(batches[4].archives.map((zip) => zip.name)).toEqual(["set.zip"]);
    expect(batches.map((batch) => batch.bytes)).toEqual([20, 10, 60, 5, 500]);
  });

  it("makes no batch of nothing", () => {
    expect(batchesOf([])).toEqual([]);
  });
});

describe("batchForm", () => {
  it("sends each file with its path, in order, and the upload's key after the first batch", () => {
    const [batch] = batchesOf([item("bottle/train/good/0.png", 1), item("bottle/test/crack/0.png", 1)]);
    const form = batchForm(batch, "k".repeat(32), "token");
    expect(form.getAll("paths")).toEqual(["bottle/train/good/0.png", "bottle/test/crack/0.png"]);
    expect((form.getAll("files") as File[]).map((f) => f.name)).toEqual(["0.png", "0.png"]);
    expect(form.get("staging")).toBe("k".repeat(32));
    expect(form.get("csrfmiddlewaretoken")).toBe("token");
    expect(batchForm(batch, null, "token").has("staging")).toBe(false);
  });
});
