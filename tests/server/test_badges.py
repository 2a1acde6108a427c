"""A student's badge on the class page, from made-up loss histories: the teacher sees who is
learning, who has converged, who is stuck, who diverged and who is idle."""

from __future__ import annotations

import math

from backprop_lab.server.classes.badges import FLAT_DROP, IDLE_SECONDS, LOW_LOSS, MIN_STEPS, RISEN_FACTOR, badge


def curve(losses: list[float], every: int = 50) -> list[tuple[int, float | None]]:
    """A history with a point every `every` steps, from step 0."""
    return [(i * every, loss) for i, loss in enumerate(losses)]


FALLING = curve([0.7 * 0.995**i for i in range(60)])  # still falling fast at the end
CONVERGED = curve([0.7 * 0.8**i for i in range(20)] + [0.02] * 40)  # fell far, then flat
STUCK = curve([0.70 - 0.0001 * i for i in range(60)])  # barely moved, high


def test_a_falling_loss_is_learning():
    assert badge("running", FALLING, 0.0) == "learning"


def test_a_flat_low_loss_has_converged_and_a_flat_high_one_is_stuck():
    assert badge("running", CONVERGED, 0.0) == "converged"
    assert badge("running", STUCK, 0.0) == "stuck"


def test_low_is_also_a_quarter_of_the_first_loss_for_a_loss_that_started_high():
    high_start = curve([4.0 * 0.8**i for i in range(12)] + [0.5] * 48)  # 0.5 > LOW_LOSS, but 1/8 of 4.0
    assert 0.5 > LOW_LOSS and badge("running", high_start, 0.0) == "converged"


def test_a_rising_loss_is_not_learning():
    rising = curve([0.3 + 0.002 * i for i in range(60)])
    assert badge("running", rising, 0.0) == "stuck"


def test_a_small_loss_still_creeping_towards_zero_counts_as_converged():
    creeping = curve([0.7 * 0.9**i for i in range(60)])  # falls by 10 % a point, but by less than 0.005
    assert creeping[-1][1] is not None and creeping[-1][1] < 0.01
    assert badge("running", creeping, 0.0) == "converged"


def test_too_early_to_tell_is_learning():
    early = [(step, 0.7) for step in range(0, MIN_STEPS, 10)]  # flat, but fewer than MIN_STEPS steps
    assert badge("running", early, 0.0) == "learning"
    assert badge("running", [], 0.0) == "learning"


def test_a_diverged_session_or_a_non_finite_loss_is_diverged_even_when_idle():
    assert badge("diverged", FALLING, 0.0) == "diverged"
    assert badge("paused", [*FALLING, (3000, None)], IDLE_SECONDS + 1) == "diverged"
    assert badge("paused", [*FALLING, (3000, math.inf)], 0.0) == "diverged"


def test_no_session_or_no_training_for_twenty_seconds_is_idle():
    assert badge(None, [], 0.0) == "idle"
    assert badge("paused", FALLING, IDLE_SECONDS) == "idle"
    assert badge("paused", FALLING, IDLE_SECONDS - 1) == "learning"


def test_the_window_is_the_last_fifth_of_the_run():
    """A loss that fell early and then stayed flat for the last fifth of the run is flat."""
    fell_then_flat = curve([0.7 - 0.01 * i for i in range(40)] + [0.31] * 20)
    assert badge("running", fell_then_flat, 0.0) == "stuck"
    slow = curve([0.7 * (1 - FLAT_DROP / 6) ** i for i in range(60)])  # ~4 % over the last 12 points
    assert badge("running", slow, 0.0) == "learning"


def test_a_loss_jumping_well_above_where_it_started_is_diverged_whatever_its_last_points_do():
    """A rate too large (10 on the default network): the loss jumps between 2 and 5, above the
    untrained network's 0.69, and never becomes NaN; the teacher should see it go wrong."""
    jumping = curve([0.69] + [3.5 + 1.5 * math.sin(i * 2.1) for i in range(1, 60)])
    assert min(loss for _, loss in jumping[48:] if loss is not None) > RISEN_FACTOR * 0.69
    assert badge("running", jumping, 0.0) == "diverged"
    assert badge("running", [*jumping, (3000, 2.0)], 0.0) == "diverged"  # a lucky last point changes nothing


def test_a_noisy_loss_is_judged_by_its_trend_not_its_last_point():
    falling_noisy = curve([0.7 * 0.99**i + (0.04 if i % 2 else -0.04) for i in range(60)])
    last_step, _ = falling_noisy[-1]  # a last point above the window's first (0.48): by its ends, flat
    assert badge("running", [*falling_noisy[:-1], (last_step, 0.5)], 0.0) == "learning"
    flat_noisy = curve([0.5 + (0.05 if i % 2 else -0.05) for i in range(60)])
    assert badge("running", flat_noisy, 0.0) == "stuck"
