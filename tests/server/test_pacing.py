"""The play loop's clock: full speed trains up to the next frame; a speed limit owes steps."""

from __future__ import annotations

import pytest

from server.pacing import Pacer
from server.scheduler import Scheduler


def test_full_speed_trains_until_just_before_the_next_frame():
    pacer = Pacer(Scheduler(frame_rate=60, max_slice=0.1), max_steps=10**6)
    pacer.start(100.0)
    pacer.frame_sent(100.0)
    plan = pacer.plan(100.001, speed=0, frame_cost=0.002)
    assert plan.max_steps == 10**6 and plan.deadline == pytest.approx(100.0 + 1 / 60 - 0.002)
    assert not pacer.frame_due(100.01) and pacer.frame_due(100.0 + 1 / 60)


def test_a_speed_limit_owes_steps_at_its_rate_without_bursts():
    pacer = Pacer(Scheduler(), max_steps=10**6)
    pacer.start(0.0)
    assert pacer.plan(0.5, speed=10, frame_cost=0).max_steps == 1  # 5 owed, capped at 10 × 0.1 s
    pacer.trained(1, speed=10)
    assert pacer.plan(0.55, speed=10, frame_cost=0).max_steps == 0
    assert pacer.next_turn(0.55, speed=10) > 0.55


def test_frames_keep_their_cadence_and_restart_after_a_stall():
    pacer = Pacer(Scheduler(frame_rate=50), max_steps=1)
    pacer.start(10.0)
    pacer.frame_sent(10.001)
    assert pacer.next_frame_at == pytest.approx(10.02)
    pacer.frame_sent(11.0)  # a long stall: no burst of catch-up frames
    assert pacer.next_frame_at == pytest.approx(11.01)
