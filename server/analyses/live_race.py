"""A live learning-rate race: K copies of a session's config, each with its own rate, trained on
the training threads and streamed to the session's sockets as `race` messages (docs/protocol.md,
"The learning-rate race").

The race has a lane and a ticker of its own (`backprop_lab.server.runtime.scheduler`), so it takes turns with the
sessions, never blocks the session's own training or controls, and never runs on the event
loop. Each turn trains every running copy for its share of the steps (`steps_per_second`, or
a slice's worth when 0), then, at most `MESSAGE_RATE` times a second, publishes every copy's
train loss on the whole split and, at most `THUMBNAIL_RATE` times a second, a small
decision-boundary thumbnail per copy as the binary message that follows. A copy that diverges
stops at that step; its `diverged_at` says which.

Thumbnails, copy after copy, each G×G bytes a block (row 0 at x2_min, columns from x1_min, as
the heatmaps): classification, two blocks — the probability of the class the copy predicts
at each point (byte = 255·p), then that class's index; regression, one block — the value,
scaled into the copy's own `range` [min, max].

Lifecycle (`RaceState`): running → finished (every step taken, or every copy diverged), or
running → stopping (`stop`: a `race_stop`, a newer race, the session closing, or its last
control socket gone: nobody would see it) → stopped at its next turn, which sends the last
message. A race is counted as running (`/api/v1/health`) until its last turn.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable

import numpy as np

from backprop_lab.engine.config import Config
from backprop_lab.engine.evaluation import grid_activations
from backprop_lab.engine.lr_lab import Race, RaceCopy
from backprop_lab.engine.tabular import Table
from backprop_lab.server.analyses.heatmaps import HeatmapGrid
from backprop_lab.server.classroom.quotas import Claim
from backprop_lab.server.runtime.fanout import Part
from backprop_lab.server.runtime.scheduler import Account, Lane, Scheduler, Ticker
from backprop_lab.server.wire.protocol import encode
from backprop_lab.server.wire.views import finite_or_none

THUMBNAIL_RESOLUTION = 20
MESSAGE_RATE = 30.0  # race messages per second (at most)
EVALUATION_SHARE = 0.2  # of the race's time, at most, spent evaluating the copies' losses for its messages
THUMBNAIL_RATE = 10.0  # of which carry thumbnails
SLICE_SECONDS = 0.008  # training per turn when the race goes as fast as it can

Publish = Callable[[tuple[Part, ...], str], None]


class RaceState(enum.Enum):
    RUNNING = "running"
    STOPPING = "stopping"  # asked to stop: its next turn sends the last message and ends it
    STOPPED = "stopped"  # final
    FINISHED = "finished"  # final: every step taken, or every copy diverged


class LiveRace:
    def __init__(self, config: Config, table: Table | None, rates: list[float], steps: int,
                 steps_per_second: float, scheduler: Scheduler, publish: Publish, race_id: int, claim: Claim,
                 account: Account):
        self._claim: Claim | None = claim  # the race's place in its owner's share, given back at its end
        self.race = Race(config, rates, table)
        self.steps = steps
        self.steps_per_second = steps_per_second
        self.id = race_id
        self.state = RaceState.RUNNING
        self._lock = threading.Lock()  # `stop` comes from the session's lane, turns run in the race's
        self._publish = publish
        self._scheduler = scheduler
        first = self.race.copies[0].trainer
        self._grid = HeatmapGrid.of(first.dataset, config.features, THUMBNAIL_RESOLUTION)
        # its own lane (the session's keeps its turns), in its owner's account (one share for both)
        self._ticker = Ticker(self._tick, Lane(f"race-{race_id}", account), name=f"race-{race_id}")
        self._started = 0.0
        self._last_message = -1.0
        self._last_thumbnails = -1.0
        self._message_seconds = 0.0  # what the last message cost (every copy's loss, the thumbnails)

    # --- lifecycle (any thread) ------------------------------------------------------------
    def start(self) -> None:
        self._started = time.perf_counter()
        self._send("started", thumbnails=True)
        self._scheduler.wake(self._ticker)

    def stop(self) -> None:
        """Ends the race at its next turn (a `race` message with status `stopped` says so)."""
        with self._lock:
            if self.state is not RaceState.RUNNING:
                return
            self.state = RaceState.STOPPING
        self._scheduler.wake(self._ticker)

    @property
    def running(self) -> bool:
        """It still takes turns (stopping included: its last turn is still to come)."""
        return self.state in (RaceState.RUNNING, RaceState.STOPPING)

    @property
    def done(self) -> bool:
        return self.race.step >= self.steps or self.race.finished

    def hand_over_claim(self) -> Claim | None:
        """The place this race holds, for the race that replaces it (None when it has ended)."""
        with self._lock:
            claim, self._claim = self._claim, None
        return claim

    # --- a turn (training thread) ----------------------------------------------------------
    def _tick(self) -> float | None:
        if self.state is RaceState.STOPPING:
            self._end(RaceState.STOPPED)
            return None
        now = time.perf_counter()
        race = self.race
        per_step = sum(copy.trainer.step_seconds() for copy in race.running) or 1e-6  # all copies' step
        due = race.step + max(1, int(SLICE_SECONDS / per_step))  # one turn trains a slice at most
        if self.steps_per_second > 0:
            due = min(due, int((now - self._started) * self.steps_per_second))
        due = min(due, self.steps)
        if due > race.step:
            race.advance(due - race.step)
        now = time.perf_counter()
        if self.done:
            self._end(RaceState.FINISHED)
            return None
        # a large network's whole-split losses are costly: messages then come less often
        interval = max(1.0 / MESSAGE_RATE, self._message_seconds / EVALUATION_SHARE)
        if now - self._last_message >= interval:
            self._send("running", thumbnails=now - self._last_thumbnails >= 1.0 / THUMBNAIL_RATE)
        if self.steps_per_second > 0:
            return now + min(1.0 / MESSAGE_RATE, max(1.0 / self.steps_per_second, 0.001))
        return now

    def _end(self, state: RaceState) -> None:
        """The last turn: no more turns, and the last message (never dropped) says why."""
        self._scheduler.cancel(self._ticker)
        with self._lock:
            self.state = state
            claim, self._claim = self._claim, None
        if claim is not None:  # its place in its owner's share (unless a new race took it over)
            claim.release()
        self._send(state.value, thumbnails=True)

    # --- messages --------------------------------------------------------------------------
    def _send(self, status: str, thumbnails: bool) -> None:
        now = time.perf_counter()
        self._last_message = now
        thumbnails = thumbnails or status != "running"
        message = {
            "type": "race", "race": self.id, "status": status, "step": self.race.step, "steps": self.steps,
            "steps_per_second": self.steps_per_second,
            "copies": [copy_view(copy, self.race.train_loss(copy)) for copy in self.race.copies],
        }
        parts: tuple[Part, ...]
        if thumbnails:
            self._last_thumbnails = now
            ranges, data = self._thumbnails()
            message["thumbnails"] = {"resolution": self._grid.resolution, "extent": list(self._grid.extent),
                                     "classify": self.race.copies[0].network.classify, "ranges": ranges}
            message["bytes"] = len(data)  # the binary message that follows, as for `heatmaps`
            parts = (encode(message), data)
        else:
            parts = (encode(message),)
        # the last message of a race is never dropped; a newer running one replaces an unsent one
        self._publish(parts, "race" if status == "running" else "control")
        self._message_seconds = time.perf_counter() - now

    def _thumbnails(self) -> tuple[list[list[float]], bytes]:
        """Each copy's thumbnail bytes (see the module docstring) and its value range."""
        chunks: list[bytes] = []
        ranges: list[list[float]] = []
        with np.errstate(all="ignore"):
            for copy in self.race.copies:
                outputs = grid_activations(copy.network, self._grid.inputs)[-1]  # (G·G, K)
                if copy.network.classify:
                    clean = np.where(np.isfinite(outputs), outputs, 0.0)
                    classes = np.argmax(clean, axis=1)  # (G·G,)
                    confidence = clean[np.arange(clean.shape[0]), classes]  # (G·G,)
                    chunks.append(np.rint(np.clip(confidence, 0.0, 1.0) * 255).astype(np.uint8).tobytes())
                    chunks.append(classes.astype(np.uint8).tobytes())
                    ranges.append([0.0, 1.0])
                else:
                    values = outputs[:, 0]
                    finite = np.isfinite(values)
                    low = float(values[finite].min()) if finite.any() else 0.0
                    high = float(values[finite].max()) if finite.any() else 0.0
                    span = high - low
                    scaled = np.where(finite, values - low, 0.0) * (255.0 / span if span > 0 else 0.0)
                    chunks.append(np.rint(scaled).astype(np.uint8).tobytes())
                    ranges.append([low, high])
        return ranges, b"".join(chunks)


def copy_view(copy: RaceCopy, train_loss: float) -> dict:
    """One copy in a `race` message: its rate, step, train loss (null when it overflowed) and
    where it diverged (null while it runs)."""
    return {
        "learning_rate": copy.learning_rate,
        "step": copy.trainer.step_count,
        "loss": finite_or_none(train_loss),
        "diverged_at": copy.diverged_at,
        "cause": copy.cause,
    }
