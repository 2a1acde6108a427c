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
    step: int = Field(description="The step whose loss or weights became non-finite (not taken).")
    cause: Literal["loss", "weights"]
    learning_rate: float
    message: str


class SessionOut(BaseModel):
    id: str
    config: ConfigOut
    step: int
    epoch: int
    state: StateName
    metrics: Metrics
    diverged: DivergedOut | None = Field(description="Set while the session is diverged.")
    parameters: int = Field(description="Weights and biases of the network.")
    layer_sizes: list[int] = Field(description="Inputs, hidden layers, outputs.")


class ShareOut(BaseModel):
    """A session's share code: what a presenter reads aloud, and where the class goes."""

    code: str = Field(description="Six characters without look-alikes, e.g. KXM47P; typed in any case, "
                      "with or without spaces and dashes.")
    spoken: str = Field(description="The code in two groups of three, as the page shows it: KXM 47P.")
    url: str = Field(description="The viewer page, at this server's address for students (its LAN address "
                     "in classroom mode).")
    viewers: int = Field(description="Viewers watching now.")


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
    weights: list[list[Number]] = Field(description="n_in × n_out")
    biases: list[Number] = Field(description="n_out")


class ParamsBody(_Input):
    layers: list[LayerParams]


class ParamsOut(BaseModel):
    layers: list[LayerParams]


class LayerValues(BaseModel):
    weights: list[list[MaybeNumber]]
    biases: list[MaybeNumber]


class GradientsOut(BaseModel):
    loss: MaybeNumber = Field(description="Data loss on the whole training split.")
    objective: MaybeNumber = Field(description="Data loss + regularisation penalty.")
    layers: list[LayerValues] = Field(description="∂objective/∂W and ∂objective/∂b per layer.")


class SplitOut(BaseModel):
    points: list[list[float]] = Field(description="(n, 2) where each sample is drawn.")
    inputs: list[list[float]] = Field(description="(n, n_inputs) what the network is fed.")
    targets: list[list[float]] = Field(description="(n, K) one-hot, or (n, 1) values.")
    labels: list[int] | None = Field(description="Class index per sample; null for regression.")


class DatasetOut(BaseModel):
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
    split: SplitName
    index: int
    inputs: list[float]
    targets: list[float]
    outputs: list[MaybeNumber]
    loss: MaybeNumber = Field(description="This sample's data loss (no regularisation).")
    layers: list[TraceLayer]


class ParameterRef(BaseModel):
    layer: int
    kind: Literal["weight", "bias"]
    i: int
    j: int | None


class GradientCheckOut(BaseModel):
    max_relative_error: MaybeNumber = Field(description="max |a − n| / max(|a| + |n|, 1e-8)")
    parameters: int = Field(description="P")
    numerical_forward_passes: int = Field(description="2P: central differences")
    backprop_seconds: float = Field(description="One forward and one backward pass.")
    numerical_seconds: float
    speedup: MaybeNumber = Field(description="numerical_seconds / backprop_seconds")
    worst: ParameterRef = Field(description="The parameter with the largest error.")


class UploadOut(BaseModel):
    id: str = Field(description="Use it as `dataset` in a config.")
    name: str
    features: list[str]
    target: str
    regression: bool = Field(description="The engine's decision, from the target column's values.")
    classes: int | None
    class_names: list[str] | None
    rows: int
