// Undo and redo over immutable snapshots: an edit pushes the state it replaces.
export class History<T> {
  private past: T[] = [];
  private future: T[] = [];

  constructor(
    public current: T,
    private readonly limit = 200,
  ) {}

  push(next: T): void {
    if (next === this.current) return;
    this.past.push(this.current);
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
    this.current = next;
  }

  undo(): boolean {
    const previous = this.past.pop();
    if (previous === undefined) return false;
    this.future.push(this.current);
    this.current = previous;
    return true;
  }

  redo(): boolean {
    const next = this.future.pop();
    if (next === undefined) return false;
    this.past.push(this.current);
    this.current = next;
    return true;
  }

  /** Start over from `state` (after loading someone else's labels). */
  reset(state: T): void {
    this.past = [];
    this.future = [];
    this.current = state;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }
}
