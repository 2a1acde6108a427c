"""What a session remembers of its past: the metric history (the loss curves) and the
trajectory of its weights (the path drawn on the loss surface, and its PCA directions).

Both keep a bounded number of points however long training runs. Steps are cut into buckets
of `stride` steps and a bucket keeps its first point; when the record is full the buckets
double in width and merge (keeping the earlier point of each pair). So the memory of a session
is fixed, the first steps stay visible, and the points stay evenly spread over the whole run.

The history's budget is `HISTORY_POINTS` points (a saved run keeps the session's history, so
the same budget; docs/api.md, "Saved runs"). A REST `step` with `record_every` k puts the
history on a grid (`History.align`): only multiples of k are recorded, and the buckets become
k·2^j wide, so however often the record thins itself its points stay exactly evenly spaced.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_lab.engine.trainer import Trainer
from backprop_lab.server.wire.session_models import HISTORY_POINTS, REQUEST_POINTS


class _Thinned:
    """Step-spaced recording with a capacity; subclasses store the values."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(4, capacity)
        self.stride = 1  # record a point at most every `stride` steps
        self.steps: list[int] = []

    def __len__(self) -> int:
        return len(self.steps)

    def due(self, step: int) -> bool:
        """True when `step` opens a bucket that has no point yet."""
        return not self.steps or step // self.stride > self.steps[-1] // self.stride

    def _make_room(self) -> None:
        while len(self.steps) >= self.capacity:
            self._widen(self.stride * 2)

    def _widen(self, stride: int) -> None:
        """Buckets `stride` steps wide, keeping the first point of each."""
        self.stride = stride
        keep = [
            i
            for i, step in enumerate(self.steps)
            if i == 0 or step // self.stride > self.steps[i - 1] // self.stride
        ]
        self._keep(keep)
        self.steps = [self.steps[i] for i in keep]

    def _keep(self, indices: list[int]) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        self.steps.clear()
        self.stride = 1


class History(_Thinned):
    """The metrics of whole splits over training: `[{"step", "train_loss", "test_loss", …}]`.
    Only the numbers that make curves: a confusion matrix is the present, not history."""

    def __init__(self, capacity: int = HISTORY_POINTS) -> None:
        super().__init__(capacity)
        self._points: list[dict[str, Any]] = []
        self.grid = 0  # while > 0, only steps that are multiples of it are recorded (`align`)

    def align(self, every: int) -> None:
        """Record only steps that are multiples of `every` from now on (0: any step again, the
        buckets staying as wide as they are). The buckets widen to the first k·2^j at least as
        wide as they were, the points already kept thinned to one a bucket: each bucket then
        starts on the grid, so its first point is a multiple of its width."""
        self.grid = every
        if every > 0 and self.stride % every:
            stride = every
            while stride < self.stride:
                stride *= 2
            self._widen(stride)

    def record(self, step: int, metrics: dict[str, Any]) -> None:
        if self.steps and step == self.steps[-1]:
            self._points[-1] = _point(step, metrics)  # fresher metrics of the same step
            return
        if (self.grid and step % self.grid) or not self.due(step):
            return
        self._make_room()
        self.steps.append(step)
        self._points.append(_point(step, metrics))

    def _keep(self, indices: list[int]) -> None:
        self._points = [self._points[i] for i in indices]

    def points(self) -> list[dict[str, Any]]:
        return list(self._points)

    def thinned(self, count: int) -> list[dict[str, Any]]:
        """At most `count` points evenly spread over the history, the first and the latest
        among them. Safe to call from the event loop while the training thread records: it
        reads one list (which recording only appends to, or replaces whole)."""
        points = self._points
        n = len(points)
        if n <= count:
            return list(points)
        return [points[round(i * (n - 1) / (count - 1))] for i in range(count)]

    def copy(self) -> History:
        """An independent history with the same points (a forked session's loss curve); not on a
        grid, which belongs to a request of the original session."""
        twin = History(self.capacity)
        twin.stride, twin.steps, twin._points = self.stride, list(self.steps), [dict(p) for p in self._points]
        return twin

    def clear(self) -> None:
        super().clear()
        self._points.clear()
        self.grid = 0


def default_record_every(steps: int) -> int:
    """A `step` request's `record_every` when it gives none: the smallest power of two that
    records at most `REQUEST_POINTS` of its steps (a power of two, so the history's buckets,
    which double, stay on its grid)."""
    every = 1
    while steps > every * REQUEST_POINTS:
        every *= 2
    return every


def _point(step: int, metrics: dict[str, Any]) -> dict[str, Any]:
    return {"step": step, **{key: value for key, value in metrics.items() if not isinstance(value, np.ndarray)}}


class Trajectory(_Thinned):
    """Copies of the flat parameter vector (P,) at recorded steps."""

    def __init__(self, size: int, max_floats: int = 250_000, max_points: int = 256) -> None:
        super().__init__(min(max_points, max(8, max_floats // max(size, 1))))
        self._rows = np.empty((self.capacity, size))  # (capacity, P)

    def record(self, step: int, parameters: np.ndarray) -> None:
        if self.steps and step == self.steps[-1]:
            self._rows[len(self.steps) - 1] = parameters  # same step, newer weights (a hand edit)
            return
        self._make_room()
        self._rows[len(self.steps)] = parameters
        self.steps.append(step)

    def train(self, trainer: Trainer, max_steps: int, deadline: float) -> None:
        """`trainer.train_for(max_steps, deadline)`, with the engine keeping θ at the first step
        of every bucket (a multiple of the stride) inside its compiled loop, so the path keeps
        its even spacing without training stopping for it. `Diverged` propagates after the steps
        before it (and the points they made are kept)."""
        trainer.snapshot_every(self.stride)
        try:
            trainer.train_for(max_steps, deadline)
        finally:
            for step, parameters in trainer.take_snapshots():
                if self.due(step):
                    self.record(step, parameters)

    def _keep(self, indices: list[int]) -> None:
        self._rows[: len(indices)] = self._rows[indices]

    def copy(self) -> Trajectory:
        """An independent trajectory with the same points (a forked session's path)."""
        twin = Trajectory.__new__(Trajectory)
        twin.capacity, twin.stride, twin.steps = self.capacity, self.stride, list(self.steps)
        twin._rows = self._rows.copy()  # (capacity, P)
        return twin

    def parameters(self) -> np.ndarray:
        """(n_points, P), a copy, oldest first."""
        return self._rows[: len(self.steps)].copy()
