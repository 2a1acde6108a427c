// Teaching mode drawn on the network: the overlay canvas above the diagram.
//
// For the phase just run, dots flow along the edges — forward: from each neuron of the layer
// below into the next (dot size ∝ |a_i·w_ij|, the term each edge adds to z); backward: from
// each neuron back along its incoming edges (size ∝ |w_ij·δ_j|). Then the numbers stay on the
// neurons and edges for the rest of the step: z and a after each forward phase, the sample's
// loss and targets after the loss phase, δ on neurons and ∂loss/∂w on edges after each
// backward phase, Δw after the update (whose width change the base diagram animates).
// Every number is the engine's: the phase message's probe (the chosen sample) and values.

import { setText } from "../dom.js";
import { plainDecimal, shortNumber } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { NEGATIVE_CSS, POSITIVE_CSS } from "../palette.js";
import { DIRTY, markDirty, store } from "../store.js";
import { beginDraw, fitCanvas, labelBox, labelRect } from "./canvas.js";
import { getLayout } from "./network.js";

const overlay = document.getElementById("network-overlay");
const hint = document.getElementById("network-hint");
const context = overlay.getContext("2d");
const EDGE_LABEL_LIMIT = 8; // edges per layer that get labels when no neuron is selected

const shown = { forward: new Set(), backward: new Set(), loss: false, update: false };
let edgeNumbers = null; // what the numbers on edges are ("gradient" or "update"), for the hint
const occupied = []; // rectangles [left, top, right, bottom] already covered by a neuron or a label
const ALONG = [0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8]; // where along an edge its number may go

function overlaps(rect) {
  for (const other of occupied) {
    if (rect[0] < other[2] && rect[2] > other[0] && rect[1] < other[3] && rect[3] > other[1]) return true;
  }
  return false;
}

function occupyNeurons(layout) {
  occupied.length = 0;
  for (let g = 0; g < layout.nodeX.length; g++) {
    occupied.push([layout.nodeX[g], layout.nodeY[g], layout.nodeX[g] + layout.size, layout.nodeY[g] + layout.size]);
  }
}
const point = { x: 0, y: 0 };

function ease(t) {
  return t < 0.5 ? 2 * t * t : 1 - Math.pow(-2 * t + 2, 2) / 2;
}

function collectShown() {
  shown.forward.clear();
  shown.backward.clear();
  shown.loss = false;
  shown.update = false;
  for (const phase of store.teaching.phases) {
    if (phase.kind === "forward") shown.forward.add(phase.layer);
    else if (phase.kind === "backward") shown.backward.add(phase.layer);
    else if (phase.kind === "loss") shown.loss = true;
    else if (phase.kind === "update") shown.update = true;
  }
}

/** The activation feeding edge (l, i, ·): an input value for l = 0, else the layer below's a. */
function sourceValue(probe, l, i) {
  return l === 0 ? probe.inputs[i] : probe.layers[l - 1].activations[i];
}

function drawParticles(layout, probe, phase, progress) {
  const l = phase.layer;
  const params = store.params;
  if (l === null || !params?.[l]) return;
  const nIn = layout.layerSizes[l];
  const nOut = layout.layerSizes[l + 1];
  const weights = params[l].weights; // forward and backward run before the update: current weights
  let largest = 1e-12;
  for (let i = 0; i < nIn; i++) {
    for (let j = 0; j < nOut; j++) largest = Math.max(largest, Math.abs(term(probe, phase.kind, weights, l, i, j)));
  }
  const largestRadius = Math.max(4.5, layout.size * 0.09);
  const travel = ease(progress);
  const t = phase.kind === "forward" ? travel : 1 - travel;
  for (let sign = 0; sign < 2; sign++) {
    context.beginPath();
    for (let i = 0; i < nIn; i++) {
      for (let j = 0; j < nOut; j++) {
        const value = term(probe, phase.kind, weights, l, i, j);
        if ((value >= 0) !== (sign === 1)) continue;
        const radius = 1.5 + largestRadius * Math.sqrt(Math.abs(value) / largest);
        const e = layout.edgeStart[l] + i * nOut + j;
        const edges = layout.edges;
        point.x = edges[e * 4] + (edges[e * 4 + 2] - edges[e * 4]) * t;
        point.y = edges[e * 4 + 1] + (edges[e * 4 + 3] - edges[e * 4 + 1]) * t;
        context.moveTo(point.x + radius, point.y);
        context.arc(point.x, point.y, radius, 0, Math.PI * 2);
      }
    }
    context.fillStyle = sign === 1 ? POSITIVE_CSS : NEGATIVE_CSS;
    context.fill();
    context.lineWidth = 0.8;
    context.strokeStyle = "rgba(255,255,255,0.9)";
    context.stroke();
  }
}

/** What edge (i → j) of layer l carries in this phase: a_i·w_ij forward, w_ij·δ_j backward
 * (`weights` flat, row-major: layers.js). */
function term(probe, kind, weights, l, i, j) {
  const w = weights[i * probe.layers[l].deltas.length + j];
  if (kind === "forward") return sourceValue(probe, l, i) * w;
  return w * probe.layers[l].deltas[j];
}

function activeColumnOutline(layout, column) {
  const x = layout.columnX[column] - 6;
  const start = layout.columnStart[column];
  const end = layout.columnStart[column + 1] - 1;
  const y = layout.nodeY[start] - 6;
  const height = layout.nodeY[end] + layout.size - layout.nodeY[start] + 12;
  context.save();
  context.setLineDash([5, 4]);
  context.lineWidth = 2;
  context.strokeStyle = "rgba(20, 24, 30, 0.75)";
  context.beginPath();
  context.roundRect(x, y, layout.size + 12, height, 6);
  context.stroke();
  context.restore();
}

function neuronLines(probe, column, index) {
  const lines = [];
  const updated = shown.update;
  if (column === 0) {
    if (shown.forward.size && !updated) lines.push(`${shortNumber(probe.inputs[index])}`);
    return lines;
  }
  const l = column - 1;
  if (updated) {
    // after the update the forward and backward numbers belong to the old weights: show Δb only
    if (store.updates?.[l]) lines.push(`Δb ${shortNumber(store.updates[l].biases[index])}`);
    return lines;
  }
  const layer = probe.layers[l];
  const isOutput = column === store.network.layer_sizes.length - 1;
  if (shown.forward.has(l)) {
    lines.push(`z ${shortNumber(layer.pre_activations[index])}`);
    lines.push(`${isOutput ? "ŷ" : "a"} ${shortNumber(layer.activations[index])}`);
  }
  if (isOutput && shown.loss) lines.push(`y ${shortNumber(probe.targets[index])}`);
  if (shown.backward.has(l)) lines.push(`δ ${shortNumber(layer.deltas[index])}`);
  return lines;
}

function drawNeuronLabels(layout, probe, fontPx) {
  const selection = store.selection;
  const crowded = layout.size < 22;
  const last = layout.columns - 1;
  for (let c = 0; c < layout.columns; c++) {
    for (let k = 0; k < layout.layerSizes[c]; k++) {
      const selected = selection?.kind === "neuron" && selection.column === c && selection.index === k;
      if (crowded && !selected) continue;
      const lines = neuronLines(probe, c, k);
      if (!lines.length) continue;
      const g = layout.columnStart[c] + k;
      const lineHeight = fontPx + 5;
      if (c === 0) {
        // inputs: on the neuron itself (their names sit to the left)
        occupied.push(labelBox(context, lines[0], layout.nodeX[g] + layout.size / 2, layout.nodeY[g] + layout.size - lineHeight / 2, { align: "center", fontPx }));
        continue;
      }
      const x = layout.nodeX[g] + layout.size + 4;
      let y = layout.nodeY[g] + layout.size / 2 - ((lines.length - 1) * lineHeight) / 2;
      if (c === last) y += lineHeight * 0.9; // below the output's name
      for (const line of lines) {
        occupied.push(labelBox(context, line, x, y, { fontPx }));
        y += lineHeight;
      }
    }
  }
}

/** The edges of layer l that get a number: those of the selected neuron or edge; otherwise every
 * edge of the layer the phase is about, when there are few enough to read. */
function edgeLabelsFor(layout, l, current) {
  const selection = store.selection;
  const nIn = layout.layerSizes[l];
  const nOut = layout.layerSizes[l + 1];
  const wanted = [];
  if (selection?.kind === "edge" && selection.layer === l) wanted.push([selection.i, selection.j]);
  else if (selection?.kind === "neuron" && selection.column === l + 1) for (let i = 0; i < nIn; i++) wanted.push([i, selection.index]);
  else if (selection?.kind === "neuron" && selection.column === l) for (let j = 0; j < nOut; j++) wanted.push([selection.index, j]);
  else if (current && nIn * nOut <= EDGE_LABEL_LIMIT) for (let i = 0; i < nIn; i++) for (let j = 0; j < nOut; j++) wanted.push([i, j]);
  return wanted;
}

/** Numbers on edges: ∂L/∂w of the chosen sample after a layer's backward phase, Δw after the
 * update. Returns what they are, for the caption, or null when none is drawn. */
function drawEdgeLabels(layout, probe, fontPx) {
  const last = store.teaching.last;
  let drawn = null;
  for (let l = 0; l < layout.columns - 1; l++) {
    const showUpdate = shown.update && store.updates?.[l];
    const showGradient = !shown.update && shown.backward.has(l);
    if (!showGradient && !showUpdate) continue;
    const current = showUpdate || (last.kind === "backward" && last.layer === l);
    const nOut = layout.layerSizes[l + 1];
    const edges = layout.edges;
    for (const [i, j] of edgeLabelsFor(layout, l, current)) {
      const e = layout.edgeStart[l] + i * nOut + j;
      const value = showUpdate ? store.updates[l].weights[i * nOut + j] : probe.layers[l].weight_gradients[i * nOut + j];
      const text = plainDecimal(value); // a plain decimal a class can read on a projector
      // the first free place along the edge; an edge with no free place keeps its number in the
      // tooltip and the inspector rather than hide another
      for (const along of ALONG) {
        const x = edges[e * 4] + (edges[e * 4 + 2] - edges[e * 4]) * along;
        const y = edges[e * 4 + 1] + (edges[e * 4 + 3] - edges[e * 4 + 1]) * along;
        const rect = labelRect(context, text, x, y, "center", fontPx);
        if (overlaps(rect)) continue;
        occupied.push(labelBox(context, text, x, y, { align: "center", fontPx, background: "rgba(255, 250, 225, 0.93)" }));
        drawn = showUpdate ? "update" : "gradient";
        break;
      }
    }
  }
  return drawn;
}

/** Every edge of the layer just walked back, dashed, as thick as its ∂L/∂w (colour = sign):
 * the whole layer's gradient at a glance, numbers or not. */
function drawGradientTraces(layout, probe, l) {
  const gradients = probe.layers[l].weight_gradients;
  const nIn = layout.layerSizes[l];
  const nOut = layout.layerSizes[l + 1];
  let largest = 1e-12;
  for (let e = 0; e < nIn * nOut; e++) largest = Math.max(largest, Math.abs(gradients[e]));
  const edges = layout.edges;
  context.save();
  context.setLineDash([4, 4]);
  for (let i = 0; i < nIn; i++) {
    for (let j = 0; j < nOut; j++) {
      const g = gradients[i * nOut + j];
      const e = layout.edgeStart[l] + i * nOut + j;
      context.beginPath();
      context.moveTo(edges[e * 4], edges[e * 4 + 1]);
      context.lineTo(edges[e * 4 + 2], edges[e * 4 + 3]);
      context.lineWidth = 1 + 4 * Math.sqrt(Math.abs(g) / largest);
      context.strokeStyle = g >= 0 ? "rgba(12, 60, 110, 0.8)" : "rgba(150, 62, 0, 0.8)";
      context.stroke();
    }
  }
  context.restore();
}

function drawLossBox(layout, probe, fontPx) {
  const phase = store.teaching.phases.find((p) => p.kind === "loss");
  const x = layout.width - 4;
  const y = layout.height - fontPx * 2.6;
  labelBox(context, `${t("teach.sample_loss")} ${shortNumber(probe.loss, 4)}`, x, y, { align: "right", fontPx, background: "rgba(255, 236, 200, 0.95)" });
  if (phase?.values?.loss !== undefined) {
    labelBox(context, `${t("teach.batch_loss")} ${shortNumber(phase.values.loss, 4)}`, x, y + fontPx + 8, { align: "right", fontPx });
  }
}

/** Under the diagram: how to use it, or during teaching mode what the numbers on edges are. */
function renderHint() {
  const key = edgeNumbers === "update" ? "teach.edges_update" : edgeNumbers === "gradient" ? "teach.edges_gradient" : "network.hint";
  setText(hint, t(key));
}

export function initFlow() {
  let width = 0;
  let height = 0;
  let drawn = false;
  registerRenderer({
    name: "flow",
    mask: DIRTY.teaching | DIRTY.layout | DIRTY.network | DIRTY.probe | DIRTY.selection | DIRTY.lang | DIRTY.params,
    render(flags, now) {
      const layout = getLayout();
      if (!layout) return;
      if (layout.width !== width || layout.height !== height) {
        width = layout.width;
        height = layout.height;
        fitCanvas(overlay, width, height);
        drawn = false; // resizing cleared it
      }
      const teaching = store.teaching;
      const probe = store.probe;
      const last = teaching.last;
      const active = Boolean(last && probe && probe.layers.length === layout.columns - 1);
      // an empty overlay stays untouched: clearing it every frame would repaint it every frame
      if (!active && !drawn) return;
      beginDraw(context, width, height);
      drawn = active;
      edgeNumbers = null;
      if (!active) return;
      collectShown();
      const progress = teaching.animationMs > 0 ? Math.min(1, (now - teaching.animationStart) / teaching.animationMs) : 1;
      if (progress < 1) markDirty(DIRTY.teaching);
      const fontPx = Math.max(10, Math.min(18, layout.size * 0.12 + 5));
      context.font = `${fontPx}px system-ui, sans-serif`;
      context.textBaseline = "middle";
      if (last.kind === "forward" || last.kind === "backward") activeColumnOutline(layout, last.layer + 1);
      if (last.kind === "loss") activeColumnOutline(layout, layout.columns - 1);
      if (progress < 1 && (last.kind === "forward" || last.kind === "backward")) {
        drawParticles(layout, probe, last, progress);
        // the numbers of this phase appear when the flow arrives
        if (last.kind === "forward") shown.forward.delete(last.layer);
        else shown.backward.delete(last.layer);
      }
      occupyNeurons(layout);
      if (last.kind === "backward" && progress >= 1) drawGradientTraces(layout, probe, last.layer);
      drawNeuronLabels(layout, probe, fontPx);
      edgeNumbers = drawEdgeLabels(layout, probe, fontPx);
      if (shown.loss && !shown.update) drawLossBox(layout, probe, fontPx);
    },
  });
  registerRenderer({ name: "network-hint", mask: DIRTY.teaching | DIRTY.lang | DIRTY.selection | DIRTY.network, render: renderHint });
}
