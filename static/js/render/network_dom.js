// The network view's DOM and pointer: column headers with + / − for neurons, a focusable button
// over every neuron (one tab stop, arrow keys move between neurons, Enter inspects) for the
// keyboard and screen readers, hover tooltips with live values, and clicks that select a neuron
// or an edge for the inspector. network.js draws; this module is what a hand or a key touches.

import { shortNumber } from "../format.js";
import { t } from "../i18n.js";
import { weightAt } from "../layers.js";
import { registerRenderer } from "../loop.js";
import { uiRange } from "../options.js";
import { changeNeurons } from "../settings.js";
import { DIRTY, select, setHover, store } from "../store.js";
import { placeTooltip } from "./canvas.js";
import { edgeAt, neuronAt } from "./network_layout.js";
import { columnName, layerPhrase, neuronName } from "./network_names.js";

const neuronLayer = document.getElementById("neuron-layer");
const headerLayer = document.getElementById("layer-buttons");
const tooltip = document.getElementById("network-tooltip");

let view = null;
let layout = null; // the layout the DOM was last built for
let focusIndex = 0; // the neuron button that holds the roving tabindex
const pointer = { x: 0, y: 0 }; // where the tooltip goes

/** Rebuilds headers and neuron buttons for `newLayout` (architecture, size or language changed). */
export function buildDom(newLayout) {
  layout = newLayout;
  buildHeaders();
  buildNeuronButtons();
}

function buildHeaders() {
  const sizes = layout.layerSizes;
  const neurons = uiRange("neurons");
  headerLayer.replaceChildren(
    ...sizes.map((n, c) => {
      const head = document.createElement("div");
      head.className = "layer-head";
      head.style.left = `${layout.columnX[c] + layout.size / 2}px`;
      // a narrow view (a lesson's column beside it) shortens a name that would run into the next one
      if (sizes.length > 1) head.style.maxWidth = `${Math.abs(layout.columnX[1] - layout.columnX[0]) - 6}px`;
      const name = document.createElement("span");
      name.className = "layer-name";
      name.textContent = columnName(c, sizes.length);
      name.title = name.textContent;
      head.append(name);
      if (c === 0 || c === sizes.length - 1) {
        const count = document.createElement("span");
        count.className = "layer-size";
        count.textContent = String(n);
        head.append(count);
        return head;
      }
      const group = document.createElement("span");
      group.className = "layer-size";
      const minus = button("−", t("network.remove_neuron", { layer: layerPhrase(c, sizes.length) }), () => changeNeurons(c - 1, -1));
      minus.disabled = n <= neurons.min;
      const plus = button("+", t("network.add_neuron", { layer: layerPhrase(c, sizes.length) }), () => changeNeurons(c - 1, +1));
      plus.disabled = n >= neurons.max;
      const count = document.createElement("output");
      count.textContent = String(n);
      group.append(minus, count, plus);
      head.append(group);
      return head;
    }),
  );
}

function button(text, label, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "mini";
  element.textContent = text;
  element.setAttribute("aria-label", label);
  element.title = label;
  element.addEventListener("click", onClick);
  return element;
}

function buildNeuronButtons() {
  const sizes = layout.layerSizes;
  const total = layout.columnStart[layout.columns];
  focusIndex = Math.min(focusIndex, total - 1);
  const buttons = [];
  for (let c = 0; c < layout.columns; c++) {
    for (let k = 0; k < sizes[c]; k++) {
      const g = layout.columnStart[c] + k;
      const element = document.createElement("button");
      element.type = "button";
      element.className = "neuron-hit";
      element.dataset.column = String(c);
      element.dataset.index = String(k);
      element.dataset.testid = `neuron-${c}-${k}`;
      element.style.left = `${layout.nodeX[g]}px`;
      element.style.top = `${layout.nodeY[g]}px`;
      element.style.width = `${layout.size}px`;
      element.style.height = `${layout.size}px`;
      element.tabIndex = g === focusIndex ? 0 : -1;
      element.setAttribute("aria-label", t("network.neuron_label", { layer: layerPhrase(c, sizes.length), name: neuronName(c, k) }));
      buttons.push(element);
    }
  }
  neuronLayer.replaceChildren(...buttons);
  markSelectedButton();
}

export function markSelectedButton() {
  const selection = store.selection;
  for (const element of neuronLayer.children) {
    const pressed = selection?.kind === "neuron" && Number(element.dataset.column) === selection.column && Number(element.dataset.index) === selection.index;
    element.setAttribute("aria-pressed", String(pressed));
  }
}

function moveFocus(column, index) {
  const sizes = layout.layerSizes;
  const c = Math.max(0, Math.min(layout.columns - 1, column));
  const k = Math.max(0, Math.min(sizes[c] - 1, index));
  const g = layout.columnStart[c] + k;
  const buttons = neuronLayer.children;
  buttons[focusIndex]?.setAttribute("tabindex", "-1");
  focusIndex = g;
  buttons[g].setAttribute("tabindex", "0");
  buttons[g].focus();
}

function onNeuronKey(event) {
  const target = event.target.closest(".neuron-hit");
  if (!target) return;
  const column = Number(target.dataset.column);
  const index = Number(target.dataset.index);
  const moves = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
  if (event.key in moves) {
    event.preventDefault();
    const [dc, dk] = moves[event.key];
    moveFocus(column + dc, dk === 0 && dc !== 0 ? index : index + dk);
  } else if (event.key === "Home") {
    event.preventDefault();
    moveFocus(0, 0);
  } else if (event.key === "End") {
    event.preventDefault();
    moveFocus(layout.columns - 1, 0);
  }
}

// --- pointer: hover and click ---------------------------------------------------------------

function localPoint(event) {
  const box = view.getBoundingClientRect();
  return { x: event.clientX - box.left, y: event.clientY - box.top };
}

function hitTest(event) {
  if (!layout) return null;
  const { x, y } = localPoint(event);
  const neuron = neuronAt(layout, x, y);
  if (neuron) return { kind: "neuron", ...neuron };
  const edge = edgeAt(layout, x, y);
  if (edge) return { kind: "edge", ...edge };
  return null;
}

function sameTarget(a, b) {
  if (!a || !b || a.kind !== b.kind) return false;
  if (a.kind === "neuron") return a.column === b.column && a.index === b.index;
  return a.layer === b.layer && a.i === b.i && a.j === b.j;
}

function onPointerMove(event) {
  const hit = hitTest(event);
  const { x, y } = localPoint(event);
  pointer.x = x;
  pointer.y = y;
  const current = store.hover?.target === "network" ? store.hover : null;
  if (!sameTarget(current, hit)) setHover(hit ? { target: "network", ...hit } : null);
  else if (current) placeTooltip(tooltip, x, y, layout.width, layout.height);
}

function onClick(event) {
  const neuronButton = event.target.closest(".neuron-hit");
  if (neuronButton) {
    const column = Number(neuronButton.dataset.column);
    const index = Number(neuronButton.dataset.index);
    focusIndex = layout.columnStart[column] + index;
    select({ kind: "neuron", column, index });
    return;
  }
  const hit = hitTest(event);
  if (hit?.kind === "edge") select(hit);
}

// --- tooltip ------------------------------------------------------------------------------

function tooltipText(hover) {
  const sizes = store.network.layer_sizes;
  const probe = store.probe;
  if (hover.kind === "neuron") {
    const { column, index } = hover;
    const lines = [`${columnName(column, sizes.length)} · ${neuronName(column, index)}`];
    if (column === 0) {
      if (probe) lines.push(`${neuronName(0, index)} = ${shortNumber(probe.inputs[index])}`);
    } else {
      const layer = probe?.layers?.[column - 1];
      if (layer) {
        lines.push(`z = ${shortNumber(layer.pre_activations[index])}   a = ${shortNumber(layer.activations[index])}`);
        lines.push(`δ = ∂${t("symbol.loss")}/∂z = ${shortNumber(layer.deltas[index])}`);
      }
      const bias = store.params?.[column - 1]?.biases?.[index];
      if (bias !== undefined) lines.push(`b = ${shortNumber(bias)}`);
    }
    lines.push(t("network.tooltip_sample", { split: t(`teach.split_${store.sample.split}`), index: store.sample.index }));
    return lines.join("\n");
  }
  const { layer, i, j } = hover;
  const lines = [t("network.edge_label", { from: neuronName(layer, i), to: neuronName(layer + 1, j) })];
  const entry = (layers) => (layers?.[layer] ? weightAt(layers[layer], i, j) : undefined);
  const weight = entry(store.params);
  if (weight !== undefined) lines.push(`w = ${shortNumber(weight)}`);
  const gradient = entry(store.gradients);
  if (gradient !== undefined) lines.push(`∂J/∂w = ${shortNumber(gradient)}`);
  const update = entry(store.updates);
  if (update !== undefined) lines.push(`Δw = ${shortNumber(update)}`);
  return lines.join("\n");
}

export function initNetworkDom(viewElement) {
  view = viewElement;
  view.addEventListener("pointermove", onPointerMove);
  view.addEventListener("pointerleave", () => {
    if (store.hover?.target === "network") setHover(null);
  });
  view.addEventListener("click", onClick);
  neuronLayer.addEventListener("keydown", onNeuronKey);
  neuronLayer.dataset.arrowKeys = "true";

  registerRenderer({
    name: "network-tooltip",
    mask: DIRTY.hover | DIRTY.params | DIRTY.probe | DIRTY.lang,
    render() {
      const hover = store.hover;
      if (!hover || hover.target !== "network" || !store.network) {
        tooltip.hidden = true;
        return;
      }
      tooltip.textContent = tooltipText(hover);
      tooltip.hidden = false;
      placeTooltip(tooltip, pointer.x, pointer.y, layout.width, layout.height);
    },
  });
}
