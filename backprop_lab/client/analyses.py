"""The analyses beside training over REST, their numbers as NumPy arrays: a session's loss
surface and loss line (docs/api.md, "Loss surface", "Learning-rate lab"), and the two
experiments on a config of their own: the learning-rate sweep and the range test.

Fields left as None are not sent, so the server's defaults apply (`GET /api/v1/options`,
`analyses`, lists them with their ranges).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_lab.client.arrays import Layer, floats, ints, layers_of
from backprop_lab.client.transport import Transport


def _given(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _number(value: float | None) -> float:
    return float("nan") if value is None else float(value)


@dataclass(frozen=True)
class LossSurface:
    """A 2-D slice of the data loss on the training split around a session's weights θ₀:
    `loss[i, j]` (resolution, resolution) is the loss at θ₀ + x[i]·d₁ + y[j]·d₂ (NaN where it
    overflowed); `directions` are d₁ and d₂, each a list of `Layer` in the layout of params;
    `trajectory` (n, 2) the recorded weights projected on the plane, oldest first, at
    `trajectory_steps` (n,). `raw` keeps the whole answer (`kind`, `weights`, `seed`,
    `explained_variance`, `surface_id`, `seconds`, …)."""

    x: np.ndarray  # (resolution,)
    y: np.ndarray  # (resolution,)
    loss: np.ndarray  # (resolution, resolution)
    center_loss: float
    trajectory: np.ndarray  # (n, 2)
    trajectory_steps: np.ndarray  # (n,)
    directions: list[list[Layer]]  # [d₁, d₂]
    step: int
    raw: dict[str, Any]


@dataclass(frozen=True)
class SweepRun:
    """One learning rate of a sweep: the train loss on the whole split (`history`) at
    `history_steps`; a diverged copy stops at its last good step, `diverged_at` the step that
    failed and `cause` "loss" or "weights"."""

    learning_rate: float
    history: np.ndarray  # (points,)
    history_steps: np.ndarray  # (points,)
    diverged: bool
    diverged_at: int | None
    cause: str | None


@dataclass(frozen=True)
class Sweep:
    """`POST /api/v1/lr-sweep`: one run per rate, in the order asked, all from identical initial
    weights and data order."""

    runs: list[SweepRun]
    steps: int
    record_every: int


@dataclass(frozen=True)
class LossLine:
    """The U-curve of a session: the data loss of θ − η·g (g the full-batch gradient of the
    objective) at `rates` η from 0 to a multiple of the current rate; nothing is trained.
    `landing_loss` is where one full-batch step at the current rate lands, `best_rate` the
    lowest point, `overshoot_rate` the first rate past it whose loss is above today's."""

    rates: np.ndarray  # (points,)
    loss: np.ndarray  # (points,)
    current_rate: float
    current_loss: float
    landing_loss: float
    best_rate: float
    best_loss: float
    overshoot_rate: float | None
    gradient_norm: float


@dataclass(frozen=True)
class RangeTest:
    """Smith's learning-rate range test: step i trains one mini-batch at `rates[i]` (growing
    exponentially); `loss` is each step's mini-batch loss before its update and `smoothed` its
    bias-corrected moving average. `stopped_at` is the step at which the loss exploded (None:
    every step ran); `suggested_rate` where the smoothed loss falls fastest."""

    rates: np.ndarray  # (steps taken,)
    loss: np.ndarray
    smoothed: np.ndarray
    suggested_rate: float
    stopped_at: int | None
    diverged: bool


class Analyses:
    """Loss surfaces, loss lines, sweeps and range tests. Each is computed off the event loop on
    the server and refused with a 429 (`ApiError.code`, `params`) when it would take longer than
    one request may compute or too many run at once."""

    def __init__(self, transport: Transport):
        self.transport = transport

    def loss_surface(
        self,
        session_id: str,
        directions: str | None = None,
        resolution: int | None = None,
        span: float | None = None,
        weights: list[tuple[int, int, int]] | None = None,
        seed: int | None = None,
    ) -> LossSurface:
        """A slice through parameter space around the session's current weights. `directions`:
        "weights" (two weights W[layer][i, j], named as `weights=[(layer, i, j), (layer, i, j)]`,
        default the two with the largest gradient), "random" (filter-normalised, from `seed`) or
        "pca" (of the recorded trajectory)."""
        body = _given(directions=directions, resolution=resolution, span=span,
                      weights=None if weights is None else [list(address) for address in weights], seed=seed)
        answer = self.transport.json("POST", f"/api/v1/sessions/{session_id}/loss-surface", json=body)
        return LossSurface(floats(answer["x"]), floats(answer["y"]), floats(answer["loss"]),
                           _number(answer["center_loss"]), floats(answer["trajectory"]).reshape(-1, 2),
                           ints(answer["trajectory_steps"]), [layers_of(d) for d in answer["directions"]],
                           answer["step"], answer)

    def loss_line(self, session_id: str, points: int | None = None,
                  max_rate_multiple: float | None = None) -> LossLine:
        """The loss along the full-batch gradient at `points` rates from 0 to `max_rate_multiple`
        × the session's learning rate."""
        body = _given(points=points, max_rate_multiple=max_rate_multiple)
        answer = self.transport.json("POST", f"/api/v1/sessions/{session_id}/loss-line", json=body)
        return LossLine(floats(answer["rates"]), floats(answer["loss"]), answer["current_rate"],
                        _number(answer["current_loss"]), _number(answer["landing_loss"]), answer["best_rate"],
                        _number(answer["best_loss"]), answer["overshoot_rate"], _number(answer["gradient_norm"]))

    def lr_sweep(self, learning_rates: list[float], steps: int | None = None, config: dict[str, Any] | None = None,
                 record_every: int | None = None) -> Sweep:
        """Train one copy of `config` (fields left out take the defaults) per rate, `steps`
        steps each, from identical initial weights and data order."""
        body = _given(config=config, learning_rates=list(learning_rates), steps=steps, record_every=record_every)
        answer = self.transport.json("POST", "/api/v1/lr-sweep", json=body)
        runs = [SweepRun(run["learning_rate"], floats(run["history"]), ints(run["history_steps"]), run["diverged"],
                         run["diverged_at"], run["cause"]) for run in answer["runs"]]
        return Sweep(runs, answer["steps"], answer["record_every"])

    def range_test(self, config: dict[str, Any] | None = None, min_rate: float | None = None,
                   max_rate: float | None = None, steps: int | None = None) -> RangeTest:
        """The learning-rate range test on a fresh copy of `config`, the rate growing from
        `min_rate` to `max_rate` over `steps` steps."""
        body = _given(config=config, min_rate=min_rate, max_rate=max_rate, steps=steps)
        answer = self.transport.json("POST", "/api/v1/lr-range-test", json=body)
        return RangeTest(floats(answer["rates"]), floats(answer["loss"]), floats(answer["smoothed"]),
                         answer["suggested_rate"], answer["stopped_at"], answer["diverged"])
