"""The training threads: a lane's jobs in order and never two at once, urgent work first,
round-robin play loops that starve no session, one turn per account however many lanes it has,
and a clean stop."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import CancelledError, Future

import pytest

from backprop_lab.server.runtime.scheduler import Account, Lane, Scheduler, SchedulerStopped, Ticker


@pytest.fixture
def scheduler() -> Iterator[Scheduler]:
    scheduler = Scheduler(threads=2)
    scheduler.start()
    yield scheduler
    scheduler.stop()


def busy(seconds: float) -> None:
    """Hold the GIL for `seconds`, like Python work between engine calls."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def nogil(seconds: float) -> None:
    """Release the GIL for `seconds`, like one compiled training call: other threads run."""
    time.sleep(seconds)


def occupy(scheduler: Scheduler) -> list[threading.Event]:
    """Keep every thread busy with a normal job until its returned gate is set."""
    gates = [threading.Event() for _ in range(scheduler.threads)]
    started = threading.Barrier(scheduler.threads + 1)

    def hold(gate: threading.Event) -> None:
        started.wait(2)
        gate.wait(5)

    for gate in gates:
        scheduler.submit(lambda gate=gate: hold(gate), urgent=False, lane=Lane())
    started.wait(2)
    return gates


def test_jobs_without_a_lane_run_in_order_on_a_training_thread_and_return_results(scheduler):
    order: list[int] = []
    futures = [scheduler.submit(lambda i=i: order.append(i) or i) for i in range(5)]
    assert [f.result(2) for f in futures] == [0, 1, 2, 3, 4] and order == [0, 1, 2, 3, 4]
    assert scheduler.submit(lambda: threading.current_thread().name).result(2).startswith("backprop-lab-training")


def test_a_job_error_reaches_its_future(scheduler):
    with pytest.raises(ZeroDivisionError):
        scheduler.submit(lambda: 1 / 0).result(2)


def test_a_lanes_jobs_run_in_the_order_asked_and_never_two_at_once_across_threads():
    scheduler = Scheduler(threads=4)
    scheduler.start()
    lanes = [Lane(f"s{index}") for index in range(6)]
    guard = threading.Lock()
    inside: Counter[int] = Counter()  # jobs of each lane running now
    overlaps: list[int] = []
    most_at_once = 0  # jobs of all lanes running at one moment
    ran: dict[tuple[int, bool], list[int]] = {}
    threads_used: dict[int, set[str]] = {}

    def job(lane: int, urgent: bool, seq: int) -> None:
        nonlocal most_at_once
        with guard:
            inside[lane] += 1
            if inside[lane] > 1:
                overlaps.append(lane)
            most_at_once = max(most_at_once, sum(inside.values()))
            ran.setdefault((lane, urgent), []).append(seq)
            threads_used.setdefault(lane, set()).add(threading.current_thread().name)
        nogil(0.0003)
        with guard:
            inside[lane] -= 1

    try:
        futures: list[Future[None]] = []
        for seq in range(40):
            for index, lane in enumerate(lanes):
                urgent = seq % 3 == 0
                futures.append(
                    scheduler.submit(lambda i=index, u=urgent, s=seq: job(i, u, s), urgent=urgent, lane=lane)
                )
        for future in futures:
            future.result(10)
    finally:
        scheduler.stop()
    assert overlaps == []
    for (_, urgent), seqs in ran.items():
        assert seqs == [seq for seq in range(40) if (seq % 3 == 0) == urgent]
    assert most_at_once > 1  # lanes did run at once: the test could have caught an overlap
    assert any(len(names) > 1 for names in threads_used.values())  # and lanes moved between threads


def test_a_play_loop_never_overlaps_its_sessions_other_jobs():
    scheduler = Scheduler(threads=2)
    scheduler.start()
    lane = Lane("s")
    inside = 0
    overlapped = False
    ticks = 0

    def enter() -> None:
        nonlocal inside, overlapped
        inside += 1
        overlapped |= inside > 1
        nogil(0.0005)
        inside -= 1

    def tick() -> float | None:
        nonlocal ticks
        enter()
        ticks += 1
        return time.perf_counter() if ticks < 200 else None

    try:
        scheduler.wake(Ticker(tick, lane))
        for _ in range(100):
            scheduler.submit(enter, lane=lane).result(5)
            scheduler.submit(enter, urgent=False, lane=lane).result(5)
    finally:
        scheduler.stop()
    assert not overlapped and ticks > 0


def test_urgent_work_overtakes_waiting_play_loops(scheduler):
    ran: list[str] = []
    first, second = occupy(scheduler)
    waiting = Lane("waiting")
    normal = [scheduler.submit(lambda name=name: ran.append(name), urgent=False, lane=waiting) for name in "abc"]
    urgent = scheduler.submit(lambda: ran.append("urgent"), lane=Lane("control"))
    first.set()  # one thread frees up: it takes the urgent job before any normal one
    urgent.result(5)
    second.set()
    for future in normal:
        future.result(5)
    assert ran == ["urgent", "a", "b", "c"]


def test_a_flood_of_urgent_work_does_not_stop_play_loops():
    scheduler = Scheduler(threads=2, urgent_budget=0.01)
    scheduler.start()
    ticks = 0
    flooding = True

    def flood() -> None:
        busy(0.001)
        if flooding:
            scheduler.submit(flood, lane=Lane())

    def tick() -> float:
        nonlocal ticks
        ticks += 1
        return time.perf_counter()

    try:
        for _ in range(4):  # more urgent work than two threads can do
            scheduler.submit(flood, lane=Lane())
        scheduler.wake(Ticker(tick))
        time.sleep(0.5)
        flooding = False
    finally:
        scheduler.stop()
    assert ticks >= 10


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


@pytest.mark.parametrize("threads", [1, 2])
def test_fifty_play_loops_share_the_threads_round_robin_and_none_starves(threads):
    scheduler = Scheduler(threads=threads)
    scheduler.start()
    ticks = [0] * 50
    running = True

    def player(index: int) -> Ticker:
        # a turn of 1 ms makes a round 50 ms: a worker thread the OS sets aside for a few tens of
        # ms in the middle of a turn (the other test process shares the cores) costs its loop
        # one round at most, not the six it cost with turns of 0.2 ms
        def tick() -> float | None:
            busy(0.001)
            ticks[index] += 1
            return time.perf_counter() if running else None

        return Ticker(tick, Lane(str(index)))

    try:
        for index in range(50):
            scheduler.wake(player(index))
        deadline = time.monotonic() + 20
        while sum(ticks) < 50 * 20 and time.monotonic() < deadline:  # about 20 rounds, however loaded
            time.sleep(0.01)
        seen = list(ticks)
        running = False
    finally:
        scheduler.stop()
    assert min(seen) >= 15, f"ticks per loop: {seen}"
    assert max(seen) - min(seen) <= 2 * threads + 1, f"ticks per loop: {seen}"  # one turn each per round


def hog_and_other(threads: int, hog_loops: int, turn: float, other_ticks: int) -> tuple[list[int], int]:
    """A student ("hog") with `hog_loops` play loops and another with one, each turn `turn`
    seconds of compiled training, until the other's loop ticked `other_ticks` times: the ticks
    of each of the hog's loops, and the other's."""
    scheduler = Scheduler(threads=threads)
    scheduler.start()
    hog, other = Account("hog"), Account("other")
    ticks: Counter[str] = Counter()
    running = True

    def player(name: str, account: Account) -> Ticker:
        def tick() -> float | None:
            nogil(turn)
            ticks[name] += 1
            return time.perf_counter() if running else None

        return Ticker(tick, Lane(name, account))

    try:
        for index in range(hog_loops):
            scheduler.wake(player(f"hog{index}", hog))
        scheduler.wake(player("other", other))
        deadline = time.monotonic() + 20
        while ticks["other"] < other_ticks and time.monotonic() < deadline:
            time.sleep(0.01)
        running = False
    finally:
        scheduler.stop()
    return [ticks[f"hog{index}"] for index in range(hog_loops)], ticks["other"]


def test_an_account_with_many_lanes_gets_the_turns_of_one_lane():
    """A student with six play loops (sessions and races) against a student with one: one
    thread, a turn per account per round, so the one loop runs as often as the six together."""
    hogs, other = hog_and_other(threads=1, hog_loops=6, turn=0.001, other_ticks=100)
    assert 0.8 < other / sum(hogs) < 1.25, (hogs, other)
    assert min(hogs) >= sum(hogs) / 6 * 0.7  # round-robin inside the account


def test_an_account_gets_no_second_thread_while_another_with_work_waits_for_one():
    """Two threads, a student with three play loops and one with a single loop: each student has
    a thread, so the single loop runs as much as the three together (not a third of the time)."""
    hogs, other = hog_and_other(threads=2, hog_loops=3, turn=0.002, other_ticks=150)
    assert other / sum(hogs) > 0.8, (hogs, other)


def test_stop_cancels_pending_jobs_and_joins_every_thread():
    scheduler = Scheduler(threads=2)
    scheduler.start()
    gates = occupy(scheduler)
    pending = [scheduler.submit(lambda: None, lane=Lane()) for _ in range(5)]
    stopper = threading.Thread(target=scheduler.stop)
    stopper.start()
    deadline = time.monotonic() + 2
    while not all(future.cancelled() for future in pending) and time.monotonic() < deadline:
        time.sleep(0.01)
    for gate in gates:
        gate.set()
    stopper.join(5)
    for future in pending:
        with pytest.raises(CancelledError):
            future.result(0)
    assert not stopper.is_alive()
    assert not any(t.name.startswith("backprop-lab-training") for t in threading.enumerate())
    with pytest.raises(SchedulerStopped):
        scheduler.submit(lambda: None)


def test_a_scheduler_needs_a_thread():
    with pytest.raises(ValueError, match="at least 1"):
        Scheduler(threads=0)
