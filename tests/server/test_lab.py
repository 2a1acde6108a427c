"""server.lab: the slots that bound how many sweeps and range tests run at once, and the
sweep's default history spacing."""

from __future__ import annotations

import pytest

from server.lab import ExperimentSlots, default_record_every
from server.problems import CapReached


def test_slots_refuse_past_their_limit_and_free_up_when_a_holder_ends():
    slots = ExperimentSlots(limit=2)
    with slots.hold(), slots.hold():
        with pytest.raises(CapReached, match="already running"), slots.hold():
            pass
        assert slots.running == 2
    assert slots.running == 0
    with slots.hold():
        assert slots.running == 1


def test_a_slot_is_freed_when_its_work_fails():
    slots = ExperimentSlots(limit=1)
    with pytest.raises(ValueError), slots.hold():
        raise ValueError("the engine refused")
    assert slots.running == 0


def test_the_history_has_every_step_up_to_500_steps_and_about_500_points_beyond():
    assert default_record_every(400) == 1 and default_record_every(500) == 1
    assert default_record_every(1000) == 2 and default_record_every(1_000_000) == 2000
