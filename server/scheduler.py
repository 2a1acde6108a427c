"""The training thread: every session's engine work runs here, never on the event loop.

Why one thread. A training step of a small network is ~40 NumPy calls on tiny arrays: Python
time under the GIL, so a second training thread would not train faster, it would only make
the threads (and the event loop) fight for the GIL. One thread also gives, for free, what the
sessions need most: the work of a session runs in the order it was asked for, and never at
the same time as other work on the same trainer, so the engine needs no locks.

What runs here:
- *urgent* jobs: control messages and REST calls (a config change, a probe, reading metrics);
  short, and served first, so a control takes effect within one training slice;
- *normal* jobs: play ticks (train for a slice, then maybe build a frame) and the chunks of
  long step requests, round-robin, so 50 playing sessions share the CPU fairly.

A job that keeps urgent work coming cannot starve training: after `urgent_budget` seconds of
urgent jobs in a row one normal job runs.

The slice a playing session trains for shrinks as more sessions play (`slice_seconds`), so each
still gets frames out at a useful rate; see docs/budgets.md for the targets.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(eq=False)
class Ticker:
    """A recurring job (a session's play loop). `tick()` returns when it wants to run next
    (a `time.perf_counter()` value), or None to stop until woken again."""

    tick: Callable[[], float | None]
    name: str = ""
    due: float = 0.0
    pending: bool = False  # armed: in the timer heap or the normal queue
    token: int = 0  # invalidates heap entries when re-armed
    stopped: bool = False


@dataclass(eq=False)
class _Job:
    run: Callable[[], Any]
    future: Future[Any] | None = None
    ticker: Ticker | None = None
    urgent: bool = False
    enqueued: float = field(default_factory=time.perf_counter)


class SchedulerStopped(RuntimeError):
    pass


class Scheduler:
    def __init__(
        self,
        frame_rate: float = 60.0,
        max_slice: float = 0.008,
        min_slice: float = 0.0001,
        urgent_budget: float = 0.02,
        frame_budget: float = 1200.0,
        refresh_share: float = 0.2,
        refresh_rate: float = 20.0,
    ) -> None:
        self.frame_period = 1.0 / frame_rate
        self.max_slice = max_slice
        self.min_slice = min_slice
        self.urgent_budget = urgent_budget
        self.frame_budget = frame_budget  # frames a second, all playing sessions together
        self.refresh_share = refresh_share  # of the CPU, at most, for whole-split metrics and probes
        self.refresh_period = 1.0 / refresh_rate  # a playing session's metrics and probe, at most this often
        self.players = 0  # sessions playing now; changed only on this thread
        self.frame_cost = 0.0002  # seconds to build a frame from cached metrics, smoothed
        self.refresh_cost = 0.0005  # seconds to evaluate metrics and the probe, smoothed
        # Seconds spent on this thread by kind of work, for /api/v1/health and bench/stream.py.
        self.spent: dict[str, float] = {"training": 0.0, "frames": 0.0, "metrics": 0.0, "heatmaps": 0.0,
                                        "requests": 0.0}
        self._cond = threading.Condition()
        self._urgent: deque[_Job] = deque()
        self._normal: deque[_Job] = deque()
        self._timers: list[tuple[float, int, int, Ticker]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._stopped = False

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="backprop-lab-training", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopped = True
            pending = list(self._urgent) + list(self._normal)
            self._urgent.clear()
            self._normal.clear()
            self._timers.clear()
            self._cond.notify_all()
        for job in pending:
            if job.future is not None:
                job.future.cancel()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def in_worker(self) -> bool:
        return threading.current_thread() is self._thread

    # --- submitting work -------------------------------------------------------------------
    def submit(self, function: Callable[[], T], urgent: bool = True) -> Future[T]:
        """Run `function` on the training thread; its result or exception lands in the future."""
        future: Future[T] = Future()
        with self._cond:
            if self._stopped:
                raise SchedulerStopped("the server is shutting down")
            (self._urgent if urgent else self._normal).append(_Job(function, future, urgent=urgent))
            self._cond.notify()
        return future

    def wake(self, ticker: Ticker, at: float | None = None) -> None:
        """Arm `ticker` to tick at `at` (now when None), unless it is armed for earlier."""
        at = time.perf_counter() if at is None else at
        with self._cond:
            if self._stopped or ticker.stopped:
                return
            if ticker.pending and ticker.due <= at:
                return
            ticker.due = at
            ticker.token += 1
            ticker.pending = True
            heapq.heappush(self._timers, (at, next(self._seq), ticker.token, ticker))
            self._cond.notify()

    def cancel(self, ticker: Ticker) -> None:
        """Stop a ticker for good (its session closed)."""
        with self._cond:
            ticker.stopped = True
            ticker.pending = False
            ticker.token += 1

    # --- fairness --------------------------------------------------------------------------
    def slice_seconds(self) -> float:
        """How long a playing session may train before the next one gets the thread.

        Alone, a session trains most of each frame period; with n sessions playing, each gets
        about period/n minus the cost of its frame, but never less than `min_slice`, so with
        many sessions the round (and the frame interval) stretches instead of training stopping.
        """
        players = max(1, self.players)
        share = self.frame_interval() / players - self.frame_cost
        return min(self.max_slice, max(self.min_slice, share))

    def frame_interval(self) -> float:
        """Seconds between a playing session's frames: 1/60 s, stretched when so many sessions
        play that their frames together would pass `frame_budget` a second (the event loop has
        to send every one of them)."""
        return max(self.frame_period, self.players / self.frame_budget)

    def refresh_interval(self) -> float:
        """Seconds between re-evaluations of a playing session's whole-split metrics and probe:
        `refresh_period` (20 a second) when few sessions play; spaced out so that all sessions'
        evaluations together stay within `refresh_share` of the CPU, and training keeps the rest."""
        return max(self.refresh_period, self.frame_interval(), self.players * self.refresh_cost / self.refresh_share)

    def note_frame_cost(self, seconds: float) -> None:
        self.frame_cost += 0.1 * (seconds - self.frame_cost)
        self.spent["frames"] += seconds

    def note_refresh_cost(self, seconds: float) -> None:
        self.refresh_cost += 0.1 * (seconds - self.refresh_cost)
        self.spent["metrics"] += seconds

    # --- the thread ------------------------------------------------------------------------
    def _release_due(self, now: float) -> None:
        while self._timers and self._timers[0][0] <= now:
            _, _, token, ticker = heapq.heappop(self._timers)
            if token == ticker.token and not ticker.stopped:
                self._normal.append(_Job(ticker.tick, ticker=ticker))

    def _next_job(self, urgent_streak: float) -> _Job | None:
        with self._cond:
            while not self._stopped:
                self._release_due(time.perf_counter())
                if self._urgent and (not self._normal or urgent_streak < self.urgent_budget):
                    return self._urgent.popleft()
                if self._normal:
                    return self._normal.popleft()
                if self._urgent:
                    return self._urgent.popleft()
                timeout = self._timers[0][0] - time.perf_counter() if self._timers else None
                self._cond.wait(timeout)
            return None

    def _run(self) -> None:
        urgent_streak = 0.0
        # Overflow in a diverging network is expected and detected by the engine (isfinite);
        # NumPy's warnings about it would only flood the log.
        with np.errstate(all="ignore"):
            while True:
                job = self._next_job(urgent_streak)
                if job is None:
                    return
                started = time.perf_counter()
                self._execute(job)
                elapsed = time.perf_counter() - started
                if job.urgent:
                    urgent_streak += elapsed
                    self.spent["requests"] += elapsed
                else:
                    urgent_streak = 0.0
                    # Let the event loop take the GIL now if it is waiting for it (it has frames
                    # to send and messages to read); otherwise it would wait for a forced switch.
                    time.sleep(0)

    def _execute(self, job: _Job) -> None:
        if job.ticker is not None:
            ticker = job.ticker
            with self._cond:
                if ticker.stopped:
                    return
                ticker.pending = False
            try:
                next_due = ticker.tick()
            except Exception:
                logger.exception("a play loop failed (%s)", ticker.name)
                return
            if next_due is not None:
                self.wake(ticker, next_due)
            return
        future = job.future
        assert future is not None
        if not future.set_running_or_notify_cancel():
            return
        try:
            result = job.run()
        except BaseException as exc:  # handed to whoever awaits the future
            future.set_exception(exc)
        else:
            future.set_result(result)
