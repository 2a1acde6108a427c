"""A network's weights as files NumPy and PyTorch load directly: `.npz` (NumPy's `savez`) and
`.safetensors` (Hugging Face's format, read without running code from the file).

PyTorch's layout, not the JSON endpoints': `nn.Linear(n_in, n_out)` keeps `weight` as
(n_out, n_in) and computes `x @ weight.T + bias`, where the engine and `GET …/params` keep W as
(n_in, n_out) and compute `x @ W + b` (docs/engine.md). So layer l's file entries are

    layers.{l}.weight   (n_out, n_in)   = the JSON `layers[l].weights` transposed
    layers.{l}.bias     (n_out,)        = the JSON `layers[l].biases`

in float64, counted from 0 from the first hidden layer. A `torch.nn.Sequential` whose Linear
layers sit in a `layers` `ModuleList` takes them with `load_state_dict` as they are.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from safetensors.numpy import save as safetensors_save

from backprop_lab.engine.layout import ParameterLayout

FILE_FORMAT = "backprop-lab-weights"  # the safetensors header's `format` entry


def torch_tensors(layout: ParameterLayout, parameters: np.ndarray) -> dict[str, np.ndarray]:
    """`{"layers.0.weight": (n_out, n_in), "layers.0.bias": (n_out,), …}` from θ (P,), copies
    in C order (each file writes its arrays as they lie in memory)."""
    weights, biases = layout.views(parameters)
    tensors: dict[str, np.ndarray] = {}
    for layer, (weight, bias) in enumerate(zip(weights, biases, strict=True)):
        tensors[f"layers.{layer}.weight"] = np.ascontiguousarray(weight.T, dtype="<f8")  # (n_out, n_in)
        tensors[f"layers.{layer}.bias"] = np.array(bias, dtype="<f8")  # (n_out,)
    return tensors


def npz_bytes(tensors: dict[str, np.ndarray]) -> bytes:
    """An uncompressed `.npz` (a zip of `.npy` files): `numpy.load` gives the arrays by name."""
    out = io.BytesIO()
    arrays: dict[str, Any] = dict(tensors)  # (keyword arguments: NumPy's stubs type them as its own options)
    np.savez(out, **arrays)
    return out.getvalue()


def safetensors_bytes(tensors: dict[str, np.ndarray], about: dict[str, Any]) -> bytes:
    """A `.safetensors` file; its header's metadata (strings only, by the format's rule) says
    what network the tensors belong to: `about`'s values as JSON text."""
    metadata = {"format": FILE_FORMAT, **{key: json.dumps(value) for key, value in about.items()}}
    return safetensors_save(tensors, metadata=metadata)
