// Chart.js for the models page: line charts on linear axes, without animation since they follow a
// slider. Only the parts of the library these charts use are registered (the bundle stays small).
import {
  Chart,
  type ChartDataset,
  Filler,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
} from "chart.js";

import type { Histogram, XY } from "./scores";

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Legend, Tooltip);

export type LineChart = Chart<"line", XY[]>;
export type Dataset = ChartDataset<"line", XY[]>;

export const COLORS = {
  normal: "#1f7a3d",
  defective: "#b3261e",
  threshold: "#1d2330",
  chance: "#9aa1ad",
  first: "#2856c9",
  second: "#c05f00",
};

interface Axes {
  x: string;
  y: string;
  /** Both axes 0 to 1 (rates); otherwise they follow the data. */
  unit?: boolean;
  /** The y axis counts things: whole-number ticks. */
  counts?: boolean;
}

export function lineChart(canvas: HTMLCanvasElement, axes: Axes, datasets: Dataset[]): LineChart {
  const range = axes.unit ? { min: 0, max: 1 } : {};
  return new Chart<"line", XY[]>(canvas, {
    type: "line",
    data: { datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "nearest", intersect: false },
      scales: {
        x: { type: "linear", title: { display: true, text: axes.x }, ...range },
        y: {
          type: "linear",
          title: { display: true, text: axes.y },
          beginAtZero: true,
          ticks: axes.counts ? { precision: 0 } : {},
          ...range,
        },
      },
      plugins: { legend: { labels: { boxWidth: 12 } } },
    },
  });
}

export function curve(label: string, color: string, data: XY[]): Dataset {
  return { label, data, borderColor: color, backgroundColor: color, borderWidth: 2, pointRadius: 0 };
}

/** Where the threshold sits on a curve: one marked point (none yet: null). */
export function thresholdMarker(at: XY | null): Dataset {
  return {
    label: "Threshold",
    data: at ? [at] : [],
    borderColor: COLORS.threshold,
    backgroundColor: COLORS.threshold,
    pointRadius: 5,
    pointHoverRadius: 7,
    showLine: false,
  };
}

export function chanceLine(): Dataset {
  return {
    label: "Chance",
    data: [
      { x: 0, y: 0 },
      { x: 1, y: 1 },
    ],
    borderColor: COLORS.chance,
    borderDash: [4, 4],
    borderWidth: 1,
    pointRadius: 0,
  };
}

/** A histogram as a filled step line: each bin's count held from its left edge to its right one. */
export function bars(label: string, color: string, edges: number[], counts: number[]): Dataset {
  const data = counts.map((count, i) => ({ x: edges[i], y: count }));
  data.push({ x: edges[edges.length - 1], y: counts[counts.length - 1] ?? 0 });
  return {
    label,
    data,
    stepped: "after",
    fill: "origin",
    borderColor: color,
    backgroundColor: `${color}40`,
    borderWidth: 1.5,
    pointRadius: 0,
  };
}

export function histogramData(h: Histogram): Dataset[] {
  return [
    bars("Normal (labeled)", COLORS.normal, h.edges, h.normal),
    bars("Defective (labeled)", COLORS.defective, h.edges, h.defective),
  ];
}

/** The vertical threshold line of a histogram, as tall as its highest bin. */
export function thresholdLine(threshold: number, h: Histogram): Dataset {
  const top = Math.max(1, ...h.normal, ...h.defective);
  return {
    label: "Threshold",
    data: [
      { x: threshold, y: 0 },
      { x: threshold, y: top },
    ],
    borderColor: COLORS.threshold,
    borderDash: [6, 3],
    borderWidth: 2,
    pointRadius: 0,
  };
}
