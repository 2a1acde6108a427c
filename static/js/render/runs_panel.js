// The saved-runs panel: the save form, the list (newest first; each run's name, tags and note are
// text, never markup), the status line, and the comparison of the runs ticked in the list (drawn
// by runs_compare.js). Clicks and keys call runs.js; what is shown comes from the store's `runs`.
// The replay of an opened run has its bar by the transport controls (replay_bar.js).
//
// Each run has a checkbox (Space ticks it) to compare it; "Compare" takes the ticked runs. "Tags
// and note" opens an editor in the run's row: tags separated by commas, a note; Enter in the
// tags field or the Save button keeps them, Escape or Cancel leaves them as they were.

import { el, setText } from "../dom.js";
import { groupedInteger, localDateTime } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { runLimits } from "../options.js";
import {
  closeComparison, compareSelected, csvHref, deleteRun, exportHref, importRun, isSelected, loadIdentity,
  openRun, organiseRun, publishRun, refreshRuns, renameRun, saveRun, selectRun, selectedCount,
  showMoreRuns, shownComparison,
} from "../runs.js";
import { clearComparison, drawComparison } from "../runs_compare.js";
import { watchSize } from "./canvas.js";
import { DIRTY, store } from "../store.js";

const form = document.getElementById("run-save-form");
const nameInput = document.getElementById("run-name");
const list = document.getElementById("runs-list");
const status = document.getElementById("runs-status");
const more = document.getElementById("runs-more");
const importInput = document.getElementById("run-import");

const CONFIRM_MS = 4000; // a delete asks once more, for this long
let editing = null; // the id of the run being renamed
let organising = null; // the id of the run whose tags and note are being edited
let compareBar = null; // the Compare button's row, made by initRunsPanel
let compareButton = null;
let compareView = null; // {section, title, chart, details, close}
let confirming = null; // {id, until} a delete that waits for its second press

/** A name field holds no more than a run's name may (once the options have said how much). */
function limitNameLength(input) {
  const length = runLimits().name_length;
  if (length) input.maxLength = length;
}

/** The editor of a run's tags and note, in its row. */
function organiser(run) {
  const editor = el("div", "run-organiser");
  editor.dataset.testid = "run-organiser";
  const limits = runLimits();
  const tagsLabel = el("label", "", t("runs.tags_label"));
  const tags = el("input", "run-tags-input");
  tags.type = "text";
  tags.id = `run-tags-${run.id}`;
  tags.dataset.testid = "run-tags-input";
  tags.value = run.tags.join(", ");
  tags.placeholder = t("runs.tags_placeholder");
  tagsLabel.htmlFor = tags.id;
  const noteLabel = el("label", "", t("runs.note_label"));
  const note = el("textarea", "run-note-input");
  note.id = `run-note-${run.id}`;
  note.dataset.testid = "run-note-input";
  note.rows = 2;
  if (limits.note_length) note.maxLength = limits.note_length;
  note.value = run.note;
  noteLabel.htmlFor = note.id;
  const save = el("button", "chip", t("runs.organise_save"));
  save.type = "button";
  save.dataset.testid = "run-organise-save";
  const cancel = el("button", "chip", t("runs.organise_cancel"));
  cancel.type = "button";
  const keep = async () => {
    if (await organiseRun(run.id, tags.value, note.value)) organising = null;
    renderList();
  };
  const leave = () => {
    organising = null;
    renderList();
    list.querySelector(`[data-run-id="${CSS.escape(run.id)}"] [data-action="organise"]`)?.focus();
  };
  save.addEventListener("click", keep);
  cancel.addEventListener("click", leave);
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      leave();
    } else if (event.key === "Enter" && event.target === tags) {
      event.preventDefault();
      keep();
    }
  });
  editor.append(tagsLabel, tags, noteLabel, note, el("span", "run-organiser-actions"));
  editor.lastChild.append(save, cancel);
  queueMicrotask(() => tags.focus());
  return editor;
}

/** The run's tags (beside its details) and note (a line of its own, under the actions), as text. */
function labels(run) {
  let tags = null;
  let note = null;
  if (run.tags.length) {
    tags = el("span", "run-tags");
    tags.dataset.testid = "run-tags";
    tags.setAttribute("aria-label", t("runs.tags_shown"));
    tags.append(...run.tags.map((tag) => el("span", "run-tag", tag)));
  }
  if (run.note) {
    note = el("p", "run-note", run.note);
    note.dataset.testid = "run-note";
  }
  return { tags, note };
}

function runItem(run) {
  const item = el("li", "run-item");
  item.dataset.testid = "run-item";
  item.dataset.runId = run.id;
  const pick = el("input", "run-select");
  pick.type = "checkbox";
  pick.dataset.testid = "run-select";
  pick.dataset.action = "select";
  pick.checked = isSelected(run.id);
  pick.setAttribute("aria-label", t("runs.select_label", { name: run.name }));
  pick.addEventListener("change", () => selectRun(run.id, pick.checked));
  if (editing === run.id) {
    const input = el("input", "run-rename");
    input.type = "text";
    limitNameLength(input);
    input.value = run.name;
    input.setAttribute("aria-label", t("runs.rename_label", { name: run.name }));
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        editing = null;
        renameRun(run.id, input.value);
      } else if (event.key === "Escape") {
        editing = null;
        renderList();
      }
    });
    input.addEventListener("blur", () => {
      if (editing === run.id) {
        editing = null;
        renderList();
      }
    });
    item.append(input);
    queueMicrotask(() => input.focus());
    return item;
  }
  const name = el("span", "run-name", run.name); // textContent: HTML in a name stays text
  name.dataset.testid = "run-name";
  const details = el("span", "run-details", t("runs.details", {
    step: groupedInteger(run.step, store.lang), dataset: run.config.dataset, when: localDateTime(run.created, store.lang),
  }));
  if (run.published) {
    const badge = el("span", "run-published", t("runs.published"));
    badge.dataset.testid = "run-published";
    details.append(" ", badge);
  }
  if (run.imported) { // a copy imported next to the run it was exported from keeps its name: this tells them apart
    const badge = el("span", "run-published", t("runs.imported_badge"));
    badge.dataset.testid = "run-imported";
    details.append(" ", badge);
  }
  const actions = el("span", "run-actions");
  const open = el("button", "chip control-only", t("runs.open")); // a viewer's page watches, it opens nothing
  open.type = "button";
  open.dataset.testid = "run-open";
  open.dataset.action = "open";
  open.setAttribute("aria-label", t("runs.open_label", { name: run.name }));
  open.addEventListener("click", () => openRun(run.id));
  const rename = el("button", "chip", t("runs.rename"));
  rename.type = "button";
  rename.dataset.action = "rename";
  rename.setAttribute("aria-label", t("runs.rename_label", { name: run.name }));
  rename.addEventListener("click", () => {
    editing = run.id;
    renderList();
  });
  const exportLink = el("a", "chip", t("runs.export"));
  exportLink.href = exportHref(run.id);
  exportLink.dataset.action = "export";
  exportLink.setAttribute("download", "");
  exportLink.setAttribute("aria-label", t("runs.export_label", { name: run.name }));
  const csvLink = el("a", "chip", t("runs.csv"));
  csvLink.href = csvHref(run.id);
  csvLink.dataset.action = "csv";
  csvLink.setAttribute("download", "");
  csvLink.setAttribute("aria-label", t("runs.csv_label", { name: run.name }));
  const waiting = confirming?.id === run.id && performance.now() < confirming.until;
  const remove = el("button", waiting ? "chip danger" : "chip", t(waiting ? "runs.delete_confirm" : "runs.delete"));
  remove.type = "button";
  remove.dataset.testid = "run-delete";
  remove.dataset.action = "delete";
  remove.setAttribute("aria-label", t(waiting ? "runs.delete_confirm_label" : "runs.delete_label", { name: run.name }));
  remove.addEventListener("click", () => {
    if (confirming?.id === run.id && performance.now() < confirming.until) {
      confirming = null;
      deleteRun(run.id, run.name);
      return;
    }
    confirming = { id: run.id, until: performance.now() + CONFIRM_MS };
    renderList(); // keeps the focus on this run's delete button
    setTimeout(renderList, CONFIRM_MS + 50);
  });
  const organise = el("button", "chip", t("runs.organise"));
  organise.type = "button";
  organise.dataset.testid = "run-organise";
  organise.dataset.action = "organise";
  organise.setAttribute("aria-label", t("runs.organise_label", { name: run.name }));
  organise.addEventListener("click", () => {
    organising = run.id;
    renderList();
  });
  actions.append(open);
  if (run.manageable) actions.append(rename, organise); // another's published run: open and export only
  actions.append(exportLink, csvLink);
  if (store.identity.classroom && store.identity.role === "teacher") actions.append(publishButton(run));
  if (run.manageable) actions.append(remove);
  const { tags, note } = labels(run);
  item.append(pick, name, details, ...(tags ? [tags] : []), actions, ...(note ? [note] : []));
  if (organising === run.id) item.append(organiser(run));
  return item;
}

/** The teacher's toggle: show a run to the whole class, or to its owner only again. */
function publishButton(run) {
  const key = run.published ? "runs.unpublish" : "runs.publish";
  const button = el("button", "chip", t(key));
  button.type = "button";
  button.dataset.testid = "run-publish";
  button.dataset.action = "publish";
  button.setAttribute("aria-pressed", String(run.published));
  button.setAttribute("aria-label", t(`${key}_label`, { name: run.name }));
  button.addEventListener("click", () => publishRun(run.id, run.name, !run.published));
  return button;
}

function renderList() {
  const runs = store.runs;
  const focused = document.activeElement;
  const focusKey = list.contains(focused) ? [focused.closest("li")?.dataset.runId, focused.dataset.action] : null;
  list.replaceChildren(...runs.list.map(runItem));
  if (!runs.list.length) list.append(el("li", "run-empty", t("runs.empty")));
  if (focusKey) { // keep the keyboard where it was across a redraw
    const row = [...list.children].find((child) => child.dataset.runId === focusKey[0]);
    const again = row?.querySelector(`[data-action="${focusKey[1]}"]`);
    again?.focus();
  }
  more.hidden = runs.list.length >= runs.total;
  renderCompareBar();
}

/** The Compare button: on for 2 … max_compared ticked runs (GET /api/v1/options). */
function renderCompareBar() {
  const count = selectedCount();
  const most = runLimits().max_compared ?? 0;
  compareButton.disabled = count < 2 || count > most;
  setText(compareButton, t("runs.compare", { n: count }));
  compareBar.hidden = store.runs.list.length < 2;
  const hint = compareBar.querySelector(".hint");
  setText(hint, count > most ? t("runs.compare_too_many", { n: most }) : t("runs.compare_hint"));
}

let drawnComparison = null;

function renderComparison(flags) {
  const shown = shownComparison();
  compareView.section.hidden = shown === null;
  if (shown === drawnComparison && !(flags & DIRTY.lang)) return;
  if (shown === null) {
    if (drawnComparison !== null) clearComparison(compareView.chart);
    drawnComparison = null;
    return;
  }
  drawnComparison = window.Plotly ? shown : null; // drawn again once Plotly has loaded
  drawComparison(compareView.chart, compareView.details, compareView.title, shown);
  setText(compareView.close, t("runs.compare_close"));
}

/** The Compare row and the comparison's place, after the list's foot. */
function buildCompare(panel) {
  compareBar = el("div", "runs-compare-bar");
  compareButton = el("button", "button-like", "");
  compareButton.type = "button";
  compareButton.id = "runs-compare-button";
  compareButton.dataset.testid = "runs-compare-button";
  compareButton.addEventListener("click", () => compareSelected());
  compareBar.append(compareButton, el("span", "hint"));
  const section = el("section", "runs-compare");
  section.dataset.testid = "runs-compare";
  section.hidden = true;
  const title = el("h3", "runs-compare-title");
  title.id = "runs-compare-title";
  section.setAttribute("aria-labelledby", title.id);
  const chart = el("div", "runs-compare-chart");
  chart.dataset.testid = "runs-compare-chart";
  chart.setAttribute("role", "img");
  const details = el("div", "runs-compare-details");
  const close = el("button", "chip", "");
  close.type = "button";
  close.dataset.testid = "runs-compare-close";
  close.addEventListener("click", () => {
    closeComparison();
    compareButton.focus();
  });
  section.append(title, chart, details, close);
  panel.append(compareBar, section);
  watchSize(chart, () => {
    if (drawnComparison !== null) window.Plotly.Plots?.resize(chart);
  });
  compareView = { section, title, chart, details, close };
}

function renderStatus() {
  const shown = store.runs.status;
  status.className = shown?.error ? "runs-status error" : "runs-status";
  setText(status, shown ? t(shown.key, shown.vars) : "");
}

let drawnList = null; // the list the rows were built from
let drawnIdentity = null; // and who they were built for

function render(flags = DIRTY.lang) {
  limitNameLength(nameInput);
  if (store.runs.list !== drawnList || store.identity !== drawnIdentity || flags & DIRTY.lang) {
    drawnList = store.runs.list;
    drawnIdentity = store.identity;
    renderList();
  } else {
    renderCompareBar(); // a tick changes the button, not the rows
  }
  renderStatus();
  renderComparison(flags);
}

export function initRunsPanel() {
  buildCompare(document.getElementById("runs-panel"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await saveRun(nameInput.value)) nameInput.value = "";
  });
  importInput.addEventListener("change", () => {
    const file = importInput.files[0];
    if (file) importRun(file).finally(() => { importInput.value = ""; });
  });
  more.addEventListener("click", () => showMoreRuns());
  registerRenderer({ name: "runs", mask: DIRTY.runs | DIRTY.lang, render });
  loadIdentity();
  refreshRuns();
}
