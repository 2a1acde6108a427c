"""Wire models of the analyses beside training: the loss surface (docs/api.md, "Loss surface")
and the learning-rate lab (docs/api.md, "Learning-rate lab": sweep, loss line, range test)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from backprop_lab.engine.lr_lab import LINE_POINTS, LINE_RATE_MULTIPLE, LOSS_LINE_BOUNDS, RACE_COPIES, RANGE_TEST_STEPS
from backprop_lab.engine.surface import DEFAULT_RESOLUTION, DEFAULT_SPAN, SURFACE_BOUNDS
from backprop_lab.server.wire.bounds import counted, within
from backprop_lab.server.wire.config_models import ConfigIn, LearningRate, MaybeNumber, _Input
from backprop_lab.server.wire.session_models import MAX_STEPS_PER_REQUEST, ParamsOut

WeightAddress = Annotated[list[Annotated[int, Field(ge=0, le=1_000_000)]], Field(min_length=3, max_length=3)]


class SurfaceIn(_Input):
    """A 2-D slice of the data loss on the training split around the current weights."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"directions": "random", "resolution": 41, "span": 1.0, "seed": 0},
        {"directions": "weights", "weights": [[0, 1, 2], [1, 0, 1]], "span": 2.0},
    ]})

    directions: Literal["weights", "random", "pca"] = Field(
        default="weights",
        description="weights: two chosen weights moved by ±span in weight units; random: two random "
        "filter-normalised directions (Li et al. 2018) from `seed`; pca: the top two principal directions "
        "of the recorded trajectory.",
    )
    resolution: Annotated[int, within(SURFACE_BOUNDS["resolution"], description="Grid points per axis.")] = (
        DEFAULT_RESOLUTION
    )
    span: Annotated[float, within(SURFACE_BOUNDS["span"], description="The axes run from −span to +span.")] = (
        DEFAULT_SPAN
    )
    weights: Annotated[list[WeightAddress], Field(min_length=2, max_length=2)] | None = Field(
        default=None,
        description="`weights` directions only: [[layer, i, j], [layer, i, j]], W[layer][i, j]; default: the "
        "two weights with the largest gradient of the objective.",
    )
    seed: Annotated[int, Field(ge=0, le=2**63 - 1, description="`random` directions only.")] = 0


class SurfaceOut(BaseModel):
    """A 2-D slice of the data loss around the current weights, with the trajectory projected on it."""

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


class LrSweepIn(_Input):
    """A learning-rate sweep: one copy of `config` per rate, from identical initial weights and data order."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"config": {"dataset": "xor", "hidden_layers": [4]}, "learning_rates": [0.01, 0.1, 1.0, 10.0], "steps": 500}
    ]})

    config: ConfigIn = Field(default_factory=ConfigIn, description="Fields left out take the defaults.")
    learning_rates: Annotated[list[LearningRate], counted(RACE_COPIES)]
    steps: Annotated[int, Field(ge=1, le=MAX_STEPS_PER_REQUEST)] = 100
    record_every: Annotated[int, Field(ge=1, le=MAX_STEPS_PER_REQUEST)] | None = Field(
        default=None, description="Steps between history points; null: every step up to 500 steps, else "
        "about 500 points in all."
    )


class SweepRunOut(BaseModel):
    """One rate of a sweep: its train-loss history, and where it diverged."""

    learning_rate: float
    history: list[MaybeNumber] = Field(description="Train loss on the whole split at `history_steps`.")
    history_steps: list[int] = Field(description="Step 0 (the shared start), every `record_every` steps, the "
                                     "last step; a diverged run ends at its last good step.")
    diverged: bool
    diverged_at: int | None = Field(description="The step whose loss or weights became non-finite (not taken).")
    cause: Literal["loss", "weights"] | None


class LrSweepOut(BaseModel):
    """A sweep's runs, in the order of the rates asked for."""

    runs: list[SweepRunOut] = Field(description="In the order of `learning_rates`.")
    steps: int
    record_every: int


class LossLineIn(_Input):
    """The U-curve's sampling: how many rates, up to which multiple of the session's rate."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"points": 101, "max_rate_multiple": 4.0}]})

    points: Annotated[int, within(LOSS_LINE_BOUNDS["points"])] = LINE_POINTS
    max_rate_multiple: Annotated[float, within(LOSS_LINE_BOUNDS["max_rate_multiple"])] = LINE_RATE_MULTIPLE
    spacing: Literal["linear", "log"] = Field(
        default="linear", description="linear: evenly from 0; log: geometrically from 0.1 × the current rate.",
    )


class LossLineOut(BaseModel):
    """The loss along the full-batch gradient at rates from 0 to a multiple of the current rate."""

    rates: list[float] = Field(description="η up to max_rate_multiple × current_rate: evenly spaced from 0, or "
                               "geometrically from 0.1 × current_rate (spacing log).")
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
    """A learning-rate range test on a fresh copy of `config`."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"config": {"dataset": "spiral", "hidden_layers": [8, 8]}, "min_rate": 0.0001, "max_rate": 10.0,
         "steps": 200}
    ]})

    config: ConfigIn = Field(default_factory=ConfigIn, description="Fields left out take the defaults.")
    min_rate: LearningRate = 1e-4
    max_rate: LearningRate = 10.0
    steps: Annotated[int, within(RANGE_TEST_STEPS)] = 200


class RangeTestOut(BaseModel):
    """The range test's rates, losses, their smoothed curve and the suggested rate."""

    rates: list[float] = Field(description="The rate of each step taken, growing by one factor per step.")
    loss: list[MaybeNumber] = Field(description="Each step's mini-batch loss, before its update.")
    smoothed: list[MaybeNumber] = Field(description="Exponential moving average of `loss`, bias-corrected.")
    suggested_rate: float = Field(description="Where the smoothed loss falls fastest against log(rate).")
    stopped_at: int | None = Field(description="The step index at which the loss exploded (above 4× its best "
                                   "smoothed value) or diverged; null: it ran every step.")
    diverged: bool
