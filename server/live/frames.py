"""Building a session's stream messages: frames and heatmaps, encoded once for every client.

A frame is cheap to build from the trainer's flat vectors (weights, last gradient, last update),
but its whole-split metrics and its probe (one sample's forward and backward pass) cost a few
forward passes. While playing, those two are re-evaluated only every `refresh_interval` (20
times a second when few sessions play, less often when many do: see `Cadence.refresh_interval`) and
frames in between carry the latest ones, with `metrics_step` saying at which step they were
evaluated. Anything that changes the weights outside the play loop asks for a fresh frame.

A frame's bulk arrays (weights, gradients, updates, the probe's numbers) go as one binary
message after the frame's JSON (`backprop_lab.server.wire.frame_codec`): float32 while training streams (about 7
significant digits, what the page can draw), float64 when training stands still (after a step,
a pause, a phase's update, a hand-set weight, a live config change), so the numbers a student
reads are exactly the engine's. Snapshots, REST answers and the metrics keep full precision.

Which blocks a frame carries while playing (the rest of the frame, its scalars, always goes):
- `params` in every frame, while the session's frames stay within `frame_bytes_per_second`;
- `gradients`, `updates` and `probe` once after each re-evaluation (in the next frame with
  arrays): they are numbers a student reads (10 times a second on the page), not drawn;
- over the budget (a large network: 6 × 16 has 1,442 parameters, ~25 KB of arrays), a frame
  goes without arrays until the bytes of the frames sent so far fit (a leaky bucket: frames
  that come bunched pass, a sustained rate does not): the bytes a second stay bounded whatever
  the network, and frames keep their rate.
A frame that stands still always carries every block.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from backprop_lab.engine.trace import SampleTrace
from backprop_lab.engine.trainer import Trainer
from backprop_lab.server.analyses import heatmaps, readouts
from backprop_lab.server.live.recording import History
from backprop_lab.server.runtime.cadence import ByteBudget, Cadence
from backprop_lab.server.runtime.fanout import Part
from backprop_lab.server.settings import Timing
from backprop_lab.server.wire import frame_codec, views
from backprop_lab.server.wire.protocol import encode

JSON = dict[str, Any]
WATCHED_HEATMAP_RATE = 3.0  # heatmaps a second, at least, of a session the class page shows: its 2 Hz, with margin


class FrameBuilder:
    def __init__(self, cadence: Cadence, timing: Timing) -> None:
        self._cadence = cadence
        self._timing = timing
        self.last_frame_step = -1  # the step of the last frame sent
        self.last_frame_exact = False  # whether it carried every block as float64
        self.last_heatmap_step = -1
        self.heatmap_resolution = heatmaps.MIN_RESOLUTION
        self.heatmap_rate = timing.heatmap_rate
        self._grid: heatmaps.HeatmapGrid | None = None
        # the last heatmaps computed, for the class page's thumbnail (server.classes.view)
        self.last_heatmaps: heatmaps.Rendered | None = None
        self.watched_until = 0.0  # time.monotonic() until which a class page shows its thumbnail
        self._metrics: JSON | None = None
        self._probe: JSON | None = None  # at full precision; cast when packed
        self._neurons: JSON | None = None  # readouts.neuron_health at the metrics' step
        self._workspaces = readouts.SplitWorkspaces()  # the refreshes' forward passes
        self._numbers_due = True  # re-evaluated since the last frame that carried the numbers
        self._budget = ByteBudget(timing.frame_bytes_per_second)  # when frames may carry arrays
        self._packer: frame_codec.FramePacker | None = None
        self._evaluated_step = -1
        self._evaluated_at = -float("inf")
        self._last_frame_time = 0.0
        self.measured_speed = 0.0  # steps per second between the last frames, smoothed

    def rebuilt(self, trainer: Trainer) -> None:
        """A new network (or data): new grid, no cached numbers, a resolution for its size."""
        neurons = sum(trainer.network.layout.layer_sizes)
        self.heatmap_resolution, self.heatmap_rate = heatmaps.resolution_for(
            neurons, self._timing.heatmap_bytes_per_second, self._timing.heatmap_rate
        )
        self._grid = None
        self.last_heatmaps = None
        self.stale()
        self.last_frame_step = -1
        self.last_heatmap_step = -1

    def stale(self) -> None:
        """The cached metrics and probe no longer match the weights or the chosen sample."""
        self._metrics = None
        self._evaluated_at = -float("inf")
        self._numbers_due = True

    @property
    def latest_metrics(self) -> JSON | None:
        """The metrics last evaluated for a frame (None before the first, or when stale)."""
        return self._metrics

    def refresh_due(self, now: float) -> bool:
        return self._metrics is None or now - self._evaluated_at >= self._cadence.refresh_interval()

    def frame(
        self,
        trainer: Trainer,
        state: str,
        history: History,
        probe_trace: Callable[[], SampleTrace],
        refresh: bool,
        running: bool,
        exact: bool,
        extras: JSON | None = None,
    ) -> tuple[tuple[Part, ...], str]:
        """The encoded `frame` message (and its binary, if it carries arrays) and its stream kind.

        `refresh` re-evaluates metrics and the probe; `exact` sends every block as float64
        (training stands still), otherwise float32 blocks as the cadence and the byte budget
        allow (see the module docstring). `extras` are more scalars for the frame (the live
        point on the loss surface shown: `surface_id`, `surface_point`). The kind is `frame`
        (every block), `frame_params` or `frame_scalars` (no binary): latest-wins in a client's
        queue keeps the newest of each, so a slow client never loses the numbers to a frame that
        lacks them.
        """
        started = time.perf_counter()
        step = trainer.step_count
        if refresh or self._metrics is None:
            self._metrics, self._neurons = readouts.metrics_and_health(trainer, self._workspaces)
            history.record(step, self._metrics)
            self._probe = views.probe_view(probe_trace())
            self._evaluated_step = step
            self._evaluated_at = started
            self._numbers_due = True
            self._cadence.note_refresh_cost(time.perf_counter() - started)
        built = time.perf_counter()
        elapsed = started - self._last_frame_time
        if running and 0 <= self.last_frame_step <= step and elapsed > 0:
            measured = (step - self.last_frame_step) / elapsed
            self.measured_speed += 0.3 * (measured - self.measured_speed)
        message = {
            "type": "frame",
            "step": step,
            "epoch": trainer.epoch,
            "state": state,
            "metrics": self._metrics,
            "metrics_step": self._evaluated_step,
            "neurons": self._neurons,
            "steps_per_second": round(self.measured_speed, 1) if running else 0.0,
        }
        if extras:
            message |= extras
        kind = "frame_scalars"
        data: bytes | None = None
        if exact or self._budget.allows(built):
            numbers = exact or self._numbers_due
            blocks = {"params": trainer.network.parameters}
            if numbers:
                blocks |= {"gradients": trainer.last_gradient, "updates": trainer.last_update}
            shapes = trainer.network.layout.shapes
            if self._packer is None or self._packer.shapes != shapes:
                self._packer = frame_codec.FramePacker(shapes)
            packed = self._packer.pack("float64" if exact else "float32", blocks, self._probe if numbers else None)
            message["arrays"] = packed.index
            data = packed.data
            kind = "frame" if numbers else "frame_params"
            if numbers:
                self._numbers_due = False
        text = encode(message)
        self._budget.spend(built, len(text) + (0 if data is None else len(data)))
        self.last_frame_step = step
        self.last_frame_exact = exact
        self._last_frame_time = started
        self._cadence.note_frame_cost(time.perf_counter() - built)
        return ((text,) if data is None else (text, data)), kind

    def heatmaps(self, trainer: Trainer) -> tuple[str, bytes]:
        """The encoded `heatmaps` message and the bytes that follow it."""
        started = time.perf_counter()
        if self._grid is None:
            self._grid = heatmaps.HeatmapGrid.of(trainer.dataset, trainer.config.features, self.heatmap_resolution)
        ranges, data = heatmaps.render(trainer.network, self._grid)
        self.last_heatmap_step = trainer.step_count
        self.last_heatmaps = heatmaps.Rendered(self._grid.resolution, ranges, data)
        message = {
            "type": "heatmaps",
            "step": trainer.step_count,
            "resolution": self._grid.resolution,
            "extent": list(self._grid.extent),
            "layers": ranges,
            "bytes": len(data),
        }
        text = encode(message)
        self._cadence.spend("heatmaps", time.perf_counter() - started)
        return text, data

    def heatmap_interval(self) -> float:
        """Seconds between heatmaps while playing (see `Cadence.heatmap_interval`); while the
        teacher's class page shows this session (`watched_until`), at least `WATCHED_HEATMAP_RATE`
        a second, as the byte budget of its resolution allows, so its thumbnail stays live however
        many sessions play."""
        interval = self._cadence.heatmap_interval(self.heatmap_rate)
        if time.monotonic() < self.watched_until:
            interval = min(interval, max(1.0 / WATCHED_HEATMAP_RATE, 1.0 / self.heatmap_rate))
        return interval
