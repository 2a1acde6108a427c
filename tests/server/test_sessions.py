"""Sessions on a pool of training threads: two playing sessions train at once, each on its own
thread, and each ends with exactly the weights of its config trained alone, single-threaded."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest
from server_helpers import Inbox
from websockets.asyncio.client import connect

from backprop_lab.engine.trainer import Trainer

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


Interval = tuple[str, float, float]  # thread name, start, end


def record_training(trainer: Trainer, intervals: list[Interval]) -> None:
    """Wrap `trainer.train_for` to note which thread trained, and when."""
    train_for = trainer.train_for

    def recorded(max_steps: int, deadline: float) -> int:
        started = time.perf_counter()
        try:
            return train_for(max_steps, deadline)
        finally:
            intervals.append((threading.current_thread().name, started, time.perf_counter()))

    trainer.train_for = recorded  # type: ignore[method-assign]


def overlap(first: list[Interval], second: list[Interval]) -> float:
    """Seconds during which both lists had a call in progress."""
    total = 0.0
    for _, a_start, a_end in first:
        for _, b_start, b_end in second:
            total += max(0.0, min(a_end, b_end) - max(a_start, b_start))
    return total


async def test_two_sessions_on_two_threads_train_at_once_and_each_equals_its_run_alone(live_factory):
    live = live_factory(training_threads=2)
    configs = [{"seed": 3}, {"seed": 11, "hidden_layers": [6, 6], "optimizer": "adam", "activation": "relu"}]
    sids = [live.new_session(**config) for config in configs]
    sessions = [live.lab.manager.get(sid) for sid in sids]
    intervals: list[list[Interval]] = [[], []]
    for session, noted in zip(sessions, intervals, strict=True):
        record_training(session.trainer, noted)
    inboxes = []
    for sid in sids:
        ws = await connect(f"{live.ws}/ws/sessions/{sid}", origin=live.base, max_size=2**24, close_timeout=1)
        inbox = Inbox(ws)
        await inbox.until("hello")
        inboxes.append(inbox)
    for inbox in inboxes:
        await inbox.send({"type": "play"})
    await asyncio.sleep(1.5)
    for inbox in inboxes:
        await inbox.send({"type": "pause"})
    for inbox in inboxes:
        await inbox.until("state", state="paused")
        await inbox.ws.close()

    assert overlap(*intervals) > 0.1  # both trained at the same time…
    threads = [{name for name, _, _ in noted} for noted in intervals]
    assert all(names <= {"backprop-lab-training-0", "backprop-lab-training-1"} for names in threads)
    for session in sessions:
        # read in the session's own lane, so nothing of it can still be running
        read = session.submit(lambda s=session: (s.trainer.step_count, s.trainer.network.parameters.copy()))
        steps, weights = await asyncio.wrap_future(read)
        assert steps > 100
        alone = Trainer(session.requested, session.table)
        alone.step(steps)
        assert np.array_equal(weights, alone.network.parameters)  # …and exactly as if alone
