"""Paced sessions' turns on the event loop: they run on the loop's thread at their due time,
never beside their session's other jobs, and only while a loop runs them; the cadence tells
the loop's own work from theirs."""

from __future__ import annotations

import asyncio
import threading
import time

from backprop_lab.server.runtime.cadence import LOOP_SHARE, Cadence
from backprop_lab.server.runtime.loop_turns import LoopTurns
from backprop_lab.server.runtime.scheduler import Lane, Scheduler, Ticker


def test_a_ticker_armed_from_a_training_thread_ticks_on_the_event_loop_at_its_time() -> None:
    async def scenario() -> tuple[list[int], list[float], int]:
        scheduler = Scheduler(threads=2)
        scheduler.start()
        turns = LoopTurns(scheduler, Cadence(2), asyncio.get_running_loop())
        threads: list[int] = []
        lateness: list[float] = []
        due = time.perf_counter() + 0.05
        done = asyncio.Event()
        loop = asyncio.get_running_loop()

        def tick() -> float | None:
            nonlocal due
            threads.append(threading.get_ident())
            lateness.append(time.perf_counter() - due)
            if len(threads) == 10:
                loop.call_soon(done.set)
                return None
            due = time.perf_counter() + 0.01
            return due

        ticker = Ticker(tick, Lane("paced"), on_loop=True)
        scheduler.submit(lambda: scheduler.wake(ticker, due)).result(2)  # armed on a training thread
        try:
            await asyncio.wait_for(done.wait(), 5)
        finally:
            turns.close()
            scheduler.stop()
        return threads, lateness, threading.get_ident()

    threads, lateness, loop_thread = asyncio.run(scenario())
    assert threads == [loop_thread] * 10
    assert min(lateness) >= 0 and sorted(lateness)[5] < 0.02, "at its time, not before, nor much after"


def test_an_on_loop_turn_waits_while_a_worker_holds_its_sessions_lane() -> None:
    scheduler = Scheduler(threads=1)
    scheduler.on_loop_armed = lambda at: None  # a runner: this test calls run_on_loop itself
    scheduler.start()
    lane = Lane("s")
    inside, overlapped, ticks = 0, False, 0

    def enter() -> None:
        nonlocal inside, overlapped
        inside += 1
        overlapped |= inside > 1
        time.sleep(0.002)  # gives the GIL away: the other side could run now
        inside -= 1

    def tick() -> float | None:
        nonlocal ticks
        ticks += 1
        enter()
        return time.perf_counter()

    ticker = Ticker(tick, lane, on_loop=True)
    scheduler.wake(ticker)
    try:
        results = [scheduler.submit(enter, lane=lane) for _ in range(50)]
        deadline = time.monotonic() + 5
        while not all(result.done() for result in results) and time.monotonic() < deadline:
            scheduler.run_on_loop(0.003)
    finally:
        scheduler.stop()
    assert all(result.done() for result in results)
    assert not overlapped and ticks > 5


def test_run_on_loop_keeps_to_its_budget_and_says_when_the_next_turn_is_due() -> None:
    scheduler = Scheduler(threads=1)
    scheduler.on_loop_armed = lambda at: None
    ran: list[str] = []
    later = time.perf_counter() + 60

    def slow(name: str) -> float | None:
        ran.append(name)
        time.sleep(0.004)
        return later if name == "c" else None

    for name in "abc":
        scheduler.wake(Ticker(lambda name=name: slow(name), on_loop=True))
    now = time.perf_counter()
    assert scheduler.run_on_loop(0.006) <= now + 0.001, "more are due: the loop comes back at once"
    assert ran == ["a", "b"]
    assert scheduler.run_on_loop(0.006) == later
    assert ran == ["a", "b", "c"]
    assert scheduler.run_on_loop(0.006) == later and ran == ["a", "b", "c"]


def test_without_a_loop_to_run_them_on_loop_tickers_run_on_a_training_thread() -> None:
    scheduler = Scheduler(threads=1)
    scheduler.start()
    ran = threading.Event()
    threads: list[int] = []

    def tick() -> float | None:
        threads.append(threading.get_ident())
        ran.set()
        return None

    try:
        scheduler.wake(Ticker(tick, on_loop=True))
        assert ran.wait(2)
    finally:
        scheduler.stop()
    assert threads and threads[0] != threading.get_ident()


def test_the_loops_own_share_leaves_out_the_turns_it_ran() -> None:
    """A hall's paced turns fill the loop's CPU: its own work (the sends) is what is left, and
    the turns count once, as the Python the GIL carries."""
    cadence = Cadence(2)
    cadence.playing(+100)
    cadence.note_loop_turns(0.50)
    cadence.note_python_work(0.50)
    cadence.adjust(1.0, 0.70)  # own 0.2 of a core; own + turns 0.7 of the GIL: not busy
    assert cadence.capacity == float("inf")
    cadence.note_loop_turns(0.10)
    cadence.note_python_work(0.10)
    cadence.adjust(1.0, 0.10 + LOOP_SHARE + 0.05)  # its own work above LOOP_SHARE: busy
    assert cadence.capacity < float("inf")


def test_turns_of_a_session_whose_training_is_a_small_share_of_a_core_go_on_the_loop() -> None:
    cadence = Cadence(2)
    assert cadence.turns_on_loop(100, 4e-6)  # a hall at a watchable pace, the default network
    assert not cadence.turns_on_loop(0, 4e-6)  # full speed: the training threads
    assert not cadence.turns_on_loop(10_000, 50e-6)  # half a core of training
