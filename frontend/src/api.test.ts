import { afterEach, describe, expect, it, vi } from "vitest";

import { ApiError, getAllPages } from "./api";

interface Page {
  items: number[];
  more: string | null;
}

function serve(pages: Record<string, Page | number>): string[] {
  const asked: string[] = [];
  vi.stubGlobal("fetch", async (url: string) => {
    asked.push(url);
    const page = pages[url];
    if (typeof page === "number") return new Response(JSON.stringify({ detail: "no" }), { status: page });
    return new Response(JSON.stringify(page), { status: 200 });
  });
  return asked;
}

const read = (page: Page) => ({ rows: page.items, next: page.more });

describe("getAllPages", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("follows each page's next link to the end and keeps the rows in order", async () => {
    const asked = serve({
      "/s/": { items: [1, 2], more: "/s/?after=2" },
      "/s/?after=2": { items: [3], more: "/s/?after=3" },
      "/s/?after=3": { items: [], more: null },
    });
    expect(await getAllPages("/s/", read)).toEqual([1, 2, 3]);
    expect(asked).toEqual(["/s/", "/s/?after=2", "/s/?after=3"]);
  });

  it("fails as the page that failed, with the server's message", async () => {
    serve({ "/s/": { items: [1], more: "/s/?after=1" }, "/s/?after=1": 404 });
    await expect(getAllPages("/s/", read)).rejects.toEqual(new ApiError("no", 404));
  });
});
