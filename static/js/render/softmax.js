// The softmax view: the chosen sample's output probabilities as bars in the class colours,
// with the ground-truth class marked and the sum written out (it is always 1: softmax turns
// the output layer's z into probabilities). Training pushes the true class's bar towards 1.

import { fixedNumber, shortNumber } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { classColours, rgb } from "../palette.js";
import { DIRTY, store, whileRunning } from "../store.js";

const box = document.getElementById("softmax-view");
let bars = []; // [{row, fill, value}] reused while the class count stays the same
let builtFor = "";

function build(classes, names) {
  const colours = classColours(classes);
  const title = document.createElement("h3");
  title.className = "softmax-title";
  const list = document.createElement("ol");
  list.className = "softmax-bars";
  bars = [];
  for (let k = 0; k < classes; k++) {
    const row = document.createElement("li");
    const name = document.createElement("span");
    name.className = "softmax-name";
    name.textContent = names?.[k] ?? t("network.class", { k });
    const track = document.createElement("span");
    track.className = "softmax-track";
    const fill = document.createElement("span");
    fill.className = "softmax-fill";
    fill.style.background = rgb(colours[k]);
    track.append(fill);
    const value = document.createElement("span");
    value.className = "softmax-value";
    row.append(name, track, value);
    list.append(row);
    bars.push({ row, fill, value });
  }
  const sum = document.createElement("p");
  sum.className = "softmax-sum";
  box.replaceChildren(title, list, sum);
}

function render() {
  const probe = store.probe;
  const network = store.network;
  const classes = store.dataset?.classes;
  if (!probe || !network || network.output !== "softmax" || !classes) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const key = `${classes}:${store.lang}:${(store.dataset.class_names ?? []).join(",")}`;
  if (key !== builtFor) {
    build(classes, store.dataset.class_names);
    builtFor = key;
  }
  const outputs = probe.outputs ?? probe.layers[probe.layers.length - 1].activations;
  let sum = 0;
  let truth = 0;
  for (let k = 0; k < classes; k++) {
    const p = outputs[k];
    sum += p;
    if (probe.targets[k] > probe.targets[truth]) truth = k;
    bars[k].fill.style.width = `${(Math.max(0, Math.min(1, p)) * 100).toFixed(2)}%`;
    bars[k].value.textContent = shortNumber(p, 3);
    bars[k].value.dataset.value = String(p);
  }
  for (let k = 0; k < classes; k++) bars[k].row.classList.toggle("truth", k === truth);
  box.querySelector(".softmax-title").textContent = t("softmax.title", {
    split: t(`teach.split_${probe.split}`),
    index: probe.index,
  });
  box.querySelector(".softmax-sum").textContent = t("softmax.sum", { sum: fixedNumber(sum, 6), truth: store.dataset.class_names?.[truth] ?? truth });
}

export function initSoftmax() {
  registerRenderer({
    name: "softmax",
    mask: DIRTY.probe | DIRTY.lang | DIRTY.dataset | DIRTY.network,
    interval: whileRunning(100),
    urgent: DIRTY.lang | DIRTY.network,
    render,
  });
}
