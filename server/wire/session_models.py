"""Wire models of a session's REST resources (docs/api.md, "Sessions"): the session, its metrics,
weights, gradients, data, trace and gradient check, a share, an upload.

Responses are built as plain dicts by `server.wire.views` and encoded by
`server.wire.protocol.encode` (NumPy arrays straight to JSON, never NaN); the response models
here document their shape, and the tests validate every response against them. Numbers that
are computed from the weights (losses, gradients, activations) are nullable: they are `null`
when a huge weight made them overflow, because JSON has no NaN or Infinity.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from backprop_lab.server.wire.config_models import ConfigOut, MaybeNumber, Number, SplitName, StateName, _Input

MAX_STEPS_PER_REQUEST = 1_000_000  # the schemas' upper bound for `steps`; settings may lower it
HISTORY_POINTS = 2000  # the most metric points a session's history (and so a saved run) keeps
REQUEST_POINTS = 200  # a `step` request without `record_every` records at most this many


class Metrics(BaseModel):
    """Evaluated on whole splits at the current weights (not a running average of batches)."""

    train_loss: MaybeNumber
    test_loss: MaybeNumber
    train_accuracy: MaybeNumber = Field(default=None, description="Classification only.")
    test_accuracy: MaybeNumber = Field(default=None, description="Classification only.")
    train_rmse: MaybeNumber = Field(default=None, description="Regression only.")
    test_rmse: MaybeNumber = Field(default=None, description="Regression only.")
    train_r2: MaybeNumber = Field(default=None, description="Regression only.")
    test_r2: MaybeNumber = Field(default=None, description="Regression only.")
    test_confusion: list[list[int]] | None = Field(
        default=None,
        description="Classification only: the test split's K×K confusion matrix (row = true class, "
        "column = predicted class).",
    )


class DivergedOut(BaseModel):
    """Why a session stopped: the step whose loss or weights would have become non-finite (not taken)."""

    step: int = Field(description="The step whose loss or weights became non-finite (not taken).")
    cause: Literal["loss", "weights"]
    learning_rate: float
    message: str


class SessionOut(BaseModel):
    """A session: its config, where training stands, its state and metrics on whole splits."""

    id: str
    config: ConfigOut
    step: int
    epoch: int
    state: StateName
    metrics: Metrics
    diverged: DivergedOut | None = Field(description="Set while the session is diverged.")
    parameters: int = Field(description="Weights and biases of the network.")
    layer_sizes: list[int] = Field(description="Inputs, hidden layers, outputs.")


class SessionListedOut(BaseModel):
    """One live session in `GET /api/v1/sessions`: what finds it again, without evaluating its
    metrics (read them with `GET /api/v1/sessions/{id}`)."""

    id: str
    created: str = Field(description="When it was created (or forked, or opened from a run): ISO 8601, UTC.")
    config: ConfigOut
    step: int = Field(description="Steps trained when listed (a playing session is already further).")
    epoch: int
    state: StateName
    parameters: int = Field(description="Weights and biases of the network.")
    layer_sizes: list[int] = Field(description="Inputs, hidden layers, outputs.")
    owner: str = Field(description="Whose it is: `teacher`, or a student's id (GET /api/v1/identity).")


class SessionListOut(BaseModel):
    """The caller's own live sessions, oldest first: a student's only theirs, the teacher's every one."""

    sessions: list[SessionListedOut]


class ShareOut(BaseModel):
    """A session's share code: what a presenter reads aloud, and where the class goes."""

    code: str = Field(description="Six characters without look-alikes, e.g. KXM47P; typed in any case, "
                      "with or without spaces and dashes.")
    spoken: str = Field(description="The code in two groups of three, as the page shows it: KXM 47P.")
    url: str = Field(description="The viewer page, at this server's address for students (its LAN address "
                     "in classroom mode).")
    viewers: int = Field(description="Viewers watching now.")
    local_only: bool = Field(description="True when `url` is this machine's loopback address (the server was "
                             "started on 127.0.0.1, the default): no other machine opens it. Started with "
                             "`--host 0.0.0.0`, the server listens on the school network and `url` is its LAN "
                             "address.")


class StepIn(_Input):
    """How many steps to train, and how often the history records the metrics meanwhile."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"steps": 20000, "record_every": 100}]})

    steps: Annotated[int, Field(ge=0, le=MAX_STEPS_PER_REQUEST)] = 1
    record_every: int | None = Field(
        default=None, ge=1, le=MAX_STEPS_PER_REQUEST,
        description="Record the metrics of whole splits in the history at every step that is a multiple of "
        "this, and at no other step while the request trains. Left out: the smallest power of two that gives "
        f"the request at most {REQUEST_POINTS} points. The history keeps at most {HISTORY_POINTS:,} points; when "
        "full, its spacing doubles, so they stay evenly spread (docs/api.md, \"History\").",
    )


class LayerParams(_Input):
    """One weighted layer: `weights` n_in rows of n_out (inputs × outputs: z = a_prev @ W + b), `biases` n_out."""

    weights: list[list[Number]] = Field(description="n_in × n_out")
    biases: list[Number] = Field(description="n_out")


class ParamsBody(_Input):
    """Every weighted layer's weights and biases, the hidden layers first, in the shape `GET …/params` answers."""

    layers: list[LayerParams]


class ParamsOut(BaseModel):
    """Every weighted layer's weights and biases, the hidden layers first (float64)."""

    layers: list[LayerParams]


class LayerValues(BaseModel):
    """One layer's numbers in the shape of its weights (n_in × n_out) and biases (n_out); null where a value
    overflowed."""

    weights: list[list[MaybeNumber]]
    biases: list[MaybeNumber]


class GradientsOut(BaseModel):
    """Gradients of the objective on the whole training split at the current weights."""

    loss: MaybeNumber = Field(description="Data loss on the whole training split.")
    objective: MaybeNumber = Field(description="Data loss + regularisation penalty.")
    layers: list[LayerValues] = Field(description="∂objective/∂W and ∂objective/∂b per layer.")


class SplitOut(BaseModel):
    """One split of the data set, as drawn and as the network is fed."""

    points: list[list[float]] = Field(description="(n, 2) where each sample is drawn.")
    inputs: list[list[float]] = Field(description="(n, n_inputs) what the network is fed.")
    targets: list[list[float]] = Field(description="(n, K) one-hot, or (n, 1) values.")
    labels: list[int] | None = Field(description="Class index per sample; null for regression.")


class DatasetOut(BaseModel):
    """A session's data set: its names, kind, extent and both splits."""

    name: str
    regression: bool = Field(description="A regression set (linear output, mse); else classification.")
    features: list[str] = Field(description="Names of the network's inputs.")
    classes: int | None
    class_names: list[str] | None
    planar: bool = Field(description="True when inputs are features of the plotted points.")
    extent: list[float] = Field(description="[x1_min, x1_max, x2_min, x2_max] of the plane shown.")
    train: SplitOut
    test: SplitOut


class TraceLayer(BaseModel):
    """One weighted layer of one sample's forward and backward pass."""

    pre_activations: list[MaybeNumber]
    activations: list[MaybeNumber]
    deltas: list[MaybeNumber] = Field(description="∂loss/∂z of this sample.")
    weight_gradients: list[list[MaybeNumber]]
    bias_gradients: list[MaybeNumber]
    derivatives: list[MaybeNumber] | None = Field(
        default=None,
        description="f′(z) of each neuron (hidden layers only: softmax's derivative is a Jacobian, so the "
        "output layer has none; its deltas come from the loss).",
    )


class TraceOut(BaseModel):
    """One sample's forward and backward pass at the current weights."""

    split: SplitName
    index: int
    inputs: list[float]
    targets: list[float]
    outputs: list[MaybeNumber]
    loss: MaybeNumber = Field(description="This sample's data loss (no regularisation).")
    layers: list[TraceLayer]


class ParameterRef(BaseModel):
    """One parameter: W[layer][i, j] (`kind` weight) or b[layer][i] (`kind` bias, `j` null)."""

    layer: int
    kind: Literal["weight", "bias"]
    i: int
    j: int | None


class GradientCheckOut(BaseModel):
    """Backprop against central differences for every parameter, both timed."""

    max_relative_error: MaybeNumber = Field(description="max |a − n| / max(|a| + |n|, 1e-8)")
    parameters: int = Field(description="P")
    numerical_forward_passes: int = Field(description="2P: central differences")
    backprop_seconds: float = Field(description="One forward and one backward pass.")
    numerical_seconds: float
    speedup: MaybeNumber = Field(description="numerical_seconds / backprop_seconds")
    worst: ParameterRef = Field(description="The parameter with the largest error.")


class UploadOut(BaseModel):
    """An uploaded CSV, now a data set a config may name by its `id`."""

    id: str = Field(description="Use it as `dataset` in a config.")
    name: str
    features: list[str]
    target: str
    regression: bool = Field(description="The engine's decision, from the target column's values.")
    classes: int | None
    class_names: list[str] | None
    rows: int
