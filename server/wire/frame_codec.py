"""A frame's bulk arrays as one binary message after its JSON index (protocol version 2).

A `frame` message keeps its scalar fields as JSON; its arrays (weights, gradients, updates, the
probe's numbers) travel in the binary message that follows it, described by the frame's
`"arrays"` entry, the *index*:

    "arrays": {"dtype": "float32", "bytes": 1088,
               "params": [{"weights": [0, [2, 4]], "biases": [80, [4]]}, …],
               "gradients": […], "updates": […],
               "probe": {"split": "train", "index": 0, "loss": 0.69,
                         "inputs": [336, [2]], …, "layers": [{"pre_activations": [352, [4]], …}]}}

Each block is the JSON it replaces (`views.layers_view`, `views.probe_view`) with every array
replaced by `[byte offset, shape]`; anything else (the probe's `split`, `index`, `loss`) stays
as it is. So a field the probe gains is packed by its name, with no change here. Numbers are
little-endian `dtype` (`float32` while training streams, `float64` when it stands still: the
engine's exact numbers), row-major. Blocks follow each other in the order params, gradients,
updates, probe, each starting at a multiple of 8 bytes; inside a block arrays follow each other
without gaps, so every array starts at a multiple of its item size and a decoder can view the
bytes without copying (`np.frombuffer`, a JavaScript `Float32Array`). The params, gradients and
updates blocks are each the engine's flat vector (every layer's weights, then every layer's
biases), cast once.

A binary follows exactly when `"arrays"` is there; a block that is absent (a frame between
re-evaluations, or a frame over the byte budget, see `backprop_lab.server.live.frames`) means: unchanged since the
last frame that had it.

Numbers are finite, as everywhere on the wire: the engine never keeps a non-finite weight,
gradient or update (it stops with `diverged` first), a float64 too large for float32 is sent as
±3.4e38 (the largest float32), and a probe of an exploding network sends ±Infinity as the
dtype's largest number and NaN as 0.

`FramePacker` is the server's side; `decode_frame` is the reader's (tests, scripts), and
`static/js/frame_codec.js` is the page's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod
from typing import Any

import numpy as np

JSON = dict[str, Any]
LayerShapes = tuple[tuple[int, int], ...]  # (n_in, n_out) of each weighted layer, input side first
DTYPES: dict[str, np.dtype[Any]] = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8")}
LAYER_BLOCKS = ("params", "gradients", "updates")  # Layers: [{"weights", "biases"}] per layer
BLOCK_ALIGN = 8


class FrameDecodeError(ValueError):
    """A frame whose binary does not match its index (or is missing, or came without one)."""


@dataclass(frozen=True)
class PackedArrays:
    index: JSON  # the frame's "arrays" entry
    data: bytes  # the binary message that follows the frame


def _aligned(offset: int) -> int:
    return -(-offset // BLOCK_ALIGN) * BLOCK_ALIGN


def _finite(values: np.ndarray) -> np.ndarray:
    """`values` (already in the wire dtype) with ±Infinity as the dtype's largest number and
    NaN as 0; the same array when everything is finite (always, but for an exploding probe)."""
    if np.isfinite(values).all():
        return values
    largest = np.finfo(values.dtype).max
    return np.nan_to_num(values, nan=0.0, posinf=largest, neginf=-largest)


def _block_bytes(values: np.ndarray, dtype: np.dtype[Any]) -> bytes:
    """One block's bytes: `values` cast to `dtype`, padded to a multiple of 8."""
    with np.errstate(over="ignore", invalid="ignore"):
        cast = values.astype(dtype)  # (n,) a copy: the engine's arrays move on after this call
    data = _finite(cast).tobytes()
    return data + bytes(_aligned(len(data)) - len(data))


class FramePacker:
    """Packs the arrays of one network's frames, once for every client; the network is known by
    its layers' shapes (n_in, n_out), input side first.

    What does not change from frame to frame is kept: the layer blocks' references (they depend
    on the shapes and dtype only) and the probe's block (it changes when it is re-evaluated,
    about 20 times a second while playing, not every frame).
    """

    def __init__(self, shapes: Sequence[tuple[int, int]]) -> None:
        self.shapes: LayerShapes = tuple((int(n_in), int(n_out)) for n_in, n_out in shapes)
        self.size = sum(n_in * n_out + n_out for n_in, n_out in self.shapes)  # P, a layer block's numbers
        self._buffers: dict[str, np.ndarray] = {}  # dtype → the layer blocks of the last frame, cast
        self._layer_refs: dict[tuple[str, int], list[JSON]] = {}
        self._probe: tuple[JSON, str, int, JSON, bytes] | None = None  # (probe, dtype, start, index, bytes)

    def pack(self, dtype: str, layers: dict[str, np.ndarray], probe: JSON | None = None) -> PackedArrays:
        """The index and bytes of a frame's arrays.

        `layers` maps block names (`params`, `gradients`, `updates`, laid out in that order) to
        flat (P,) vectors: every layer's weights (row by row), then every layer's biases. `probe`
        is a `views.probe_view(...)` at full precision (None: no probe block). The arrays are read
        now and may change afterwards; the probe must not (a new probe is a new dict).

        The layer blocks are cast into one buffer kept for the next frame and checked for
        finiteness at once: a frame is built after every training slice (1,250 a second with 50
        sessions at full speed), so it makes as few NumPy calls as it can.
        """
        wire = DTYPES[dtype]
        index: JSON = {"dtype": dtype, "bytes": 0}
        width = _aligned(self.size * wire.itemsize) // wire.itemsize  # one block's numbers, padded to 8 bytes
        buffer = self._buffers.get(dtype)
        if buffer is None:
            buffer = self._buffers[dtype] = np.zeros(width * len(LAYER_BLOCKS), wire)  # padding stays 0
        start = 0
        with np.errstate(over="ignore", invalid="ignore"):
            for name, flat in layers.items():
                index[name] = self._refs(dtype, start * wire.itemsize)
                np.copyto(buffer[start: start + self.size], flat, casting="unsafe")  # past float32: ±Infinity
                start += width
            blocks = buffer[:start]
            # one pass (not np.dot: OpenBLAS's threads then spin beside the training threads); a sum
            # past the dtype's range is checked in full
            if not np.isfinite(blocks.sum()):
                blocks = _finite(blocks)
        data = blocks.tobytes()
        if probe is not None:
            cached = self._probe
            if cached is None or cached[0] is not probe or cached[1] != dtype or cached[2] != len(data):
                cached = (probe, dtype, len(data), *_pack_probe(probe, wire, len(data)))
                self._probe = cached
            index["probe"] = cached[3]
            data += cached[4]
        index["bytes"] = len(data)
        return PackedArrays(index, data)

    def _refs(self, dtype: str, start: int) -> list[JSON]:
        """Per layer `{"weights": ref, "biases": ref}` of a flat vector at byte `start`."""
        key = (dtype, start)
        refs = self._layer_refs.get(key)
        if refs is None:
            item = DTYPES[dtype].itemsize
            weights, offset = [], start
            for n_in, n_out in self.shapes:
                weights.append([offset, [n_in, n_out]])
                offset += n_in * n_out * item
            biases = []
            for _, n_out in self.shapes:
                biases.append([offset, [n_out]])
                offset += n_out * item
            refs = [{"weights": w, "biases": b} for w, b in zip(weights, biases, strict=True)]
            self._layer_refs[key] = refs
        return refs


def _pack_probe(probe: JSON, wire: np.dtype[Any], start: int) -> tuple[JSON, bytes]:
    """The probe's block at byte `start`: its view with every array replaced by its reference,
    packed by field name (a field the probe gains travels without a change here). An array that
    appears twice (`outputs` is the last layer's `activations`) is stored once."""
    arrays: list[np.ndarray] = []
    refs: dict[int, list[Any]] = {}
    offset = start

    def ref(array: np.ndarray) -> list[Any]:
        nonlocal offset
        known = refs.get(id(array))
        if known is None:
            known = refs[id(array)] = [offset, list(array.shape)]
            arrays.append(array)
            offset += array.size * wire.itemsize
        return known

    def fields(values: JSON) -> JSON:
        return {name: ref(v) if isinstance(v, np.ndarray) else v for name, v in values.items()}

    index = fields({name: value for name, value in probe.items() if name != "layers"})
    if "layers" in probe:
        index["layers"] = [fields(layer) for layer in probe["layers"]]
    values = np.concatenate([array.ravel() for array in arrays]) if arrays else np.zeros(0)
    return index, _block_bytes(values, wire)


# --- reading -------------------------------------------------------------------------------
def _is_ref(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and isinstance(value[1], list)
        and all(isinstance(n, int) for n in value[1])
    )


class _Reader:
    def __init__(self, dtype: np.dtype[Any], data: bytes) -> None:
        self.dtype = dtype
        self.data = data

    def array(self, ref: Any) -> np.ndarray:
        if not _is_ref(ref):
            raise FrameDecodeError(f"not an array reference: {ref!r}")
        offset, shape = ref
        count = prod(shape)
        end = offset + count * self.dtype.itemsize
        if offset < 0 or offset % self.dtype.itemsize or min(shape, default=0) < 0 or end > len(self.data):
            raise FrameDecodeError(f"array {ref} does not fit in {len(self.data)} bytes of {self.dtype.name}")
        return np.frombuffer(self.data, self.dtype, count, offset).reshape(shape)

    def layers(self, block: Any) -> list[JSON]:
        if not isinstance(block, list) or not all(isinstance(layer, dict) for layer in block):
            raise FrameDecodeError("a layers block is a list of {name: array} per layer")
        return [{name: self.array(ref) for name, ref in layer.items()} for layer in block]

    def probe(self, block: Any) -> JSON:
        if not isinstance(block, dict):
            raise FrameDecodeError("the probe block is an object")
        out: JSON = {}
        for name, value in block.items():
            if name == "layers":
                if not isinstance(value, list) or not all(isinstance(layer, dict) for layer in value):
                    raise FrameDecodeError("probe layers are a list of objects")
                out[name] = [{k: self.array(v) if _is_ref(v) else v for k, v in layer.items()} for layer in value]
            else:
                out[name] = self.array(value) if _is_ref(value) else value
        return out


def decode_frame(message: JSON, data: bytes | None) -> JSON:
    """A `frame` message with its arrays read from `data` (the binary message after it).

    Returns the message's fields without `arrays`, plus `dtype` and, for each block the frame
    carries, `params` / `gradients` / `updates` (`[{"weights": (n_in, n_out), "biases":
    (n_out,)}]`) and `probe` (its scalars and arrays). The arrays are read-only views into
    `data`, no copies. Raises `FrameDecodeError` when `data` does not match the index.
    """
    index = message.get("arrays")
    out = {name: value for name, value in message.items() if name != "arrays"}
    if index is None:
        if data is not None:
            raise FrameDecodeError("a binary message after a frame that announces none")
        return out
    if data is None:
        raise FrameDecodeError("the frame's binary message is missing")
    if not isinstance(index, dict) or index.get("dtype") not in DTYPES:
        raise FrameDecodeError(f"unknown dtype in the index: {index!r:.80}")
    if index.get("bytes") != len(data):
        raise FrameDecodeError(f"the index announces {index.get('bytes')} bytes, the binary has {len(data)}")
    reader = _Reader(DTYPES[index["dtype"]], data)
    out["dtype"] = index["dtype"]
    for name in LAYER_BLOCKS:
        if name in index:
            out[name] = reader.layers(index[name])
    if "probe" in index:
        out["probe"] = reader.probe(index["probe"])
    return out
