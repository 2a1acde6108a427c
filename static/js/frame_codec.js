// A frame's arrays from the binary message after it (docs/protocol.md, "Frame arrays"), read by
// the socket's worker. The frame's JSON `arrays` index gives, for each block, the JSON it stands
// for with every array replaced by [byte offset, shape]; each array becomes a typed-array view
// into the received buffer (Float32Array while training streams, Float64Array when it stands
// still), with no copy and no nested arrays. A matrix (weights, a probe's weight_gradients) is
// one flat row-major view: entry (i, j) of an n_in × n_out matrix is at i·n_out + j.
//
// The server's side is server/wire/frame_codec.py; both change together.

const TYPED = { float32: Float32Array, float64: Float64Array };
const LAYER_BLOCKS = ["params", "gradients", "updates"];

export class FrameError extends Error {}

function isRef(value) {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    Number.isInteger(value[0]) &&
    Array.isArray(value[1]) &&
    value[1].every((n) => Number.isInteger(n) && n >= 0)
  );
}

function viewer(Typed, buffer) {
  return (ref) => {
    if (!isRef(ref)) throw new FrameError(`not an array reference: ${JSON.stringify(ref)}`.slice(0, 120));
    const [offset, shape] = ref;
    let count = 1;
    for (const n of shape) count *= n;
    if (offset < 0 || offset % Typed.BYTES_PER_ELEMENT !== 0 || offset + count * Typed.BYTES_PER_ELEMENT > buffer.byteLength) {
      throw new FrameError(`array [${offset}, [${shape}]] does not fit in ${buffer.byteLength} bytes`);
    }
    return new Typed(buffer, offset, count);
  };
}

function readFields(fields, view, refsOnly) {
  if (fields === null || typeof fields !== "object" || Array.isArray(fields)) throw new FrameError("a block entry is an object");
  const out = {};
  for (const [name, value] of Object.entries(fields)) {
    if (isRef(value)) out[name] = view(value);
    else if (refsOnly) throw new FrameError(`${name} is not an array reference`);
    else out[name] = value;
  }
  return out;
}

function readLayers(block, view, refsOnly) {
  if (!Array.isArray(block)) throw new FrameError("a layers block is a list");
  return block.map((layer) => readFields(layer, view, refsOnly));
}

/**
 * The frame `message` (parsed JSON) with its arrays read from `buffer` (an ArrayBuffer, or null
 * when no binary came): `params`, `gradients`, `updates` as [{weights, biases}] and `probe` with
 * its scalars and arrays, for the blocks the frame carries, plus `dtype`. Throws FrameError when
 * the binary is missing, unexpected, or does not match the index.
 */
export function decodeFrame(message, buffer) {
  const { arrays: index, ...frame } = message;
  if (index === undefined || index === null) {
    if (buffer) throw new FrameError("a binary message after a frame that announces none");
    return frame;
  }
  if (!buffer) throw new FrameError("the frame's binary message is missing");
  const Typed = TYPED[index.dtype];
  if (!Typed) throw new FrameError(`unknown dtype ${index.dtype}`);
  if (index.bytes !== buffer.byteLength) {
    throw new FrameError(`the index announces ${index.bytes} bytes, the binary has ${buffer.byteLength}`);
  }
  const view = viewer(Typed, buffer);
  frame.dtype = index.dtype;
  for (const name of LAYER_BLOCKS) {
    if (index[name] !== undefined) frame[name] = readLayers(index[name], view, true);
  }
  if (index.probe !== undefined) {
    const { layers, ...rest } = index.probe ?? {};
    const probe = readFields(rest, view, false);
    if (layers !== undefined) probe.layers = readLayers(layers, view, false);
    frame.probe = probe;
  }
  return frame;
}
