// One multipart request with upload progress (fetch reports none): XMLHttpRequest.
import { ApiError, errorText } from "../api";

/** POST `form` to `url`; `onProgress(sentBytes)` as it goes; the JSON answer, or the server's error. */
export function postWithProgress<T>(url: string, form: FormData, onProgress: (sent: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.setRequestHeader("Accept", "application/json");
    request.responseType = "json";
    request.upload.addEventListener("progress", (event) => onProgress(event.loaded));
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) resolve(request.response as T);
      else reject(new ApiError(errorText(request.response) || `the server answered ${request.status}`, request.status));
    });
    request.addEventListener("error", () =>
      reject(new ApiError("the server could not be reached: check the connection", 0)),
    );
    request.send(form);
  });
}
