"""Read-only answers about a trainer's current state: the numbers REST and teaching mode ask
for (gradients on the whole split, one sample's trace, a parameter's check). Nothing here
changes the weights; call these on the training thread like everything else that reads them.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from backprop_lab.engine.gradcheck import Objective, ParameterCheck, check_parameter
from backprop_lab.engine.kernels.passes import forward_pass, hidden_slopes
from backprop_lab.engine.layout import ParameterLayout
from backprop_lab.engine.network import Network, as_rows
from backprop_lab.engine.probe import probe_sample
from backprop_lab.engine.trace import SampleTrace
from backprop_lab.engine.trainer import Trainer
from backprop_lab.engine.workspace import Workspace
from backprop_lab.server.wire import views
from backprop_lab.server.wire.problems import InvalidInput

JSON = dict[str, Any]


def objective(trainer: Trainer, network: Network | None = None) -> Objective:
    """The objective (data loss + penalty) on the whole training split, of `network` (a copy)
    or of the trainer's own network."""
    train = trainer.dataset.train
    return Objective(network or trainer.network, trainer.loss, train.inputs, train.targets,
                     trainer.config.regularization, trainer.config.regularization_rate)


def network_copy(trainer: Trainer) -> tuple[Objective, Network]:
    """An objective over a *copy* of the network, for long read-only work (the whole gradient
    check) that runs off the training thread while the session trains on."""
    copy = trainer.network.copy()
    return objective(trainer, copy), copy


def gradient_check_plan(trainer: Trainer) -> tuple[Objective, Network, float]:
    """A copy to check gradients on, and the estimated seconds of the whole check (2P forward
    passes over the training split)."""
    check, copy = network_copy(trainer)
    return check, copy, 2 * copy.layout.size * forward_seconds(trainer)


def dataset(trainer: Trainer) -> JSON:
    return views.dataset_view(trainer.dataset)


def trace(trainer: Trainer, split: str, index: int) -> JSON:
    """The REST trace: one sample's forward and backward pass, full precision."""
    return views.probe_view(sample_trace(trainer, split, index, ("query", "index")))


def forward_seconds(trainer: Trainer, repeats: int = 3) -> float:
    """The fastest of a few forward passes (with the loss) over the whole training split, to
    estimate how long a gradient check (2P of them) would take before starting it."""
    check = objective(trainer)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        check.value()
        best = min(best, time.perf_counter() - started)
    return best


# A hidden neuron has stopped learning when f′(z) < STOPPED_SLOPE on at least STOPPED_SHARE of the
# training samples: a tanh at ±0.995 (|z| > 3), a sigmoid under 0.01 or over 0.99 (|z| > 4.6), a
# ReLU at z ≤ 0 (dead). Its incoming weights then get (almost) no gradient: the chain rule
# multiplies every δ that passes through it by f′(z). A leaky ReLU keeps its 0.01 and is not counted.
STOPPED_SLOPE = 0.01
STOPPED_SHARE = 0.95
STOPPED_KIND = {"tanh": "saturated", "sigmoid": "saturated", "relu": "dead", "leaky_relu": "dead"}


def neuron_health(trainer: Trainer, forward: Workspace | None = None) -> JSON:
    """How many hidden neurons have stopped learning on the training split: `{"hidden", "stopped",
    "kind"}` (kind `saturated` for tanh and sigmoid, `dead` for ReLU, null for linear). One forward
    pass and the engine's own slopes (`kernels.passes.hidden_slopes`, what the inspector shows as
    f′(z)) over the split; nothing is recomputed here but the counting. `forward`: a workspace
    holding that pass already (`evaluate_split`'s, at the current weights); made here when None."""
    network = trainer.network
    layout = network.layout
    inputs = as_rows(trainer.dataset.train.inputs)
    rows = inputs.shape[0]
    hidden = int(sum(layout.layer_sizes[1:-1]))
    kind = STOPPED_KIND.get(trainer.config.activation)
    if kind is None or hidden == 0 or rows == 0:
        return {"hidden": hidden, "stopped": 0, "kind": kind}
    workspace = forward
    with np.errstate(all="ignore"):
        if workspace is None:
            workspace = Workspace(layout, rows)
            forward_pass(layout.table, network.codes, network.parameters, inputs, rows, workspace.z_buffer,
                         workspace.a_buffer)
        slopes = np.zeros_like(workspace.z_buffer)  # f′(z) blocks, laid out like z
        hidden_slopes(layout.table, network.codes, rows, rows, workspace.z_buffer, workspace.a_buffer, slopes)
    stopped = 0
    for layer in range(network.depth - 1):
        block = workspace.block(slopes, layer, rows)  # (rows, n_out)
        flat = np.mean(~(np.abs(block) >= STOPPED_SLOPE), axis=0)  # (n_out,) share of samples, NaN counts
        stopped += int(np.count_nonzero(flat >= STOPPED_SHARE))
    return {"hidden": hidden, "stopped": stopped, "kind": kind}


class SplitWorkspaces:
    """A workspace per split kept between a playing session's refreshes (`metrics_and_health`),
    made again when the network or the split's size changes."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[ParameterLayout, Workspace]] = {}

    def of(self, trainer: Trainer) -> dict[str, Workspace]:
        """"train" and "test": each made for the trainer's network and the split's rows."""
        layout = trainer.network.layout
        out: dict[str, Workspace] = {}
        for name, split in (("train", trainer.dataset.train), ("test", trainer.dataset.test)):
            kept = self._kept.get(name)
            if kept is None or kept[0] is not layout or kept[1].capacity != split.size:
                kept = self._kept[name] = (layout, Workspace(layout, split.size))
            out[name] = kept[1]
        return out


def metrics_and_health(trainer: Trainer, workspaces: SplitWorkspaces) -> tuple[JSON, JSON]:
    """`views.trainer_metrics` and `neuron_health` together, the training split's forward pass
    made once for both, in kept workspaces: a playing session re-evaluates them several times
    a second."""
    kept = workspaces.of(trainer)
    metrics = views.metrics_view(trainer.network, trainer.loss, trainer.dataset, kept)
    return metrics, neuron_health(trainer, kept["train"])


def params(trainer: Trainer) -> JSON:
    layout = trainer.network.layout
    return {"layers": views.layers_view(layout, trainer.network.parameters.copy())}


def gradients(trainer: Trainer) -> JSON:
    """∂objective/∂θ on the whole training split at the current weights."""
    data_loss, value, gradient = objective(trainer).gradient()
    return {
        "loss": views.finite_or_none(data_loss),
        "objective": views.finite_or_none(value),
        "layers": views.layers_view(trainer.network.layout, gradient),
    }


def sample_trace(trainer: Trainer, split: str, index: int, location: tuple[str, ...]) -> SampleTrace:
    """One sample's forward and backward pass; `InvalidInput` at `location` if there is no such row."""
    data = trainer.dataset.train if split == "train" else trainer.dataset.test
    if not 0 <= index < data.size:
        raise InvalidInput(
            location,
            f"index: {index} is outside the {split} split (0…{data.size - 1})",
            code="out_of_range",
            params={"value": index, "low": 0, "high": data.size - 1, "low_open": False},
        )
    return probe_sample(trainer.network, trainer.loss, data.inputs[index], data.targets[index], split, index)


def parameter_index(trainer: Trainer, layer: int, kind: str, i: int, j: int) -> int:
    try:
        return trainer.network.layout.index_of(layer, kind, i, j)
    except (IndexError, ValueError) as error:
        raise InvalidInput(
            ("layer",),
            f"no such parameter: {error}",
            code="no_such_parameter",
            params={"layer": layer, "kind": kind, "i": i, "j": j},
        ) from None


def _check_view(result: ParameterCheck, scope: str, samples: int) -> JSON:
    return {
        "scope": scope,
        "samples": samples,
        "backprop": views.finite_or_none(result.backprop),
        "numerical": views.finite_or_none(result.numerical),
        "relative_error": views.finite_or_none(result.relative_error),
        "forward_passes": result.forward_passes,
    }


def parameter_check(trainer: Trainer, layer: int, kind: str, i: int, j: int, split: str = "train",
                    index: int = 0) -> JSON:
    """Backprop against central differences for one parameter, at two scopes, each comparing
    like with like (the analytic derivative of exactly the function the differences perturb):
    the whole training split's objective (data loss + penalty; the top-level numbers, what the
    gradient check and the REST gradients use) and, under `sample`, the data loss of the one
    sample the inspector shows (`split`, `index`; no penalty, as its trace). Four forward passes."""
    flat = parameter_index(trainer, layer, kind, i, j)
    whole = _check_view(check_parameter(objective(trainer), flat), "train", trainer.dataset.train.size)
    data = trainer.dataset.train if split == "train" else trainer.dataset.test
    one = Objective(trainer.network, trainer.loss, data.inputs[index:index + 1], data.targets[index:index + 1],
                    "none", 0.0)
    sample = {**_check_view(check_parameter(one, flat), "sample", 1), "split": split, "index": index}
    return {"layer": layer, "kind": kind, "i": i, "j": j if kind == "weight" else None, **whole, "sample": sample}
