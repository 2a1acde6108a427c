"""Wire models of what the server says about itself: the options document (`GET /api/v1/options`:
names, formulas, ranges, defaults, caps and quotas), health, and who you are."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from backprop_lab.server.wire.config_models import (
    ActivationName,
    ConfigIn,
    FeatureName,
    InitName,
    LossName,
    OptimizerName,
    RegularizationName,
)
from backprop_lab.server.wire.job_models import JobOptionsOut


class DatasetOption(BaseModel):
    """A data set a config may name: its kind, classes and how it is drawn."""

    name: str
    kind: Literal["classification", "regression"]
    regression: bool = Field(description="The engine's decision: a linear output and mse (else softmax, K classes).")
    tabular: bool = Field(description="A table fed all its columns (features do not apply).")
    classes: int | None
    planar: bool


class LimitsOut(BaseModel):
    """This server's caps (429 past them): sessions, network and data sizes, steps and bytes per request,
    sockets and analyses running at once."""

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
    max_jobs: int = Field(description="Jobs queued or running at once, server-wide.")


class QuotaShareOut(BaseModel):
    """One resource's classroom share: per student and per source address."""

    student: int = Field(description="What one student may hold (or send per second) at once.")
    address: int = Field(description="What one source address may: a class behind one router shares it.")


class QuotasOut(BaseModel):
    """The classroom shares of every resource (docs/api.md, "Classroom mode")."""

    enforced: bool = Field(description="Shares apply in classroom mode; otherwise only the server's caps do.")
    reserve: float = Field(description="The fraction of each server-wide cap kept for students who hold none yet.")
    shares: dict[str, QuotaShareOut] = Field(
        description="By resource: sessions, sockets, uploads, surfaces, sweeps, races, checks, jobs, saved_runs, "
        "stored_megabytes, messages_per_second (docs/reliability.md, \"Quotas\")."
    )


Bound = int | float | None  # null: unbounded on that side


class UiRange(BaseModel):
    """What the page's control offers, inside the API's range."""

    min: Bound
    max: Bound
    step: Bound = Field(description="null: any value.")
    presets: list[int | float] | None = None
    default: int | float | None = Field(
        default=None, description="What the page's control starts at where it differs from the API's default: the "
        "training pace (`steps_per_second`), a pace a class can watch, where the protocol's default is 0 (max)."
    )


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


class AnalysisRange(BaseModel):
    """A numeric field of an analysis's request: the API refuses values outside [min, max] (422;
    an exclusive side refuses the bound itself); `default` is what a request that leaves it out
    gets (null: it has none), `cap` this server's limit (429 past it)."""

    min: Bound
    max: Bound
    min_exclusive: bool
    max_exclusive: bool
    integer: bool
    default: int | float | None
    cap: int | None
    presets: list[int | float] | None = Field(default=None, description="What the page's picker offers.")


class SurfaceOptions(BaseModel):
    """What `POST …/loss-surface` accepts."""

    directions: list[str] = Field(description="The planes `directions` may name.")
    resolution: AnalysisRange
    span: AnalysisRange


class RaceOptions(BaseModel):
    """What a live learning-rate race (the WebSocket `race_start`) accepts."""

    copies: AnalysisRange = Field(description="How many `learning_rates` (each a learning rate: ranges).")
    steps: AnalysisRange
    steps_per_second: AnalysisRange = Field(description="0 = as fast as the engine goes.")


class SweepOptions(BaseModel):
    """What `POST /api/v1/lr-sweep` accepts."""

    copies: AnalysisRange = Field(description="How many `learning_rates` (each a learning rate: ranges).")
    steps: AnalysisRange


class LossLineOptions(BaseModel):
    """What `POST …/loss-line` accepts."""

    points: AnalysisRange
    max_rate_multiple: AnalysisRange


class RangeTestOptions(BaseModel):
    """What `POST /api/v1/lr-range-test` accepts."""

    min_rate: AnalysisRange
    max_rate: AnalysisRange
    steps: AnalysisRange


class AnalysesOut(BaseModel):
    """What each analysis accepts (docs/api.md, "Loss surface" and "Learning-rate lab")."""

    surface: SurfaceOptions
    race: RaceOptions = Field(description="The WebSocket `race_start` message.")
    sweep: SweepOptions = Field(description="`POST /api/v1/lr-sweep`.")
    loss_line: LossLineOptions
    range_test: RangeTestOptions


class RunsOut(BaseModel):
    """What saved runs accept (docs/api.md, "Saved runs")."""

    name_length: int = Field(description="Characters of a run's name.")
    page_size: AnalysisRange = Field(description="`limit` of `GET /api/v1/runs`.")
    max_history: int = Field(description="Metric points an imported run may carry.")
    max_snapshots: int = Field(description="Weight snapshots an imported run may carry.")
    tag_length: int = Field(description="Characters of one tag.")
    max_tags: int = Field(description="Tags on one run.")
    note_length: int = Field(description="Characters of a run's note.")
    max_compared: int = Field(description="Runs one comparison (GET /api/v1/runs/compare) takes at most.")


class RangesOut(BaseModel):
    """The range of every numeric config field, with what the page's control offers inside it."""

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
    """An activation's maths, as the page writes it."""

    formula: str = Field(description="a = f(z)")
    derivative: str = Field(description="f′(z), also in terms of a = f(z) where that is shorter")


class OutputDeltas(BaseModel):
    """A loss's output delta ∂loss/∂z, through each output layer."""

    softmax: str | None = Field(description="δ_j = ∂loss/∂z_j through a softmax output")
    linear: str | None = Field(description="… through a linear output (null: the pairing is refused)")


class LossFormula(BaseModel):
    """A loss's maths: per sample, and its output delta."""

    formula: str = Field(description="The per-sample loss.")
    delta: OutputDeltas


class RegularizationFormula(BaseModel):
    """A penalty's maths: what it adds to the loss and to the gradient."""

    penalty: str = Field(description="Added to the data loss (weights only).")
    gradient: str = Field(description="Added to ∂loss/∂w.")


class NetworkFormulas(BaseModel):
    """A neuron's maths: z, a, the hidden delta and the gradients, as the page writes them."""

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
    """Every name, formula, range, default, cap and share a client may use (`GET /api/v1/options`): a client
    reads these instead of hard-coding them."""

    datasets: list[DatasetOption]
    features: list[str]
    activations: list[str]
    losses: list[str]
    optimizers: list[str]
    inits: list[str]
    regularizations: list[str]
    formulas: FormulasOut
    ranges: RangesOut
    analyses: AnalysesOut
    runs: RunsOut
    defaults: ConfigIn
    limits: LimitsOut
    quotas: QuotasOut
    jobs: JobOptionsOut = Field(description="What a job may ask for (docs/api.md, \"Jobs\").")
    protocol_version: int
    frame_rate: float
    heatmap_rate: float


class HealthOut(BaseModel):
    """The server is ready: its versions and what runs now, each count taken from the things it counts."""

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
    """Who the caller is to this server."""

    classroom: bool = Field(description="Classroom mode: a teacher and students (docs/reliability.md).")
    role: Literal["teacher", "student"] = Field(description="Outside classroom mode always the teacher.")
    id: str = Field(description="Who owns what you create: `teacher`, or a student's id (never their token).")
