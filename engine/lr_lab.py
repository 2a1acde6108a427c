"""The learning-rate lab: what the size of a gradient-descent step does to the walk downhill.

Three experiments, each built on the trainer and the compiled kernels every other path uses:

- **The loss line** (`loss_line`): the data loss of θ − η·g for η from 0 to a few times the
  current rate, g the full-batch gradient of the objective at the current weights. It is the
  U-shaped curve of the article: a small η moves a little way down, the best η lands at the
  bottom, a large η lands past it — higher up the other side, or off the chart (divergence).
  All rates are one compiled call (`backprop_lab.engine.kernels.lr_lab.line_losses`), and the loss at the
  current rate is, to the bit, what one full-batch sgd step would land on.
- **The race** (`Race`): K copies (`RACE_COPIES`) of one config, each with its own rate. Each copy is a
  `Trainer` built from the same config and seed, so all start from identical weights and see
  the same mini-batches in the same order; only the rate differs. They advance in lockstep
  chunks (every copy one compiled call per chunk) when watched live, or copy after copy when
  only the curves are wanted (the same numbers either way), and a copy whose step would make
  the loss or a weight non-finite stops there, marked diverged at that step (docs/engine.md §11).
- **The range test** (`range_test`, Smith 2017; fastai's `lr_find`): one run whose rate grows
  exponentially, step by step, from `min_rate` to `max_rate`. Each mini-batch's loss is
  recorded and smoothed (an exponential moving average with bias correction); the test stops
  when the smoothed loss explodes (above 4× its best) or diverges, and suggests the rate where
  the smoothed loss falls fastest per factor of rate.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from backprop_lab.engine.bounds import Interval
from backprop_lab.engine.choices import hyperparameters, training_codes
from backprop_lab.engine.config import CONFIG_BOUNDS, Config
from backprop_lab.engine.gradcheck import Objective
from backprop_lab.engine.kernels.gradcheck import objective_value
from backprop_lab.engine.kernels.lr_lab import line_losses
from backprop_lab.engine.network import Network, as_rows
from backprop_lab.engine.tabular import Table
from backprop_lab.engine.trainer import Diverged, Trainer
from backprop_lab.engine.validation import check_bound
from backprop_lab.engine.workspace import Workspace

# What each experiment accepts; every rate is a learning rate (`CONFIG_BOUNDS["learning_rate"]`).
RACE_COPIES = Interval(1, 8, integer=True)  # copies in one race (a sweep's rates)
LOSS_LINE_BOUNDS: dict[str, Interval] = {
    "points": Interval(2, 1001, integer=True),
    "max_rate_multiple": Interval(0.0, 1000.0, low_open=True),
}
RANGE_TEST_STEPS = Interval(10, 10_000, integer=True)
LINE_POINTS = 101  # the loss line's points unless asked for others
LINE_RATE_MULTIPLE = 4.0  # … and how far it reaches, in multiples of the current rate
LINE_SPACINGS = ("linear", "log")  # how the line's rates are spread
LOG_LINE_START = 0.1  # a log-spaced line starts at this multiple of the current rate (or 1/10 of its end)
SMOOTHING_WINDOW = 0.05  # the range test's moving average spans about this share of its steps
EXPLODES = 4.0  # the range test stops when the smoothed loss passes this many times its best


# --- the loss line ------------------------------------------------------------------------
@dataclass(frozen=True)
class LossLine:
    """The data loss along −g from the current weights. Non-finite losses stay non-finite here
    (a caller that publishes them must say so)."""

    rates: np.ndarray  # (points,) η up to max_rate_multiple × current_rate, from 0 (linear) or geometric (log)
    losses: np.ndarray  # (points,) L_data(θ − η·g)
    current_rate: float  # the trainer's learning rate
    current_loss: float  # L_data(θ): today's loss, η = 0
    landing_loss: float  # L_data(θ − current_rate·g): where the current step lands
    best_rate: float  # the rate of the lowest point on the line
    best_loss: float
    overshoot_rate: float | None  # the first rate past the bottom whose loss is above today's
    gradient_norm: float  # |g|


def loss_line(trainer: Trainer, points: int = LINE_POINTS, max_rate_multiple: float = LINE_RATE_MULTIPLE,
              spacing: str = "linear") -> LossLine:
    """The U-curve of the trainer's current weights along its full-batch gradient (see the
    module docstring). `points` rates up to `max_rate_multiple` × the current rate (each within
    `LOSS_LINE_BOUNDS`): evenly spaced from 0 (`linear`), or geometrically from `LOG_LINE_START`
    × the current rate (`log`: for a line reaching hundreds of times the rate, drawn on a log
    axis, where an even grid would leave the current rate's neighbourhood without a point). The
    current rate itself is evaluated exactly, whether on the grid or not."""
    check_bound("points", points, LOSS_LINE_BOUNDS["points"])
    check_bound("max_rate_multiple", max_rate_multiple, LOSS_LINE_BOUNDS["max_rate_multiple"])
    if spacing not in LINE_SPACINGS:
        raise ValueError(f"spacing: {spacing!r} is not one of {', '.join(LINE_SPACINGS)}")
    config, network = trainer.config, trainer.network
    train = trainer.dataset.train
    objective = Objective(network, trainer.loss, train.inputs, train.targets, config.regularization,
                          config.regularization_rate)
    current_loss, _, gradient = objective.gradient()  # gradient (P,) of the objective
    current_rate = float(config.learning_rate)
    if spacing == "log":
        start = min(LOG_LINE_START, max_rate_multiple / 10)
        rates = current_rate * np.geomspace(start, max_rate_multiple, points)  # (points,)
    else:
        rates = current_rate * max_rate_multiple * (np.arange(points) / (points - 1))  # (points,)
    evaluated = np.append(rates, current_rate)  # (points + 1,) the last is the current rate
    out = np.zeros(evaluated.shape[0])  # (points + 1,)
    workspace = Workspace(network.layout, train.size)
    with np.errstate(all="ignore"):
        line_losses(network.layout.table, objective.codes, network.parameters, gradient, evaluated,
                    objective.inputs, objective.targets, np.zeros(network.layout.size), workspace.z_buffer,
                    workspace.a_buffer, workspace.losses, out)
    losses = out[:points]
    finite = np.isfinite(losses)
    best = int(np.argmin(np.where(finite, losses, np.inf))) if finite.any() else 0
    overshoot = None
    for index in range(best + 1, points):
        if not (losses[index] <= current_loss):  # above today's, or non-finite
            overshoot = float(rates[index])
            break
    return LossLine(rates, losses, current_rate, float(current_loss), float(out[points]), float(rates[best]),
                    float(losses[best]), overshoot, float(np.linalg.norm(gradient)))


# --- the race -----------------------------------------------------------------------------
@dataclass
class RaceCopy:
    """One copy of a race: its trainer and what happened to it."""

    learning_rate: float
    trainer: Trainer
    steps: list[int] = field(default_factory=list)  # the steps at which `history` was evaluated
    history: list[float] = field(default_factory=list)  # train loss on the whole split at those steps
    diverged_at: int | None = None  # the step that would have made the loss or a weight non-finite
    cause: str | None = None  # "loss" or "weights" when diverged
    split_loss: SplitLoss | None = field(default=None, repr=False)  # made on first use

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def network(self) -> Network:
        return self.trainer.network



class SplitLoss:
    """The data loss over a trainer's whole training split, for any θ of its layout: one forward
    pass (`kernels.gradcheck.objective_value` with no penalty is the data loss) over the
    trainer's own arrays, so evaluating right after training touches memory already in the
    cache, into buffers made once."""

    def __init__(self, trainer: Trainer):
        network, train = trainer.network, trainer.dataset.train
        self.layout = network.layout.table
        self.codes = training_codes(network.activation, network.classify, trainer.loss.name)  # (N_CODES,)
        self.hyper = hyperparameters()  # (N_HYPER,) no penalty
        self.inputs, self.targets = as_rows(train.inputs), as_rows(train.targets)  # (n, n_in), (n, K)
        self.workspace = Workspace(network.layout, train.size)

    def of(self, theta: np.ndarray) -> float:
        workspace = self.workspace
        with np.errstate(all="ignore"):
            return float(objective_value(self.layout, self.codes, self.hyper, theta, self.inputs, self.targets,
                                         workspace.z_buffer, workspace.a_buffer, workspace.losses))


class Race:
    """K copies of one config racing with their own learning rates (see the module docstring)."""

    def __init__(self, config: Config, learning_rates: list[float], table: Table | None = None):
        check_bound("learning_rates", len(learning_rates), RACE_COPIES)  # each rate: its trainer checks it
        self.config = config
        self.copies = [RaceCopy(rate, Trainer(config.replace(learning_rate=rate), table)) for rate in learning_rates]
        self.step = 0  # steps every running copy has taken
        self.record()

    @property
    def running(self) -> list[RaceCopy]:
        return [copy for copy in self.copies if not copy.diverged]

    @property
    def finished(self) -> bool:
        """Every copy diverged (the others always have another step to take)."""
        return not self.running

    def advance(self, steps: int) -> list[RaceCopy]:
        """`steps` more steps for every running copy, one compiled call each (a copy that
        diverges stops at that step, its weights as they were before it). Returns the copies
        that diverged in this call."""
        diverged = []
        for copy in self.running:
            try:
                copy.trainer.step(steps)
            except Diverged as error:
                copy.diverged_at, copy.cause = error.step, error.cause
                diverged.append(copy)
        self.step += steps
        return diverged

    def train_loss(self, copy: RaceCopy) -> float:
        """The data loss on the whole training split at `copy`'s current weights."""
        if copy.split_loss is None:
            copy.split_loss = SplitLoss(copy.trainer)
        return copy.split_loss.of(copy.network.parameters)

    def record(self) -> None:
        """Appends each running copy's whole-split train loss at the current step to its history."""
        for copy in self.running:
            copy.steps.append(copy.trainer.step_count)
            copy.history.append(self.train_loss(copy))

    def run(self, steps: int, record_every: int = 1) -> None:
        """`steps` more steps for every running copy, recording every `record_every` steps and
        at the end (and, for a copy that diverges, at its last good step).

        Copy after copy, not in lockstep: the copies are independent, so the order changes no
        number, and one copy's data and buffers stay in the cache through its whole run (in
        lockstep, eight copies' evict each other every few steps). A live race, which shows
        every copy as it goes, advances in lockstep instead (`advance`)."""
        if record_every < 1:
            raise ValueError(f"record_every must be at least 1, not {record_every}")
        target = self.step + steps
        for copy in self.running:
            trainer = copy.trainer
            while trainer.step_count < target:
                try:
                    trainer.step(min(record_every, target - trainer.step_count))
                except Diverged as error:
                    copy.diverged_at, copy.cause = error.step, error.cause
                if copy.steps[-1] != trainer.step_count:
                    copy.steps.append(trainer.step_count)
                    copy.history.append(self.train_loss(copy))
                if copy.diverged:
                    break
        self.step = target


# --- the range test -----------------------------------------------------------------------
@dataclass(frozen=True)
class RangeTest:
    rates: np.ndarray  # (n,) the rate of each step taken or tried
    losses: np.ndarray  # (n,) each step's mini-batch loss, before its update
    smoothed: np.ndarray  # (n,) bias-corrected exponential moving average of `losses`
    suggested_rate: float  # where the smoothed loss falls fastest against log(rate)
    stopped_at: int | None  # the step index at which the loss exploded or diverged (None: ran to the end)
    diverged: bool  # it stopped because a step's loss or weights became non-finite


def range_rates(min_rate: float, max_rate: float, steps: int) -> np.ndarray:
    """(steps,) rates growing by the same factor each step, from min_rate to max_rate exactly.
    Spaced in log space, so a range as wide as 5e-324 … 1000 (whose ratio overflows) works too."""
    return np.geomspace(min_rate, max_rate, steps)


def range_test(config: Config, min_rate: float, max_rate: float, steps: int, table: Table | None = None) -> RangeTest:
    """Smith's learning-rate range test on a fresh trainer of `config` (see the module
    docstring). Step i trains one mini-batch at rate min_rate·(max_rate/min_rate)^(i/(steps−1))."""
    check_bound("steps", steps, RANGE_TEST_STEPS)
    test = RangeTestRun(config, min_rate, max_rate, steps, table)
    test.advance(steps)
    return test.result()


class RangeTestRun:
    """A range test that can be taken a few steps at a time (a long one runs as a server job, in
    slices): `advance` as often as wanted, then `result`. However the steps are split, the
    numbers are those of `range_test`, which is this run advanced in one call. `steps` is at
    least `RANGE_TEST_STEPS.low`; its upper bound is the caller's (a job allows more than one
    request)."""

    def __init__(self, config: Config, min_rate: float, max_rate: float, steps: int, table: Table | None = None):
        check_bound("min_rate", min_rate, CONFIG_BOUNDS["learning_rate"])
        check_bound("max_rate", max_rate, CONFIG_BOUNDS["learning_rate"])
        if not min_rate < max_rate:
            raise ValueError(f"min_rate ({min_rate:g}) must be below max_rate ({max_rate:g})")
        check_bound("steps", steps, Interval(RANGE_TEST_STEPS.low, None, integer=True))
        self.steps = steps
        self.rates = range_rates(min_rate, max_rate, steps)  # (steps,)
        self.trainer = Trainer(config.replace(learning_rate=float(self.rates[0])), table)
        self.losses = np.zeros(steps)  # (steps,)
        self.smoothed = np.zeros(steps)  # (steps,)
        self.beta = smoothing(steps)
        self.average, self.best = 0.0, math.inf
        self.stopped_at: int | None = None
        self.diverged = False
        self.taken = 0  # steps taken (the next step's index)

    @property
    def finished(self) -> bool:
        return self.stopped_at is not None or self.taken >= self.steps

    def advance(self, steps: int, deadline: float | None = None) -> bool:
        """Up to `steps` more steps (fewer once `time.perf_counter()` passes `deadline`, after at
        least one); True when the test is over (every step taken, or the loss exploded or diverged)."""
        trainer, rates, beta = self.trainer, self.rates, self.beta
        end = min(self.steps, self.taken + steps)
        while not self.finished and self.taken < end:
            index = self.taken
            trainer.reconfigure(trainer.config.replace(learning_rate=float(rates[index])))
            try:
                trainer.step(1)
            except Diverged:
                self.stopped_at, self.diverged = index, True
                break
            loss = float(trainer.last_losses[0])
            self.average = beta * self.average + (1.0 - beta) * loss
            value = self.average / (1.0 - beta ** (index + 1))
            self.losses[index], self.smoothed[index] = loss, value
            self.taken = index + 1
            self.best = min(self.best, value)
            if not math.isfinite(value) or value > EXPLODES * self.best:
                self.stopped_at = index
                break
            if deadline is not None and time.perf_counter() >= deadline:
                break
        return self.finished

    def result(self) -> RangeTest:
        """The test as far as it went (the whole of it once `finished`)."""
        taken = self.taken
        rates, losses, smoothed = self.rates[:taken], self.losses[:taken], self.smoothed[:taken]
        return RangeTest(rates, losses, smoothed, steepest_rate(rates, smoothed), self.stopped_at, self.diverged)


def smoothing(steps: int) -> float:
    """β of the moving average: a window of about 5 % of the steps (β = 1 − 1/window), within
    [0.8, 0.98]. fastai's fixed 0.98 averages over ~50 steps, which on a short test lags the
    rate by decades and points its suggestion at rates that already blow up."""
    window = SMOOTHING_WINDOW * steps
    return min(0.98, max(0.8, 1.0 - 1.0 / max(window, 1.0)))


def steepest_rate(rates: np.ndarray, smoothed: np.ndarray) -> float:
    """The rate where the smoothed loss falls fastest per unit of log(rate), before its lowest
    point and after the first tenth of the steps (as fastai, which leaves those out while the
    average settles): the slope is taken across a span of about the average's window (one-step slopes of
    a mini-batch loss are mostly noise), and the rate given is where that span starts (the
    average lags the rate by about a window)."""
    count = rates.shape[0]
    if count < 2:
        return float(rates[0]) if count else math.nan
    settled = count // 10 if count >= 20 else 0  # the first tenth: the average still settles
    lowest = settled + int(np.argmin(smoothed[settled:]))
    span = max(1, int(round(SMOOTHING_WINDOW * count)))
    starts = np.arange(settled, max(settled + 1, lowest - span + 1))  # spans ending by the lowest point
    ends = np.minimum(starts + span, count - 1)
    slopes = (smoothed[ends] - smoothed[starts]) / (np.log(rates[ends]) - np.log(rates[starts]))
    return float(rates[starts[int(np.argmin(slopes))]])
