"""The training configuration on the wire (docs/api.md, "The config"): the names a client may
choose, `ConfigIn` and `ConfigOut`, and the one place a wire config becomes the engine's `Config`.

These pydantic models are the API's contract: FastAPI validates requests with them and the
OpenAPI document at `/openapi.json` is generated from them. They are separate from the
engine's objects on purpose: the engine knows nothing of HTTP, and the wire can grow fields
without touching the engine.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from backprop_lab.engine.config import CONFIG_BOUNDS, HIDDEN_LAYERS, NEURONS, Config
from backprop_lab.engine.features import FEATURES
from backprop_lab.server.wire.bounds import counted, within

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


LearningRate = Annotated[float, within(CONFIG_BOUNDS["learning_rate"])]  # also each rate of the analyses


class _Input(BaseModel):
    """Request bodies: unknown fields are refused (a typo should not pass silently), and
    non-finite numbers (JSON has none, but `NaN` or `1e999` parse to them) are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ConfigIn(_Input):
    """A training configuration. Every field is optional: creating a session fills the rest
    from these defaults (the UI's, equal to the engine's `Config()`); PATCHing changes only the
    fields given."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"dataset": "spiral", "noise": 0.1, "features": ["x1", "x2", "sin_x1", "sin_x2"], "hidden_layers": [8, 8],
         "optimizer": "adam", "learning_rate": 0.01, "seed": 1},
        {"learning_rate": 0.1},
    ]})

    dataset: DatasetName = _DEFAULTS.dataset
    samples: Annotated[
        int, within(CONFIG_BOUNDS["samples"], description="Points of a generated set (train + test).")
    ] = _DEFAULTS.samples
    noise: Annotated[float, within(CONFIG_BOUNDS["noise"], description="Fraction of the set's scale.")] = (
        _DEFAULTS.noise
    )
    train_ratio: Annotated[float, within(CONFIG_BOUNDS["train_ratio"])] = _DEFAULTS.train_ratio
    seed: Annotated[int, within(CONFIG_BOUNDS["seed"])] = _DEFAULTS.seed
    features: Annotated[list[FeatureName], Field(min_length=1, max_length=len(FEATURES))] = ["x1", "x2"]
    hidden_layers: Annotated[list[Annotated[int, within(NEURONS)]], counted(HIDDEN_LAYERS)] = list(
        _DEFAULTS.hidden_layers
    )
    activation: ActivationName = "tanh"
    loss: LossName | None = Field(
        default=None, description="null (the default) follows the data set: cross_entropy or mse."
    )
    optimizer: OptimizerName = "sgd"
    learning_rate: LearningRate = _DEFAULTS.learning_rate
    momentum: Annotated[float, within(CONFIG_BOUNDS["momentum"])] = _DEFAULTS.momentum
    batch_size: Annotated[int, within(CONFIG_BOUNDS["batch_size"])] = _DEFAULTS.batch_size
    regularization: RegularizationName = "none"
    regularization_rate: Annotated[float, within(CONFIG_BOUNDS["regularization_rate"])] = (
        _DEFAULTS.regularization_rate
    )
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
