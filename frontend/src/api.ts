// REST API calls. The annotator reads an image's labels and writes them only on top of the version
// they were read at (If-Match), so that nobody's labels are overwritten unseen.
import type { AnnotationOut, LabelState } from "./types";

/** Someone saved a newer version: nothing was written. */
export class Conflict extends Error {
  constructor(
    message: string,
    readonly currentVersion: number,
  ) {
    super(message);
  }
}

/** The server refused or could not be reached; `status` is 0 for a network failure. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function csrfToken(): string {
  const input = document.querySelector<HTMLInputElement>("input[name=csrfmiddlewaretoken]");
  return input?.value ?? "";
}

/** The messages of a DRF error body, flattened: {"regions": [{"geometry": ["..."]}]} → "regions: geometry: ...". */
export function errorText(body: unknown): string {
  if (body === null || body === undefined) return "";
  if (typeof body === "string") return body;
  if (Array.isArray(body)) return body.map(errorText).filter(Boolean).join("; ");
  if (typeof body === "object") {
    return Object.entries(body as Record<string, unknown>)
      .map(([key, value]) => {
        const text = errorText(value);
        if (!text) return "";
        return key === "detail" || key === "non_field_errors" || /^\d+$/.test(key) ? text : `${key}: ${text}`;
      })
      .filter(Boolean)
      .join("; ");
  }
  return String(body);
}

async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { credentials: "same-origin", ...init });
  } catch {
    throw new ApiError("the server could not be reached: check the connection", 0);
  }
}

/** The error a refused request stands for, with the server's message. */
export async function failure(response: Response): Promise<ApiError> {
  let text = "";
  try {
    text = errorText(await response.json());
  } catch {
    text = response.statusText;
  }
  return new ApiError(text || `the server answered ${response.status}`, response.status);
}

export async function getJson<T>(url: string): Promise<T> {
  const response = await send(url, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/** A page of a list that says where its next page is (null on the last). */
export interface Paged<Row> {
  next: string | null;
  rows: Row[];
}

/** Every row of a paged list from `url` on, in order: `read` picks a page's rows and next link. */
export async function getAllPages<Page, Row>(url: string, read: (page: Page) => Paged<Row>): Promise<Row[]> {
  const rows: Row[] = [];
  let next: string | null = url;
  while (next !== null) {
    const page = read(await getJson<Page>(next));
    for (const row of page.rows) rows.push(row);
    next = page.next;
  }
  return rows;
}

export function getAnnotation(url: string): Promise<AnnotationOut> {
  return getJson<AnnotationOut>(url);
}

/** POST a JSON body (with the CSRF token); the response as it came, for callers that read its status. */
export function post(url: string, data: unknown): Promise<Response> {
  return send(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(data),
  });
}

/** POST a JSON body (with the CSRF token); the answer's JSON. */
export async function postJson<T>(url: string, data: unknown): Promise<T> {
  const response = await post(url, data);
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

const round = (value: number): number => Math.round(value * 100) / 100;

/** The request body of a state: regions without the editor's keys, coordinates to 0.01 px. */
export function body(state: LabelState): object {
  return {
    verdict: state.verdict,
    regions: state.regions.map((region) => {
      const g = region.geometry as unknown as Record<string, unknown>;
      let geometry: unknown = g;
      if (region.kind !== "mask") {
        geometry = Object.fromEntries(
          Object.entries(g).map(([key, value]) => [
            key,
            Array.isArray(value)
              ? (value as [number, number][]).map(([x, y]) => [round(x), round(y)])
              : round(value as number),
          ]),
        );
      }
      return {
        kind: region.kind,
        geometry,
        precision: region.precision,
        defect_type: region.defect_type,
      };
    }),
  };
}

/** PUT the whole state on top of `etag`; a Conflict when someone saved in between. */
export async function putAnnotation(
  url: string,
  etag: string,
  state: LabelState,
  keepalive = false,
): Promise<AnnotationOut> {
  const response = await send(url, {
    method: "PUT",
    keepalive,
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "If-Match": etag,
      "X-CSRFToken": csrfToken(),
    },
    body: JSON.stringify(body(state)),
  });
  if (response.status === 412) {
    let current = -1;
    let detail = "";
    try {
      const data = (await response.json()) as { detail?: string; current_version?: number };
      current = data.current_version ?? -1;
      detail = data.detail ?? "";
    } catch {
      // the status says enough
    }
    throw new Conflict(detail || "someone else saved these labels first", current);
  }
  if (!response.ok) throw await failure(response);
  return (await response.json()) as AnnotationOut;
}
