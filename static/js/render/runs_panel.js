// The saved-runs panel: the save form, the list (newest first; each run's name is text, never
// markup) and the status line. Clicks and keys call runs.js; what is shown comes from the store's
// `runs`. The replay of an opened run has its bar by the transport controls (replay_bar.js).

import { el, setText } from "../dom.js";
import { groupedInteger, localDateTime } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { runLimits } from "../options.js";
import {
  csvHref, deleteRun, exportHref, importRun, loadIdentity, openRun, publishRun, refreshRuns, renameRun, saveRun,
  showMoreRuns,
} from "../runs.js";
import { DIRTY, store } from "../store.js";

const form = document.getElementById("run-save-form");
const nameInput = document.getElementById("run-name");
const list = document.getElementById("runs-list");
const status = document.getElementById("runs-status");
const more = document.getElementById("runs-more");
const importInput = document.getElementById("run-import");

const CONFIRM_MS = 4000; // a delete asks once more, for this long
let editing = null; // the id of the run being renamed
let confirming = null; // {id, until} a delete that waits for its second press

/** A name field holds no more than a run's name may (once the options have said how much). */
function limitNameLength(input) {
  const length = runLimits().name_length;
  if (length) input.maxLength = length;
}

function runItem(run) {
  const item = el("li", "run-item");
  item.dataset.testid = "run-item";
  item.dataset.runId = run.id;
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
  actions.append(open);
  if (run.manageable) actions.append(rename); // another's published run: open and export only
  actions.append(exportLink, csvLink);
  if (store.identity.classroom && store.identity.role === "teacher") actions.append(publishButton(run));
  if (run.manageable) actions.append(remove);
  item.append(name, details, actions);
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
  }
  renderStatus();
}

export function initRunsPanel() {
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
