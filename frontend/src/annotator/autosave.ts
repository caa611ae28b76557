// Saving by itself: a moment after each edit the whole state is PUT on top of the version it was read
// at (If-Match). Edits made while a save is under way are saved after it; a server error or a lost
// connection is tried again; someone else's newer version stops all saving (a conflict), so nothing of
// theirs is overwritten and nothing of ours is lost unseen.
import { type ApiError, Conflict, putAnnotation } from "../api";
import type { LabelStore } from "./store";

export type SaveState = "loading" | "saved" | "dirty" | "saving" | "conflict" | "error" | "readonly";

const SAVE_DELAY_MS = 800;
const RETRY_DELAY_MS = 5000;

export interface SaveEvents {
  /** The save state may have changed; `state` when it is this one for now. */
  status(state?: SaveState): void;
  /** Someone saved first (the store is in conflict already); the save gives up. */
  conflict(error: Conflict): Promise<void>;
}

export class AutoSave {
  private timer = 0;
  private inflight: Promise<boolean> | null = null;
  private lastErrorText = "";

  constructor(
    private readonly store: LabelStore,
    private readonly url: string,
    private readonly events: SaveEvents,
  ) {}

  /** The message of the last failed save, "" once a save went through. */
  get lastError(): string {
    return this.lastErrorText;
  }

  /** Where the labels stand. */
  get state(): SaveState {
    const store = this.store;
    if (!store.canEdit) return "readonly";
    if (store.conflict) return "conflict";
    if (!store.loaded) return "loading";
    if (this.inflight) return "saving";
    if (this.lastErrorText) return "error";
    return store.dirty ? "dirty" : "saved";
  }

  /** Whether leaving now would lose an edit. */
  get unsaved(): boolean {
    return this.store.canEdit && !this.store.conflict && (this.store.dirty || this.inflight !== null);
  }

  /** Save a moment from now (each edit pushes it back). */
  schedule(delay = SAVE_DELAY_MS): void {
    window.clearTimeout(this.timer);
    this.events.status();
    if (this.store.dirty && !this.store.conflict) this.timer = window.setTimeout(() => void this.save(), delay);
  }

  /** Save what is unsaved; true once everything is saved. Edits made meanwhile are saved after. */
  async save(): Promise<boolean> {
    window.clearTimeout(this.timer);
    if (this.inflight) {
      await this.inflight;
      return this.save();
    }
    if (this.store.conflict) return false;
    if (!this.store.dirty) return true;
    this.inflight = this.put();
    try {
      return await this.inflight;
    } finally {
      this.inflight = null;
      this.events.status();
    }
  }

  /** Leaving the page anyway with unsaved edits: one last try that outlives the page. */
  lastTry(): void {
    const store = this.store;
    if (store.canEdit && !store.conflict && store.dirty && !this.inflight) {
      void putAnnotation(this.url, store.etag, store.state, true).catch(() => undefined);
    }
  }

  private async put(): Promise<boolean> {
    const state = this.store.state;
    this.lastErrorText = "";
    this.events.status("saving");
    try {
      this.store.markSaved(await putAnnotation(this.url, this.store.etag, state), state);
    } catch (error) {
      if (error instanceof Conflict) {
        this.store.conflict = true;
        await this.events.conflict(error);
        return false;
      }
      const failure = error as ApiError;
      this.lastErrorText = failure.message;
      this.events.status("error");
      // Not reachable or a server error: try again by itself; a refusal waits for the next edit.
      if (failure.status === 0 || failure.status >= 500) this.timer = window.setTimeout(() => void this.save(), RETRY_DELAY_MS);
      return false;
    }
    return this.store.dirty ? this.put() : true;
  }
}
