// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";

import { swapLiveParts } from "./live";

function page(html: string): Document {
  return new DOMParser().parseFromString(html, "text/html");
}

describe("swapLiveParts", () => {
  it("replaces the live parts by name and leaves the rest", () => {
    document.body.innerHTML =
      '<p id="still">kept</p><section data-live="jobs">old jobs</section><div data-live="grid">old grid</div>';
    const fresh = page('<section data-live="jobs">new jobs</section><p id="still">server copy</p>');
    expect(swapLiveParts(document, fresh)).toEqual(["jobs"]);
    expect(document.querySelector("[data-live=jobs]")?.textContent).toBe("new jobs");
    expect(document.querySelector("[data-live=grid]")?.textContent).toBe("old grid");
    expect(document.querySelector("#still")?.textContent).toBe("kept");
  });

  it("draws a nested part with the part around it", () => {
    document.body.innerHTML = '<main data-live="page">old <section data-live="jobs">old jobs</section></main>';
    const fresh = page('<main data-live="page">new <section data-live="jobs">new jobs</section></main>');
    expect(swapLiveParts(document, fresh)).toEqual(["page"]);
    expect(document.body.textContent).toBe("new new jobs");
  });

  it("leaves a part that is held", () => {
    document.body.innerHTML = '<div data-live="grid" data-live-hold>selected tiles</div>';
    expect(swapLiveParts(document, page('<div data-live="grid">fresh</div>'))).toEqual([]);
    expect(document.body.textContent).toBe("selected tiles");
  });
});
