"""Wire models of REST API v1 (docs/api.md), and the one place a wire config becomes a `Config`.

These pydantic models are the API's contract: FastAPI validates requests with them and the
OpenAPI document at `/openapi.json` is generated from them. They are separate from the
engine's objects on purpose: the engine knows nothing of HTTP, and the wire can grow fields
without touching the engine.

Responses are built as plain dicts by `server.wire.views` and encoded by `server.wire.protocol.encode`
(NumPy arrays straight to JSON, never NaN); the response models here document their shape,
and the tests validate every response against them. Numbers that are computed from the
weights (losses, gradients, activations) are nullable: they are `null` when a huge weight made
them overflow, because JSON has no NaN or Infinity.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backprop_lab.engine.config import Config
from backprop_lab.engine.features import FEATURES
from backprop_lab.server.settings import MAX_STEPS_PER_REQUEST

_DEFAULTS = Config()

# The engine's registries, spelled out so the OpenAPI document and type checkers see them;
# tests/server/test_schemas.py keeps the two in step.
FeatureName = Literal["x1", "x2", "x1_squared", "x2_squared", "x1_x2", "sin_x1", "sin_x2"]
ActivationName = Literal["linear", "sigmoid", "tanh", "relu", "leaky_relu"]
LossName = Literal["mse", "cross_entropy"]
OptimizerName = Literal["sgd", "momentum", "adam"]
RegularizationName = Literal["none", "l1", "l2"]
InitName = Literal["xavier", "he", "uniform"]
StateName = Literal["idle", "running", "paused", "diverged", "closed"]
SplitName = Literal["train", "test"]
DatasetName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="A built-in data set (see /api/v1/options) or the id of an uploaded CSV.",
    ),
]
Number = Annotated[float, Field(allow_inf_nan=False)]
MaybeNumber = float | None  # null: the value overflowed (JSON has no NaN or Infinity)


class _Input(BaseModel):
    """Request bodies: unknown fields are refused (a typo should not pass silently), and
    non-finite numbers (JSON has none, but `NaN` or `1e999` parse to them) are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ConfigIn(_Input):
    """A training configuration. Every field is optional: creating a session fills the rest
    from these defaults (the UI's, equal to the engine's `Config()`); PATCHing changes only the
    fields given."""

    dataset: DatasetName = _DEFAULTS.dataset
    samples: Annotated[int, Field(ge=2, le=1_000_000_000, description="Points of a generated set (train + test).")] = (
        _DEFAULTS.samples
    )
    noise: Annotated[float, Field(ge=0.0, le=0.5, description="Fraction of the set's scale.")] = _DEFAULTS.noise
    train_ratio: Annotated[float, Field(ge=0.1, le=0.9)] = _DEFAULTS.train_ratio
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = _DEFAULTS.seed
    features: Annotated[list[FeatureName], Field(min_length=1, max_length=len(FEATURES))] = ["x1", "x2"]
    hidden_layers: Annotated[list[Annotated[int, Field(ge=1)]], Field(max_length=64)] = list(
        _DEFAULTS.hidden_layers
    )
    activation: ActivationName = "tanh"
    loss: LossName | None = Field(
        default=None, description="null (the default) follows the data set: cross_entropy or mse."
    )
    optimizer: OptimizerName = "sgd"
    learning_rate: Annotated[float, Field(gt=0.0, le=1000.0)] = _DEFAULTS.learning_rate
    momentum: Annotated[float, Field(ge=0.0, lt=1.0)] = _DEFAULTS.momentum
    batch_size: Annotated[int, Field(ge=1, le=1_000_000_000)] = _DEFAULTS.batch_size
    regularization: RegularizationName = "none"
    regularization_rate: Annotated[float, Field(ge=0.0, le=10.0)] = _DEFAULTS.regularization_rate
    init: InitName = "xavier"


def to_engine_config(changes: ConfigIn, base: Config) -> Config:
    """The one place a wire config becomes the engine's `Config`: the fields the client sent,
    applied to `base` (the defaults when creating, the session's config when patching).
    Range checks that need the data set (a loss that does not fit it, an unknown data set)
    are the engine's, in `validate_config`."""
    return base.replace(**changes.model_dump(exclude_unset=True))


class ConfigOut(BaseModel):
    """The full configuration of a session; `loss` is resolved (never null)."""

    dataset: str
    samples: int
    noise: float
    train_ratio: float
    seed: int
    features: list[str]
    hidden_layers: list[int]
    activation: str
    loss: str
    optimizer: str
    learning_rate: float
    momentum: float
    batch_size: int
    regularization: str
    regularization_rate: float
    init: str


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
    steps: Annotated[int, Field(ge=0, le=MAX_STEPS_PER_REQUEST)] = 1


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


MAX_SURFACE_RESOLUTION = 101
WeightAddress = Annotated[list[Annotated[int, Field(ge=0, le=1_000_000)]], Field(min_length=3, max_length=3)]


class SurfaceIn(_Input):
    """A 2-D slice of the data loss on the training split around the current weights."""

    directions: Literal["weights", "random", "pca"] = Field(
        default="weights",
        description="weights: two chosen weights moved by ±span in weight units; random: two random "
        "filter-normalised directions (Li et al. 2018) from `seed`; pca: the top two principal directions "
        "of the recorded trajectory.",
    )
    resolution: Annotated[int, Field(ge=3, le=MAX_SURFACE_RESOLUTION, description="Grid points per axis.")] = 41
    span: Annotated[float, Field(gt=0.0, le=100.0, description="The axes run from −span to +span.")] = 1.0
    weights: Annotated[list[WeightAddress], Field(min_length=2, max_length=2)] | None = Field(
        default=None,
        description="`weights` directions only: [[layer, i, j], [layer, i, j]], W[layer][i, j]; default: the "
        "two weights with the largest gradient of the objective.",
    )
    seed: Annotated[int, Field(ge=0, le=2**63 - 1, description="`random` directions only.")] = 0


class SurfaceOut(BaseModel):
    x: list[float] = Field(description="α of each row of `loss`, from −span to +span.")
    y: list[float] = Field(description="β of each column of `loss`.")
    loss: list[list[MaybeNumber]] = Field(
        description="resolution × resolution data losses: loss[i][j] at θ + x[i]·d₁ + y[j]·d₂."
    )
    center_loss: MaybeNumber = Field(description="The data loss at the current weights, the slice's centre.")
    trajectory: list[list[float]] = Field(
        description="The recorded weights projected on the plane (least squares), oldest first; the last "
        "point is the current weights, (0, 0)."
    )
    trajectory_steps: list[int] = Field(description="The step of each trajectory point.")
    directions: list[ParamsOut] = Field(description="d₁ and d₂ in the shape of params.")
    kind: Literal["weights", "random", "pca"]
    weights: list[list[int]] | None = Field(description="The two weights of `weights` directions.")
    explained_variance: list[float] | None = Field(
        description="`pca`: the share of the trajectory's variance along d₁ and d₂."
    )
    seed: int | None = Field(description="`random`: the seed the directions were drawn from.")
    span: float
    resolution: int
    step: int = Field(description="The step of the weights at the centre.")
    surface_id: int = Field(description="Frames carry `surface_point` on the latest surface of this id.")
    seconds: float = Field(description="Time the grid took to compute.")


class UploadOut(BaseModel):
    id: str = Field(description="Use it as `dataset` in a config.")
    name: str
    features: list[str]
    target: str
    regression: bool = Field(description="The engine's decision, from the target column's values.")
    classes: int | None
    class_names: list[str] | None
    rows: int


class DatasetOption(BaseModel):
    name: str
    kind: Literal["classification", "regression"]
    regression: bool = Field(description="The engine's decision: a linear output and mse (else softmax, K classes).")
    tabular: bool = Field(description="A table fed all its columns (features do not apply).")
    classes: int | None
    planar: bool


class LimitsOut(BaseModel):
    max_sessions: int
    max_parameters: int
    max_rows: int
    max_columns: int
    max_hidden_layers: int
    max_neurons: int
    max_steps_per_request: int
    max_body_bytes: int
    max_message_bytes: int
    max_messages_per_second: int
    max_sockets_per_session: int
    max_viewers_per_session: int
    max_sockets: int = Field(description="WebSockets open at once, server-wide.")
    max_uploads: int = Field(description="Uploaded tables kept at once, server-wide.")
    max_surfaces: int = Field(description="Loss surfaces computed or waiting at once, server-wide.")
    max_sweeps: int = Field(description="Sweeps and range tests running at once, server-wide.")
    max_races: int = Field(description="Live learning-rate races running at once, server-wide.")
    max_checks: int = Field(description="Whole-network gradient checks computing at once, server-wide.")


class QuotaShareOut(BaseModel):
    student: int = Field(description="What one student may hold (or send per second) at once.")
    address: int = Field(description="What one source address may: a class behind one router shares it.")


class QuotasOut(BaseModel):
    enforced: bool = Field(description="Shares apply in classroom mode; otherwise only the server's caps do.")
    reserve: float = Field(description="The fraction of each server-wide cap kept for students who hold none yet.")
    shares: dict[str, QuotaShareOut] = Field(
        description="By resource: sessions, sockets, uploads, surfaces, sweeps, races, checks, saved_runs, "
        "stored_megabytes, messages_per_second (docs/reliability.md, \"Quotas\")."
    )


Bound = int | float | None  # null: unbounded on that side


class UiRange(BaseModel):
    """What the page's control offers, inside the API's range."""

    min: Bound
    max: Bound
    step: Bound = Field(description="null: any value.")
    presets: list[int | float] | None = None


class NumberRange(BaseModel):
    """A numeric field's range: the API refuses values outside [min, max] (422; an exclusive
    side refuses the bound itself), and `cap` is this server's limit (429 past it)."""

    min: Bound
    max: Bound
    min_exclusive: bool
    max_exclusive: bool
    integer: bool
    cap: int | None
    ui: UiRange


class RangesOut(BaseModel):
    samples: NumberRange
    noise: NumberRange = Field(description="A fraction; the page shows it as a percentage.")
    train_ratio: NumberRange
    seed: NumberRange
    learning_rate: NumberRange
    momentum: NumberRange
    batch_size: NumberRange
    regularization_rate: NumberRange
    hidden_layers: NumberRange = Field(description="How many hidden layers.")
    neurons: NumberRange = Field(description="Neurons in one hidden layer.")
    steps: NumberRange = Field(description="`steps` of one REST step request.")
    steps_per_second: NumberRange = Field(description="The WebSocket `speed` message; 0 = as fast as it goes.")


class ActivationFormula(BaseModel):
    formula: str = Field(description="a = f(z)")
    derivative: str = Field(description="f′(z), also in terms of a = f(z) where that is shorter")


class OutputDeltas(BaseModel):
    softmax: str | None = Field(description="δ_j = ∂loss/∂z_j through a softmax output")
    linear: str | None = Field(description="… through a linear output (null: the pairing is refused)")


class LossFormula(BaseModel):
    formula: str = Field(description="The per-sample loss.")
    delta: OutputDeltas


class RegularizationFormula(BaseModel):
    penalty: str = Field(description="Added to the data loss (weights only).")
    gradient: str = Field(description="Added to ∂loss/∂w.")


class NetworkFormulas(BaseModel):
    pre_activation: str
    activation: str
    hidden_delta: str
    weight_gradient: str
    bias_gradient: str


class FormulasOut(BaseModel):
    """The maths of every choice, as the page writes it, keyed by the API's names."""

    features: dict[FeatureName, str]
    activations: dict[ActivationName, ActivationFormula]
    outputs: dict[Literal["softmax", "linear"], str]
    losses: dict[LossName, LossFormula]
    optimizers: dict[OptimizerName, str] = Field(description="The update rule; g is ∂objective/∂w, η the rate.")
    inits: dict[InitName, str]
    regularizations: dict[RegularizationName, RegularizationFormula]
    network: NetworkFormulas


class OptionsOut(BaseModel):
    datasets: list[DatasetOption]
    features: list[str]
    activations: list[str]
    losses: list[str]
    optimizers: list[str]
    inits: list[str]
    regularizations: list[str]
    formulas: FormulasOut
    ranges: RangesOut
    defaults: ConfigIn
    limits: LimitsOut
    quotas: QuotasOut
    protocol_version: int
    frame_rate: float
    heatmap_rate: float


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str
    protocol_version: int
    sessions: int = Field(description="Sessions alive (open, not yet expired or deleted).")
    playing: int = Field(description="Sessions whose play loop is running, from their states.")
    sockets: int = Field(description="WebSockets open (or being accepted), all sessions together.")
    max_sockets: int = Field(
        description="The cap on `sockets` in force: the configured cap, or what the process's limit on open "
        "files allows after a reserve for HTTP connections, the database and the process, whichever is smaller."
    )
    races_running: int = Field(description="Live learning-rate races still taking turns.")
    surfaces_computing: int = Field(description="Loss surfaces whose grid is being computed now.")
    experiments_running: int = Field(description="REST learning-rate sweeps and range tests running or queued.")
    training_threads: int = Field(description="Threads that train sessions (`--training-threads`).")
    training_thread_seconds: dict[str, float] = Field(
        description="Time the training threads spent, by kind of work, all threads together, since the "
        "server started."
    )


class IdentityOut(BaseModel):
    classroom: bool = Field(description="Classroom mode: a teacher and students (docs/reliability.md).")
    role: Literal["teacher", "student"] = Field(description="Outside classroom mode always the teacher.")
    id: str = Field(description="Who owns what you create: `teacher`, or a student's id (never their token).")


class ErrorOut(BaseModel):
    """404, 413, 429 and other refusals: what went wrong, in a sentence. A 429 adds which cap
    (`code`, e.g. `too_many_neurons`), the request `field` that hit it and its `params`
    (`maximum`, …), so a page can say it in its reader's language (docs/api.md, "Errors")."""

    detail: str
    code: str | None = None
    field: str | None = None
    params: dict[str, Any] | None = None


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the refusals a route can answer with."""
    described = {
        403: "Classroom mode: you may see it but not change it; `code` says why (`not_yours`, `teacher_only`).",
        404: "Unknown session or data set id (or, in classroom mode, another's session).",
        413: "The request body is too large.",
        429: "A cap or a classroom share was reached (sessions, network size, uploads, …); `code` says which and "
        "`detail` what to do.",
    }
    out: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut, "description": described[code]} for code in codes}
    if 429 in out:
        out[429]["headers"] = RETRY_AFTER_HEADER
    return out


RETRY_AFTER_HEADER = {"Retry-After": {"description": "Seconds after which trying again has a chance.",
                                      "schema": {"type": "integer"}}}
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Classroom mode: a bearer token that is neither the teacher key nor a "
          "student's token (docs/api.md, \"Classroom mode\")."}
}


# --- the learning-rate lab (docs/api.md, "Learning-rate lab") -------------------------------
MAX_RACE_COPIES = 8  # the engine's `backprop_lab.engine.lr_lab.MAX_COPIES`; tests keep the two in step
MAX_LINE_POINTS = 1001
MAX_RANGE_STEPS = 10_000
LearningRate = Annotated[float, Field(gt=0.0, le=1000.0)]


class LrSweepIn(_Input):
    config: ConfigIn = Field(default_factory=ConfigIn, description="Fields left out take the defaults.")
    learning_rates: Annotated[list[LearningRate], Field(min_length=1, max_length=MAX_RACE_COPIES)]
    steps: Annotated[int, Field(ge=1, le=MAX_STEPS_PER_REQUEST)] = 100
    record_every: Annotated[int, Field(ge=1, le=MAX_STEPS_PER_REQUEST)] | None = Field(
        default=None, description="Steps between history points; null: every step up to 500 steps, else "
        "about 500 points in all."
    )


class SweepRunOut(BaseModel):
    learning_rate: float
    history: list[MaybeNumber] = Field(description="Train loss on the whole split at `history_steps`.")
    history_steps: list[int] = Field(description="Step 0 (the shared start), every `record_every` steps, the "
                                     "last step; a diverged run ends at its last good step.")
    diverged: bool
    diverged_at: int | None = Field(description="The step whose loss or weights became non-finite (not taken).")
    cause: Literal["loss", "weights"] | None


class LrSweepOut(BaseModel):
    runs: list[SweepRunOut] = Field(description="In the order of `learning_rates`.")
    steps: int
    record_every: int


class LossLineIn(_Input):
    points: Annotated[int, Field(ge=2, le=MAX_LINE_POINTS)] = 101
    max_rate_multiple: Annotated[float, Field(gt=0.0, le=1000.0)] = 4.0


class LossLineOut(BaseModel):
    rates: list[float] = Field(description="η from 0 to max_rate_multiple × current_rate, evenly spaced.")
    loss: list[MaybeNumber] = Field(description="Data loss on the training split at θ − η·g.")
    current_rate: float
    current_loss: MaybeNumber = Field(description="Today's loss (η = 0).")
    landing_loss: MaybeNumber = Field(description="Where one full-batch step at the current rate lands.")
    best_rate: float = Field(description="The rate of the lowest point on the line.")
    best_loss: MaybeNumber
    overshoot_rate: float | None = Field(description="The first rate past the bottom whose loss is above "
                                         "today's (null: none on the line).")
    gradient_norm: MaybeNumber = Field(description="|g|, the full-batch gradient of the objective.")


class RangeTestIn(_Input):
    config: ConfigIn = Field(default_factory=ConfigIn, description="Fields left out take the defaults.")
    min_rate: LearningRate = 1e-4
    max_rate: LearningRate = 10.0
    steps: Annotated[int, Field(ge=10, le=MAX_RANGE_STEPS)] = 200


class RangeTestOut(BaseModel):
    rates: list[float] = Field(description="The rate of each step taken, growing by one factor per step.")
    loss: list[MaybeNumber] = Field(description="Each step's mini-batch loss, before its update.")
    smoothed: list[MaybeNumber] = Field(description="Exponential moving average of `loss`, bias-corrected.")
    suggested_rate: float = Field(description="Where the smoothed loss falls fastest against log(rate).")
    stopped_at: int | None = Field(description="The step index at which the loss exploded (above 4× its best "
                                   "smoothed value) or diverged; null: it ran every step.")
    diverged: bool
