// REST calls (docs/api.md). Every failure becomes an ApiError whose message a person can read:
// FastAPI's 422 `detail[0].msg` (with the field it names), or the HTTP status in words.

const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(message, status, detail) {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

/** The readable message of an error body: `detail` as a string, or FastAPI's list of problems. */
export function describeErrorBody(body, status) {
  const detail = body?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail) && detail.length) {
    return detail
      .map((problem) => {
        const where = Array.isArray(problem.loc) ? problem.loc.filter((part) => part !== "body").join(".") : "";
        return where ? `${where}: ${problem.msg}` : problem.msg;
      })
      .join("; ");
  }
  if (typeof body?.message === "string") return body.message;
  return `HTTP ${status}`;
}

async function request(method, path, { json, form } = {}) {
  const init = { method, headers: {} };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form;
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (error) {
    throw new ApiError(`network error: ${error.message}`, 0, null);
  }
  const text = await response.text();
  let body = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = { detail: text.slice(0, 200) };
    }
  }
  if (!response.ok) throw new ApiError(describeErrorBody(body, response.status), response.status, body?.detail);
  return body;
}

export const api = {
  options: () => request("GET", "/options"),
  createSession: (config) => request("POST", "/sessions", { json: config ?? {} }),
  getSession: (id) => request("GET", `/sessions/${encodeURIComponent(id)}`),
  gradientCheck: (id) => request("POST", `/sessions/${encodeURIComponent(id)}/gradient-check`),
  trace: (id, split, index) =>
    request("GET", `/sessions/${encodeURIComponent(id)}/trace?split=${encodeURIComponent(split)}&index=${index}`),
  lossSurface: (id, body) => request("POST", `/sessions/${encodeURIComponent(id)}/loss-surface`, { json: body }),
  params: (id) => request("GET", `/sessions/${encodeURIComponent(id)}/params`),
  dataset: (id) => request("GET", `/sessions/${encodeURIComponent(id)}/dataset`),
  uploadDataset: (file) => {
    const form = new FormData();
    form.append("file", file, file.name);
    return request("POST", "/datasets", { form });
  },
};
