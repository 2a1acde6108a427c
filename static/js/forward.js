// A forward pass in the browser, only to count the confusion matrix: the protocol's metrics
// carry accuracy but not which class each sample was taken for. Same maths as the engine
// (DESIGN §4: z = a_prev·W + b, a = f(z); the class is the arg-max of the logits, which is the
// arg-max of softmax). Scratch buffers are reused between calls.

const ACTIVATIONS = {
  linear: (z) => z,
  sigmoid: (z) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z))),
  tanh: Math.tanh,
  relu: (z) => (z > 0 ? z : 0),
  leaky_relu: (z) => (z > 0 ? z : 0.01 * z),
};

let current = new Float64Array(64);
let next = new Float64Array(64);

/** The arg-max class of each row of `inputs` (arrays of numbers) under `params`. */
export function predictClasses(params, activation, inputs, out) {
  const f = ACTIVATIONS[activation] ?? Math.tanh;
  const widest = Math.max(...params.map((layer) => layer.biases.length), inputs[0]?.length ?? 0);
  if (current.length < widest) {
    current = new Float64Array(widest);
    next = new Float64Array(widest);
  }
  const depth = params.length;
  for (let row = 0; row < inputs.length; row++) {
    const x = inputs[row];
    let width = x.length;
    for (let i = 0; i < width; i++) current[i] = x[i];
    for (let l = 0; l < depth; l++) {
      const { weights, biases } = params[l];
      const nOut = biases.length;
      for (let j = 0; j < nOut; j++) next[j] = biases[j];
      for (let i = 0; i < width; i++) {
        const a = current[i];
        const row_ = weights[i];
        for (let j = 0; j < nOut; j++) next[j] += a * row_[j];
      }
      const hidden = l < depth - 1;
      for (let j = 0; j < nOut; j++) current[j] = hidden ? f(next[j]) : next[j];
      width = nOut;
    }
    let best = 0;
    for (let k = 1; k < width; k++) if (current[k] > current[best]) best = k;
    out[row] = best;
  }
  return out;
}
