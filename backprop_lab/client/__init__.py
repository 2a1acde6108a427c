"""A Python client for Backprop Lab's REST API (docs/notebook.md): sessions, analyses, uploads,
saved runs, weight files and jobs, with parameters, gradients and every array of an answer as NumPy arrays.

    from backprop_lab.client import Client
    with Client("http://127.0.0.1:8000") as lab:
        session = lab.sessions.create(dataset="spiral", hidden_layers=[8, 8], seed=1)
        session = lab.sessions.train(session.id, 2_000)
        layers = lab.sessions.params(session.id)   # [Layer(weights (n_in, n_out), biases (n_out,)), …]
"""

from __future__ import annotations

from backprop_lab.client.analyses import Analyses, LossLine, LossSurface, RangeTest, Sweep, SweepRun
from backprop_lab.client.arrays import Layer, flat
from backprop_lab.client.datasets import Datasets, Upload
from backprop_lab.client.jobs import JobFailed, Jobs
from backprop_lab.client.lab import Client
from backprop_lab.client.runs import Runs
from backprop_lab.client.sessions import (
    DataSet,
    Gradients,
    SampleTrace,
    Sessions,
    SessionSummary,
    SessionView,
    Split,
    TraceLayer,
)
from backprop_lab.client.transport import ApiError, Transport
from backprop_lab.client.weights import Weights, as_layers, from_bytes

__all__ = [
    "Analyses", "ApiError", "Client", "DataSet", "Datasets", "Gradients", "JobFailed", "Jobs", "Layer", "LossLine",
    "LossSurface", "RangeTest", "Runs", "SampleTrace", "SessionSummary", "SessionView", "Sessions", "Split", "Sweep",
    "SweepRun", "TraceLayer", "Transport", "Upload", "Weights", "as_layers", "flat", "from_bytes",
]
