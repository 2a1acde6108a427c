// The compare view: two to four students picked on the grid, side by side, read-only and live
// from the class stream, for the projector: larger thumbnails and loss curves, and their configs
// with the settings that differ marked (a sign and words, not colour alone). A <dialog>: Escape
// closes it and focus goes back to the Compare button.

import { el, setText } from "../dom.js";
import { groupedInteger, percent, shortNumber } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { COMPARE_LEAST, DIRTY, setCompareOpen, state } from "./state.js";
import { Sparkline, Thumbnail } from "./pictures.js";
import { architecture, badgeLabel, choiceLabel, datasetLabel, shownName } from "./words.js";

/** The config rows compared, each with its label and how its value is written. */
const SETTINGS = [
  ["dataset", "data.dataset", (config) => datasetLabel(config.dataset)],
  ["hidden_layers", "network.hidden_layers", (config) => architecture(config)],
  ["activation", "hyper.activation", (config) => choiceLabel("activation", config.activation)],
  ["learning_rate", "hyper.learning_rate", (config) => shortNumber(config.learning_rate, 3)],
  ["batch_size", "hyper.batch_size", (config) => groupedInteger(config.batch_size)],
  ["optimizer", "hyper.optimizer", (config) => choiceLabel("optimizer", config.optimizer)],
  ["regularization", "hyper.regularization", (config) => choiceLabel("regularization", config.regularization)],
  ["regularization_rate", "hyper.regularization_rate", (config) => shortNumber(config.regularization_rate, 3)],
];
const RESULTS = [
  ["step", "counters.step", (session) => groupedInteger(session.step)],
  ["train_loss", "class.metric.train_loss", (session) => shortNumber(session.metrics?.train_loss, 3)],
  ["test_loss", "class.metric.test_loss", (session) => shortNumber(session.metrics?.test_loss, 3)],
  ["test_accuracy", "class.metric.test_accuracy", (session) => percent(session.metrics?.test_accuracy)],
  ["badge", "class.badge_label", (session) => badgeLabel(session.badge)],
];

const dialog = document.getElementById("class-compare-view");
const columns = document.getElementById("class-compare-columns");
const openButton = document.getElementById("class-compare");
const closeButton = document.getElementById("class-compare-close");
let shownKeys = "";
let panes = [];

function makePane(key) {
  const pane = el("section", "compare-pane");
  pane.dataset.key = key;
  pane.dataset.testid = "class-compare-pane";
  const name = el("h3", "compare-name");
  name.dataset.testid = "class-compare-name";
  const thumbnailCanvas = el("canvas", "compare-thumbnail");
  thumbnailCanvas.width = 1;
  thumbnailCanvas.height = 1;
  thumbnailCanvas.setAttribute("role", "img");
  const sparkCanvas = el("canvas", "compare-sparkline");
  sparkCanvas.width = 400;
  sparkCanvas.height = 120;
  sparkCanvas.setAttribute("aria-hidden", "true");
  const list = el("dl", "compare-settings");
  const rows = {};
  for (const [field, labelKey] of [...SETTINGS, ...RESULTS]) {
    const row = el("div");
    row.dataset.field = field;
    const term = el("dt", "", t(labelKey));
    term.dataset.i18n = labelKey;
    const cell = el("dd");
    const value = el("span");
    const mark = el("span", "differs-mark");
    cell.append(value, mark);
    row.append(term, cell);
    list.append(row);
    rows[field] = { row, value, mark };
  }
  pane.append(name, thumbnailCanvas, sparkCanvas, list);
  return { key, pane, name, rows, thumbnailCanvas, thumbnail: new Thumbnail(thumbnailCanvas), spark: new Sparkline(sparkCanvas, 3) };
}

function render() {
  const open = state.compareOpen && state.selected.length >= COMPARE_LEAST;
  openButton.disabled = state.selected.length < COMPARE_LEAST;
  setText(openButton, t("class.compare", { count: state.selected.length }));
  if (!open) {
    if (dialog.open) dialog.close();
    return;
  }
  const keys = state.selected.join(" ");
  if (keys !== shownKeys) {
    panes = state.selected.map(makePane);
    columns.replaceChildren(...panes.map((pane) => pane.pane));
    columns.dataset.count = String(panes.length);
    shownKeys = keys;
  }
  if (!dialog.open) dialog.showModal();
  const students = new Map((state.view?.students ?? []).map((student) => [student.key, student]));
  const shown = panes.map((pane) => students.get(pane.key));
  const configs = shown.map((student) => student?.session?.config ?? null);
  panes.forEach((pane, index) => {
    const student = shown[index];
    if (!student) return;
    setText(pane.name, shownName(student));
    pane.thumbnailCanvas.setAttribute("aria-label", t("class.thumbnail_label", { name: shownName(student) }));
    const session = student.session;
    pane.thumbnail.show(session?.thumbnail ?? null);
    pane.spark.show(session?.losses ?? []);
    for (const [field, , write] of SETTINGS) {
      const words = configs.map((config) => (config ? write(config) : "–"));
      const differs = new Set(words).size > 1;
      const { row, value, mark } = pane.rows[field];
      setText(value, words[index]);
      row.classList.toggle("differs", differs);
      setText(mark, differs ? `≠ ${t("class.differs")}` : "");
    }
    for (const [field, , write] of RESULTS) setText(pane.rows[field].value, session ? write(session) : "–");
  });
}

export function initCompare() {
  openButton.addEventListener("click", () => setCompareOpen(true));
  closeButton.addEventListener("click", () => setCompareOpen(false));
  dialog.addEventListener("close", () => {
    if (state.compareOpen) setCompareOpen(false); // Escape closed it
    openButton.focus();
  });
  registerRenderer({
    name: "class-compare",
    mask: DIRTY.view | DIRTY.lang | DIRTY.selection | DIRTY.compare | DIRTY.projector,
    render,
  });
}
