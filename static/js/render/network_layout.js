// Where everything of the network diagram sits: one column per layer (inputs, each hidden
// layer, outputs), square neurons centred in their column, and straight edges from the right
// side of a neuron to the left side of the next layer's neurons.
//
// Computed once per architecture and size (never per frame) into flat typed arrays. Neuron g is
// the g-th neuron counting column by column; edge e of weighted layer l is
// edgeStart[l] + i·n_out + j, the same order as W[l][i][j].

import { LARGE_NETWORK_EDGES } from "../store.js";

export const LABEL_LEFT = 46; // least room for input names (x₁, sin(x₂), …)
export const LABEL_RIGHT = 112; // least room for output names and teaching-mode numbers
export const HEADER = 30; // room for the column headers (DOM, above the canvas area)

/** `margins.left` / `margins.right`: room the input and output names need; `margins.top`: the
 * column headers' height, which grows with the type (projector mode); each at least the default. */
export function computeLayout(layerSizes, width, height, margins = {}) {
  const columns = layerSizes.length;
  const top = Math.max(HEADER, margins.top ?? 0) + 6;
  const bottom = 10;
  const left = Math.max(LABEL_LEFT, margins.left ?? 0);
  const right = Math.max(LABEL_RIGHT, margins.right ?? 0);
  const maxNeurons = Math.max(...layerSizes);
  const innerWidth = Math.max(40, width - left - right);
  const innerHeight = Math.max(40, height - top - bottom);
  const spacing = innerWidth / Math.max(1, columns - 1);
  let size = Math.min(innerHeight / (maxNeurons * 1.25), spacing * 0.42, 130);
  size = Math.max(8, Math.floor(size));
  const usableWidth = innerWidth - size;
  const columnX = new Float32Array(columns); // left edge of each column's neurons
  for (let c = 0; c < columns; c++) columnX[c] = left + (columns === 1 ? 0 : (usableWidth * c) / (columns - 1));

  const total = layerSizes.reduce((sum, n) => sum + n, 0);
  const columnStart = new Int32Array(columns + 1);
  for (let c = 0; c < columns; c++) columnStart[c + 1] = columnStart[c] + layerSizes[c];
  const nodeX = new Float32Array(total); // top-left corner
  const nodeY = new Float32Array(total);
  for (let c = 0; c < columns; c++) {
    const n = layerSizes[c];
    const gap = Math.min(size * 0.9, (innerHeight - n * size) / Math.max(1, n - 1));
    const columnHeight = n * size + (n - 1) * gap;
    const y0 = top + (innerHeight - columnHeight) / 2;
    for (let k = 0; k < n; k++) {
      nodeX[columnStart[c] + k] = columnX[c];
      nodeY[columnStart[c] + k] = y0 + k * (size + gap);
    }
  }

  const weightedLayers = columns - 1;
  const edgeStart = new Int32Array(weightedLayers + 1);
  for (let l = 0; l < weightedLayers; l++) edgeStart[l + 1] = edgeStart[l] + layerSizes[l] * layerSizes[l + 1];
  const edgeCount = edgeStart[weightedLayers];
  const edges = new Float32Array(edgeCount * 4); // x0, y0, x1, y1
  for (let l = 0; l < weightedLayers; l++) {
    const nIn = layerSizes[l];
    const nOut = layerSizes[l + 1];
    for (let i = 0; i < nIn; i++) {
      const source = columnStart[l] + i;
      for (let j = 0; j < nOut; j++) {
        const target = columnStart[l + 1] + j;
        const e = (edgeStart[l] + i * nOut + j) * 4;
        edges[e] = nodeX[source] + size;
        edges[e + 1] = nodeY[source] + size / 2;
        edges[e + 2] = nodeX[target];
        edges[e + 3] = nodeY[target] + size / 2;
      }
    }
  }
  return {
    layerSizes,
    width,
    height,
    size,
    columns,
    columnX,
    columnStart,
    nodeX,
    nodeY,
    edgeStart,
    edgeCount,
    edges,
    // many edges: thinner, so they stay apart (and cost less to draw)
    maxEdgeWidth: Math.max(2, Math.min(edgeCount > LARGE_NETWORK_EDGES ? 3 : 9, size * 0.22)),
  };
}

/** The neuron under (x, y) as {column, index}, or null. */
export function neuronAt(layout, x, y) {
  const size = layout.size;
  for (let c = 0; c < layout.columns; c++) {
    const x0 = layout.columnX[c];
    if (x < x0 - 2 || x > x0 + size + 2) continue;
    for (let k = 0; k < layout.layerSizes[c]; k++) {
      const g = layout.columnStart[c] + k;
      const y0 = layout.nodeY[g];
      if (y >= y0 - 2 && y <= y0 + size + 2) return { column: c, index: k };
    }
  }
  return null;
}

/** The edge nearest (x, y) within `tolerance` pixels as {layer, i, j}, or null. */
export function edgeAt(layout, x, y, tolerance = 5) {
  let best = null;
  let bestDistance = tolerance * tolerance;
  const edges = layout.edges;
  for (let l = 0; l < layout.columns - 1; l++) {
    const x0 = layout.columnX[l] + layout.size;
    const x1 = layout.columnX[l + 1];
    if (x < x0 || x > x1) continue;
    const nOut = layout.layerSizes[l + 1];
    for (let e = layout.edgeStart[l]; e < layout.edgeStart[l + 1]; e++) {
      const ax = edges[e * 4];
      const ay = edges[e * 4 + 1];
      const dx = edges[e * 4 + 2] - ax;
      const dy = edges[e * 4 + 3] - ay;
      const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
      const px = ax + t * dx - x;
      const py = ay + t * dy - y;
      const distance = px * px + py * py;
      if (distance < bestDistance) {
        bestDistance = distance;
        const local = e - layout.edgeStart[l];
        best = { layer: l, i: Math.floor(local / nOut), j: local % nOut };
      }
    }
  }
  return best;
}
