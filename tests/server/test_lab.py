"""server.analyses.rate_experiments: the sweep's default history spacing, and sliced work that stops when cancelled.
(How many sweeps run at once is the ledger's: tests/server/test_quotas.py.)"""

from __future__ import annotations

import threading

from backprop_lab.server.analyses.rate_experiments import default_record_every, run_in_slices
from backprop_lab.server.runtime.scheduler import Lane, Scheduler


def test_the_history_has_every_step_up_to_500_steps_and_about_500_points_beyond():
    assert default_record_every(400) == 1 and default_record_every(500) == 1
    assert default_record_every(1000) == 2 and default_record_every(1_000_000) == 2000


def test_sliced_work_whose_future_is_cancelled_stops_before_its_next_turn():
    scheduler = Scheduler()
    scheduler.start()
    turns: list[float] = []
    cancelled = threading.Event()

    def advance(deadline: float) -> bool:
        turns.append(deadline)
        if len(turns) == 3:
            work.cancel()  # as a client's leaving does, from the event loop, between two turns
            cancelled.set()
        return False  # never done on its own

    lane = Lane("sweep")
    try:
        work = run_in_slices(scheduler, lane, advance)
        assert cancelled.wait(5)
        drained = scheduler.submit(lambda: None, urgent=False, lane=lane)  # behind any next turn
        drained.result(5)
        assert len(turns) == 3 and work.cancelled()
    finally:
        scheduler.stop()
