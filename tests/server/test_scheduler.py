"""The training thread: urgent work first, round-robin play loops, shrinking slices."""

from __future__ import annotations

import threading
import time

import pytest

from server.scheduler import Scheduler, SchedulerStopped, Ticker


@pytest.fixture
def scheduler():  # type: ignore[no-untyped-def]
    scheduler = Scheduler()
    scheduler.start()
    yield scheduler
    scheduler.stop()


def test_jobs_run_on_the_training_thread_in_order_and_return_results(scheduler):
    order: list[int] = []
    futures = [scheduler.submit(lambda i=i: order.append(i) or i) for i in range(5)]
    assert [f.result(2) for f in futures] == [0, 1, 2, 3, 4] and order == [0, 1, 2, 3, 4]
    assert scheduler.submit(lambda: threading.current_thread().name).result(2) == "backprop-lab-training"


def test_a_job_error_reaches_its_future(scheduler):
    with pytest.raises(ZeroDivisionError):
        scheduler.submit(lambda: 1 / 0).result(2)


def test_urgent_work_overtakes_waiting_play_loops(scheduler):
    ran: list[str] = []
    gate = threading.Event()
    scheduler.submit(gate.wait, urgent=False)
    for name in "abc":
        scheduler.submit(lambda name=name: ran.append(name), urgent=False)
    last = scheduler.submit(lambda: ran.append("urgent"))
    gate.set()
    last.result(2)
    time.sleep(0.05)
    assert ran[0] == "urgent"


def test_tickers_repeat_until_they_stop(scheduler):
    count = 0

    def tick() -> float | None:
        nonlocal count
        count += 1
        return None if count == 5 else time.perf_counter() + 0.001

    scheduler.wake(Ticker(tick))
    deadline = time.monotonic() + 2
    while count < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert count == 5


def test_slices_shrink_and_frames_space_out_as_more_sessions_play():
    scheduler = Scheduler(frame_rate=60, max_slice=0.008, min_slice=0.0001, frame_budget=1250, refresh_rate=20)
    scheduler.players = 1
    assert scheduler.slice_seconds() == 0.008 and scheduler.frame_interval() == pytest.approx(1 / 60)
    assert scheduler.refresh_interval() == pytest.approx(1 / 20)  # metrics and probe: 20 a second, not 60
    scheduler.players = 50
    assert scheduler.slice_seconds() < 0.001
    assert scheduler.frame_interval() == pytest.approx(50 / 1250)  # 25 frames a second each
    assert scheduler.refresh_interval() >= scheduler.frame_interval()


def test_a_stopped_scheduler_refuses_work():
    scheduler = Scheduler()
    scheduler.start()
    scheduler.stop()
    with pytest.raises(SchedulerStopped):
        scheduler.submit(lambda: None)
