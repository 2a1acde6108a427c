"""The training threads: a session's engine work runs here, all but the play turns of sessions at
a watchable pace, which the event loop runs (see "Turns on the event loop" below).

A pool of `threads` workers (one per core by default, `--training-threads`) runs *jobs*.
Training calls that release the GIL (the engine's numba `nogil` kernels) let two workers train
two sessions at once on two cores; Python and small-array NumPy code hold the GIL, so the
frames, the metrics and the event loop still take turns with each other.

Lanes keep a session's work in order. Each session submits into its own `Lane`; its urgent
jobs run in the order they were asked for, and so do its normal ones, one job at a time: a
lane held by one worker is skipped by the others until its job returns. So the engine needs
no locks, and a session's operations never overlap, whichever threads run them. Work submitted
without a lane goes to one shared lane, so it too runs one job at a time, in order.

What runs here:
- *urgent* jobs: control messages and REST calls (a config change, a probe, reading metrics);
  short, and served first, so a control takes effect within one training slice;
- *normal* jobs: play ticks (train for a slice, then maybe build a frame) and the chunks of
  long step requests.

Fairness. Lanes with work wait in two queues, urgent and normal. A worker takes the first lane
in the queue that no other worker holds, runs one job, and the lane, if it has more, goes to
the back: round-robin over sessions, so with 50 playing sessions each gets one turn per round
and all their frame rates degrade together. N workers share one round, so each session's turn
comes about every players / N slices (`backprop_lab.server.runtime.cadence` sizes the slices accordingly). A worker
that keeps getting urgent work cannot starve training: after `urgent_budget` seconds of urgent
jobs in a row it runs one normal job.

Turns on the event loop. A ticker marked `on_loop` (a session playing at a watchable pace, whose
training is a small share of a core: `Cadence.turns_on_loop`) is run by the event loop
(`run_on_loop`, driven by `backprop_lab.server.runtime.loop_turns`), not by a training thread. Its
turn is nearly all Python (a few steps, a frame), so a training thread would give it no
parallelism, only hand-overs of the one GIL: between the thread and the loop, which releases it
at every socket write, each side waited for the other, and a hall of 200 paced sessions cost
2.2 times the CPU per frame and got half the frames (bench/hall.py, docs/budgets.md). Its lane
still orders it with the session's other jobs: a lane a worker holds is skipped and retried.
These turns go by due time; a student's accounts (below) do not apply to them, as their cost is
set by their pace, not by how many threads they take.

Above the lanes, accounts (`Account`; in classroom mode one per student) take turns the same
way: each queue is a round-robin over accounts, and within an account's turn over its lanes.
So a student with four sessions playing, a race and a sweep gets one turn per round, as a
student with one session does, however many lanes they open. And a free worker serves an
account that runs on no thread before one that already does, urgent work included: a student
never gets a second thread while another student with work waiting has none (without this the
flooder's next job, queued while the good student's turn ran, took the freed thread: the good
student then held a thread 46–79 % of the time instead of 90–95 %, bench/abuse.py). A lane given
no account has one of its own: with one lane per account this is the plain round-robin over
lanes.
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

from backprop_lab.server.wire.problems import Unavailable

logger = logging.getLogger(__name__)
T = TypeVar("T")
LANE_RETRY = 0.001  # seconds: an on-loop turn whose lane a worker holds tries again this much later


class Account:
    """Whose work a lane is: the lanes of one account share one turn per round."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        # its lanes with urgent (normal) jobs, in the order of their turns
        self.urgent: deque[Lane] = deque()
        self.normal: deque[Lane] = deque()
        self.running = 0  # its lanes a worker holds now (under the scheduler's lock)

    def __repr__(self) -> str:
        return (f"Account({self.name!r}, urgent={len(self.urgent)}, normal={len(self.normal)}, "
                f"running={self.running})")


class Lane:
    """The queue of one session's jobs. A lane runs on one worker at a time."""

    def __init__(self, name: str = "", account: Account | None = None) -> None:
        self.name = name
        self.account = account if account is not None else Account(name)  # alone: a turn of its own
        self.urgent: deque[_Job] = deque()
        self.normal: deque[_Job] = deque()
        self.held = False  # a worker is running one of its jobs

    def __repr__(self) -> str:
        return f"Lane({self.name!r}, urgent={len(self.urgent)}, normal={len(self.normal)}, held={self.held})"


@dataclass(eq=False)
class Ticker:
    """A recurring job (a session's play loop) in `lane`. `tick()` returns when it wants to run
    next (a `time.perf_counter()` value), or None to stop until woken again."""

    tick: Callable[[], float | None]
    lane: Lane = field(default_factory=Lane)
    name: str = ""
    due: float = 0.0
    pending: bool = False  # armed: in the timer heap or its lane's queue
    token: int = 0  # invalidates heap entries when re-armed
    stopped: bool = False
    on_loop: bool = False  # its turns run on the event loop (`Scheduler.run_on_loop`), not a training thread


@dataclass(eq=False)
class _Job:
    run: Callable[[], Any]
    future: Future[Any] | None = None
    ticker: Ticker | None = None
    urgent: bool = False


class SchedulerStopped(Unavailable):
    def __init__(self) -> None:
        super().__init__("the server is shutting down", "shutting_down")


class Scheduler:
    def __init__(self, threads: int = 1, urgent_budget: float = 0.02) -> None:
        if threads < 1:
            raise ValueError(f"threads: at least 1 training thread, got {threads}")
        self.threads = threads
        self.urgent_budget = urgent_budget
        self._cond = threading.Condition()
        self._shared = Lane("shared")  # work submitted without a lane
        # Accounts with lanes with urgent (normal) jobs, in the order of their turns. A lane held
        # by a worker stays in place and is skipped: at most threads − 1 of them are.
        self._urgent: deque[Account] = deque()
        self._normal: deque[Account] = deque()
        self._timers: list[tuple[float, int, int, Ticker]] = []
        self._loop_timers: list[tuple[float, int, int, Ticker]] = []  # the on-loop tickers'
        # told when an on-loop ticker is armed, with its due time (from any thread): the event loop's runner
        self.on_loop_armed: Callable[[float], None] | None = None
        self._seq = itertools.count()
        self._workers: list[threading.Thread] = []
        self._stopped = False

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        for index in range(self.threads):
            worker = threading.Thread(target=self._run, name=f"backprop-lab-training-{index}", daemon=True)
            self._workers.append(worker)
            worker.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel every pending job and join every worker (all within `timeout` seconds)."""
        with self._cond:
            self._stopped = True
            pending: list[_Job] = []
            for account in {*self._urgent, *self._normal}:
                for lane in {*account.urgent, *account.normal}:
                    pending += [*lane.urgent, *lane.normal]
                    lane.urgent.clear()
                    lane.normal.clear()
                account.urgent.clear()
                account.normal.clear()
            self._urgent.clear()
            self._normal.clear()
            self._timers.clear()
            self._loop_timers.clear()
            self._cond.notify_all()
        for job in pending:
            if job.future is not None:
                job.future.cancel()
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            if worker is not threading.current_thread():
                worker.join(max(0.0, deadline - time.monotonic()))

    # --- submitting work -------------------------------------------------------------------
    def submit(self, function: Callable[[], T], urgent: bool = True, lane: Lane | None = None) -> Future[T]:
        """Run `function` on a training thread, after the jobs submitted to `lane` before it
        (the shared lane when None); its result or exception lands in the future."""
        future: Future[T] = Future()
        with self._cond:
            if self._stopped:
                raise SchedulerStopped()
            self._enqueue(lane or self._shared, _Job(function, future, urgent=urgent))
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
            armed = self.on_loop_armed
            if not ticker.on_loop or armed is None:  # no event loop runs turns: a training thread does
                heapq.heappush(self._timers, (at, next(self._seq), ticker.token, ticker))
                self._cond.notify()
                return
            heapq.heappush(self._loop_timers, (at, next(self._seq), ticker.token, ticker))
        armed(at)

    def run_on_loop(self, budget: float) -> float | None:
        """Run the on-loop tickers that are due, for about `budget` seconds at most; returns when
        the next one is due (None: none armed). Called by the event loop only. A ticker whose lane
        a worker holds (its session's control or request) is retried `LANE_RETRY` later."""
        start = time.perf_counter()
        timers = self._loop_timers
        with np.errstate(all="ignore"):  # as on the training threads (`_run`)
            while True:
                with self._cond:
                    now = time.perf_counter()
                    if self._stopped or not timers:
                        return None
                    if timers[0][0] > now or now - start >= budget:
                        return timers[0][0]
                    _, _, token, ticker = heapq.heappop(timers)
                    if token != ticker.token or ticker.stopped:
                        continue
                    lane = ticker.lane
                    if lane.held:
                        ticker.due = now + LANE_RETRY
                        heapq.heappush(timers, (ticker.due, next(self._seq), token, ticker))
                        continue
                    lane.held = True
                    lane.account.running += 1
                    ticker.pending = False
                try:
                    next_due = ticker.tick()
                except Exception:
                    logger.exception("a play loop failed (%s)", ticker.name)
                    next_due = None
                finally:
                    self._release(lane)
                if next_due is not None:
                    self.wake(ticker, next_due)

    def cancel(self, ticker: Ticker) -> None:
        """Stop a ticker for good (its session closed)."""
        with self._cond:
            ticker.stopped = True
            ticker.pending = False
            ticker.token += 1

    # --- the queues (under self._cond) -----------------------------------------------------
    def _enqueue(self, lane: Lane, job: _Job) -> None:
        account = lane.account
        if job.urgent:
            jobs, lanes, accounts = lane.urgent, account.urgent, self._urgent
        else:
            jobs, lanes, accounts = lane.normal, account.normal, self._normal
        jobs.append(job)
        if len(jobs) == 1:
            lanes.append(lane)
            if len(lanes) == 1:
                accounts.append(account)

    def _release_due(self, now: float) -> None:
        while self._timers and self._timers[0][0] <= now:
            _, _, token, ticker = heapq.heappop(self._timers)
            if token == ticker.token and not ticker.stopped:
                self._enqueue(ticker.lane, _Job(ticker.tick, ticker=ticker))

    def _take(self, accounts: deque[Account], urgent: bool, idle_only: bool) -> tuple[Lane, _Job] | None:
        """The next job of the first account's (running on no thread, when `idle_only`) first
        lane no worker holds, which it now holds; the lane goes to the back of its account's
        queue, and the account to the back of `accounts`, if they have more."""
        for account_index, account in enumerate(accounts):
            if idle_only and account.running:
                continue
            lanes = account.urgent if urgent else account.normal
            for index, lane in enumerate(lanes):
                if lane.held:
                    continue
                jobs = lane.urgent if urgent else lane.normal
                job = jobs.popleft()
                del lanes[index]
                if jobs:
                    lanes.append(lane)
                del accounts[account_index]
                if lanes:
                    accounts.append(account)
                lane.held = True
                account.running += 1
                return lane, job
        return None

    def _next_job(self, urgent_streak: float) -> tuple[Lane, _Job] | None:
        with self._cond:
            while not self._stopped:
                self._release_due(time.perf_counter())
                first_urgent = urgent_streak < self.urgent_budget
                taken = None
                for idle_only in (True, False):  # an account on no thread first, then any
                    if first_urgent:
                        taken = self._take(self._urgent, True, idle_only) or self._take(self._normal, False, idle_only)
                    else:
                        taken = self._take(self._normal, False, idle_only) or self._take(self._urgent, True, idle_only)
                    if taken is not None:
                        break
                if taken is not None:
                    if self._urgent or self._normal:
                        self._cond.notify()  # more may be ready for an idle worker
                    return taken
                timeout = self._timers[0][0] - time.perf_counter() if self._timers else None
                self._cond.wait(timeout)
            return None

    def _release(self, lane: Lane) -> None:
        with self._cond:
            lane.held = False
            lane.account.running -= 1
            if lane.urgent or lane.normal:
                self._cond.notify()

    # --- a worker --------------------------------------------------------------------------
    def _run(self) -> None:
        urgent_streak = 0.0
        # Overflow in a diverging network is expected and detected by the engine (isfinite);
        # NumPy's warnings about it would only flood the log.
        with np.errstate(all="ignore"):
            while True:
                taken = self._next_job(urgent_streak)
                if taken is None:
                    return
                lane, job = taken
                started = time.perf_counter()
                try:
                    self._execute(job)
                finally:
                    self._release(lane)
                # No `time.sleep(0)` to hand the event loop the GIL between jobs: a thread that
                # gives the GIL away waits up to a switch interval to get it back, which cost the
                # training threads about half their time with 50 sessions playing (bench/stream.py:
                # busy 42–51 % with it, 84–97 % without, and no worse frame rates or control
                # latency). Compiled training calls release the GIL while they train anyway.
                urgent_streak = urgent_streak + time.perf_counter() - started if job.urgent else 0.0

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
