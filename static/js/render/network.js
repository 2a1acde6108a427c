// The network diagram: neurons in columns, each showing its output as a heatmap over the input
// plane; edges drawn by weight (width = |w|, colour = sign); biases as small dots on each
// neuron. The column headers, the neuron buttons, hover and click live in network_dom.js.
//
// Hot path (every frame while training): edges are bucketed by (sign, width level) into a
// reused Uint8Array and stroked as 16 paths instead of one stroke per edge; neuron images come
// from one atlas canvas decoded only when new heatmaps arrive. Edges and neurons live on two
// stacked canvases, each repainted only when what it shows changed: rasterising a 6 × 16
// network's 1,440 edges costs a slow laptop tens of milliseconds, and heatmaps (10 a second)
// need not pay for it.

import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { divergingCss, EDGE_LEVELS, EDGE_STYLES, lutIndex } from "../palette.js";
import { setFrameRate } from "../session.js";
import { DIRTY, isLargeNetwork, lineScale, markDirty, store } from "../store.js";
import { beginDraw, fitCanvas, watchSize } from "./canvas.js";
import { HeatmapAtlas } from "./heatmap.js";
import { computeLayout } from "./network_layout.js";
import { buildDom, initNetworkDom, markSelectedButton } from "./network_dom.js";
import { neuronName } from "./network_names.js";

const WEIGHT_CAP = 2.5; // |w| at which an edge reaches its full width
const HYSTERESIS = 0.7; // how far past the middle between two widths a weight must go to change
const BIAS_LEVELS = 33; // colours a bias dot can take (odd: zero has its own)
const BIAS_STYLES = Array.from({ length: BIAS_LEVELS }, (_, level) => divergingCss((2 * level) / (BIAS_LEVELS - 1) - 1, 1));

const view = document.getElementById("network-view");
const edgeCanvas = document.getElementById("network-edges");
const edgeContext = edgeCanvas.getContext("2d");
const canvas = document.getElementById("network-canvas");
const context = canvas.getContext("2d");

const atlas = new HeatmapAtlas();
let layout = null;
let viewWidth = 0;
let viewHeight = 0;
let edgeBucket = new Uint8Array(0); // per edge: sign·EDGE_LEVELS + width level, as last drawn
let biasLevel = new Uint8Array(0); // per neuron: its bias colour, as last drawn

export function getLayout() {
  return layout;
}

// --- weights as edges ---------------------------------------------------------------------

/** The weight to draw for entry e = i·n_out + j of layer l's (flat) weights: during the update
 * animation, between old and new. */
function displayedWeight(params, previous, mix, l, e) {
  const now = params[l].weights[e];
  if (!previous || mix >= 1) return now;
  const before = previous[l].weights[e];
  return before + (now - before) * mix;
}

function updateAnimationMix(now) {
  const teaching = store.teaching;
  if (teaching.last?.kind !== "update" || !teaching.previousParams || teaching.animationMs <= 0) return 1;
  return Math.min(1, (now - teaching.animationStart) / teaching.animationMs);
}

/**
 * Quantises every edge to (sign, width level) in edgeBucket. Returns true when the picture
 * changed since the last drawing: weights move a little each frame, but most frames leave every
 * edge at the same drawn width, and then nothing needs repainting.
 */
function quantiseEdges(now, exact) {
  const params = store.params;
  if (!params || params.length !== layout.columns - 1) return false;
  const mix = updateAnimationMix(now);
  const previous = mix < 1 ? store.teaching.previousParams : null;
  if (mix < 1) markDirty(DIRTY.teaching); // keep the width animation going
  const sizes = layout.layerSizes;
  let changed = false;
  for (let l = 0; l < layout.columns - 1; l++) {
    const nOut = sizes[l + 1];
    for (let i = 0; i < sizes[l]; i++) {
      for (let j = 0; j < nOut; j++) {
        const w = displayedWeight(params, previous, mix, l, i * nOut + j);
        const e = layout.edgeStart[l] + i * nOut + j;
        const exactLevel = Math.sqrt(Math.min(1, Math.abs(w) / WEIGHT_CAP)) * (EDGE_LEVELS - 1); // 0 … 7
        let level = edgeBucket[e] % EDGE_LEVELS;
        let positive = edgeBucket[e] >= EDGE_LEVELS;
        // a little hysteresis: a weight hovering on a level's edge does not flicker between two
        if (exact || Math.abs(exactLevel - level) > HYSTERESIS) level = Math.round(exactLevel);
        if (exact || (w >= 0 !== positive && (level > 0 || Math.abs(w) > 0.02))) positive = w >= 0;
        const bucket = (positive ? EDGE_LEVELS : 0) + level;
        if (edgeBucket[e] !== bucket) {
          edgeBucket[e] = bucket;
          changed = true;
        }
      }
    }
  }
  return changed;
}

/** Quantises every bias to one of BIAS_LEVELS colours; true when one of them changed. */
function quantiseBiases() {
  const params = store.params;
  if (!params || params.length !== layout.columns - 1) return false;
  let changed = false;
  for (let c = 1; c < layout.columns; c++) {
    const biases = params[c - 1].biases;
    for (let k = 0; k < layout.layerSizes[c]; k++) {
      const level = Math.round((lutIndex(biases[k], 1) / 255) * (BIAS_LEVELS - 1));
      const g = layout.columnStart[c] + k;
      if (biasLevel[g] !== level) {
        biasLevel[g] = level;
        changed = true;
      }
    }
  }
  return changed;
}

function drawEdges() {
  const context = edgeContext;
  const edges = layout.edges;
  const count = layout.edgeCount;
  context.lineCap = count > 400 ? "butt" : "round";
  for (let bucket = 0; bucket < 2 * EDGE_LEVELS; bucket++) {
    const level = bucket % EDGE_LEVELS;
    context.beginPath();
    let any = false;
    for (let e = 0; e < count; e++) {
      if (edgeBucket[e] !== bucket) continue;
      context.moveTo(edges[e * 4], edges[e * 4 + 1]);
      context.lineTo(edges[e * 4 + 2], edges[e * 4 + 3]);
      any = true;
    }
    if (!any) continue;
    context.strokeStyle = EDGE_STYLES[bucket];
    context.lineWidth = lineScale() * (0.6 + (level / (EDGE_LEVELS - 1)) * (layout.maxEdgeWidth - 0.6));
    context.stroke();
  }
}

function strokeEdge(l, i, j, width, style) {
  const context = edgeContext;
  const e = (layout.edgeStart[l] + i * layout.layerSizes[l + 1] + j) * 4;
  context.beginPath();
  context.moveTo(layout.edges[e], layout.edges[e + 1]);
  context.lineTo(layout.edges[e + 2], layout.edges[e + 3]);
  context.lineWidth = width;
  context.strokeStyle = style;
  context.stroke();
}

/** A dark outline around the selected edge, or around every edge of the selected neuron. */
function drawSelectedEdges() {
  const selection = store.selection;
  if (!selection || !store.params) return;
  const sizes = layout.layerSizes;
  const halo = "rgba(20, 24, 30, 0.55)";
  if (selection.kind === "edge") {
    strokeEdge(selection.layer, selection.i, selection.j, layout.maxEdgeWidth + 3, halo);
    return;
  }
  const { column, index } = selection;
  if (column > 0) for (let i = 0; i < sizes[column - 1]; i++) strokeEdge(column - 1, i, index, 2.5, halo);
  if (column < sizes.length - 1) for (let j = 0; j < sizes[column + 1]; j++) strokeEdge(column, index, j, 2.5, halo);
}

// --- neurons ------------------------------------------------------------------------------

function drawNeurons() {
  const size = layout.size;
  const resolution = atlas.resolution;
  const selection = store.selection;
  const probeLayers = store.probe?.layers;
  context.imageSmoothingEnabled = true;
  for (let c = 0; c < layout.columns; c++) {
    for (let k = 0; k < layout.layerSizes[c]; k++) {
      const g = layout.columnStart[c] + k;
      const x = layout.nodeX[g];
      const y = layout.nodeY[g];
      if (atlas.ready) {
        context.drawImage(atlas.canvas, 0, g * resolution, resolution, resolution, x, y, size, size);
      } else {
        // no heatmap (a table data set): the neuron's value for the chosen sample
        const value = c === 0 ? store.probe?.inputs?.[k] : probeLayers?.[c - 1]?.activations?.[k];
        context.fillStyle = value === undefined ? "#e8e8e4" : divergingCss(value, 1);
        context.fillRect(x, y, size, size);
      }
      const selected = selection?.kind === "neuron" && selection.column === c && selection.index === k;
      context.lineWidth = selected ? 3 : 1;
      context.strokeStyle = selected ? "#111" : "rgba(40, 44, 52, 0.7)";
      context.strokeRect(x + 0.5, y + 0.5, size - 1, size - 1);
    }
  }
  drawBiases();
}

/** Every bias as a dot at the neuron's lower left, coloured by sign (TF Playground's habit). */
function drawBiases() {
  if (!store.params) return;
  const radius = Math.max(2.5, layout.size * 0.1);
  for (let c = 1; c < layout.columns; c++) {
    for (let k = 0; k < layout.layerSizes[c]; k++) {
      const g = layout.columnStart[c] + k;
      context.beginPath();
      context.arc(layout.nodeX[g], layout.nodeY[g] + layout.size, radius, 0, Math.PI * 2);
      context.fillStyle = BIAS_STYLES[biasLevel[g]];
      context.fill();
      context.lineWidth = 1;
      context.strokeStyle = "rgba(40, 44, 52, 0.6)";
      context.stroke();
    }
  }
}

const LABEL_FONT = "system-ui, sans-serif";

/** Input and output names, in a font that fits the margin beside their column (down to 10 px). */
function drawLabels() {
  const size = layout.size;
  const fontPx = Math.max(10, Math.min(20, size * 0.2 + 6));
  const last = layout.columns - 1;
  context.fillStyle = "#222";
  context.textBaseline = "middle";
  for (let k = 0; k < layout.layerSizes[0]; k++) {
    context.textAlign = "right";
    fitFont(neuronName(0, k), layout.nodeX[k] - 8, fontPx);
    context.fillText(neuronName(0, k), layout.nodeX[k] - 5, layout.nodeY[k] + size / 2, layout.nodeX[k] - 8);
  }
  const room = layout.width - (layout.columnX[last] + size) - 8;
  for (let k = 0; k < layout.layerSizes[last]; k++) {
    const g = layout.columnStart[last] + k;
    context.textAlign = "left";
    fitFont(neuronName(last, k), room, fontPx);
    context.fillText(neuronName(last, k), layout.nodeX[g] + size + 5, layout.nodeY[g] + size / 2, room);
  }
}

function fitFont(text, room, fontPx) {
  context.font = `${fontPx}px ${LABEL_FONT}`;
  const width = context.measureText(text).width;
  if (width > room) context.font = `${Math.max(10, Math.floor((fontPx * room) / width))}px ${LABEL_FONT}`;
}

/** The margins the input and output names need at a readable 12 px, and the column headers
 * above the neurons (a name over a − n + row, both sized in rem: taller in projector mode). */
function nameMargins(sizes) {
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
  context.font = `12px ${LABEL_FONT}`;
  let left = 0;
  let right = 0;
  for (let k = 0; k < sizes[0]; k++) left = Math.max(left, context.measureText(neuronName(0, k)).width);
  for (let k = 0; k < sizes[sizes.length - 1]; k++) right = Math.max(right, context.measureText(neuronName(sizes.length - 1, k)).width);
  return { left: Math.min(140, left + 12), right: Math.min(160, right + 60), top: Math.ceil(2.4 * rem) };
}

// --- init ---------------------------------------------------------------------------------

/**
 * While training, how long the diagram waits between redraws. Weights change a little each of
 * the 60 frames a second; redrawing every edge at 30 Hz (10 Hz past 400 edges, as in a 6 × 16
 * network, with the heatmaps) looks just as smooth and leaves the browser's one core for the rest.
 */
function redrawInterval() {
  if (store.state !== "running" || !layout) return 0;
  return isLargeNetwork() ? 100 : 33;
}


export function initNetwork() {
  watchSize(view, (width, height) => {
    viewWidth = width;
    viewHeight = height;
    markDirty(DIRTY.layout);
  });
  initNetworkDom(view);

  registerRenderer({
    name: "network",
    mask: DIRTY.network | DIRTY.params | DIRTY.heatmaps | DIRTY.layout | DIRTY.selection | DIRTY.teaching | DIRTY.lang | DIRTY.probe | DIRTY.dataset,
    interval: redrawInterval,
    urgent: DIRTY.network | DIRTY.layout | DIRTY.selection | DIRTY.lang | DIRTY.dataset,
    render(flags, now) {
      const sizes = store.network?.layer_sizes;
      if (!sizes || viewWidth === 0) return;
      const relayout = flags & (DIRTY.network | DIRTY.layout) || !layout || layout.layerSizes !== sizes;
      if (relayout) {
        layout = computeLayout(sizes, viewWidth, viewHeight, nameMargins(sizes));
        fitCanvas(edgeCanvas, viewWidth, viewHeight);
        fitCanvas(canvas, viewWidth, viewHeight);
        if (edgeBucket.length < layout.edgeCount) edgeBucket = new Uint8Array(layout.edgeCount);
        if (biasLevel.length < layout.nodeX.length) biasLevel = new Uint8Array(layout.nodeX.length);
        markDirty(DIRTY.teaching); // the overlay follows the layout
        // nothing on the page redraws faster than the diagram: frames beyond that are parsed for nothing
        setFrameRate(isLargeNetwork() ? 12 : 30);
      }
      if (relayout || flags & (DIRTY.lang | DIRTY.dataset)) {
        buildDom(layout);
        canvas.setAttribute("aria-label", t("network.diagram_label", { sizes: sizes.join(" – ") }));
      } else if (flags & DIRTY.selection) {
        markSelectedButton();
      }
      if (flags & DIRTY.heatmaps || (relayout && store.heatmaps)) {
        if (store.heatmaps) atlas.update(store.heatmaps, sizes, store.network.output, store.network.activation);
        else atlas.ready = false;
      }
      if (flags & DIRTY.network && !store.heatmaps) atlas.ready = false;
      // repaint a canvas only when what it shows changed: an untouched canvas costs nothing
      let edgesChanged = Boolean(relayout || flags & DIRTY.selection);
      if (flags & (DIRTY.params | DIRTY.teaching) || relayout) edgesChanged = quantiseEdges(now, relayout) || edgesChanged;
      let neuronsChanged = Boolean(relayout || flags & (DIRTY.heatmaps | DIRTY.selection | DIRTY.lang | DIRTY.dataset));
      if (flags & DIRTY.params || relayout) neuronsChanged = quantiseBiases() || neuronsChanged;
      if (!atlas.ready && flags & DIRTY.probe) neuronsChanged = true; // coloured by the sample's values
      if (edgesChanged) {
        beginDraw(edgeContext, viewWidth, viewHeight);
        drawEdges();
        drawSelectedEdges();
      }
      if (neuronsChanged) {
        beginDraw(context, viewWidth, viewHeight);
        drawNeurons();
        drawLabels();
      }
    },
  });
}
