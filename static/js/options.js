// Reading the server's options (GET /api/v1/options, loaded once by session.js before the first
// render): every name the page offers, every formula it writes and every range its controls
// allow come from there, never from a copy here. Formulas are the engine's maths; the names
// shown to people are translations keyed by option id (static/i18n/*.json).
//
// Only reads: the store holds the document (setOptions), this module answers questions about it.

import { store } from "./store.js";

/** The served names of one kind ("datasets", "features", "activations", …), in the server's order. */
export function optionNames(kind) {
  const list = store.options?.[kind] ?? [];
  return list.map((item) => (typeof item === "string" ? item : item.name));
}

/** `{min, max, min_exclusive, max_exclusive, integer, cap, ui: {min, max, step, presets}}` of a field. */
export function range(field) {
  return store.options?.ranges?.[field] ?? null;
}

/** What the page's control for `field` offers: `{min, max, step, presets}` (empty before options). */
export function uiRange(field) {
  return range(field)?.ui ?? {};
}

/** What analysis `name` ("surface", "race", "sweep", "loss_line", "range_test") accepts: by field,
 * `{min, max, min_exclusive, max_exclusive, integer, default, cap, presets}` (empty before options). */
export function analysis(name) {
  return store.options?.analyses?.[name] ?? {};
}

/** What saved runs accept: `{name_length, page_size, max_history, max_snapshots}` (empty before options). */
export function runLimits() {
  return store.options?.runs ?? {};
}

/** Is `value` inside a served range (`{min, max, min_exclusive, max_exclusive, integer}`)? */
export function inRange(r, value) {
  if (!r || !Number.isFinite(value)) return false;
  if (r.integer && !Number.isInteger(value)) return false;
  if (r.min !== null && r.min !== undefined && (r.min_exclusive ? value <= r.min : value < r.min)) return false;
  if (r.max !== null && r.max !== undefined && (r.max_exclusive ? value >= r.max : value > r.max)) return false;
  return true;
}

/** `value` moved inside a closed served range (an integer range also rounds it). */
export function clampToRange(r, value) {
  const rounded = r?.integer ? Math.round(value) : value;
  return Math.min(r?.max ?? Infinity, Math.max(r?.min ?? -Infinity, rounded));
}

/** The engine's formulas: features, activations, outputs, losses, optimizers, inits, regularizations, network. */
export function formulas() {
  return store.options?.formulas ?? {};
}

/** How a feature is written (x₁², sin(x₁)); its id when the options have none (an uploaded column). */
export function featureFormula(name) {
  return formulas().features?.[name] ?? name;
}

/**
 * Whether data set `name` is a regression set, as the engine decided: the options for the built-in
 * sets, the upload's reply for an uploaded CSV, the session's snapshot for the current set.
 */
export function isRegressionSet(name) {
  const builtIn = store.options?.datasets?.find((entry) => entry.name === name);
  if (builtIn) return builtIn.regression;
  const upload = store.uploads[name];
  if (upload) return upload.regression;
  if (store.config?.dataset === name && store.dataset) return store.dataset.regression === true;
  return false;
}

/**
 * The bounds a control accepts: the UI's `min`/`max`, exclusive where the UI's bound is the API's
 * exclusive one (a learning rate must be above 0): a served range, `{min, max, min_exclusive,
 * max_exclusive, integer}`.
 */
export function controlBounds(field) {
  const r = range(field);
  if (!r) return null;
  const ui = r.ui ?? {};
  const min = ui.min ?? r.min;
  const max = ui.max ?? r.max;
  return {
    min,
    max,
    min_exclusive: min !== null && min === r.min && r.min_exclusive,
    max_exclusive: max !== null && max === r.max && r.max_exclusive,
    integer: r.integer,
  };
}

/** Is `value` one `field`'s control accepts? (The page checks before sending; the server again.) */
export function acceptable(field, value) {
  return inRange(controlBounds(field), value);
}
