// How the store holds the engine's arrays: typed arrays, one per layer and field, never nested.
//
// Frames arrive as typed-array views of their binary (frame_codec.js): Float32Array while
// training streams, Float64Array when it stands still. The JSON messages that also carry arrays
// (a snapshot's params and probe, a `probe` reply, a phase's values) are turned into the same
// shape once, when they arrive, so every renderer reads one form:
//   Layers: [{weights, biases}] — weights is n_in × n_out flat and row-major, biases n_out;
//   Probe:  {split, index, loss, inputs, targets, outputs, layers: [{pre_activations, …,
//           weight_gradients (n_in × n_out flat), bias_gradients, …any field the engine adds}]}.

/** Entry (i, j) of a flat row-major matrix with `nOut` columns. */
export function matrixEntry(matrix, nOut, i, j) {
  return matrix[i * nOut + j];
}

/** W[i][j] of one layer of Layers (its biases say how many columns W has); undefined outside W. */
export function weightAt(layer, i, j) {
  const nOut = layer.biases.length;
  return j < nOut ? layer.weights[i * nOut + j] : undefined;
}

/** A JSON array (a vector or a matrix of rows) as one flat Float64Array; typed arrays pass as
 * they are. JSON writes a number that overflowed as null: it becomes NaN. */
export function flatArray(values) {
  if (ArrayBuffer.isView(values)) return values;
  const rows = values.length > 0 && Array.isArray(values[0]) ? values : null;
  const width = rows ? rows[0].length : 0;
  const out = new Float64Array(rows ? rows.length * width : values.length);
  if (rows) rows.forEach((row, i) => row.forEach((value, j) => (out[i * width + j] = value ?? NaN)));
  else values.forEach((value, i) => (out[i] = value ?? NaN));
  return out;
}

function flatFields(fields) {
  const out = {};
  for (const [name, value] of Object.entries(fields)) {
    out[name] = Array.isArray(value) || ArrayBuffer.isView(value) ? flatArray(value) : value;
  }
  return out;
}

/** Layers from JSON (`[{weights: [[…]], biases: […]}]`) or already typed. */
export function flatLayers(layers) {
  return layers.map((layer) => (layer === null ? null : flatFields(layer)));
}

/** A Probe from JSON or already typed: every array field flat, by name. */
export function flatProbe(probe) {
  const { layers, ...rest } = probe;
  const out = flatFields(rest);
  if (layers) out.layers = layers.map(flatFields);
  return out;
}
