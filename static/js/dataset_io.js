// Files in and out: upload a CSV data set (file picker or drag and drop; errors named by row
// and column), download the weights as JSON and the data set as CSV (built here from the REST
// data set, in the upload format: input columns, then the target as the last column).

import { api } from "./api.js";
import { saveBlob } from "./dom.js";
import { groupedInteger } from "./format.js";
import { t } from "./i18n.js";
import { explain } from "./refusals.js";
import { changeConfig, rememberUpload } from "./settings.js";
import { registerRenderer } from "./loop.js";
import { DIRTY, pushError, store } from "./store.js";

const fileInput = document.getElementById("csv-file");
const dropzone = document.getElementById("dropzone");
const status = document.getElementById("upload-status");

// What the upload line says, kept as a translation key so a language switch re-words it.
let shownStatus = null; // { key, vars, error, failure }: `failure` is worded when drawn

function showStatus(next) {
  shownStatus = next;
  renderStatus();
}

function renderStatus() {
  if (!shownStatus) return;
  const { key, vars, error } = shownStatus;
  const words = { ...vars };
  if (shownStatus.failure) words.message = explain(shownStatus.failure);
  if (key === "data.uploaded") {
    words.kind = vars.regression ? t("data.kind_regression") : t("data.kind_classes", { k: vars.classes });
    words.rows = groupedInteger(vars.rows);
  }
  status.className = error ? "upload-status error" : "upload-status";
  status.textContent = t(key, words);
}

async function upload(file) {
  if (!file) return;
  showStatus({ key: "data.uploading", vars: { name: file.name } });
  try {
    const result = await api.uploadDataset(file);
    rememberUpload(result, file.name);
    const columns = (result.features ?? []).length;
    showStatus({ key: "data.uploaded", vars: { name: file.name, rows: result.rows, columns, classes: result.classes, regression: result.regression } });
    changeConfig({ dataset: result.id, loss: null }); // the loss follows the set (the engine decides)
  } catch (error) {
    showStatus({ key: "data.upload_failed", vars: { name: file.name }, failure: error, error: true });
  } finally {
    fileInput.value = "";
  }
}

// A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a formula
// (CSV injection): an uploaded column name or class label such as =HYPERLINK(…) would run in the
// reader's spreadsheet when the downloaded file is opened. OWASP's advice: such a text cell gets a
// leading ', which a spreadsheet shows as text. A plain number (-0.5, or -1 as a class label)
// stays a number.
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** `text` as a spreadsheet shows it and never runs it. */
export function spreadsheetText(text) {
  return FORMULA_START.test(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text;
}

/** A CSV cell of text or a number: never a formula, quoted when it holds a comma, quote or line break. */
function cell(value) {
  const text = spreadsheetText(String(value));
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The data set as CSV text: one row per sample (training rows first), inputs then the target. */
export function datasetCsv(dataset, classNames) {
  const inputNames = dataset.features ?? [];
  const header = [...inputNames, dataset.classes ? "class" : "target"];
  const lines = [header.map(cell).join(",")];
  for (const split of ["train", "test"]) {
    const part = dataset[split];
    if (!part) continue;
    for (let row = 0; row < part.inputs.length; row++) {
      const target = part.targets[row];
      let last;
      if (dataset.classes) {
        const k = target.indexOf(Math.max(...target));
        last = classNames?.[k] ?? k;
      } else {
        last = target[0];
      }
      lines.push([...part.inputs[row].map((value) => String(value)), cell(last)].join(","));
    }
  }
  return lines.join("\n") + "\n";
}

async function downloadDataset() {
  try {
    const dataset = await api.dataset(store.sessionId);
    const name = store.config?.dataset ?? "dataset";
    saveBlob(datasetCsv(dataset, store.dataset?.class_names), "text/csv", `backprop-lab-${name}.csv`);
  } catch (error) {
    pushError({ key: "error.download", vars: { message: () => explain(error) } });
  }
}

async function downloadWeights() {
  try {
    const params = await api.params(store.sessionId);
    const document_ = { config: store.config, step: store.step, network: store.network, ...params };
    saveBlob(JSON.stringify(document_, null, 2), "application/json", `backprop-lab-weights-step-${store.step}.json`);
  } catch (error) {
    pushError({ key: "error.download", vars: { message: () => explain(error) } });
  }
}

export function initDatasetIo() {
  registerRenderer({ name: "upload-status", mask: DIRTY.lang, render: renderStatus });
  fileInput.addEventListener("change", () => upload(fileInput.files[0]));
  for (const type of ["dragenter", "dragover"]) {
    dropzone.addEventListener(type, (event) => {
      event.preventDefault();
      dropzone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    dropzone.addEventListener(type, () => dropzone.classList.remove("dragging"));
  }
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    upload(event.dataTransfer?.files?.[0]);
  });
  // a file dropped anywhere else must not navigate away from the page
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());
  document.getElementById("download-dataset").addEventListener("click", downloadDataset);
  document.getElementById("download-weights").addEventListener("click", downloadWeights);
}
