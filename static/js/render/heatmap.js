// Heatmaps: the `heatmaps` message's quantised bytes turned into pixels.
//
// Layout of the bytes (docs/protocol.md): for each entry of `layers` (0 = input features, then
// each weighted layer), for each neuron, G×G bytes, row 0 at x2 = x2_min. Byte q stands for
// min + q/255·(max − min). Images put x2_max at the top, so rows are flipped while decoding.
//
// Decoding goes through a 256-entry colour table per neuron (q → RGB), so the per-pixel work is
// two array reads; the atlas ImageData is reused while the network's shape and G stay the same.

import { classColours, DIVERGING_LUT, lutIndex, NEUTRAL_RGB } from "../palette.js";

/** Byte offset of `neuron` of heatmap entry `entry`. */
export function neuronOffset(heatmaps, entry, neuron) {
  const cells = heatmaps.resolution * heatmaps.resolution;
  let before = 0;
  for (let e = 0; e < entry; e++) before += heatmaps.layers[e].min.length;
  return (before + neuron) * cells;
}

const BACKGROUND_STRENGTH = 0.72; // how much colour the decision boundary image keeps
const scratchTable = new Uint8Array(256 * 3); // q -> RGB for the neuron being decoded

/** Fills scratchTable with the diverging colours of q on ±range. */
function divergingTable(min, max, range) {
  for (let q = 0; q < 256; q++) {
    const value = min + (q / 255) * (max - min);
    const index = lutIndex(value, range) * 3;
    scratchTable[q * 3] = DIVERGING_LUT[index];
    scratchTable[q * 3 + 1] = DIVERGING_LUT[index + 1];
    scratchTable[q * 3 + 2] = DIVERGING_LUT[index + 2];
  }
}

/** Fills scratchTable with white → `colour` for a probability q on [min, max] ⊂ [0, 1]. */
function probabilityTable(min, max, colour) {
  for (let q = 0; q < 256; q++) {
    const p = Math.max(0, Math.min(1, min + (q / 255) * (max - min)));
    for (let c = 0; c < 3; c++) scratchTable[q * 3 + c] = Math.round(NEUTRAL_RGB[c] + (colour[c] - NEUTRAL_RGB[c]) * p);
  }
}

/** Writes one neuron's G×G bytes through scratchTable into `pixels` at row `rowOffset`. */
function paint(bytes, offset, resolution, pixels, rowOffset) {
  for (let row = 0; row < resolution; row++) {
    const source = offset + (resolution - 1 - row) * resolution; // flip: x2_max at the top
    let target = ((rowOffset + row) * resolution) * 4;
    for (let column = 0; column < resolution; column++) {
      const q = bytes[source + column] * 3;
      pixels[target] = scratchTable[q];
      pixels[target + 1] = scratchTable[q + 1];
      pixels[target + 2] = scratchTable[q + 2];
      pixels[target + 3] = 255;
      target += 4;
    }
  }
}

/**
 * Every neuron's heatmap stacked in one tall canvas (G wide, G·N high): the network view draws
 * neuron g from rows g·G … g·G + G with one drawImage.
 */
export class HeatmapAtlas {
  constructor() {
    this.canvas = document.createElement("canvas");
    this.context = this.canvas.getContext("2d");
    this.image = null;
    this.resolution = 0;
    this.count = 0;
    this.ready = false;
  }

  /** Decodes `heatmaps` for a network with `layerSizes`; `output` is "softmax" or "linear". */
  update(heatmaps, layerSizes, output, activation) {
    const resolution = heatmaps.resolution;
    const count = layerSizes.reduce((sum, n) => sum + n, 0);
    const matches = heatmaps.layers.length === layerSizes.length && heatmaps.layers.every((entry, e) => entry.min.length === layerSizes[e]);
    if (!matches) {
      this.ready = false; // heatmaps of a network that was just replaced
      return;
    }
    if (!this.image || this.resolution !== resolution || this.count !== count) {
      this.canvas.width = resolution;
      this.canvas.height = resolution * count;
      this.image = this.context.createImageData(resolution, resolution * count);
      this.resolution = resolution;
      this.count = count;
    }
    const pixels = this.image.data;
    const bytes = heatmaps.data;
    const last = layerSizes.length - 1;
    const colours = output === "softmax" ? classColours(layerSizes[last]) : null;
    let neuron = 0;
    let offset = 0;
    const cells = resolution * resolution;
    for (let entry = 0; entry < layerSizes.length; entry++) {
      const { min, max } = heatmaps.layers[entry];
      let layerRange = 0;
      for (let k = 0; k < min.length; k++) layerRange = Math.max(layerRange, Math.abs(min[k]), Math.abs(max[k]));
      for (let k = 0; k < layerSizes[entry]; k++) {
        if (entry === last && colours) probabilityTable(min[k], max[k], colours[k]);
        else if (entry === 0) divergingTable(min[k], max[k], Math.max(Math.abs(min[k]), Math.abs(max[k])));
        else if (entry !== last && activation === "tanh") divergingTable(min[k], max[k], 1);
        else divergingTable(min[k], max[k], layerRange);
        paint(bytes, offset, resolution, pixels, neuron * resolution);
        offset += cells;
        neuron++;
      }
    }
    this.context.putImageData(this.image, 0, 0);
    this.ready = true;
  }
}

/**
 * The output layer as one picture: for two classes p(1) − p(0) on the diverging palette; for
 * more, the winning class's colour, stronger the surer the network is; for regression the value
 * on the diverging palette over ±`valueRange` (the targets' range).
 */
export class OutputImage {
  constructor() {
    this.canvas = document.createElement("canvas");
    this.context = this.canvas.getContext("2d");
    this.image = null;
    this.resolution = 0;
    this.ready = false;
  }

  update(heatmaps, layerSizes, output, valueRange) {
    const resolution = heatmaps.resolution;
    const last = heatmaps.layers.length - 1;
    if (last !== layerSizes.length - 1) {
      this.ready = false;
      return;
    }
    if (!this.image || this.resolution !== resolution) {
      this.canvas.width = resolution;
      this.canvas.height = resolution;
      this.image = this.context.createImageData(resolution, resolution);
      this.resolution = resolution;
    }
    const pixels = this.image.data;
    const bytes = heatmaps.data;
    const { min, max } = heatmaps.layers[last];
    const classes = layerSizes[last];
    const base = neuronOffset(heatmaps, last, 0);
    const cells = resolution * resolution;
    const colours = classColours(classes);
    for (let row = 0; row < resolution; row++) {
      const sourceRow = (resolution - 1 - row) * resolution;
      for (let column = 0; column < resolution; column++) {
        const cell = sourceRow + column;
        const target = (row * resolution + column) * 4;
        let r;
        let g;
        let b;
        if (output !== "softmax") {
          const value = min[0] + (bytes[base + cell] / 255) * (max[0] - min[0]);
          const index = lutIndex(value, valueRange) * 3;
          r = DIVERGING_LUT[index];
          g = DIVERGING_LUT[index + 1];
          b = DIVERGING_LUT[index + 2];
        } else if (classes === 2) {
          const p0 = min[0] + (bytes[base + cell] / 255) * (max[0] - min[0]);
          const p1 = min[1] + (bytes[base + cells + cell] / 255) * (max[1] - min[1]);
          const index = lutIndex(p1 - p0, 1) * 3;
          r = DIVERGING_LUT[index];
          g = DIVERGING_LUT[index + 1];
          b = DIVERGING_LUT[index + 2];
        } else {
          let best = 0;
          let bestP = -1;
          for (let k = 0; k < classes; k++) {
            const p = min[k] + (bytes[base + k * cells + cell] / 255) * (max[k] - min[k]);
            if (p > bestP) {
              bestP = p;
              best = k;
            }
          }
          const strength = Math.max(0, Math.min(1, (bestP - 1 / classes) / (1 - 1 / classes))) * 0.85;
          const colour = colours[best];
          r = NEUTRAL_RGB[0] + (colour[0] - NEUTRAL_RGB[0]) * strength;
          g = NEUTRAL_RGB[1] + (colour[1] - NEUTRAL_RGB[1]) * strength;
          b = NEUTRAL_RGB[2] + (colour[2] - NEUTRAL_RGB[2]) * strength;
        }
        // paler than the points drawn on top, so their colours and rims stand out
        pixels[target] = NEUTRAL_RGB[0] + (r - NEUTRAL_RGB[0]) * BACKGROUND_STRENGTH;
        pixels[target + 1] = NEUTRAL_RGB[1] + (g - NEUTRAL_RGB[1]) * BACKGROUND_STRENGTH;
        pixels[target + 2] = NEUTRAL_RGB[2] + (b - NEUTRAL_RGB[2]) * BACKGROUND_STRENGTH;
        pixels[target + 3] = 255;
      }
    }
    this.context.putImageData(this.image, 0, 0);
    this.ready = true;
  }

  /** The output value(s) at fractional position (u, v) of the plane (u → x1, v → x2, both 0…1). */
  static valuesAt(heatmaps, u, v) {
    const resolution = heatmaps.resolution;
    const last = heatmaps.layers.length - 1;
    const column = Math.min(resolution - 1, Math.max(0, Math.round(u * (resolution - 1))));
    const row = Math.min(resolution - 1, Math.max(0, Math.round(v * (resolution - 1))));
    const { min, max } = heatmaps.layers[last];
    const base = neuronOffset(heatmaps, last, 0);
    const cells = resolution * resolution;
    const values = [];
    for (let k = 0; k < min.length; k++) {
      values.push(min[k] + (heatmaps.data[base + k * cells + row * resolution + column] / 255) * (max[k] - min[k]));
    }
    return values;
  }
}
