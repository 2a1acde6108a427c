// The class page's one state store (static/js/class_page.js): the class view the server streams
// (docs/protocol.md, "The class page"), and what the teacher chose on the page. Changes go through
// the functions below and set dirty flags; the render loop (loop.js) redraws what they name.
// Nothing here touches the DOM.

import { requestRender } from "../loop.js";

export const DIRTY = {
  view: 1 << 0, // a new class view: the grid, the table, the scatter, the compare view
  lang: 1 << 1, // every text
  order: 1 << 2, // the sort or the "needs help" filter
  selection: 1 << 3, // the students picked for the compare view
  compare: 1 << 4, // the compare view opened or closed
  scatter: 1 << 5, // the scatter's axes
  status: 1 << 6, // what the last control did (push, challenge, a refusal)
  projector: 1 << 7, // projector mode
  connection: 1 << 8, // the class stream's socket
  table: 1 << 9, // the table shown or visually hidden
  names: 1 << 10, // names hidden or shown again: every view that writes a name, at once
  all: (1 << 11) - 1,
};

/** At most this many students side by side in the compare view (the "two to four"). */
export const COMPARE_LIMIT = 4;
export const COMPARE_LEAST = 2;

export const state = {
  dirty: DIRTY.all,
  lang: "en",
  projector: false,
  connection: "connecting", // connecting | open | reconnecting | closed (no class open)
  options: null, // GET /api/v1/options: data sets, activations, ranges for the forms
  view: null, // the class view as served, or null while no class is open
  version: 0, // counts class views, so renderers can tell a new one
  sort: "number", // number | loss | badge
  needsHelp: false, // show only the students whose badge says they need help
  selected: [], // student keys picked for the compare view, in the order picked
  compareOpen: false,
  scatterX: "learning_rate", // learning_rate | batch_size | hidden_neurons | regularization_rate
  scatterY: "test_loss", // train_loss | test_loss | test_accuracy
  status: null, // {key, vars} of what the last control did, or {error} of a refusal
  tableShown: false,
};

export function markDirty(flags) {
  state.dirty |= flags;
  requestRender();
}

export function takeDirty() {
  const flags = state.dirty;
  state.dirty = 0;
  return flags;
}

export function setOptions(options) {
  state.options = options;
  markDirty(DIRTY.all);
}

export function setLang(lang) {
  state.lang = lang;
  markDirty(DIRTY.lang | DIRTY.view | DIRTY.scatter);
}

/** A class view (REST answer or stream message), or null once the class ended. Picked students
 * who left the view leave the selection. */
export function setView(view) {
  if (view?.anonymous !== state.view?.anonymous) markDirty(DIRTY.names);
  state.view = view;
  state.version++;
  if (!view) {
    state.selected = [];
    state.compareOpen = false;
  } else {
    const keys = new Set(view.students.map((student) => student.key));
    const kept = state.selected.filter((key) => keys.has(key));
    if (kept.length !== state.selected.length) {
      state.selected = kept;
      markDirty(DIRTY.selection);
    }
  }
  markDirty(DIRTY.view);
}

export function setConnection(connection) {
  if (state.connection === connection) return;
  state.connection = connection;
  markDirty(DIRTY.connection);
}

export function setSort(sort) {
  state.sort = sort;
  markDirty(DIRTY.order);
}

export function setNeedsHelp(on) {
  state.needsHelp = on;
  markDirty(DIRTY.order);
}

/** Picks or unpicks a student for the compare view; no more than COMPARE_LIMIT. */
export function toggleSelected(key) {
  if (state.selected.includes(key)) state.selected = state.selected.filter((other) => other !== key);
  else if (state.selected.length < COMPARE_LIMIT) state.selected = [...state.selected, key];
  if (state.selected.length < COMPARE_LEAST) state.compareOpen = false;
  markDirty(DIRTY.selection | DIRTY.compare);
}

export function setCompareOpen(open) {
  state.compareOpen = open && state.selected.length >= COMPARE_LEAST;
  markDirty(DIRTY.compare);
}

export function setScatterAxes(x, y) {
  state.scatterX = x;
  state.scatterY = y;
  markDirty(DIRTY.scatter);
}

/** What the last control did: a translation `{key, vars}`, or `{error}` (an ApiError). */
export function setStatus(status) {
  state.status = status;
  markDirty(DIRTY.status);
}

export function setProjector(on) {
  if (state.projector === on) return;
  state.projector = on;
  markDirty(DIRTY.all);
}

export function setTableShown(shown) {
  state.tableShown = shown;
  markDirty(DIRTY.table);
}
