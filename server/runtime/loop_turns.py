"""The event loop's share of the play loops: the turns of sessions at a watchable pace
(`Scheduler.run_on_loop`; why they run here, in `backprop_lab.server.runtime.scheduler`).

`LoopTurns` runs the due turns in batches of at most `BATCH_SECONDS`, then lets the loop read and
write its sockets before the next batch, so a control or a request waits at most one batch. It
sleeps on a timer until the next turn is due; a ticker armed earlier than that (a session that
starts playing, from any thread) moves the timer. Each batch's CPU time goes to the cadence
(`Cadence.note_loop_turns`), which tells the loop's own work (its sends) from these turns.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time

from backprop_lab.server.runtime.cadence import Cadence
from backprop_lab.server.runtime.scheduler import Scheduler

BATCH_SECONDS = 0.004  # of turns in a row, at most, before the loop serves its sockets again


class LoopTurns:
    def __init__(self, scheduler: Scheduler, cadence: Cadence, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduler = scheduler
        self._cadence = cadence
        self._loop = loop
        self._thread = threading.get_ident()  # made on the loop's thread
        self._timer: asyncio.TimerHandle | None = None
        self._at = math.inf  # when the timer fires (−inf while a batch runs: it sets the next itself)
        scheduler.on_loop_armed = self._armed

    def close(self) -> None:
        self._scheduler.on_loop_armed = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _armed(self, at: float) -> None:
        """A ticker is due at `at` (a `time.perf_counter()` value); from any thread."""
        if at >= self._at:
            return  # the timer fires by then anyway (or a batch is running)
        if threading.get_ident() == self._thread:
            self._schedule(at)
        else:
            self._loop.call_soon_threadsafe(self._schedule, at)

    def _schedule(self, at: float) -> None:
        if at >= self._at or self._scheduler.on_loop_armed is None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._at = at
        self._timer = self._loop.call_later(max(0.0, at - time.perf_counter()), self._run)

    def _run(self) -> None:
        self._timer, self._at = None, -math.inf
        cpu = time.thread_time()
        try:
            next_due = self._scheduler.run_on_loop(BATCH_SECONDS)
        finally:
            self._at = math.inf
            self._cadence.note_loop_turns(time.thread_time() - cpu)
        if next_due is not None:
            self._schedule(next_due)
