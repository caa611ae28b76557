import { describe, expect, it } from "vitest";

import { entryFiles, inputFiles, isZip, type EntryLike } from "./walk";

function file(name: string, body = "x"): EntryLike {
  return { name, isFile: true, isDirectory: false, file: (ok: (f: File) => void) => ok(new File([body], name)) } as EntryLike;
}

/** A directory whose reader hands out its entries `chunk` at a time, as Chrome does (100). */
function folder(name: string, entries: EntryLike[], chunk = 2): EntryLike {
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader() {
      let at = 0;
      return {
        readEntries(ok: (e: EntryLike[]) => void) {
          ok(entries.slice(at, at + chunk));
          at += chunk;
        },
      };
    },
  } as EntryLike;
}

describe("entryFiles", () => {
  it("keeps an MVTec layout's relative paths, reading every chunk of a directory", async () => {
    const bottle = folder("bottle", [
      folder("train", [folder("good", [file("000.png"), file("001.png"), file("002.png")])]),
      folder("test", [folder("crack", [file("000.png")])]),
      folder("ground_truth", [folder("crack", [file("000_mask.png")])]),
    ]);
    const paths = (await entryFiles(bottle)).map((item) => item.path);
    expect(paths).toEqual([
      "bottle/train/good/000.png",
      "bottle/train/good/001.png",
      "bottle/train/good/002.png",
      "bottle/test/crack/000.png",
      "bottle/ground_truth/crack/000_mask.png",
    ]);
  });

  it("gives a dropped file its own name and its content", async () => {
    const [item] = await entryFiles(file("a.png", "pixels"));
    expect(item.path).toBe("a.png");
    expect(await item.file.text()).toBe("pixels");
  });

  it("finds nothing in an empty folder", async () => {
    expect(await entryFiles(folder("empty", []))).toEqual([]);
  });
});

describe("inputFiles", () => {
  it("uses the folder input's relative path where there is one", () => {
    const inFolder = new File(["x"], "a.png");
    Object.defineProperty(inFolder, "webkitRelativePath", { value: "parts/a.png" });
    const loose = new File(["x"], "b.png");
    expect(inputFiles([inFolder, loose]).map((item) => item.path)).toEqual(["parts/a.png", "b.png"]);
  });
});

describe("isZip", () => {
  it("knows a zip by its name or its type", () => {
    expect(isZip(new File([""], "Set.ZIP"))).toBe(true);
    expect(isZip(new File([""], "set", { type: "application/zip" }))).toBe(true);
    expect(isZip(new File([""], "a.png", { type: "image/png" }))).toBe(false);
  });
});
