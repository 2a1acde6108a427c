"""Sessions over REST (docs/api.md, "The session"): create, list, read, train, configure, reset,
delete; parameters, gradients, the data set and one sample's trace as NumPy arrays; the gradient
check; a share code and a fork.

    from backprop_lab.client import Client
    with Client() as lab:
        session = lab.sessions.create(dataset="spiral", hidden_layers=[8, 8], seed=1)
        session = lab.sessions.step(session.id, 500)
        layers = lab.sessions.params(session.id)      # [Layer(weights (n_in, n_out), biases (n_out,)), …]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_lab.client.arrays import Layer, floats, ints, layers_json, layers_of
from backprop_lab.client.transport import Transport

PATH = "/api/v1/sessions"
# module-level names for annotations inside `Sessions`, whose method `list` hides the builtin there
Layers = list[Layer]
LayerPairs = list[Layer] | list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class SessionView:
    """A session as the server answers it: `POST /api/v1/sessions`, `GET …/{id}`, `…/step`, ….

    `metrics` are evaluated on whole splits at the current weights: `train_loss`, `test_loss`
    (data loss, no penalty), `train_accuracy`, `test_accuracy`, `test_confusion` when classifying,
    `train_rmse`, `test_rmse`, `train_r2`, `test_r2` for regression (None: overflowed or not
    this kind of task). `diverged` is set while the session is diverged (`state` "diverged"):
    `{"step", "cause", "learning_rate", "message"}`. `raw` is the whole answer, fields this
    client does not know yet included."""

    id: str
    config: dict[str, Any]
    step: int
    epoch: int
    state: str
    metrics: dict[str, Any]
    diverged: dict[str, Any] | None
    parameters: int
    layer_sizes: list[int]
    raw: dict[str, Any]

    @classmethod
    def of(cls, body: dict[str, Any]) -> SessionView:
        return cls(body["id"], body["config"], body["step"], body["epoch"], body["state"], body["metrics"],
                   body.get("diverged"), body["parameters"], body["layer_sizes"], body)


@dataclass(frozen=True)
class SessionSummary:
    """One line of `GET /api/v1/sessions`: enough to find a session again (by its config, its
    creation time, its step), without evaluating its metrics. `created` is ISO 8601, UTC."""

    id: str
    created: str
    config: dict[str, Any]
    step: int
    epoch: int
    state: str
    parameters: int
    layer_sizes: list[int]
    owner: str
    raw: dict[str, Any]

    @classmethod
    def of(cls, body: dict[str, Any]) -> SessionSummary:
        return cls(body["id"], body["created"], body["config"], body["step"], body["epoch"], body["state"],
                   body["parameters"], body["layer_sizes"], body["owner"], body)


@dataclass(frozen=True)
class Gradients:
    """∂objective/∂W and ∂objective/∂b on the whole training split at the current weights
    (the weights are not updated): one `Layer` per weighted layer, each gradient in the shape of
    its parameter (weights (n_in, n_out)). `loss` is the data loss, `objective` adds the
    regularisation penalty."""

    loss: float
    objective: float
    layers: list[Layer]


@dataclass(frozen=True)
class Split:
    """One split of a session's data set. `inputs` (n, n_inputs) are what the network is fed
    (after the feature transforms), `targets` (n, K) one-hot rows or (n, 1) values, `points`
    (n, 2) where each sample is drawn, `labels` (n,) class indices (None for regression)."""

    points: np.ndarray  # (n, 2)
    inputs: np.ndarray  # (n, n_inputs)
    targets: np.ndarray  # (n, K) or (n, 1)
    labels: np.ndarray | None  # (n,)


@dataclass(frozen=True)
class DataSet:
    """A session's data, as `GET …/dataset` answers: the names of the network's inputs
    (`features`), the number of classes (None for regression) and both splits."""

    name: str
    regression: bool
    features: list[str]
    classes: int | None
    class_names: list[str] | None
    train: Split
    test: Split
    raw: dict[str, Any]


@dataclass(frozen=True)
class TraceLayer:
    """One weighted layer of one sample's forward and backward pass: z, a = f(z), δ = ∂loss/∂z
    (each (n_out,)), ∂loss/∂W (n_in, n_out) and ∂loss/∂b (n_out,) of that sample's data loss,
    and f′(z) for hidden layers (None for the output layer, whose δ comes from the loss)."""

    pre_activations: np.ndarray  # (n_out,)
    activations: np.ndarray  # (n_out,)
    deltas: np.ndarray  # (n_out,)
    weight_gradients: np.ndarray  # (n_in, n_out)
    bias_gradients: np.ndarray  # (n_out,)
    derivatives: np.ndarray | None  # (n_out,)


@dataclass(frozen=True)
class SampleTrace:
    """`GET …/trace`: one sample's inputs, targets, the network's outputs and data loss, and
    each layer's numbers (`TraceLayer`)."""

    split: str
    index: int
    inputs: np.ndarray
    targets: np.ndarray
    outputs: np.ndarray
    loss: float
    layers: list[TraceLayer]


def _number(value: float | None) -> float:
    return float("nan") if value is None else float(value)


class Sessions:
    """The `/api/v1/sessions` resource. Every method raises `ApiError` for a refusal: 404
    (`code` None) for an unknown or expired session, 422 naming the field, 429 at a cap."""

    def __init__(self, transport: Transport):
        self.transport = transport

    # --- the session -------------------------------------------------------------------------
    def create(self, config: dict[str, Any] | None = None, **fields: Any) -> SessionView:
        """A new session. Every config field is optional (docs/api.md, "The config"): pass them
        as a dict, as keywords, or both (keywords win); the rest take the page's defaults."""
        body = {**(config or {}), **fields}
        return SessionView.of(self.transport.json("POST", PATH, json=body))

    def list(self) -> list[SessionSummary]:
        """The caller's own live sessions, oldest first (in classroom mode a student sees only
        theirs, the teacher every one): how a script that crashed finds its session again."""
        return [SessionSummary.of(entry) for entry in self.transport.json("GET", PATH)["sessions"]]

    def get(self, session_id: str) -> SessionView:
        return SessionView.of(self.transport.json("GET", f"{PATH}/{session_id}"))

    def step(self, session_id: str, steps: int = 1, record_every: int | None = None) -> SessionView:
        """Train `steps` mini-batch steps (0 … the server's cap) in one request, then answer with
        the session. One request may train for about 10 s at most: more is a 429 `takes_too_long`
        whose `params` give the estimate; `train` splits long runs for you (or submit a training
        job, `Client.jobs`). `record_every`: the history records the metrics at exactly the
        multiples of it while this request trains (docs/api.md, "History")."""
        body: dict[str, Any] = {"steps": steps}
        if record_every is not None:
            body["record_every"] = record_every
        return SessionView.of(self.transport.json("POST", f"{PATH}/{session_id}/step", json=body))

    def train(self, session_id: str, steps: int, chunk: int = 5_000, record_every: int | None = None) -> SessionView:
        """Train `steps` steps in requests of at most `chunk` steps each (bit-identical to one
        request: the engine gives the same weights however steps are split). Stops early when the
        session diverges; answers with the session as it ended."""
        if steps < 0 or chunk < 1:
            raise ValueError("steps must be ≥ 0 and chunk ≥ 1")
        session = self.get(session_id)
        left = steps
        while left > 0 and session.state != "diverged":
            now = min(chunk, left)
            session = self.step(session_id, now, record_every)
            left -= now
        return session

    def configure(self, session_id: str, changes: dict[str, Any] | None = None, **fields: Any) -> SessionView:
        """Change config fields live (`PATCH …/config`): hyperparameters (learning rate, batch
        size, optimiser, regularisation, loss) keep the weights; data and architecture changes
        re-initialise from the seed at step 0."""
        body = {**(changes or {}), **fields}
        return SessionView.of(self.transport.json("PATCH", f"{PATH}/{session_id}/config", json=body))

    def reset(self, session_id: str) -> SessionView:
        """Back to this config's initial weights: step 0, a fresh optimiser."""
        return SessionView.of(self.transport.json("POST", f"{PATH}/{session_id}/reset"))

    def delete(self, session_id: str) -> None:
        """End the session and close its sockets (idle sessions also expire on their own)."""
        self.transport.request("DELETE", f"{PATH}/{session_id}")

    # --- weights, gradients, data --------------------------------------------------------------
    def params(self, session_id: str) -> Layers:
        """Every weight and bias, one `Layer` per weighted layer (hidden layers, then the output
        layer): `weights` (n_in, n_out), inputs × outputs, `biases` (n_out,), float64, exactly the
        numbers of `GET …/params`. For PyTorch's `nn.Linear`, use `weights.T`."""
        return layers_of(self.transport.json("GET", f"{PATH}/{session_id}/params"))

    def set_params(self, session_id: str, layers: LayerPairs) -> Layers:
        """Set every weight and bias (`PUT …/params`) from (weights (n_in, n_out), biases (n_out,))
        pairs in the shapes `params` gives; answers with the parameters as the server now has them.
        A layer count or shape that does not fit is a 422 `wrong_shape` naming the layer."""
        return layers_of(self.transport.json("PUT", f"{PATH}/{session_id}/params", json=layers_json(layers)))

    def gradients(self, session_id: str) -> Gradients:
        """∂objective/∂θ on the whole training split at the current weights, in the layout of
        `params` (weights' gradients (n_in, n_out))."""
        body = self.transport.json("GET", f"{PATH}/{session_id}/gradients")
        return Gradients(_number(body["loss"]), _number(body["objective"]), layers_of(body))

    def dataset(self, session_id: str) -> DataSet:
        """The session's data as arrays: what the network is fed and what it should answer."""
        body = self.transport.json("GET", f"{PATH}/{session_id}/dataset")

        def split(part: dict[str, Any]) -> Split:
            labels = part.get("labels")
            return Split(floats(part["points"]), floats(part["inputs"]), floats(part["targets"]),
                         None if labels is None else ints(labels))

        return DataSet(body["name"], body["regression"], body["features"], body["classes"], body.get("class_names"),
                       split(body["train"]), split(body["test"]), body)

    def trace(self, session_id: str, split: str = "train", index: int = 0) -> SampleTrace:
        """One sample's forward and backward pass at the current weights (`GET …/trace`): the
        gradients are of its data loss, without the penalty. An index outside the split is a 422."""
        body = self.transport.json("GET", f"{PATH}/{session_id}/trace", params={"split": split, "index": index})
        layers = [
            TraceLayer(floats(layer["pre_activations"]), floats(layer["activations"]), floats(layer["deltas"]),
                       floats(layer["weight_gradients"]), floats(layer["bias_gradients"]),
                       None if layer.get("derivatives") is None else floats(layer["derivatives"]))
            for layer in body["layers"]
        ]
        return SampleTrace(body["split"], body["index"], floats(body["inputs"]), floats(body["targets"]),
                           floats(body["outputs"]), _number(body["loss"]), layers)

    def gradient_check(self, session_id: str) -> dict[str, Any]:
        """Backprop against central differences for every parameter (docs/api.md, "The gradient
        check"): `max_relative_error`, `parameters` (P), `numerical_forward_passes` (2P), both
        times, `speedup` and the `worst` parameter. A network too large to check within a
        request is a 429 `takes_too_long`."""
        return self.transport.json("POST", f"{PATH}/{session_id}/gradient-check")

    # --- sharing -------------------------------------------------------------------------------
    def share(self, session_id: str) -> dict[str, Any]:
        """The session's read-only share code: `{"code", "spoken", "url", "viewers"}`."""
        return self.transport.json("POST", f"{PATH}/{session_id}/share")

    def fork(self, code: str) -> SessionView:
        """A new session of your own in a shared session's current state (weights, optimiser,
        data order, step), training independently from there."""
        return SessionView.of(self.transport.json("POST", f"/api/v1/shares/{code}/fork"))
