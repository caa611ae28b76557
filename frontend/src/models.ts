// The models page (/collections/<id>/models/): one version's ROC and PR curves, score histograms and
// confusion matrix at a threshold the slider moves, all computed here from its test scores; managers
// save that threshold or promote the version; two versions side by side. The page's HTML is
// rendered by Django; this fills it in and only ever writes text (textContent), never HTML.
import "./models.css";

import { getAllPages, postJson } from "./api";
import {
  COLORS,
  type LineChart,
  chanceLine,
  curve,
  histogramData,
  lineChart,
  thresholdLine,
  thresholdMarker,
} from "./charts";
import { confirmChange } from "./confirm";
import { el } from "./dom";
import { REFRESHED, refreshLiveParts } from "./live";
import { flaggedAt, promoteLines, thresholdLines } from "./models/confirmations";
import { fixed, percent, score } from "./models/numbers";
import {
  type Histogram,
  type Labeled,
  type ScoreRow,
  area,
  confusion,
  f1Max,
  hasBothClasses,
  histogram,
  labeled,
  type Normalizer,
  normalize,
  prCurve,
  rates,
  rocCurve,
  scoreText,
} from "./scores";

interface StoredMetrics {
  image_auroc?: number;
  pixel_auroc?: number;
  aupro?: number;
  f1_max?: number;
  at_threshold?: { precision: number; recall: number; fpr: number };
}

/** A ready version, from the page's json_script. */
interface Version {
  id: number;
  name: string;
  parent: number | null;
  threshold: number | null;
  normalizer: Normalizer | null; // the saved threshold's: it is what the other pages show
  promoted: boolean;
  metrics: StoredMetrics;
  fitSeconds: number | null;
  peakMemoryBytes: number | null;
  scoresUrl: string;
  thresholdUrl: string;
  promoteUrl: string;
}

interface PageConfig {
  activeId: number | null;
  versions: Version[];
}

/** GET /api/v1/model-versions/{id}/scores/, the part used here: one page, and where the next is. */
interface ScoresPage {
  scores: ScoreRow[];
  next: string | null;
}

/** All of a version's test scores. */
interface Scores {
  scores: ScoreRow[];
}

const SLIDER_STEPS = 500;
const ROC_AXES = { x: "False-positive rate", y: "True-positive rate", unit: true };

function must<T extends Element>(selector: string): T {
  const node = document.querySelector<T>(selector);
  if (!node) throw new Error(`the models page has no ${selector}`);
  return node;
}

function setStatus(text: string, error = false): void {
  const status = must<HTMLElement>("#models-status");
  status.textContent = text;
  status.classList.toggle("message-error", error);
}

function failed(doing: string, error: unknown): void {
  setStatus(`Could not ${doing}: ${error instanceof Error ? error.message : String(error)}`, true);
}

const loaded = new Map<number, Promise<Scores>>();

/** Every page of a version's scores: each page is a bounded request, whatever the test split's size. */
async function allScores(url: string): Promise<Scores> {
  return { scores: await getAllPages(url, (page: ScoresPage) => ({ rows: page.scores, next: page.next })) };
}

function scoresOf(version: Version): Promise<Scores> {
  let scores = loaded.get(version.id);
  if (!scores) {
    scores = allScores(version.scoresUrl);
    // A failed load is tried again next time, not remembered.
    scores.catch(() => loaded.delete(version.id));
    loaded.set(version.id, scores);
  }
  return scores;
}

/** One version in detail: the charts and the confusion matrix follow the threshold controls. */
class Detail {
  private readonly range = must<HTMLInputElement>("#threshold-range");
  private readonly number = must<HTMLInputElement>("#threshold-number");
  private readonly saveButton = document.querySelector<HTMLButtonElement>("#threshold-save");
  private readonly promoteButton = document.querySelector<HTMLButtonElement>("#promote");
  private readonly roc: LineChart;
  private readonly pr: LineChart;
  private readonly hist: LineChart;
  private version: Version | null = null;
  private rows: Labeled[] = [];
  private scored: number[] = [];
  private bins: Histogram = { edges: [], normal: [], defective: [] };
  private threshold = 0;
  private decimals = 3;

  constructor(
    private readonly activeId: number | null,
    private readonly versions: ReadonlyMap<number, Version>,
  ) {
    this.roc = lineChart(must("#roc-chart"), ROC_AXES, []);
    this.pr = lineChart(must("#pr-chart"), { x: "Recall", y: "Precision", unit: true }, []);
    this.hist = lineChart(must("#histogram-chart"), { x: "Image score", y: "Images", counts: true }, []);
    this.range.addEventListener("input", () => this.move(this.range.valueAsNumber, true));
    this.number.addEventListener("input", () => {
      if (Number.isFinite(this.number.valueAsNumber)) this.move(this.number.valueAsNumber, false);
    });
    this.saveButton?.addEventListener("click", () => void this.save());
    this.promoteButton?.addEventListener("click", () => void this.promote());
  }

  async show(version: Version): Promise<void> {
    this.version = version;
    must("#detail-name").textContent = version.name;
    setStatus("Loading the test scores…");
    let data: Scores;
    try {
      data = await scoresOf(version);
    } catch (error) {
      failed("load the test scores", error);
      return;
    }
    if (this.version !== version) return; // another version was picked meanwhile
    this.rows = labeled(data.scores);
    this.scored = data.scores.map((row) => row.score);
    const defective = this.rows.filter((row) => row.defective).length;
    must("#detail-counts").textContent =
      `${data.scores.length} scored test images: ${defective} labeled defective, ` +
      `${this.rows.length - defective} labeled normal, ${data.scores.length - this.rows.length} unlabeled ` +
      "(not counted).";

    const values = data.scores.map((row) => row.score);
    if (version.threshold !== null) values.push(version.threshold);
    // reduce, not Math.min(...values): a spread of many thousand arguments overflows the stack.
    let low = values.length ? values.reduce((a, b) => Math.min(a, b)) : 0;
    let high = values.length ? values.reduce((a, b) => Math.max(a, b)) : 1;
    if (high <= low) [low, high] = [low - 0.5, high + 0.5];
    const step = (high - low) / SLIDER_STEPS;
    // As many decimals as a slider step needs, so what the number box shows is the threshold used.
    this.decimals = Math.max(0, Math.ceil(-Math.log10(step)) + 1);
    this.range.min = low.toFixed(this.decimals);
    this.range.max = high.toFixed(this.decimals);
    this.range.step = step.toFixed(this.decimals + 1);

    const roc = rocCurve(this.rows);
    must("#roc-auc").textContent = roc.length
      ? `AUROC ${fixed(area(roc))}`
      : "needs labeled normal and defective images";
    // The threshold's markers are placed by move().
    this.roc.data.datasets = [curve("ROC", COLORS.first, roc), chanceLine(), thresholdMarker(null)];
    const pr = prCurve(this.rows);
    must("#pr-f1").textContent = pr.length ? `best F1 ${fixed(f1Max(this.rows))}` : "";
    this.pr.data.datasets = [curve("Precision–recall", COLORS.first, pr), thresholdMarker(null)];
    // About two bins per square root of the images: detail for thousands, not spikes for ten.
    const bins = Math.min(60, Math.max(8, 2 * Math.ceil(Math.sqrt(this.rows.length))));
    this.bins = histogram(this.rows, low, high, bins);
    this.hist.data.datasets = [...histogramData(this.bins), thresholdLine(low, this.bins)];
    this.move(version.threshold ?? (low + high) / 2, true);
    this.syncPromote();
    setStatus("");
  }

  /** The version shown and the threshold being tried on it. */
  state(): { versionId: number; threshold: number } | null {
    return this.version ? { versionId: this.version.id, threshold: this.threshold } : null;
  }

  /** Put the controls at a threshold someone was trying. */
  tryThreshold(value: number): void {
    this.move(value, false);
    this.number.value = String(value);
  }

  /** Move the threshold; from the slider it is rounded to what the number box can show. */
  private move(value: number, fromSlider: boolean): void {
    this.threshold = fromSlider ? Number(value.toFixed(this.decimals)) : value;
    if (fromSlider) this.number.value = this.threshold.toFixed(this.decimals);
    this.range.value = String(this.threshold);

    const counts = confusion(this.rows, this.threshold);
    for (const [cell, count] of Object.entries(counts)) {
      must(`[data-cell=${cell}]`).textContent = String(count);
    }
    const r = rates(counts);
    must("[data-rate=precision]").textContent = percent(r.precision);
    must("[data-rate=recall]").textContent = percent(r.recall);
    must("[data-rate=fpr]").textContent = percent(r.fpr);
    must("[data-rate=escape]").textContent = percent(r.recall === null ? null : 1 - r.recall);

    // The curves exist only with both classes labeled; so does the point on them.
    const both = hasBothClasses(this.rows);
    const onRoc = both ? { x: r.fpr ?? 0, y: r.recall ?? 0 } : null;
    const onPr = both && r.precision !== null ? { x: r.recall ?? 0, y: r.precision } : null;
    this.roc.data.datasets[2] = thresholdMarker(onRoc);
    this.pr.data.datasets[1] = thresholdMarker(onPr);
    this.hist.data.datasets[2] = thresholdLine(this.threshold, this.bins);
    for (const chart of [this.roc, this.pr, this.hist]) chart.update("none");

    const saved = this.version?.threshold ?? null;
    must("#saved-threshold").textContent = saved === null ? "no saved threshold" : `saved: ${score(saved)}`;
    const normalizer = this.version?.normalizer;
    const at = normalizer ? normalize(normalizer, this.threshold) : null;
    must("#threshold-score").textContent = at === null ? "" : `a score at it shows as ${scoreText(at, this.threshold)}`;
    if (this.saveButton) this.saveButton.disabled = this.threshold === saved;
  }

  private syncPromote(): void {
    if (!this.promoteButton || !this.version) return;
    const production = this.version.promoted && this.version.id === this.activeId;
    this.promoteButton.disabled = production;
    this.promoteButton.textContent = production ? "In production" : "Promote";
  }

  /** The version in production, if any (the shown one is the newest when none is promoted). */
  private production(): Version | null {
    const active = this.activeId === null ? undefined : this.versions.get(this.activeId);
    return active?.promoted ? active : null;
  }

  private async save(): Promise<void> {
    const version = this.version;
    if (!version || !this.saveButton) return;
    const flagged = flaggedAt(this.scored, version.threshold, this.threshold);
    const lines = thresholdLines(
      version.name,
      score(this.threshold),
      flagged,
      this.scored.length,
      this.production()?.id === version.id,
    );
    if (!(await confirmChange(`Save threshold ${score(this.threshold)}?`, lines, "Save threshold"))) return;
    this.saveButton.disabled = true;
    try {
      const body = { threshold: this.threshold };
      const saved = await postJson<{ threshold: number; normalizer: Normalizer }>(version.thresholdUrl, body);
      version.threshold = saved.threshold;
      version.normalizer = saved.normalizer;
      loaded.delete(version.id); // its normalized scores changed with it
      const cell = document.querySelector(`tr[data-version-id="${version.id}"] [data-field=threshold]`);
      if (cell) cell.textContent = `${saved.threshold.toFixed(4)} (manual)`;
      setStatus(
        `Threshold ${score(saved.threshold)} saved: every prediction of ${version.name} follows it now.`,
      );
    } catch (error) {
      failed("save the threshold", error);
    }
    this.move(this.threshold, false);
  }

  private async promote(): Promise<void> {
    const version = this.version;
    if (!version || !this.promoteButton) return;
    const lines = promoteLines(version.name, this.production()?.name ?? null);
    if (!(await confirmChange(`Promote ${version.name}?`, lines, "Promote"))) return;
    this.promoteButton.disabled = true;
    try {
      await postJson(version.promoteUrl, {});
      await refreshLiveParts(); // the production column and the train form's parent change with it
    } catch (error) {
      failed("promote", error);
      this.syncPromote();
    }
  }
}

interface MetricRow {
  label: string;
  a: number | null;
  b: number | null;
  lowerIsBetter?: boolean;
  digits?: number;
}

/** Two versions side by side: their metrics with deltas, and both ROC curves on one chart. */
class Compare {
  private readonly a = must<HTMLSelectElement>("#compare-a");
  private readonly b = must<HTMLSelectElement>("#compare-b");
  private readonly body = must<HTMLTableSectionElement>("#compare-table tbody");
  private readonly note = must<HTMLElement>("#compare-note");
  private readonly results = must<HTMLElement>("#compare-results");
  private chart: LineChart | null = null;

  constructor(private readonly versions: Map<number, Version>) {
    must<HTMLFormElement>("#compare-form").addEventListener("submit", (event) => {
      event.preventDefault();
      void this.run();
    });
  }

  /** A sensible pair for `version`: its parent if that is ready, else another version. */
  preselect(version: Version): void {
    const other =
      version.parent !== null && this.versions.has(version.parent)
        ? version.parent
        : [...this.versions.keys()].find((id) => id !== version.id);
    if (other === undefined) return;
    this.a.value = String(other);
    this.b.value = String(version.id);
  }

  private async run(): Promise<void> {
    const a = this.versions.get(Number(this.a.value));
    const b = this.versions.get(Number(this.b.value));
    if (!a || !b || a === b) {
      this.note.textContent = "Pick two different versions.";
      this.results.hidden = true;
      return;
    }
    let scores: [Scores, Scores];
    try {
      scores = await Promise.all([scoresOf(a), scoresOf(b)]);
    } catch (error) {
      failed("load the test scores", error);
      return;
    }
    const [ownA, ownB] = scores.map((s) => labeled(s.scores));
    const inB = new Set(ownB.map((row) => row.image));
    const shared = new Set(ownA.filter((row) => inB.has(row.image)).map((row) => row.image));
    const sharedA = ownA.filter((row) => shared.has(row.image));
    const sharedB = ownB.filter((row) => shared.has(row.image));
    const computed = hasBothClasses(sharedA);

    const rows: MetricRow[] = computed
      ? this.computedRows(a, b, sharedA, sharedB)
      : this.storedRows(a.metrics, b.metrics);
    rows.push(
      { label: "Pixel AUROC (stored)", a: a.metrics.pixel_auroc ?? null, b: b.metrics.pixel_auroc ?? null },
      { label: "AUPRO (stored)", a: a.metrics.aupro ?? null, b: b.metrics.aupro ?? null },
      { label: "Fit time, s", a: a.fitSeconds, b: b.fitSeconds, lowerIsBetter: true, digits: 1 },
      {
        label: "Peak memory, MiB",
        a: a.peakMemoryBytes === null ? null : a.peakMemoryBytes / 2 ** 20,
        b: b.peakMemoryBytes === null ? null : b.peakMemoryBytes / 2 ** 20,
        lowerIsBetter: true,
        digits: 0,
      },
    );
    must("#compare-head-a").textContent = `A: ${a.name}`;
    must("#compare-head-b").textContent = `B: ${b.name}`;
    this.body.replaceChildren(...rows.map((row) => this.row(row)));
    this.note.textContent = computed
      ? `Computed from both versions' scores on the ${shared.size} labeled test images they share; ` +
        "pixel metrics need the heatmaps, so they are the figures stored at training."
      : "These versions have no labeled normal and defective test images in common, so this compares " +
        "the metrics stored at training, each measured on its own test split.";

    const curveA = rocCurve(computed ? sharedA : ownA);
    const curveB = rocCurve(computed ? sharedB : ownB);
    const datasets = [
      curve(`A: ${a.name}${curveA.length ? `, AUROC ${fixed(area(curveA))}` : ""}`, COLORS.first, curveA),
      curve(`B: ${b.name}${curveB.length ? `, AUROC ${fixed(area(curveB))}` : ""}`, COLORS.second, curveB),
      chanceLine(),
    ];
    this.results.hidden = false;
    if (this.chart) {
      this.chart.data.datasets = datasets;
      this.chart.update("none");
    } else {
      this.chart = lineChart(must("#compare-chart"), ROC_AXES, datasets);
    }
  }

  private computedRows(a: Version, b: Version, rowsA: Labeled[], rowsB: Labeled[]): MetricRow[] {
    const ratesAt = (rows: Labeled[], threshold: number | null) =>
      threshold === null ? null : rates(confusion(rows, threshold));
    const [atA, atB] = [ratesAt(rowsA, a.threshold), ratesAt(rowsB, b.threshold)];
    const fpr = "False-positive rate at its threshold";
    return [
      { label: "Image AUROC", a: area(rocCurve(rowsA)), b: area(rocCurve(rowsB)) },
      { label: "F1, best threshold", a: f1Max(rowsA), b: f1Max(rowsB) },
      { label: "Precision at its threshold", a: atA?.precision ?? null, b: atB?.precision ?? null },
      { label: "Recall at its threshold", a: atA?.recall ?? null, b: atB?.recall ?? null },
      { label: fpr, a: atA?.fpr ?? null, b: atB?.fpr ?? null, lowerIsBetter: true },
    ];
  }

  private storedRows(a: StoredMetrics, b: StoredMetrics): MetricRow[] {
    const [atA, atB] = [a.at_threshold, b.at_threshold];
    return [
      { label: "Image AUROC (stored)", a: a.image_auroc ?? null, b: b.image_auroc ?? null },
      { label: "F1, best threshold (stored)", a: a.f1_max ?? null, b: b.f1_max ?? null },
      { label: "Precision at threshold (stored)", a: atA?.precision ?? null, b: atB?.precision ?? null },
      { label: "Recall at threshold (stored)", a: atA?.recall ?? null, b: atB?.recall ?? null },
      {
        label: "False-positive rate at threshold (stored)",
        a: atA?.fpr ?? null,
        b: atB?.fpr ?? null,
        lowerIsBetter: true,
      },
    ];
  }

  private row(metric: MetricRow): HTMLTableRowElement {
    const digits = metric.digits ?? 3;
    let delta = el("td", { className: "num", text: "—" });
    if (metric.a !== null && metric.b !== null) {
      const change = metric.b - metric.a;
      const shown = change.toFixed(digits);
      const same = Number(shown) === 0;
      const better = metric.lowerIsBetter ? change < 0 : change > 0;
      const verdict = same ? "same" : better ? "better" : "worse";
      const words = { same: "", better: " ▲ better", worse: " ▼ worse" }[verdict];
      // Said in words as well as in colour.
      delta = el("td", {
        className: `num delta delta-${verdict}`,
        text: `${change > 0 && !same ? "+" : ""}${shown}${words}`,
      });
    }
    return el(
      "tr",
      {},
      el("th", { text: metric.label, attrs: { scope: "row" } }),
      el("td", { className: "num", text: fixed(metric.a, digits) }),
      el("td", { className: "num", text: fixed(metric.b, digits) }),
      delta,
    );
  }
}

let shown: Detail | null = null;

function main(): void {
  const config = JSON.parse(must("#models-config").textContent ?? "{}") as PageConfig;
  if (!config.versions.length) return;
  const versions = new Map(config.versions.map((version) => [version.id, version]));
  // Drawn again after a job finished: the threshold someone was trying stays where they left it.
  const before = shown?.state() ?? null;
  const detail = new Detail(config.activeId, versions);
  shown = detail;
  const compare = document.querySelector("#compare") ? new Compare(versions) : null;
  const buttons = [...document.querySelectorAll<HTMLButtonElement>("button[data-show-version]")];

  const select = (version: Version): void => {
    for (const button of buttons) {
      const chosen = Number(button.dataset.showVersion) === version.id;
      button.setAttribute("aria-pressed", String(chosen));
      button.closest("tr")?.classList.toggle("selected", chosen);
    }
    const url = new URL(location.href);
    url.searchParams.set("version", String(version.id));
    history.replaceState(null, "", url);
    compare?.preselect(version);
    const trying = before?.versionId === version.id ? before.threshold : null;
    void detail.show(version).then(() => {
      if (trying !== null) detail.tryThreshold(trying);
    });
  };
  for (const button of buttons) {
    const version = versions.get(Number(button.dataset.showVersion));
    if (version) button.addEventListener("click", () => select(version));
  }
  must<HTMLElement>("#model-detail").hidden = false;
  document.querySelector<HTMLElement>("#compare")?.removeAttribute("hidden");
  const asked = Number(new URLSearchParams(location.search).get("version"));
  const first = versions.get(asked) ?? versions.get(config.activeId ?? -1) ?? config.versions[0];
  select(first);
}

document.addEventListener(REFRESHED, main);
main();
