"""What each kind of job computes, planned and checked against `JobLimits` before it is accepted.

A sweep and a range test run on the training threads in slices (`advance(deadline)`, one turn
among the sessions' each), with the very code of the synchronous routes
(`backprop_lab.server.analyses.rate_experiments.Sweep`, `backprop_lab.engine.lr_lab.RangeTestRun`),
so a job's result equals the same request's, bit for bit. A sweep of more rates than one race
holds trains them a race at a time (`RACE_COPIES.high` copies); each copy is its own trainer
from the same config and seed, so which race a rate is in changes no number.

A training job is the session's own `…/step`, asked for in chunks of about `TRAINING_CHUNK_SECONDS`
(`TrainingPlan`): the steps run in the session's lane, between its other work, and a cancel ends
the running chunk before its next slice (a few milliseconds), not at its end.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from backprop_lab.engine.config import Config
from backprop_lab.engine.lr_lab import RACE_COPIES, RangeTestRun
from backprop_lab.engine.tabular import Table
from backprop_lab.server.analyses import rate_experiments
from backprop_lab.server.analyses.rate_experiments import Sweep, SweepCost, sweep_race
from backprop_lab.server.settings import JobLimits
from backprop_lab.server.wire.problems import CapReached, config_problem

JSON = dict[str, Any]
SLICE_SECONDS = rate_experiments.SLICE_SECONDS  # one turn on a training thread, as a sweep's
MAX_TURN_SECONDS = 0.5  # the longest turn a job may need (a sweep's record interval): a cancel waits for it
TRAINING_CHUNK_SECONDS = 0.2  # a training job's steps are asked for in chunks this long
MEASURED_STEPS = 20  # a range test's first steps, timed to estimate the rest


def past_cap(what: str, seconds: float, cap: float, field: str, value: int, fits: int) -> CapReached:
    """429 `takes_too_long` for a job: its estimate is past the job cap; `fits` would not be."""
    return CapReached(
        f"{what} would take about {seconds:,.1f} s here; a job may compute for at most {cap:g} s: ask for at "
        f"most {max(0, fits):,} {field} or a smaller network",
        "takes_too_long", field,
        {"value": value, "seconds": round(seconds, 1), "maximum": cap, "fits": max(0, fits)},
    )


def over(field: str, value: int, maximum: int, code: str, what: str) -> CapReached:
    """429 for a count past a job cap (`maximum` is what fits)."""
    return CapReached(f"{field}: {value:,} {what} is past this server's cap of {maximum:,} for a job", code, field,
                      {"value": value, "maximum": maximum, "fits": maximum})


class SweepWork:
    """A sweep of any number of rates: races of at most `RACE_COPIES.high` copies, one after
    another; a finished race keeps only its view (its trainers are let go)."""

    def __init__(self, config: Config, table: Table | None, rates: list[float], steps: int, record_every: int):
        group = int(RACE_COPIES.high or 1)
        self.steps, self.record_every = steps, record_every
        self.waiting = deque(Sweep(config, table, rates[start:start + group], steps, record_every, math.inf)
                             for start in range(0, len(rates), group))
        self.total = len(rates) * steps
        self.runs: list[JSON] = []  # the finished races' copies, in the order of the rates
        self.finished_steps = 0

    def advance(self, deadline: float) -> bool:
        sweep = self.waiting[0]
        if sweep.advance(deadline):
            self.runs += sweep.view()["runs"]
            self.finished_steps += sweep.copy_steps
            self.waiting.popleft()
        return not self.waiting

    def done(self) -> int:
        return self.finished_steps + (self.waiting[0].copy_steps if self.waiting else 0)

    def result(self) -> JSON:
        return {"runs": self.runs, "steps": self.steps, "record_every": self.record_every}


def plan_sweep(config: Config, table: Table | None, rates: list[float], steps: int, record_every: int | None,
               limits: JobLimits) -> tuple[SweepWork, float]:
    """The sweep's work and its estimated seconds, or the 429 of the first job cap it passes.
    Runs on a training thread: it builds one copy to measure a step and a history point."""
    if len(rates) > limits.max_rates:
        raise over("learning_rates", len(rates), limits.max_rates, "too_many_rates", "learning rates")
    if steps > limits.max_steps:
        raise over("steps", steps, limits.max_steps, "too_many_steps", "steps")
    cost = SweepCost.of(sweep_race(config, table, rates[:1]))
    group = min(len(rates), int(RACE_COPIES.high or 1))
    # a turn trains every copy of a race to its next history point: at most MAX_TURN_SECONDS
    turn_fits = max(1, int(MAX_TURN_SECONDS / (group * cost.per_step)))
    fewest = math.ceil(steps / max(1, limits.max_history_points - 2))  # the history's budget of points
    if record_every is None:
        record_every = max(fewest, min(rate_experiments.default_record_every(steps), turn_fits))
    if record_every < fewest:
        raise CapReached(
            f"record_every: {steps:,} steps recorded every {record_every:,} would be past this server's "
            f"{limits.max_history_points:,} history points a copy; record every {fewest:,} steps or more",
            "too_many_points", "record_every", {"value": record_every, "maximum": limits.max_history_points,
                                                "fits": fewest})
    if record_every > turn_fits:
        raise past_cap(f"training {group} copies {record_every:,} steps between history points", record_every
                       * group * cost.per_step, MAX_TURN_SECONDS, "record_every", record_every, turn_fits)
    seconds = cost.seconds(len(rates), steps, record_every)
    if seconds > limits.max_seconds:
        raise past_cap(f"{steps:,} steps of {len(rates)} copies", seconds, limits.max_seconds, "steps", steps,
                       cost.fitting_steps(len(rates), record_every, limits.max_seconds))
    return SweepWork(config, table, rates, steps, record_every), seconds


class RangeTestWork:
    def __init__(self, test: RangeTestRun):
        self.test = test
        self.total = test.steps

    def advance(self, deadline: float) -> bool:
        return self.test.advance(self.test.steps, deadline)

    def done(self) -> int:
        return self.total if self.test.finished else self.test.taken

    def result(self) -> JSON:
        return rate_experiments.range_view(self.test.result())


def plan_range_test(config: Config, table: Table | None, min_rate: float, max_rate: float, steps: int,
                    limits: JobLimits) -> tuple[RangeTestWork, float]:
    """The range test's work (its trainer built) and its estimated seconds, or a 429. On a training thread."""
    rate_experiments.check_range(min_rate, max_rate)
    if steps > limits.max_range_test_steps:
        raise over("steps", steps, limits.max_range_test_steps, "too_many_steps", "steps")
    try:
        test = RangeTestRun(config, min_rate, max_rate, steps, table)
    except ValueError as error:
        raise config_problem(error, ("body", "config")) from None
    # a range test takes one step per engine call, each with its own Python around it: time the
    # first few (they are the job's own first steps) rather than trust the kernel's estimate
    started = time.perf_counter()
    test.advance(MEASURED_STEPS)
    per_step = max(test.trainer.step_seconds(), (time.perf_counter() - started) / max(1, test.taken))
    seconds = steps * per_step
    if seconds > limits.max_seconds:
        raise past_cap(f"a range test of {steps:,} steps", seconds, limits.max_seconds, "steps", steps,
                       int(limits.max_seconds / per_step))
    return RangeTestWork(test), seconds


@dataclass(frozen=True)
class TrainingPlan:
    """A training job's steps and the session's speed when it was accepted."""

    steps: int
    per_step: float

    @property
    def seconds(self) -> float:
        return self.steps * self.per_step


def plan_training(steps: int, per_step: float, limits: JobLimits) -> TrainingPlan:
    if steps > limits.max_steps:
        raise over("steps", steps, limits.max_steps, "too_many_steps", "steps")
    plan = TrainingPlan(steps, per_step)
    if plan.seconds > limits.max_seconds:
        raise past_cap(f"{steps:,} steps", plan.seconds, limits.max_seconds, "steps", steps,
                       int(limits.max_seconds / per_step))
    return plan


def chunk_of(per_step: float, left: int) -> int:
    """The steps of a training job's next chunk: about `TRAINING_CHUNK_SECONDS` at the session's speed."""
    return max(1, min(left, int(TRAINING_CHUNK_SECONDS / max(per_step, 1e-9))))
