"""When work happens: slices shrink and intervals stretch with the players each thread serves;
the play loop's clock trains up to the next frame at full speed and owes steps under a limit."""

from __future__ import annotations

import threading

import pytest

from backprop_lab.server.runtime.cadence import (
    FULL_SPEED_FRAME_RATE,
    FULL_SPEED_SLICE,
    SLICE_SCALE_FLOOR,
    ByteBudget,
    Cadence,
    Pacer,
)


def test_slices_shrink_and_frames_space_out_as_more_sessions_play():
    cadence = Cadence(frame_rate=60, max_slice=0.008, min_slice=0.0001, refresh_rate=20)
    cadence.playing(+1)
    assert cadence.slice_seconds() == 0.008 and cadence.frame_interval() == pytest.approx(1 / 60)
    assert cadence.refresh_interval() == pytest.approx(1 / 20)  # metrics and probe: 20 a second, not 60
    cadence.playing(+49)
    assert cadence.slice_seconds() < 0.001
    assert cadence.frame_interval() == pytest.approx(1 / 60)  # a machine that is not busy: 60 a second each
    cadence.capacity = 1250.0  # measured (see the tests of `adjust` below)
    assert cadence.frame_interval() == pytest.approx(50 / 1250)  # 25 frames a second each
    assert cadence.refresh_interval() >= cadence.frame_interval()
    assert cadence.heatmap_interval(10) == pytest.approx(1.0)


def test_many_sessions_at_full_speed_train_in_longer_slices_at_fewer_frames():
    cadence = Cadence(workers=2, frame_rate=60)
    cadence.playing(+20)  # at a speed limit: slices as short as the frame rate asks
    paced = cadence.slice_seconds()
    assert cadence.frame_interval() == pytest.approx(1 / 60)
    cadence.playing(-20)
    cadence.playing(+20, full_speed=True)
    assert cadence.slice_seconds() == pytest.approx(FULL_SPEED_SLICE) and cadence.slice_seconds() > 1.3 * paced
    assert 1 / 60 < cadence.frame_interval() < 1 / 40
    cadence.playing(+30, full_speed=True)  # 50: the frames come first, 25 a second each
    assert cadence.frame_interval() == pytest.approx(1 / FULL_SPEED_FRAME_RATE)
    assert cadence.slice_seconds() == pytest.approx(1 / FULL_SPEED_FRAME_RATE / 25 - cadence.frame_cost)
    cadence.playing(-49, full_speed=True)
    assert cadence.frame_interval() == pytest.approx(1 / 60)  # one alone: 60 a second


def report(cadence: Cadence, loop_share: float = 0.1, python_work: float = 0.0) -> None:
    """A quarter of a second of the event loop using `loop_share` of a core and the play turns'
    Python on the training threads `python_work` CPU seconds a second."""
    cadence.note_python_work(python_work * 0.25)
    cadence.adjust(0.25, loop_share * 0.25)


def test_full_speed_slices_shrink_while_frames_come_late_and_grow_back_when_they_are_on_time():
    """A browser or other work on the same machine leaves the training threads less than their
    cores: a round of 50 full-speed turns then takes longer than the 1/25 s its slices were sized
    for, and the slices shrink until the frames keep their interval again."""
    cadence = Cadence(workers=2)
    cadence.playing(+50, full_speed=True)
    sized = cadence.slice_seconds()
    wanted = cadence.frame_interval()
    pacer = Pacer(cadence, max_steps=10**9)
    pacer.start(0.0)
    for n in range(1, 51):  # a session's frames 1.4 times its interval apart
        pacer.frame_sent(n * 1.4 * wanted, full_speed=True)
    report(cadence)
    assert cadence.slice_seconds() == pytest.approx(sized / 1.4)
    for _ in range(20):  # late for long: never below the floor
        cadence.note_full_speed_frame(10 * wanted)
        report(cadence)
    assert cadence.slice_seconds() == pytest.approx(SLICE_SCALE_FLOOR * sized)
    for _ in range(100):  # on time again: back to the size the frames allow
        cadence.note_full_speed_frame(wanted)
        report(cadence)
    assert cadence.slice_seconds() == pytest.approx(sized)
    cadence.note_full_speed_frame(10 * wanted)
    report(cadence)
    cadence.playing(-50, full_speed=True)
    report(cadence)  # nobody at full speed: slices as sized
    assert cadence.slice_scale == 1.0


def test_a_paced_session_tells_the_cadence_nothing_of_its_frames():
    cadence = Cadence()
    pacer = Pacer(cadence, max_steps=10**9)
    pacer.start(0.0)
    for n in range(1, 10):
        pacer.frame_sent(n * 1.0)  # one a second: slow, but it asked for that pace
    cadence.playing(+1)
    report(cadence)
    assert cadence.slice_scale == 1.0


@pytest.mark.parametrize("sign", ["loop", "gil"])
def test_frames_slow_down_alike_only_when_the_server_is_busy_and_recover(sign: str):
    cadence = Cadence(workers=2, frame_rate=60)
    cadence.playing(+200)
    for _ in range(10):  # 200 × 60 frames a second, the loop at half a core: no cap at all
        report(cadence, loop_share=0.5, python_work=0.3)
    assert cadence.capacity == float("inf") and cadence.frame_interval() == pytest.approx(1 / 60)
    busy = {"loop": {"loop_share": 0.7}, "gil": {"loop_share": 0.5, "python_work": 0.4}}[sign]
    report(cadence, **busy)  # a sign of a busy server: a step down from the 12,000 a second asked
    assert cadence.capacity == pytest.approx(0.85 * 12_000)
    assert cadence.frame_interval() == pytest.approx(200 / (0.85 * 12_000))  # every client alike
    for _ in range(30):  # however busy, each client keeps a few frames a second
        report(cadence, **busy)
    assert cadence.capacity == 200 * 2.0
    steps = 0
    while cadence.capacity < float("inf") and steps < 100:  # the signs gone: back to 60 a second …
        before = cadence.capacity
        report(cadence)
        assert cadence.capacity == float("inf") or cadence.capacity == pytest.approx(1.1 * before)  # … bit by bit
        steps += 1
    assert cadence.capacity == float("inf") and steps == 36  # 400 → 12,000 frames a second: 1.1 ** 36 > 30


def test_a_busy_start_steps_down_from_what_is_asked_not_from_the_few_frames_sent_yet():
    """200 sessions starting at once: greetings, first frames and heatmaps make the server busy
    for a moment before it sends many frames; one busy report costs 15 %, not 95 %."""
    cadence = Cadence(workers=2, frame_rate=60)
    cadence.playing(+200)
    cadence.note_frame_cost(0.0)  # a single frame built so far
    report(cadence, loop_share=0.9)
    assert cadence.capacity == pytest.approx(0.85 * 200 * 60)
    assert cadence.frame_interval() < 1 / 50


def test_each_of_n_threads_serves_its_share_of_the_players():
    one, two = Cadence(workers=1), Cadence(workers=2)
    for cadence in (one, two):
        cadence.playing(+50)
        cadence.refresh_cost = 0.002
    assert two.players_per_worker() == 25 and one.players_per_worker() == 50
    # the same frame interval (one event loop sends every frame), twice the slice per session
    assert two.frame_interval() == one.frame_interval()
    assert two.slice_seconds() + two.frame_cost == pytest.approx(2 * (one.slice_seconds() + one.frame_cost))
    assert two.refresh_interval() == pytest.approx(one.refresh_interval() / 2)
    alone = Cadence(workers=2)
    alone.playing(+1)  # one session gets one thread, not two
    assert alone.players_per_worker() == 1 and alone.slice_seconds() == alone.max_slice


def test_a_cadence_needs_a_thread():
    with pytest.raises(ValueError, match="at least 1"):
        Cadence(workers=0)


def test_shared_counters_add_up_under_contention():
    cadence = Cadence()

    def work() -> None:
        for _ in range(5000):
            cadence.playing(+1)
            cadence.spend("training", 1.0)
            cadence.note_frame_cost(0.0002)
            cadence.playing(-1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spent = cadence.spent()
    assert cadence.players == 0 and spent["training"] == 20_000.0
    assert spent["frames"] == pytest.approx(20_000 * 0.0002)


def test_full_speed_trains_until_just_before_the_next_frame():
    pacer = Pacer(Cadence(frame_rate=60, max_slice=0.1), max_steps=10**6)
    pacer.start(100.0)
    pacer.frame_sent(100.0)
    plan = pacer.plan(100.001, speed=0, frame_cost=0.002)
    assert plan.max_steps == 10**6 and plan.deadline == pytest.approx(100.0 + 1 / 60 - 0.002)
    assert not pacer.frame_due(100.01) and pacer.frame_due(100.0 + 1 / 60)


def test_a_turn_whose_frame_is_already_due_still_trains_a_share_of_its_slice():
    """Without it, a session whose turns keep coming late trains one step a turn while the
    others train whole slices (50 sessions: the slowest at 70 % of the median)."""
    cadence = Cadence(workers=2, frame_rate=60)
    for _ in range(50):
        cadence.playing(+1)
    pacer = Pacer(cadence, max_steps=10**6)
    pacer.start(100.0)  # a frame is due at once
    plan = pacer.plan(100.0, speed=0, frame_cost=0.0002)
    assert plan.deadline == pytest.approx(100.0 + 0.5 * cadence.slice_seconds())
    alone = Pacer(Cadence(frame_rate=60), max_steps=10**6)
    alone.start(100.0)
    late = alone.plan(100.0, speed=0, frame_cost=0.0002).deadline - 100.0
    assert late == pytest.approx(0.1 / 60), "a lone session's frame goes out at most a tenth of a frame late"


def test_a_speed_limit_owes_steps_at_its_rate_without_bursts():
    pacer = Pacer(Cadence(), max_steps=10**6)
    pacer.start(0.0)
    assert pacer.plan(0.5, speed=10, frame_cost=0).max_steps == 1  # 5 owed, capped at 10 × 0.1 s
    pacer.trained(1, speed=10)
    assert pacer.plan(0.55, speed=10, frame_cost=0).max_steps == 0
    assert pacer.next_turn(0.55, speed=10) > 0.55


def test_frames_keep_their_cadence_and_restart_after_a_stall():
    pacer = Pacer(Cadence(frame_rate=50), max_steps=1)
    pacer.start(10.0)
    pacer.frame_sent(10.001)
    assert pacer.next_frame_at == pytest.approx(10.02)
    pacer.frame_sent(11.0)  # a long stall: no burst of catch-up frames
    assert pacer.next_frame_at == pytest.approx(11.01)


def test_a_byte_budget_lets_bunched_frames_pass_but_not_a_sustained_rate():
    budget = ByteBudget(bytes_per_second=1000, burst=0.05)
    assert budget.allows(0.0)
    budget.spend(0.0, 100)  # 0.1 s of budget
    assert budget.allows(0.05) and not budget.allows(0.04)
    sent = 0
    for tick in range(1, 201):  # 10 s of frames every 50 ms, asking for 100 bytes each
        now = tick * 0.05
        if budget.allows(now):
            budget.spend(now, 100)
            sent += 100
    assert 9_800 <= sent <= 10_000 + 200  # the budget (10 s × 1000 B/s), at most a burst beyond it


def test_a_step_down_while_few_played_is_not_shared_by_the_sessions_that_join_after_it():
    """The loop busy with 50 handshakes as the first session starts: its step down (51 frames a
    second asked) must not leave the 49 that join next 1 frame a second each."""
    cadence = Cadence(workers=2, frame_rate=60)
    cadence.playing(+1, full_speed=True)
    report(cadence, loop_share=0.9)
    assert cadence.capacity == pytest.approx(0.85 * 60)
    for _ in range(49):
        cadence.playing(+1, full_speed=True)
    assert cadence.frame_interval() == pytest.approx(1 / FULL_SPEED_FRAME_RATE)  # as if it never happened
    cadence.playing(-50, full_speed=True)
    cadence.playing(+3)
    assert cadence.capacity == float("inf")  # a reading about players who all left says nothing
