"""The learning-rate lab on the server: the REST sweep, loss line and range test (docs/api.md,
"Learning-rate lab"), run on the training threads, and their JSON views.

A sweep trains K copies for up to `max_steps_per_request` steps, which can take seconds: it runs
in slices (`run_in_slices`) in a lane of its own, so sessions keep their turns on the training
threads meanwhile (round-robin, `backprop_lab.server.runtime.scheduler`). Before the work starts, its cost is
estimated from the engine's measured step time and refused with 429 past the time one request
may take (`max_request_seconds`), as `…/step` does. A sweep or range test whose client has
gone stops (`until_ended`) and frees its slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from backprop_lab.engine.config import Config
from backprop_lab.engine.lr_lab import LossLine, Race, RaceCopy, RangeTest, range_test
from backprop_lab.engine.tabular import Table
from backprop_lab.engine.trainer import Trainer
from backprop_lab.server.analyses.readouts import forward_seconds
from backprop_lab.server.runtime.scheduler import Lane, Scheduler
from backprop_lab.server.wire.problems import CapReached, InvalidInput, config_problem
from backprop_lab.server.wire.views import finite_or_none

JSON = dict[str, Any]
T = TypeVar("T")
SLICE_SECONDS = 0.008  # one turn of a sweep on a training thread, as long as a session's slice
HISTORY_POINTS = 500  # a sweep's history has about this many points unless asked otherwise


def run_in_slices(scheduler: Scheduler, lane: Lane, advance: Callable[[float], bool]) -> Future[None]:
    """Call `advance(deadline)` as a normal job in `lane` until it returns True (done), each
    call one turn among the sessions'. The future carries the end, or the exception raised;
    cancelling it (its client left: `until_ended`) stops the work before its next turn."""
    done: Future[None] = Future()

    def turn() -> None:
        if done.cancelled():
            return
        try:
            finished = advance(time.perf_counter() + SLICE_SECONDS)
            if not finished:
                if not done.cancelled():
                    scheduler.submit(turn, urgent=False, lane=lane)
                return
        except BaseException as error:  # handed to whoever awaits the sweep
            with contextlib.suppress(InvalidStateError):  # unless it was cancelled meanwhile
                done.set_exception(error)
            return
        with contextlib.suppress(InvalidStateError):
            done.set_result(None)

    scheduler.submit(turn, urgent=False, lane=lane)
    return done


async def until_ended(work: Future[T]) -> T:
    """Await `work` on the training threads. If the awaiting task is cancelled (its HTTP client
    left, `backprop_lab.server.runtime.disconnects`), the work stops where it can: a job that has not started never
    starts, sliced work (`run_in_slices`) stops before its next turn, and a job already running
    (the range test: one engine call) is awaited to its end, so the slot it holds
    (the ledger's `sweeps`, `backprop_lab.server.classroom.quotas`) is freed only once it no longer runs."""
    try:
        return await asyncio.shield(asyncio.wrap_future(work))
    except asyncio.CancelledError:
        if not work.cancel():  # running: it ends on its own, within the request's time cap
            with contextlib.suppress(Exception):  # nobody is left to hear how it ended
                await asyncio.wrap_future(work)
        raise


def too_slow(what: str, seconds: float, cap: float, field: str, value: int, fits: int) -> CapReached:
    """429 `takes_too_long`: `value` of `field` would compute for about `seconds`, past `cap`;
    `fits` is the largest value that would not (docs/api.md, "Errors"). Long work fits in a job
    (`POST /api/v1/jobs`), whose own caps are far higher."""
    return CapReached(
        f"{what} would take about {seconds:,.0f} s here; one request may compute for at most {cap:g} s: "
        f"ask for at most {fits:,} {field}, a smaller network, or submit it as a job (POST /api/v1/jobs)",
        "takes_too_long", field,
        {"value": value, "seconds": round(seconds, 1), "maximum": cap, "fits": max(0, fits)},
    )


# --- the sweep (a race over REST) ---------------------------------------------------------
def default_record_every(steps: int) -> int:
    return max(1, math.ceil(steps / HISTORY_POINTS))


@dataclass(frozen=True)
class SweepCost:
    """What a sweep costs here, measured on one copy: a step of its trainer, and one history
    point (the whole-split loss of one copy)."""

    per_step: float
    per_point: float

    @classmethod
    def of(cls, race: Race) -> SweepCost:
        first = race.copies[0]
        per_point = math.inf
        for _ in range(3):  # the fastest of three: the first pays for cold caches
            started = time.perf_counter()
            race.train_loss(first)  # a history point costs one such evaluation per copy
            per_point = min(per_point, time.perf_counter() - started)
        return cls(first.trainer.step_seconds(), per_point)

    def seconds(self, copies: int, steps: int, record_every: int) -> float:
        points = steps // record_every + 2
        return copies * (steps * self.per_step + points * self.per_point)

    def fitting_steps(self, copies: int, record_every: int, cap: float) -> int:
        """The most steps `copies` copies can take within `cap` seconds."""
        budget = cap / copies - 2 * self.per_point
        return max(0, int(budget / (self.per_step + self.per_point / record_every)))


def sweep_race(config: Config, table: Table | None, rates: list[float]) -> Race:
    """The race of a sweep, its config refused as a 422 naming the field."""
    try:
        return Race(config, rates, table)
    except ValueError as error:
        raise config_problem(error, ("body", "config")) from None


class Sweep:
    """One REST sweep: its race, built and trained in slices on the training threads."""

    def __init__(self, config: Config, table: Table | None, rates: list[float], steps: int, record_every: int,
                 cap_seconds: float):
        self.config, self.table, self.rates = config, table, rates
        self.steps, self.record_every, self.cap_seconds = steps, record_every, cap_seconds
        self.race: Race | None = None

    def advance(self, deadline: float) -> bool:
        if self.race is None:
            self.race = self._build()
            return False
        race = self.race
        remaining = self.steps - race.step
        per_step = sum(copy.trainer.step_seconds() for copy in race.running) or 1e-6
        budget = max(1, int((deadline - time.perf_counter()) / per_step))
        chunk = max(self.record_every, budget // self.record_every * self.record_every)
        race.run(min(chunk, remaining), self.record_every)
        return race.step >= self.steps or race.finished

    def _build(self) -> Race:
        race = sweep_race(self.config, self.table, self.rates)
        cost = SweepCost.of(race)
        copies = len(self.rates)
        seconds = cost.seconds(copies, self.steps, self.record_every)
        if seconds > self.cap_seconds:
            raise too_slow(f"{self.steps:,} steps of {copies} copies", seconds, self.cap_seconds, "steps",
                           self.steps, cost.fitting_steps(copies, self.record_every, self.cap_seconds))
        return race

    @property
    def copy_steps(self) -> int:
        """Steps taken by all copies together (a diverged copy counts as done): the progress."""
        if self.race is None:
            return 0
        return sum(self.steps if copy.diverged else copy.trainer.step_count for copy in self.race.copies)

    def view(self) -> JSON:
        assert self.race is not None
        return {"runs": [run_view(copy) for copy in self.race.copies], "steps": self.steps,
                "record_every": self.record_every}


def run_view(copy: RaceCopy) -> JSON:
    return {
        "learning_rate": copy.learning_rate,
        "history": np.asarray(copy.history),  # non-finite values are written as null
        "history_steps": copy.steps,
        "diverged": copy.diverged,
        "diverged_at": copy.diverged_at,
        "cause": copy.cause,
    }


# --- the loss line ------------------------------------------------------------------------
def check_line_cost(trainer: Trainer, points: int, cap_seconds: float) -> None:
    per_point = forward_seconds(trainer, repeats=1)
    seconds = (points + 2) * per_point
    if seconds > cap_seconds:
        raise too_slow(f"a loss line of {points:,} points", seconds, cap_seconds, "points", points,
                       int(cap_seconds / per_point) - 2)


def line_view(line: LossLine) -> JSON:
    return {
        "rates": line.rates,
        "loss": line.losses,
        "current_rate": line.current_rate,
        "current_loss": finite_or_none(line.current_loss),
        "landing_loss": finite_or_none(line.landing_loss),
        "best_rate": line.best_rate,
        "best_loss": finite_or_none(line.best_loss),
        "overshoot_rate": line.overshoot_rate,
        "gradient_norm": finite_or_none(line.gradient_norm),
    }


# --- the range test -----------------------------------------------------------------------
def check_range(min_rate: float, max_rate: float) -> None:
    if not min_rate < max_rate:
        raise InvalidInput(("body", "max_rate"), f"max_rate: must be above min_rate ({min_rate:g}), not {max_rate:g}")


def run_range_test(config: Config, table: Table | None, min_rate: float, max_rate: float, steps: int,
                   cap_seconds: float) -> RangeTest:
    """The range test, refused (429) when its steps would take past the cap."""
    try:
        trainer = Trainer(config, table)
    except ValueError as error:
        raise config_problem(error, ("body", "config")) from None
    per_step = trainer.step_seconds()
    seconds = steps * per_step
    if seconds > cap_seconds:
        raise too_slow(f"a range test of {steps:,} steps", seconds, cap_seconds, "steps", steps,
                       int(cap_seconds / per_step))
    return range_test(config, min_rate, max_rate, steps, table)


def range_view(test: RangeTest) -> JSON:
    return {
        "rates": test.rates,
        "loss": test.losses,
        "smoothed": test.smoothed,
        "suggested_rate": test.suggested_rate,
        "stopped_at": test.stopped_at,
        "diverged": test.diverged,
    }
