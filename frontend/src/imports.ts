// The collection page's import: drop files, folders or a zip (or choose a folder or a zip); the files
// go up in batches with a progress bar, then the import job runs. Its progress is shown by the page's
// job poller (jobs.ts picks the job's element up on `loupe:refreshed`); when it ends, its summary.
import "./imports/imports.css";

import { ApiError, failure, getJson, post } from "./api";
import { BATCH_LIMITS, batchForm, batchesOf } from "./imports/batches";
import { renderSummary, type ImportResult } from "./imports/summary";
import { postWithProgress } from "./imports/upload";
import { droppedFiles, inputFiles, type PathedFile } from "./imports/walk";
import { REFRESHED } from "./live";

interface JobOut {
  id: number;
  status: string;
  failure_reason: string;
  result: ImportResult | Record<string, never>;
}

const FINISHED = ["succeeded", "failed", "cancelled"];

function part<T extends HTMLElement>(root: HTMLElement, name: string): T {
  const found = root.querySelector<T>(`[data-${name}]`);
  if (!found) throw new Error(`the import section has no [data-${name}]`);
  return found;
}

function setup(root: HTMLElement): void {
  const zone = part(root, "drop-zone");
  const progress = part(root, "import-progress");
  const bar = part<HTMLProgressElement>(progress, "upload-bar");
  const phase = part(progress, "import-phase");
  const jobView = part(root, "import-job");
  const summary = part(root, "import-summary");
  const csrf = root.querySelector<HTMLInputElement>("input[name=csrfmiddlewaretoken]")?.value ?? "";
  let busy = false;

  function say(text: string, isError = false): void {
    summary.replaceChildren();
    const line = document.createElement("p");
    line.textContent = text;
    if (isError) line.className = "error";
    summary.append(line);
  }

  async function upload(items: PathedFile[]): Promise<void> {
    if (busy) return say("An upload is still being sent; wait for it to finish.", true);
    if (!items.length) return say("Nothing to import: the drop held no files.", true);
    busy = true;
    zone.classList.add("busy");
    summary.replaceChildren();
    jobView.hidden = true;
    const batches = batchesOf(items, BATCH_LIMITS);
    const total = batches.reduce((sum, batch) => sum + batch.bytes, 0) || 1;
    let sent = 0;
    let staging: string | null = null;
    progress.hidden = false;
    try {
      for (const [index, batch] of batches.entries()) {
        phase.textContent = `Uploading ${items.length} file${items.length === 1 ? "" : "s"} (part ${index + 1} of ${batches.length})`;
        const staged: { staging: string } = await postWithProgress<{ staging: string }>(
          root.dataset.stageUrl ?? "",
          batchForm(batch, staging, csrf),
          (loaded) => (bar.value = Math.min(100, ((sent + Math.min(loaded, batch.bytes)) / total) * 100)),
        );
        staging = staged.staging;
        sent += batch.bytes;
      }
      bar.value = 100;
      phase.textContent = "Uploaded; starting the import";
      const format = root.querySelector<HTMLSelectElement>("[data-import-format]")?.value || null;
      const answer = await post(root.dataset.startUrl ?? "", { staging, format });
      if (answer.status !== 202) throw await failure(answer);
      follow(((await answer.json()) as JobOut).id);
      progress.hidden = true;
    } catch (error) {
      const text = error instanceof ApiError ? error.message : String(error);
      say(`The upload was refused, nothing was imported: ${text}`, true);
      progress.hidden = true;
    } finally {
      busy = false;
      zone.classList.remove("busy");
    }
  }

  /** Show the job: jobs.ts polls any element with a `data-job-id`; watch its status for the end. */
  function follow(jobId: number): void {
    jobView.dataset.jobId = String(jobId);
    jobView.dataset.status = "queued";
    part(jobView, "job-number").textContent = String(jobId);
    jobView.hidden = false;
    const observer = new MutationObserver(() => {
      if (!FINISHED.includes(jobView.dataset.status ?? "")) return;
      observer.disconnect();
      void finished(jobId);
    });
    observer.observe(jobView, { attributes: true, attributeFilter: ["data-status"] });
    document.dispatchEvent(new CustomEvent(REFRESHED, { detail: [] }));
  }

  async function finished(jobId: number): Promise<void> {
    try {
      const job = await getJson<JobOut>(`/api/v1/jobs/${jobId}/`);
      // The counts and the grid are drawn again by the page itself (jobs.ts, live.ts) as the job ends.
      if (job.status === "succeeded") renderSummary(summary, job.result as ImportResult);
      else say(`The import ${job.status}: ${job.failure_reason || "no reason was given"}`, true);
    } catch (error) {
      say(`The import's result could not be read: ${String(error)}`, true);
    }
  }

  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer) void droppedFiles(event.dataTransfer).then(upload);
  });
  for (const input of root.querySelectorAll<HTMLInputElement>("input[type=file]")) {
    input.addEventListener("change", () => {
      const items = inputFiles(input.files ?? []);
      input.value = "";
      void upload(items);
    });
  }
}

for (const root of document.querySelectorAll<HTMLElement>("[data-import]")) setup(root);
