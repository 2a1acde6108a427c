"""The session manager: lifetimes (idle expiry, resume window) and uploaded tables."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from backprop_lab.engine.tabular import Table
from backprop_lab.server.classroom.identity import TEACHER_ID, Identity, Role
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.runtime.cadence import Cadence
from backprop_lab.server.runtime.scheduler import Scheduler
from backprop_lab.server.settings import Limits, Settings, Timing
from backprop_lab.server.wire.config_models import ConfigIn
from backprop_lab.server.wire.problems import CapReached, InvalidInput, NotFound

pytestmark = pytest.mark.anyio
TEACHER = Identity(TEACHER_ID, Role.TEACHER, "127.0.0.1")  # outside classroom mode, everyone


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def manager():  # type: ignore[no-untyped-def]
    scheduler = Scheduler()
    scheduler.start()
    settings = Settings(limits=Limits(max_uploads=2), timing=Timing(idle_expiry_seconds=100, resume_seconds=10))
    yield SessionManager(settings, scheduler, Cadence(), asyncio.get_running_loop())
    scheduler.stop()


async def test_idle_sessions_expire_and_disconnected_ones_after_the_resume_window(manager):
    idle = await manager.create(ConfigIn(), TEACHER)
    left = await manager.create(ConfigIn(), TEACHER)
    now = idle.last_active
    left.disconnected_at = now
    assert manager.expired(now + 5) == []
    assert manager.expired(now + 11) == [left]  # its page went away 11 s ago: past the 10 s window
    assert set(manager.expired(now + 101)) == {idle, left}
    await manager.delete(left.id)
    with pytest.raises(NotFound):
        manager.get(left.id)


def table(rows: int = 6) -> Table:
    values = np.arange(rows * 2, dtype=float).reshape(rows, 2)
    labels = np.arange(rows) % 2
    return Table("t", ("a", "b"), values, labels, ("x", "y"), None)


async def test_uploads_are_kept_until_the_cap_and_the_unused_oldest_makes_room(manager):
    first, second = manager.add_table(table(), TEACHER), manager.add_table(table(), TEACHER)
    session = await manager.create(ConfigIn(dataset=second, hidden_layers=[2]), TEACHER)
    third = manager.add_table(table(), TEACHER)  # the unused first one goes
    with pytest.raises(InvalidInput):
        manager.table_for(first, ("body",))
    assert manager.table_for(third, ("body",)) is not None
    await manager.create(ConfigIn(dataset=third, hidden_layers=[2]), TEACHER)
    with pytest.raises(CapReached):
        manager.add_table(table(), TEACHER)  # both slots in use now
    assert session.table is manager.table_for(second, ("body",))
