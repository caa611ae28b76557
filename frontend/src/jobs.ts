// Keeps a page's job list (collection and models pages) current: polls /api/v1/jobs/{id}/ for each
// unfinished job until it ends, with an estimate of the time left. When one finishes, the page's live
// parts are drawn again (new versions, scores, follow-on jobs, which are then polled in turn). The
// list as the server drew it stays when a poll fails.
import { getJson } from "./api";
import { secondsLeft, timeLeftText } from "./jobs/eta";
import { REFRESHED, refreshLiveParts } from "./live";

interface JobOut {
  status: string;
  progress: number;
  message: string;
  failure_reason: string;
  started_at: string | null;
}

const FINISHED = ["succeeded", "failed", "cancelled"];
const POLL_MS = 2000;
const polled = new Set<string>();

function field(row: HTMLElement, name: string): HTMLElement | null {
  return row.querySelector<HTMLElement>(`[data-field=${name}]`);
}

function show(row: HTMLElement, job: JobOut): void {
  const percent = Math.round(job.progress * 100);
  const status = field(row, "status");
  const message = field(row, "message");
  const bar = row.querySelector("progress");
  const label = field(row, "percent");
  const left = field(row, "left");
  if (status) status.textContent = job.status;
  if (message) message.textContent = job.failure_reason || job.message;
  if (bar) bar.value = percent;
  if (label) label.textContent = `${percent}%`;
  if (left) {
    const started = job.started_at ? Date.parse(job.started_at) : Number.NaN;
    const running = job.status === "running" && Number.isFinite(started);
    left.textContent = running ? timeLeftText(secondsLeft(job.progress, (Date.now() - started) / 1000)) : "";
  }
  row.dataset.status = job.status;
}

async function poll(id: string): Promise<void> {
  let job: JobOut;
  try {
    job = await getJson<JobOut>(`/api/v1/jobs/${id}/`);
  } catch {
    polled.delete(id); // tried again when the list is next drawn
    return;
  }
  // The row is looked up each time: a refresh may have drawn the list again.
  const row = document.querySelector<HTMLElement>(`[data-job-id="${id}"]`);
  if (row) show(row, job);
  if (FINISHED.includes(job.status)) {
    polled.delete(id);
    void refreshLiveParts();
  } else {
    window.setTimeout(() => void poll(id), POLL_MS);
  }
}

function watch(): void {
  for (const row of document.querySelectorAll<HTMLElement>("[data-job-id]")) {
    const id = row.dataset.jobId ?? "";
    if (id && !polled.has(id) && !FINISHED.includes(row.dataset.status ?? "")) {
      polled.add(id);
      void poll(id);
    }
  }
}

document.addEventListener(REFRESHED, watch);
watch();
