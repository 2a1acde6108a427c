"""Building a session's stream messages: frames and heatmaps, encoded once for every client.

A frame is cheap to build from the trainer's flat vectors (weights, last gradient, last update),
but its whole-split metrics and its probe (one sample's forward and backward pass) cost a few
forward passes. While playing, those two are re-evaluated only every `refresh_interval` (20
times a second when few sessions play, less often when many do: see `Cadence.refresh_interval`) and
frames in between carry the latest ones, with `metrics_step` saying at which step they were
evaluated. Anything that changes the weights outside the play loop asks for a fresh frame.

Frames carry the bulk arrays (weights, gradients, updates, the probe's numbers) rounded to
float32: about 7 significant digits, what the page can draw, at half the bytes of full float64
JSON. Snapshots, REST answers and the metrics keep full precision.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.trace import SampleTrace
from engine.trainer import Trainer
from server import heatmaps, views
from server.cadence import Cadence
from server.protocol import encode
from server.recording import History
from server.settings import Timing

JSON = dict[str, Any]


class FrameBuilder:
    def __init__(self, cadence: Cadence, timing: Timing) -> None:
        self._cadence = cadence
        self._timing = timing
        self.last_frame_step = -1  # the step of the last frame sent
        self.last_heatmap_step = -1
        self.heatmap_resolution = heatmaps.MIN_RESOLUTION
        self.heatmap_rate = timing.heatmap_rate
        self._grid: heatmaps.HeatmapGrid | None = None
        self._metrics: JSON | None = None
        self._probe: JSON | None = None
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
        self.stale()
        self.last_frame_step = -1
        self.last_heatmap_step = -1

    def stale(self) -> None:
        """The cached metrics and probe no longer match the weights or the chosen sample."""
        self._metrics = None
        self._evaluated_at = -float("inf")

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
    ) -> str:
        """The encoded `frame` message. `refresh` re-evaluates metrics and the probe."""
        started = time.perf_counter()
        step = trainer.step_count
        if refresh or self._metrics is None:
            self._metrics = views.trainer_metrics(trainer)
            history.record(step, self._metrics)
            self._probe = views.probe_view(probe_trace(), np.float32)
            self._evaluated_step = step
            self._evaluated_at = started
            self._cadence.note_refresh_cost(time.perf_counter() - started)
        built = time.perf_counter()
        elapsed = started - self._last_frame_time
        if running and 0 <= self.last_frame_step <= step and elapsed > 0:
            measured = (step - self.last_frame_step) / elapsed
            self.measured_speed += 0.3 * (measured - self.measured_speed)
        layout = trainer.network.layout
        text = encode(
            {
                "type": "frame",
                "step": step,
                "epoch": trainer.epoch,
                "state": state,
                "metrics": self._metrics,
                "metrics_step": self._evaluated_step,
                "params": views.layers_view(layout, trainer.network.parameters, np.float32),
                "gradients": views.layers_view(layout, trainer.last_gradient, np.float32),
                "updates": views.layers_view(layout, trainer.last_update, np.float32),
                "probe": self._probe,
                "steps_per_second": round(self.measured_speed, 1) if running else 0.0,
            }
        )
        self.last_frame_step = step
        self._last_frame_time = started
        self._cadence.note_frame_cost(time.perf_counter() - built)
        return text

    def heatmaps(self, trainer: Trainer) -> tuple[str, bytes]:
        """The encoded `heatmaps` message and the bytes that follow it."""
        started = time.perf_counter()
        if self._grid is None:
            self._grid = heatmaps.HeatmapGrid.of(trainer.dataset, trainer.config.features, self.heatmap_resolution)
        ranges, data = heatmaps.render(trainer.network, self._grid)
        self.last_heatmap_step = trainer.step_count
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
        """Seconds between heatmaps while playing (see `Cadence.heatmap_interval`)."""
        return self._cadence.heatmap_interval(self.heatmap_rate)
