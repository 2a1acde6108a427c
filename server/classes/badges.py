"""A student's badge on the class page: what their training is doing, in one word, so the
teacher sees at a glance who needs help (docs/api.md, "Badges").

Computed from the session's state, how long ago it last trained, and its loss history (whole
training split, as the loss curve records it), in this order:

- `idle`: no session;
- `diverged`: the session diverged, or its latest loss is not a finite number;
- `idle`: not trained for `IDLE_SECONDS` or more;
- `learning`: too early to tell (fewer than `MIN_STEPS` steps, or fewer than `MIN_POINTS`
  points in the window), or the loss still falls: over the last fifth of the run's steps
  (`RECENT_FRACTION`) it fell by `FLAT_DROP` (2 %) of its value or more, and by at least
  `FLAT_ABSOLUTE` (0.005);
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
    fell = recent[0] - latest
    if len(recent) < MIN_POINTS or (fell >= FLAT_DROP * abs(recent[0]) and fell >= FLAT_ABSOLUTE):
        return "learning"
    first = finite[0][1] if finite[0] == history[0] else None
    low = latest <= LOW_LOSS or (first is not None and latest <= LOW_FRACTION * first)
    return "converged" if low else "stuck"
