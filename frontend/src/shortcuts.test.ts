import { describe, expect, it } from "vitest";

import { isTyping, keyOf } from "./shortcuts";

const element = (tagName: string, props: Record<string, unknown> = {}) => ({ tagName, isContentEditable: false, ...props }) as unknown as EventTarget;

describe("whose key a press is", () => {
  it("leaves text fields, lists and editable text their keys", () => {
    expect(isTyping(element("TEXTAREA"))).toBe(true);
    expect(isTyping(element("INPUT", { type: "text" }))).toBe(true);
    expect(isTyping(element("INPUT", { type: "number" }))).toBe(true);
    expect(isTyping(element("SELECT"))).toBe(true);
    expect(isTyping(element("DIV", { isContentEditable: true }))).toBe(true);
  });

  it("gives the page the keys pressed on a button, slider or checkbox clicked a moment ago", () => {
    expect(isTyping(element("BUTTON"))).toBe(false);
    expect(isTyping(element("INPUT", { type: "range" }))).toBe(false);
    expect(isTyping(element("INPUT", { type: "checkbox" }))).toBe(false);
    expect(isTyping(element("DIV"))).toBe(false);
    expect(isTyping(null)).toBe(false);
    expect(isTyping({} as EventTarget)).toBe(false); // the document itself
  });
});

describe("the key pressed", () => {
  it("is lower case, a digit or letter under Shift as itself", () => {
    expect(keyOf({ key: "D", code: "KeyD", shiftKey: false })).toBe("d");
    expect(keyOf({ key: "!", code: "Digit1", shiftKey: true })).toBe("1");
    expect(keyOf({ key: "Q", code: "KeyQ", shiftKey: true })).toBe("q");
    expect(keyOf({ key: "?", code: "Slash", shiftKey: true })).toBe("?");
    expect(keyOf({ key: "ArrowRight", code: "ArrowRight", shiftKey: true })).toBe("arrowright");
  });
});
