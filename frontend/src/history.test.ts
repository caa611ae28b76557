import { describe, expect, it } from "vitest";

import { History } from "./history";

describe("History", () => {
  it("undoes and redoes in order", () => {
    const history = new History("a");
    history.push("b");
    history.push("c");
    expect(history.undo()).toBe(true);
    expect(history.current).toBe("b");
    expect(history.undo()).toBe(true);
    expect(history.current).toBe("a");
    expect(history.undo()).toBe(false);
    expect(history.current).toBe("a");
    expect(history.redo()).toBe(true);
    expect(history.redo()).toBe(true);
    expect(history.current).toBe("c");
    expect(history.redo()).toBe(false);
  });

  it("forgets what was undone once something new is pushed", () => {
    const history = new History("a");
    history.push("b");
    history.undo();
    history.push("c");
    expect(history.canRedo).toBe(false);
    expect(history.redo()).toBe(false);
    history.undo();
    expect(history.current).toBe("a");
  });

  it("ignores pushing the current state", () => {
    const state = { n: 1 };
    const history = new History(state);
    history.push(state);
    expect(history.canUndo).toBe(false);
  });

  it("keeps at most `limit` steps back, dropping the oldest", () => {
    const history = new History(0, 2);
    history.push(1);
    history.push(2);
    history.push(3);
    expect(history.undo() && history.undo()).toBe(true);
    expect(history.current).toBe(1);
    expect(history.undo()).toBe(false);
  });

  it("starts over on reset", () => {
    const history = new History("a");
    history.push("b");
    history.undo();
    history.reset("z");
    expect(history.current).toBe("z");
    expect(history.canUndo).toBe(false);
    expect(history.canRedo).toBe(false);
  });
});
