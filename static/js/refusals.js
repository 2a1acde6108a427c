// What went wrong, in the reader's language. The server refuses with a stable `code`, the
// `field` and its `params` besides its English sentence (docs/api.md and docs/protocol.md,
// "Errors"), and says the same way why its runs database failed (a 503: `disk_full`,
// `damaged`, …); this module turns them into a sentence of static/i18n/*.json, with the field
// named as its control is labelled and numbers in the reader's form. A failure that has no
// code (the network, a status without a body) is translated by its kind. Nothing here shows
// the server's English: scripts read that, people read this.
//
// Callers keep the failure itself and call `explain` when they draw, so a language switch
// rewords a message already showing.

import { ApiError } from "./api.js";
import { listSeparator, readableNumber } from "./format.js";
import { has, t } from "./i18n.js";

/** The label of the control that sets each config field (and a few request fields). */
const FIELD_LABELS = {
  dataset: "data.dataset",
  noise: "data.noise",
  train_ratio: "data.train_ratio",
  samples: "data.samples",
  seed: "data.seed",
  features: "data.features",
  hidden_layers: "network.hidden_layers",
  learning_rate: "hyper.learning_rate",
  activation: "hyper.activation",
  loss: "hyper.loss",
  optimizer: "hyper.optimizer",
  momentum: "hyper.momentum",
  batch_size: "hyper.batch_size",
  regularization: "hyper.regularization",
  regularization_rate: "hyper.regularization_rate",
  init: "hyper.init",
  steps_per_second: "transport.speed",
  index: "teach.index",
  split: "teach.split",
  directions: "surface.directions",
  span: "surface.span",
  resolution: "surface.resolution",
  learning_rates: "lrlab.race_rates",
};

/** How a field is called on the page: its control's label, a `field.*` text, or "this value". */
export function fieldLabel(field) {
  // a path such as "run.config.learning_rate" (a field inside an imported document) is named by
  // its last part that has a label
  for (const name of String(field ?? "").split(".").reverse()) {
    if (FIELD_LABELS[name]) return t(FIELD_LABELS[name]);
    if (name && has(`field.${name}`)) return t(`field.${name}`);
  }
  return t("field.value");
}

/** A parameter as the reader writes it: numbers in the language's form, lists joined. */
function word(value) {
  if (typeof value === "number") return readableNumber(value);
  if (Array.isArray(value)) return value.map(word).join(listSeparator());
  if (value === null || value === undefined) return "–";
  return String(value);
}

/** The range sentence of `out_of_range`: which bounds are open decides the words. */
function rangeKey(params) {
  if (params.high === null || params.high === undefined) return params.low_open ? "refusal.out_of_range_above" : "refusal.out_of_range_min";
  if (params.high_open) return "refusal.out_of_range_below";
  return params.low_open ? "refusal.out_of_range_open" : "refusal.out_of_range";
}

/** A bad CSV file: where (row and column) and what, in the reader's words. */
function csvSentence(code, params) {
  const problem = has(`csv.${code}`) ? t(`csv.${code}`, wordsOf(params)) : t("csv.bad_csv");
  const row = params.row ?? null;
  const column = params.column ?? null;
  if (row !== null && column !== null) return t("csv.at_row_column", { row: word(row), column, problem });
  if (row !== null) return t("csv.at_row", { row: word(row), problem });
  if (column !== null) return t("csv.at_column", { column, problem });
  return problem;
}

function wordsOf(params) {
  const words = {};
  for (const [key, value] of Object.entries(params ?? {})) words[key] = word(value);
  return words;
}

/** One refusal `{code, field, params}` as a sentence. */
export function describeProblem({ code, field, params = {} }) {
  if (field === "file" && has(`csv.${code}`)) return csvSentence(code, params);
  const key = code === "out_of_range" ? rangeKey(params) : `refusal.${code}`;
  const vars = { ...wordsOf(params), field: fieldLabel(field), name: String(field ?? "") };
  if (typeof params.resource === "string" && has(`quota.${params.resource}`)) {
    // a share or a server cap (docs/reliability.md, "Quotas"): what is held, and what to do
    vars.resource = t(`quota.${params.resource}`);
    vars.remedy = t(`quota.remedy.${params.resource}`);
  }
  if (code === "unknown_choice" && typeof params.value === "string") {
    const prefix = { activation: "activation", loss: "loss", optimizer: "optimizer", regularization: "regularization", init: "init", features: "feature" }[field];
    if (prefix && has(`${prefix}.${params.value}`)) vars.value = t(`${prefix}.${params.value}`);
  }
  return has(key) ? t(key, vars) : t("refusal.other", vars);
}

/** The problems a failed REST call named (FastAPI's 422 items, or a 429 body), or []. */
function problemsOf(error) {
  const detail = error.detail;
  if (Array.isArray(detail)) return detail.filter((item) => item && typeof item.code === "string");
  if (error.body && typeof error.body.code === "string") return [error.body];
  return [];
}

/** Any failure the page reports, in the reader's language: an `ApiError` (its problems, the
 * network, or its HTTP status), a WebSocket `error` message with a `reason`, or anything else. */
export function explain(error) {
  if (error instanceof ApiError) {
    const problems = problemsOf(error);
    if (problems.length) return problems.map(describeProblem).join(" ");
    if (error.status === 0) return t("error.network");
    if (has(`error.status.${error.status}`)) return t(`error.status.${error.status}`);
    return t("error.status.other", { status: error.status });
  }
  if (error && typeof error.reason === "string") return describeProblem({ code: error.reason, field: error.field, params: error.params });
  return t("error.unexpected");
}
