// An upload cut into requests the server takes: each zip alone, files together up to a count and a
// size (Django refuses a request of more than DATA_UPLOAD_MAX_NUMBER_FILES files).
import { isZip, type PathedFile } from "./walk";

export interface Batch {
  files: PathedFile[];
  archives: File[];
  bytes: number;
}

export interface BatchLimits {
  maxFiles: number;
  maxBytes: number;
}

export const BATCH_LIMITS: BatchLimits = { maxFiles: 200, maxBytes: 32 * 1024 * 1024 };

/** The requests to send, in order: files first (a file bigger than `maxBytes` goes alone), then zips. */
export function batchesOf(items: PathedFile[], limits: BatchLimits = BATCH_LIMITS): Batch[] {
  const batches: Batch[] = [];
  let current: Batch = { files: [], archives: [], bytes: 0 };
  const zips: File[] = [];
  for (const item of items) {
    if (isZip(item.file)) {
      zips.push(item.file);
      continue;
    }
    const full = current.files.length >= limits.maxFiles || current.bytes + item.file.size > limits.maxBytes;
    if (current.files.length && full) {
      batches.push(current);
      current = { files: [], archives: [], bytes: 0 };
    }
    current.files.push(item);
    current.bytes += item.file.size;
  }
  if (current.files.length) batches.push(current);
  for (const zip of zips) batches.push({ files: [], archives: [zip], bytes: zip.size });
  return batches;
}

/** The multipart body of a batch: each file with its relative path, in the same order. */
export function batchForm(batch: Batch, staging: string | null, csrf: string): FormData {
  const form = new FormData();
  form.append("csrfmiddlewaretoken", csrf);
  if (staging) form.append("staging", staging);
  for (const { path, file } of batch.files) {
    form.append("files", file, file.name);
    form.append("paths", path);
  }
  for (const archive of batch.archives) form.append("archive", archive, archive.name);
  return form;
}
