// Colours: one colour-blind-safe diverging palette (orange = negative, blue = positive, as in
// TensorFlow Playground, so its users read our pictures at once) and class colours from the
// Okabe–Ito set, which stays distinguishable under the common colour-vision deficiencies.
//
// Everything is precomputed into lookup tables once: renderers index a Uint8Array per pixel
// instead of building colour strings in the hot path.

export const NEGATIVE_RGB = [224, 110, 20]; // orange
export const NEUTRAL_RGB = [246, 246, 244];
export const POSITIVE_RGB = [24, 104, 178]; // blue

export const NEGATIVE_CSS = rgb(NEGATIVE_RGB);
export const POSITIVE_CSS = rgb(POSITIVE_RGB);

/** 256 RGB triples: index 0 = most negative, 128 ≈ zero, 255 = most positive. */
export const DIVERGING_LUT = buildDivergingLut();

function buildDivergingLut() {
  const lut = new Uint8Array(256 * 3);
  for (let index = 0; index < 256; index++) {
    const t = index / 255; // 0 … 1
    const side = t < 0.5 ? NEGATIVE_RGB : POSITIVE_RGB;
    const strength = Math.abs(t - 0.5) * 2; // 0 at the centre, 1 at either end
    const eased = Math.pow(strength, 0.8); // a little more colour near zero, so small values show
    for (let channel = 0; channel < 3; channel++) {
      lut[index * 3 + channel] = Math.round(NEUTRAL_RGB[channel] + (side[channel] - NEUTRAL_RGB[channel]) * eased);
    }
  }
  return lut;
}

const OKABE_ITO = [
  [0, 114, 178], // blue
  [230, 159, 0], // orange
  [0, 158, 115], // bluish green
  [204, 121, 167], // reddish purple
  [213, 94, 0], // vermillion
  [86, 180, 233], // sky blue
  [240, 228, 66], // yellow
  [120, 120, 120], // grey
];

/** RGB triples for K classes; two classes use orange (class 0) and blue (class 1), matching the
 * diverging palette so a binary decision boundary reads as p(class 1) − p(class 0). */
export function classColours(classes) {
  if (classes === 2) return [NEGATIVE_RGB, POSITIVE_RGB];
  const colours = [];
  for (let k = 0; k < classes; k++) {
    const base = OKABE_ITO[k % OKABE_ITO.length];
    const round = Math.floor(k / OKABE_ITO.length); // darken repeats so 9+ classes stay apart
    colours.push(base.map((c) => Math.round(c * Math.pow(0.7, round))));
  }
  return colours;
}

export function rgb(triple, alpha = 1) {
  return alpha === 1 ? `rgb(${triple[0]}, ${triple[1]}, ${triple[2]})` : `rgba(${triple[0]}, ${triple[1]}, ${triple[2]}, ${alpha})`;
}

/** The diverging colour of `value` on a symmetric range ±`range`, as a CSS string (not for hot paths). */
export function divergingCss(value, range) {
  const index = lutIndex(value, range);
  return `rgb(${DIVERGING_LUT[index * 3]}, ${DIVERGING_LUT[index * 3 + 1]}, ${DIVERGING_LUT[index * 3 + 2]})`;
}

export function lutIndex(value, range) {
  if (!(range > 0)) return 128;
  const t = 0.5 + 0.5 * Math.max(-1, Math.min(1, value / range));
  return Math.round(t * 255);
}

/** 2·2 precomputed strokes for edges: sign × a few alpha levels, so edges batch by style. */
export const EDGE_LEVELS = 8;
export const EDGE_STYLES = buildEdgeStyles();

function buildEdgeStyles() {
  const styles = [];
  for (let sign = 0; sign < 2; sign++) {
    for (let level = 0; level < EDGE_LEVELS; level++) {
      const alpha = 0.35 + 0.65 * (level / (EDGE_LEVELS - 1));
      styles.push(rgb(sign === 0 ? NEGATIVE_RGB : POSITIVE_RGB, alpha.toFixed(2)));
    }
  }
  return styles;
}
