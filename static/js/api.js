// REST calls (docs/api.md). Every failure becomes an ApiError: its `message` is the server's
// English (FastAPI's 422 `msg` with the field it names, or the HTTP status), for the console;
// its `status`, `detail` and `body` keep the refusal's codes, which refusals.js says in the
// reader's language. A network failure has status 0.

const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(message, status, detail, body = null) {
    super(message);
    this.status = status;
    this.detail = detail;
    this.body = body;
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
  if (!response.ok) throw new ApiError(describeErrorBody(body, response.status), response.status, body?.detail, body);
  return body;
}

export const api = {
  options: () => request("GET", "/options"),
  identity: () => request("GET", "/identity"),
  createSession: (config) => request("POST", "/sessions", { json: config ?? {} }),
  getSession: (id) => request("GET", `/sessions/${encodeURIComponent(id)}`),
  gradientCheck: (id) => request("POST", `/sessions/${encodeURIComponent(id)}/gradient-check`),
  trace: (id, split, index) =>
    request("GET", `/sessions/${encodeURIComponent(id)}/trace?split=${encodeURIComponent(split)}&index=${index}`),
  lossSurface: (id, body) => request("POST", `/sessions/${encodeURIComponent(id)}/loss-surface`, { json: body }),
  params: (id) => request("GET", `/sessions/${encodeURIComponent(id)}/params`),
  dataset: (id) => request("GET", `/sessions/${encodeURIComponent(id)}/dataset`),
  lossLine: (id, body) => request("POST", `/sessions/${encodeURIComponent(id)}/loss-line`, { json: body }),
  submitJob: (body) => request("POST", "/jobs", { json: body }),
  getJob: (id) => request("GET", `/jobs/${encodeURIComponent(id)}`),
  cancelJob: (id) => request("POST", `/jobs/${encodeURIComponent(id)}/cancel`),
  setParams: (id, layers) => request("PUT", `/sessions/${encodeURIComponent(id)}/params`, { json: { layers } }),
  saveRun: (sessionId, name) => request("POST", "/runs", { json: { session_id: sessionId, name } }),
  listRuns: (offset, limit) => request("GET", `/runs?offset=${offset}&limit=${limit}`),
  getRun: (id) => request("GET", `/runs/${encodeURIComponent(id)}`),
  renameRun: (id, name) => request("PATCH", `/runs/${encodeURIComponent(id)}`, { json: { name } }),
  publishRun: (id, published) => request("PATCH", `/runs/${encodeURIComponent(id)}`, { json: { published } }),
  organiseRun: (id, tags, note) => request("PATCH", `/runs/${encodeURIComponent(id)}`, { json: { tags, note } }),
  compareRuns: (ids) => request("GET", `/runs/compare?${ids.map((id) => `ids=${encodeURIComponent(id)}`).join("&")}`),
  deleteRun: (id) => request("DELETE", `/runs/${encodeURIComponent(id)}`),
  importRun: (document) => request("POST", "/runs/import", { json: document }),
  openRun: (id) => request("POST", `/runs/${encodeURIComponent(id)}/session`),
  exportUrl: (id) => `${BASE}/runs/${encodeURIComponent(id)}/export`,
  metricsCsvUrl: (id) => `${BASE}/runs/${encodeURIComponent(id)}/metrics.csv`,
  share: (id) => request("POST", `/sessions/${encodeURIComponent(id)}/share`),
  shareInfo: (code) => request("GET", `/shares/${encodeURIComponent(code)}`),
  fork: (code) => request("POST", `/shares/${encodeURIComponent(code)}/fork`),
  // the teacher's class (docs/api.md, "Classes")
  openClass: () => request("POST", "/classes"),
  getClass: (code) => request("GET", `/classes/${encodeURIComponent(code)}`),
  changeClass: (code, changes) => request("PATCH", `/classes/${encodeURIComponent(code)}`, { json: changes }),
  pauseClass: (code) => request("POST", `/classes/${encodeURIComponent(code)}/pause`),
  resumeClass: (code) => request("POST", `/classes/${encodeURIComponent(code)}/resume`),
  pushClassConfig: (code, changes) => request("POST", `/classes/${encodeURIComponent(code)}/config`, { json: changes }),
  endClass: (code) => request("DELETE", `/classes/${encodeURIComponent(code)}`),
  classCsvUrl: (code) => `${BASE}/classes/${encodeURIComponent(code)}/export.csv`,
  joinClass: (code, name) => request("POST", "/join", { json: { code, name } }),
  joinedClass: () => request("GET", "/join"),
  reportProgress: (lesson, step, done = true) => request("POST", "/join/progress", { json: { lesson, step, done } }),
  uploadDataset: (file) => {
    const form = new FormData();
    form.append("file", file, file.name);
    return request("POST", "/datasets", { form });
  },
};
