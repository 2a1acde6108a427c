"""A student's badge on the class page: what their training is doing, in one word, so the
teacher sees at a glance who needs help (docs/api.md, "Badges").

Computed from the session's state, how long ago it last trained, and its loss history (whole
training split, as the loss curve records it), in this order:

- `idle`: no session;
- `diverged`: the session diverged, or its latest loss is not a finite number;
- `idle`: not trained for `IDLE_SECONDS` or more;
- `learning`: too early to tell (fewer than `MIN_STEPS` steps, or fewer than `MIN_POINTS`
  points in the window);
- `diverged` too: over the last fifth of the run's steps (the window, `RECENT_FRACTION`) the
  loss stays above `RISEN_FACTOR` (1.5) times the run's first loss: the steps overshoot and the
  network is worse than untrained, the learning-rate lesson's "too large" (a rate of 10 on the
  default network jumps between 2 and 5, never reaching a NaN);
- `learning`: the loss still falls: over the window it fell by at least `FLAT_DROP` (2 %) of its
  value and by at least `FLAT_ABSOLUTE` (0.005), the fall read from the averages of the window's
  two halves (twice their difference: their middles are half a window apart), so a noisy curve,
  a small batch or a large rate, is judged by its trend, not by where its last point landed;
- `converged`: flat and low: the latest loss is at most `LOW_LOSS`, or at most `LOW_FRACTION`
  of the run's first loss;
- `stuck`: flat (or rising) and high: the student needs a hand (a rate too small or too
  large, a network too small for the data).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from backprop_lab.server.wire.class_models import Badge

IDLE_SECONDS = 20.0
RECENT_FRACTION = 0.2  # the window: the last fifth of the run's steps
MIN_POINTS = 5  # fewer points than this in the window: too early to call it flat
MIN_STEPS = 200  # nor before this many steps
FLAT_DROP = 0.02  # a loss that fell by less than this fraction of itself over the window is flat,
FLAT_ABSOLUTE = 0.005  # and so is one that fell by less than this (a small loss creeping to 0)
LOW_LOSS = 0.1
LOW_FRACTION = 0.25
RISEN_FACTOR = 1.5  # a window above this multiple of the first loss: overshooting, as good as diverged

Point = tuple[int, float | None]  # (step, training loss)


def badge(state: str | None, history: Sequence[Point], idle_seconds: float) -> Badge:
    """The badge of a session in `state` (None: the student has no session) whose training loss
    history is `history` (oldest first, the run's first point included) and that last trained
    `idle_seconds` ago."""
    if state is None:
        return "idle"
    finite = [(step, loss) for step, loss in history if loss is not None and math.isfinite(loss)]
    if state == "diverged" or (history and (not finite or finite[-1] != history[-1])):
        return "diverged"
    if idle_seconds >= IDLE_SECONDS:
        return "idle"
    if not finite or finite[-1][0] < MIN_STEPS:
        return "learning"
    latest_step, latest = finite[-1]
    recent = [loss for step, loss in finite if step >= latest_step * (1 - RECENT_FRACTION)]
    if len(recent) < MIN_POINTS:
        return "learning"
    first = finite[0][1] if finite[0] == history[0] else None
    if first is not None and min(recent) > RISEN_FACTOR * first:
        return "diverged"
    half = len(recent) // 2
    early, late = sum(recent[:half]) / half, sum(recent[half:]) / (len(recent) - half)
    fell = 2 * (early - late)  # the halves' middles are half a window apart: the drop over the window
    if fell >= FLAT_DROP * abs(early) and fell >= FLAT_ABSOLUTE:
        return "learning"
    low = latest <= LOW_LOSS or (first is not None and latest <= LOW_FRACTION * first)
    return "converged" if low else "stuck"
