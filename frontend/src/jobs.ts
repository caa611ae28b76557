// Keeps a page's job list (collection and models pages) current: polls /api/v1/jobs/{id}/ for each
// unfinished job until it ends. The list as the server drew it stays when a poll fails.
import { getJson } from "./api";

interface JobOut {
  status: string;
  progress: number;
  message: string;
  failure_reason: string;
}

const FINISHED = ["succeeded", "failed", "cancelled"];
const POLL_MS = 2000;

function field(row: HTMLElement, name: string): HTMLElement | null {
  return row.querySelector<HTMLElement>(`[data-field=${name}]`);
}

async function poll(row: HTMLElement): Promise<void> {
  let job: JobOut;
  try {
    job = await getJson<JobOut>(`/api/v1/jobs/${row.dataset.jobId}/`);
  } catch {
    return;
  }
  const percent = Math.round(job.progress * 100);
  const status = field(row, "status");
  const message = field(row, "message");
  const bar = row.querySelector("progress");
  const label = field(row, "percent");
  if (status) status.textContent = job.status;
  if (message) message.textContent = job.failure_reason || job.message;
  if (bar) bar.value = percent;
  if (label) label.textContent = `${percent}%`;
  row.dataset.status = job.status;
  if (!FINISHED.includes(job.status)) window.setTimeout(() => void poll(row), POLL_MS);
}

for (const row of document.querySelectorAll<HTMLElement>("[data-job-id]")) {
  if (!FINISHED.includes(row.dataset.status ?? "")) void poll(row);
}
