// The review page's decision controls: a button per decision, the false-positive reasons, the defect
// type of the boxes drawn for a missed defect, the comment and skip. Every button shows its key, and a
// click hands the focus back to the image, so the queue's keys go on working; only the comment box
// takes keys, while one types in it (Enter or Esc gives them back).
import type { TypeKeys } from "../annotator/keys";
import type { DefectColors } from "../colors";
import { el, kbd, swatch } from "../dom";
import { DECISIONS, type Decision, reasonKeys, type ReviewConfig, typeKeyLabel } from "./types";

export interface ControlActions {
  decide(decision: Decision): void;
  skip(): void;
  /** A control was clicked: the focus goes back to the image. */
  refocus(): void;
}

export class DecisionControls {
  readonly comment = el("textarea", { attrs: { rows: "2", placeholder: "Comment (optional)", "aria-label": "Comment" } });
  readonly decisionButtons = new Map<Decision, HTMLButtonElement>();
  private readonly reasonButtons = new Map<string, HTMLButtonElement>();
  private readonly typeButtons = new Map<number | null, HTMLButtonElement>();
  private reasonValue = "";
  private defectTypeValue: number | null;

  constructor(
    private readonly config: ReviewConfig,
    private readonly typeKeys: TypeKeys,
    private readonly colors: DefectColors,
    private readonly actions: ControlActions,
  ) {
    this.defectTypeValue = config.defectTypes[0]?.id ?? null;
    this.comment.addEventListener("keydown", (event) => {
      if ((event.key === "Enter" && !event.shiftKey) || event.key === "Escape") {
        event.preventDefault();
        this.comment.blur();
        this.actions.refocus();
      }
    });
  }

  /** The reason picked for a false positive ("" for none). */
  get reason(): string {
    return this.reasonValue;
  }

  /** The defect type of the boxes drawn next. */
  get defectType(): number | null {
    return this.defectTypeValue;
  }

  /** Pick a reason; picking the one picked already clears it. */
  pickReason(value: string): void {
    this.reasonValue = this.reasonValue === value ? "" : value;
    for (const [reason, button] of this.reasonButtons) button.setAttribute("aria-pressed", String(reason === this.reasonValue));
  }

  pickDefectType(id: number | null): void {
    this.defectTypeValue = id;
    for (const [type, button] of this.typeButtons) button.setAttribute("aria-pressed", String(type === id));
  }

  /** A new image: no reason, no comment (the defect type stays, for a run of like defects). */
  reset(): void {
    if (this.reasonValue) this.pickReason(this.reasonValue);
    this.comment.value = "";
  }

  /** The side panel's decision section. */
  buildDecisions(corrections: HTMLElement): HTMLElement {
    const skip = this.button("button subtle", () => this.actions.skip(), "Skip ", kbd("s"));
    const decisions = el("div", { className: "review-decisions" });
    for (const decision of DECISIONS) {
      const button = this.button(`button decision decision-${decision.id}`, () => this.actions.decide(decision.id), decision.label + " ", kbd(decision.keys[0]), kbd(decision.keys[1]));
      button.dataset.decision = decision.id;
      button.disabled = !this.config.canReview;
      this.decisionButtons.set(decision.id, button);
      decisions.append(button);
    }
    const reasons = el("div", { className: "review-reasons", attrs: { role: "group", "aria-label": "Why it is a false positive" } });
    for (const { value, label, key } of reasonKeys(this.config.reasons)) {
      const button = this.button("button reason-button", () => this.pickReason(value), el("span", { text: label }), key ? kbd(key) : null);
      button.dataset.reason = value;
      button.setAttribute("aria-pressed", "false");
      this.reasonButtons.set(value, button);
      reasons.append(button);
    }
    return el(
      "section",
      {},
      el("h2", { text: "Decision" }),
      decisions,
      el("p", { className: "muted small review-reasons-title", text: "False positive because… (optional)" }),
      reasons,
      this.comment,
      el("div", { className: "review-row" }, skip, corrections),
    );
  }

  /** The defect types of the boxes drawn next, for the bar beside the box tool. */
  buildTypes(): HTMLElement {
    const types = el("div", { className: "review-types", attrs: { role: "group", "aria-label": "Defect type of the boxes you draw" } });
    types.append(el("span", { className: "muted small", text: "Boxes are" }));
    for (const type of [...this.config.defectTypes, null]) {
      const id = type?.id ?? null;
      const key = type ? this.typeKeys.ofType.get(type.id) : undefined;
      const button = this.button(
        "type-button",
        () => this.pickDefectType(id),
        swatch(this.colors.colorOf(id)),
        el("span", { className: "type-name", text: type?.name ?? "No defect type" }),
        key ? kbd(typeKeyLabel(key)) : null,
      );
      button.dataset.defectType = String(id ?? "");
      this.typeButtons.set(id, button);
      types.append(button);
    }
    this.pickDefectType(this.defectTypeValue);
    return types;
  }

  private button(className: string, action: () => void, ...children: (Node | string | null)[]): HTMLButtonElement {
    const button = el("button", { className, attrs: { type: "button" } }, ...children);
    button.addEventListener("click", () => {
      action();
      this.actions.refocus();
    });
    return button;
  }
}
