"""Weights as NumPy arrays from the server's weight files (docs/api.md, "Weights as files"):
`GET …/params.npz` or `…/params.safetensors` of a session or a saved run, read into
`{"layers.0.weight": (n_out, n_in), "layers.0.bias": (n_out,), …}` in float64.

That is PyTorch's layout: `torch.nn.Linear(n_in, n_out).load_state_dict({"weight": …, "bias": …})`
takes a layer's pair as it is. The JSON endpoints (`GET …/params`) and the engine keep W as
(n_in, n_out); `as_layers` gives that layout back (each weight transposed).
"""

from __future__ import annotations

import io
from typing import Literal

import numpy as np
from safetensors.numpy import load as load_safetensors

from backprop_lab.client.transport import Transport

WeightFormat = Literal["npz", "safetensors"]
Tensors = dict[str, np.ndarray]


def from_bytes(data: bytes, fmt: WeightFormat) -> Tensors:
    """A weight file's arrays by name."""
    if fmt == "safetensors":
        return dict(load_safetensors(data))
    if fmt == "npz":
        with np.load(io.BytesIO(data), allow_pickle=False) as files:
            return {name: files[name] for name in files.files}
    raise ValueError(f"format must be 'npz' or 'safetensors', not {fmt!r}")


def as_layers(tensors: Tensors) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W (n_in, n_out), b (n_out,)), …] in layer order: the engine's layout, and the JSON
    endpoints' `layers[l].weights` and `.biases`."""
    count = sum(1 for name in tensors if name.endswith(".weight"))
    return [(tensors[f"layers.{layer}.weight"].T, tensors[f"layers.{layer}.bias"]) for layer in range(count)]


class Weights:
    """Download a session's or a saved run's weights (a run's: exactly those it resumes from)."""

    def __init__(self, transport: Transport):
        self._transport = transport

    def session(self, session_id: str, fmt: WeightFormat = "npz") -> Tensors:
        return self._download(f"/api/v1/sessions/{session_id}/params.{fmt}", fmt)

    def run(self, run_id: str, fmt: WeightFormat = "npz") -> Tensors:
        return self._download(f"/api/v1/runs/{run_id}/params.{fmt}", fmt)

    def _download(self, path: str, fmt: WeightFormat) -> Tensors:
        if fmt not in ("npz", "safetensors"):
            raise ValueError(f"format must be 'npz' or 'safetensors', not {fmt!r}")
        return from_bytes(self._transport.request("GET", path).content, fmt)
