// The metrics under the output: training and test loss, accuracy (classification) or RMSE and
// R² (regression), all evaluated by the engine on whole splits; and the engine's confusion
// matrix of the test split (rows = ground truth, columns = prediction), redrawn at most twice a
// second while training.

import { el, setText } from "../dom.js";
import { groupedInteger, percent, plainNumber } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { classColours, rgb } from "../palette.js";
import { DIRTY, store, whileRunning } from "../store.js";

const CONFUSION_INTERVAL_MS = 500;

const cells = {
  trainLoss: document.getElementById("train-loss"),
  testLoss: document.getElementById("test-loss"),
  trainAccuracy: document.getElementById("train-accuracy"),
  testAccuracy: document.getElementById("test-accuracy"),
  trainRmse: document.getElementById("train-rmse"),
  testRmse: document.getElementById("test-rmse"),
  trainR2: document.getElementById("train-r2"),
  testR2: document.getElementById("test-r2"),
};
const confusionBox = document.getElementById("confusion");

function renderConfusion() {
  const counts = store.network?.output === "softmax" ? store.metrics?.test_confusion : null;
  const classes = store.dataset?.classes;
  if (!counts || !classes) {
    confusionBox.replaceChildren();
    return;
  }
  const names = store.dataset.class_names ?? counts.map((_, k) => String(k));
  const colours = classColours(classes);
  const table = document.createElement("table");
  table.className = "confusion-table";
  const caption = document.createElement("caption");
  caption.textContent = t("metrics.confusion");
  table.append(caption);
  const head = document.createElement("tr");
  head.append(el("th", null, t("metrics.truth_prediction")));
  names.forEach((name, k) => {
    const th = el("th", null, name);
    th.scope = "col";
    th.style.borderBottom = `3px solid ${rgb(colours[k])}`;
    head.append(th);
  });
  table.append(head);
  counts.forEach((row, actual) => {
    const total = row.reduce((sum, n) => sum + n, 0) || 1;
    const tr = document.createElement("tr");
    const th = el("th", null, names[actual]);
    th.scope = "row";
    th.style.borderLeft = `3px solid ${rgb(colours[actual])}`;
    tr.append(th);
    row.forEach((count, predicted) => {
      const td = el("td", null, groupedInteger(count));
      const share = count / total;
      const tint = actual === predicted ? "24, 104, 178" : "224, 110, 20";
      td.style.background = `rgba(${tint}, ${(share * 0.55).toFixed(3)})`;
      tr.append(td);
    });
    table.append(tr);
  });
  confusionBox.replaceChildren(table);
}

/** A metric in the reader's form ("0,6931" in Indonesian), its plain number in data-value. */
function setMetric(cell, text, value) {
  setText(cell, text);
  const raw = value === null || value === undefined ? "" : String(value);
  if (cell.dataset.value !== raw) cell.dataset.value = raw;
}

export function initMetrics() {
  registerRenderer({
    name: "metrics",
    mask: DIRTY.metrics | DIRTY.lang | DIRTY.network,
    interval: whileRunning(100),
    urgent: DIRTY.lang | DIRTY.network,
    render() {
      const metrics = store.metrics ?? {};
      const classify = store.network ? store.network.output === "softmax" : true;
      document.body.classList.toggle("regression", !classify);
      setMetric(cells.trainLoss, plainNumber(metrics.train_loss), metrics.train_loss);
      setMetric(cells.testLoss, plainNumber(metrics.test_loss), metrics.test_loss);
      setText(cells.trainAccuracy, percent(metrics.train_accuracy));
      setText(cells.testAccuracy, percent(metrics.test_accuracy));
      setText(cells.trainRmse, plainNumber(metrics.train_rmse));
      setText(cells.testRmse, plainNumber(metrics.test_rmse));
      setText(cells.trainR2, plainNumber(metrics.train_r2));
      setText(cells.testR2, plainNumber(metrics.test_r2));
    },
  });
  registerRenderer({
    name: "confusion",
    mask: DIRTY.metrics | DIRTY.lang | DIRTY.dataset | DIRTY.network,
    interval: whileRunning(CONFUSION_INTERVAL_MS),
    urgent: DIRTY.lang | DIRTY.network,
    render: renderConfusion,
  });
}
