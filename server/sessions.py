"""A session: one trainer, its play loop, and the state its page and its API calls share.

Threads. Everything that touches the trainer runs on the scheduler's training thread: the
methods below marked *training thread* are only ever called from jobs submitted there, so the
engine needs no locks and a session's operations happen in the order they were asked for. The
event loop talks to a session through `run()` (await a job) and its `hub` (the sockets).
Messages for the sockets are encoded on the training thread and handed to the loop with
`call_soon_threadsafe`, in order.

Lifecycle (`SessionState`): idle (at initial weights) → running (playing) ⇄ paused;
divergence → diverged; reset or a re-initialising config → idle; close → closed (final).
Transitions are guarded: an impossible one raises `InvalidTransition` naming both states.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from engine.config import Config
from engine.gradcheck import Objective, check_parameter
from engine.network import Network
from engine.phases import Phase, PhaseWalk, StalePhaseWalk
from engine.probe import probe_sample
from engine.tabular import Table
from engine.trainer import Diverged, Trainer
from server import heatmaps, protocol, views
from server.problems import InvalidInput, SessionClosed, config_problem
from server.protocol import encode
from server.recording import History, Trajectory
from server.scheduler import Scheduler, Ticker
from server.settings import Settings
from server.stream import ClientChannel, Part, SessionHub

logger = logging.getLogger(__name__)
T = TypeVar("T")
JSON = dict[str, Any]


class SessionState(enum.Enum):
    IDLE = "idle"  # at the initial weights of its config and seed
    RUNNING = "running"  # the play loop trains and streams frames
    PAUSED = "paused"
    DIVERGED = "diverged"  # the last step would have made the loss or a weight non-finite
    CLOSED = "closed"  # deleted, expired or failed; final


_TRANSITIONS: dict[SessionState, frozenset[SessionState]] = {
    SessionState.IDLE: frozenset({SessionState.RUNNING, SessionState.PAUSED, SessionState.DIVERGED}),
    SessionState.RUNNING: frozenset({SessionState.PAUSED, SessionState.DIVERGED, SessionState.IDLE}),
    SessionState.PAUSED: frozenset({SessionState.RUNNING, SessionState.DIVERGED, SessionState.IDLE}),
    SessionState.DIVERGED: frozenset({SessionState.RUNNING, SessionState.PAUSED, SessionState.IDLE}),
    SessionState.CLOSED: frozenset(),
}


class InvalidTransition(RuntimeError):
    pass


@dataclass
class ProbeChoice:
    """The sample whose forward and backward pass every frame carries."""

    split: str = "train"
    index: int = 0


@dataclass
class _StepRun:
    """A request for n steps, trained in slices so other sessions and controls interleave."""

    remaining: int
    generation: int  # a reset, a pause or a re-initialisation cancels streamed runs
    streamed: bool  # a WebSocket `step` (cancellable) rather than a REST call (atomic)
    future: Future[None] = field(default_factory=Future)


class Session:
    def __init__(
        self,
        session_id: str,
        trainer: Trainer,
        requested: Config,
        table: Table | None,
        scheduler: Scheduler,
        loop: asyncio.AbstractEventLoop,
        settings: Settings,
    ) -> None:
        self.id = session_id
        self.trainer = trainer
        self.requested = requested  # the config as asked for (loss may be None: follows the data)
        self.table = table
        self.state = SessionState.IDLE
        self.hub = SessionHub()
        self.steps_per_second = 0.0  # the speed setting; 0 = as fast as possible
        self.probe = ProbeChoice()
        self.diverged: JSON | None = None
        self.created_at = time.monotonic()
        self.last_active = self.created_at
        self.disconnected_at: float | None = None
        self.on_failure: Callable[[Session, BaseException], None] | None = None
        self._scheduler = scheduler
        self._loop = loop
        self._settings = settings
        self._ticker = Ticker(self._play_tick, name=session_id[:8])
        self._step_generation = 0
        self._walk: PhaseWalk | None = None
        self._owed = 0.0  # steps owed to a speed-limited play loop
        self._owed_at = 0.0
        self._next_frame_at = 0.0
        self._next_heatmap_at = 0.0
        self._last_frame_step = -1
        self._last_frame_time = 0.0
        self._last_heatmap_step = -1
        self._measured_speed = 0.0
        self._after_build()

    # --- event loop side ---------------------------------------------------------------------
    async def run(self, function: Callable[[], T]) -> T:
        """Run `function` on the training thread (urgently) and await its result."""
        self.touch()
        return await asyncio.wrap_future(self._scheduler.submit(function))

    def submit(self, function: Callable[[], T]) -> Future[T]:
        self.touch()
        return self._scheduler.submit(function)

    def touch(self) -> None:
        self.last_active = time.monotonic()

    @property
    def closed(self) -> bool:
        return self.state is SessionState.CLOSED

    # --- state machine (training thread) -----------------------------------------------------
    def _transition(self, target: SessionState) -> None:
        if target is self.state:
            return
        if target not in _TRANSITIONS[self.state] and target is not SessionState.CLOSED:
            raise InvalidTransition(f"session {self.id[:8]}: cannot go from {self.state.value} to {target.value}")
        if self.state is SessionState.RUNNING:
            self._scheduler.players -= 1
        if target is SessionState.RUNNING:
            self._scheduler.players += 1
        self.state = target

    def _check_open(self) -> None:
        if self.state is SessionState.CLOSED:
            raise SessionClosed(f"session {self.id} is closed")

    # --- publishing (training thread) --------------------------------------------------------
    def _send(self, parts: tuple[Part, ...], kind: str = "control") -> None:
        try:
            self._loop.call_soon_threadsafe(self.hub.broadcast, parts, kind)
        except RuntimeError:  # the event loop is gone: the server is shutting down
            pass

    def _publish(self, message: JSON, kind: str = "control") -> None:
        self._send((encode(message),), kind)

    def _publish_state(self) -> None:
        self._publish(
            {"type": "state", "state": self.state.value, "steps_per_second": self.steps_per_second,
             "step": self.trainer.step_count}
        )

    # --- building and rebuilding -------------------------------------------------------------
    def _after_build(self) -> None:
        """Fresh records and grid for a new (or re-initialised) network."""
        network = self.trainer.network
        self.history = History()
        self.trajectory = Trajectory(network.layout.size)
        self.trajectory.record(0, network.parameters)
        self.diverged = None
        self._walk = None
        self._step_generation += 1
        self._last_frame_step = -1
        self._last_heatmap_step = -1
        timing = self._settings.timing
        neurons = sum(network.layout.layer_sizes)
        self.heatmap_resolution, self.heatmap_rate = heatmaps.resolution_for(
            neurons, timing.heatmap_bytes_per_second, timing.heatmap_rate
        )
        self._grid: heatmaps.HeatmapGrid | None = None
        dataset = self.trainer.dataset
        if self.probe.index >= (dataset.train if self.probe.split == "train" else dataset.test).size:
            self.probe = ProbeChoice()  # the chosen sample is gone with the old data

    def _metrics(self) -> JSON:
        metrics = views.trainer_metrics(self.trainer)
        self.history.record(self.trainer.step_count, metrics)
        return metrics

    # --- views (training thread) ---------------------------------------------------------------
    def view(self) -> JSON:
        """The REST session: id, config, step, epoch, state, metrics."""
        self._check_open()
        trainer = self.trainer
        return {
            "id": self.id,
            "config": trainer.config.as_dict(),
            "step": trainer.step_count,
            "epoch": trainer.epoch,
            "state": self.state.value,
            "metrics": self._metrics(),
            "diverged": self.diverged,
            "parameters": trainer.network.layout.size,
            "layer_sizes": list(trainer.network.layout.layer_sizes),
        }

    def snapshot(self) -> JSON:
        """Everything a page needs to draw the session from scratch (`hello`, `snapshot`)."""
        self._check_open()
        trainer = self.trainer
        layout = trainer.network.layout
        return {
            "step": trainer.step_count,
            "epoch": trainer.epoch,
            "state": self.state.value,
            "steps_per_second": self.steps_per_second,
            "config": trainer.config.as_dict(),
            "metrics": self._metrics(),
            "network": views.network_view(trainer),
            "params": views.layers_view(layout, trainer.network.parameters),
            "dataset": views.dataset_summary_view(trainer.dataset),
            "probe": views.probe_view(self._probe_trace()),
            "history": self.history.points(),
            "diverged": self.diverged,
            "heatmaps": {"resolution": self.heatmap_resolution, "rate": self.heatmap_rate},
        }

    def attach(self, channel: ClientChannel) -> None:
        """Greet a socket that just connected (`hello`, then the heatmaps) and add it to the hub.

        Both happen in one event-loop callback queued behind every message published so far,
        so the socket misses nothing that came after its snapshot and gets nothing older.
        """
        self._check_open()
        hello = encode(protocol.hello(self.id, self.snapshot()))
        heat = self._heatmap_parts()

        def greet() -> None:
            self.hub.add(channel)
            channel.push((hello,))
            channel.push(heat, "heatmaps")

        self._loop.call_soon_threadsafe(greet)

    def params_view(self) -> JSON:
        self._check_open()
        layout = self.trainer.network.layout
        return {"layers": views.layers_view(layout, self.trainer.network.parameters.copy())}

    def dataset_view(self) -> JSON:
        self._check_open()
        return views.dataset_view(self.trainer.dataset)

    def gradients_view(self) -> JSON:
        """∂objective/∂θ on the whole training split at the current weights; nothing changes."""
        self._check_open()
        data_loss, objective, gradient = self._objective().gradient()
        return {
            "loss": views.finite_or_none(data_loss),
            "objective": views.finite_or_none(objective),
            "layers": views.layers_view(self.trainer.network.layout, gradient),
        }

    def trace_view(self, split: str, index: int) -> JSON:
        self._check_open()
        return views.probe_view(self._sample_trace(split, index, ("query", "index")))

    def network_copy(self) -> tuple[Objective, Network]:
        """An objective over a *copy* of the network, for long read-only work (the whole
        gradient check) that runs off the training thread while the session trains on."""
        self._check_open()
        network = self.trainer.network
        copy = Network(network.layout.layer_sizes, self.trainer.config.activation, network.classify,
                       network.parameters.copy())
        return self._objective(copy), copy

    def _objective(self, network: Network | None = None) -> Objective:
        trainer = self.trainer
        train = trainer.dataset.train
        return Objective(network or trainer.network, trainer.loss, train.inputs, train.targets,
                         trainer.config.regularization, trainer.config.regularization_rate)

    def _sample_trace(self, split: str, index: int, location: tuple[str, ...]) -> Any:
        data = self.trainer.dataset.train if split == "train" else self.trainer.dataset.test
        if not 0 <= index < data.size:
            raise InvalidInput(location, f"index: {index} is outside the {split} split (0…{data.size - 1})")
        return probe_sample(self.trainer.network, self.trainer.loss, data.inputs[index], data.targets[index],
                            split, index)

    def _probe_trace(self) -> Any:
        return self._sample_trace(self.probe.split, self.probe.index, ("probe", "index"))

    # --- controls (training thread) ------------------------------------------------------------
    def play(self) -> None:
        self._check_open()
        if self.state is SessionState.RUNNING:
            self._publish_state()
            return
        self._transition(SessionState.RUNNING)
        now = time.perf_counter()
        self._next_frame_at = now
        self._next_heatmap_at = now
        self._owed, self._owed_at = 0.0, now
        self._last_frame_time = now
        self._publish_state()
        self._scheduler.wake(self._ticker)

    def pause(self) -> None:
        self._check_open()
        self._step_generation += 1  # also stops a streamed `step`
        if self.state is not SessionState.RUNNING:
            self._publish_state()
            return
        self._transition(SessionState.PAUSED)
        self._publish_state()
        if self.trainer.step_count != self._last_frame_step:
            self._emit_frame()
            self._emit_heatmaps()

    def set_speed(self, steps_per_second: float) -> None:
        self._check_open()
        self.steps_per_second = float(steps_per_second)
        self._owed, self._owed_at = 0.0, time.perf_counter()
        self._publish_state()
        if self.state is SessionState.RUNNING:
            self._scheduler.wake(self._ticker)

    def reset(self) -> None:
        self._check_open()
        self.trainer.reset()
        self._rebuilt()

    def _rebuilt(self) -> None:
        """After a reset or a re-initialising change: step 0, idle, everyone redraws."""
        self._transition(SessionState.IDLE)
        self._after_build()
        self._publish({"type": "snapshot", **self.snapshot()})
        self._send(self._heatmap_parts(), "heatmaps")
        self._publish_state()

    def configure(self, config: Config, table: Table | None) -> JSON:
        """Apply a changed config: live (weights kept) or re-initialising (a new network).
        Raises `InvalidInput` naming the field when the engine refuses it."""
        self._check_open()
        try:
            if table is not self.table:
                trainer = Trainer(config, table)  # another table: a new trainer from the seed
                reinitialised = True
                self.trainer, self.table = trainer, table
            else:
                reinitialised = self.trainer.reconfigure(config)
        except ValueError as error:
            raise config_problem(error, ("changes",)) from None
        self.requested = config
        message = {"type": "config", "config": self.trainer.config.as_dict(), "reinitialised": reinitialised}
        self._publish(message)
        if reinitialised:
            self._rebuilt()
        elif self.state is not SessionState.RUNNING:
            self._emit_frame()  # the loss may have changed, and with it the metrics
        return message

    def set_parameter(self, layer: int, kind: str, i: int, j: int, value: float) -> None:
        """Hand-edit one weight or bias."""
        self._check_open()
        index = self._parameter_index(layer, kind, i, j)
        parameters = self.trainer.network.parameters.copy()
        parameters[index] = value
        self.set_parameters(parameters)

    def set_parameters(self, parameters: np.ndarray) -> None:
        self._check_open()
        self.trainer.set_parameters(parameters)
        self.trajectory.record(self.trainer.step_count, self.trainer.network.parameters)
        self._walk = None
        self._emit_frame()
        self._emit_heatmaps()

    def _parameter_index(self, layer: int, kind: str, i: int, j: int) -> int:
        try:
            return self.trainer.network.layout.index_of(layer, kind, i, j)
        except (IndexError, ValueError) as error:
            raise InvalidInput(("layer",), f"no such parameter: {error}") from None

    def set_probe(self, split: str, index: int) -> JSON:
        self._check_open()
        trace = self._sample_trace(split, index, ("index",))
        self.probe = ProbeChoice(split, index)
        return views.probe_view(trace)

    def check_parameter(self, layer: int, kind: str, i: int, j: int) -> JSON:
        """Backprop against central differences for one parameter (2 forward passes)."""
        self._check_open()
        index = self._parameter_index(layer, kind, i, j)
        result = check_parameter(self._objective(), index)
        return {
            "layer": layer, "kind": kind, "i": i, "j": j if kind == "weight" else None,
            "backprop": views.finite_or_none(result.backprop),
            "numerical": views.finite_or_none(result.numerical),
            "relative_error": views.finite_or_none(result.relative_error),
            "forward_passes": result.forward_passes,
        }

    # --- teaching mode: one step, phase by phase (training thread) -----------------------------
    def next_phase(self) -> JSON:
        self._check_open()
        if self.state is SessionState.RUNNING:
            self.pause()
        if self._walk is None or self._walk.done:
            self._walk = self.trainer.begin_phases()
        try:
            phase = self._walk.next()
        except StalePhaseWalk:
            self._walk = self.trainer.begin_phases()
            phase = self._walk.next()
        except Diverged as error:
            self._walk = None
            self._on_diverged(error)  # reported to every socket as `diverged`
            return {"type": "diverged", **(self.diverged or {})}
        message = self._phase_message(self._walk, phase)
        self._publish(message)
        if phase.kind == "update":
            self._walk = None
            self._trained()
            self._emit_frame()
            self._emit_heatmaps()
        return message

    def _phase_message(self, walk: PhaseWalk, phase: Phase) -> JSON:
        step = self.trainer.step_count if phase.kind == "update" else self.trainer.step_count + 1
        return {
            "type": "phase", "kind": phase.kind, "layer": phase.layer, "index": phase.index,
            "total": phase.total, "step": step, "batch_indices": walk.batch_indices,
            "values": phase.values, "probe": views.probe_view(self._probe_trace()),
        }

    # --- training (training thread) ------------------------------------------------------------
    def _advance(self, max_steps: int, deadline: float) -> int:
        """Train up to `max_steps` steps or until `deadline`, recording the trajectory on its
        stride. Returns the steps taken; `Diverged` propagates after the steps before it."""
        trainer = self.trainer
        start = trainer.step_count
        try:
            while trainer.step_count - start < max_steps:
                limit = max_steps - (trainer.step_count - start)
                until_record = self.trajectory.next_step() - trainer.step_count
                if until_record > 0:
                    limit = min(limit, until_record)
                trainer.train_for(limit, deadline)
                if self.trajectory.due(trainer.step_count):
                    self.trajectory.record(trainer.step_count, trainer.network.parameters)
                if time.perf_counter() >= deadline:
                    break
        finally:
            if trainer.step_count != start:
                self._trained()
        return trainer.step_count - start

    def _trained(self) -> None:
        if self.state in (SessionState.IDLE, SessionState.DIVERGED):
            self._transition(SessionState.PAUSED)
            self.diverged = None

    def _on_diverged(self, error: Diverged) -> None:
        self.diverged = views.diverged_view(error)
        self._step_generation += 1
        self._transition(SessionState.DIVERGED)
        self._publish({"type": "diverged", **self.diverged})
        self._publish_state()
        self._emit_frame()

    def start_steps(self, steps: int, streamed: bool) -> Future[None]:
        """Train `steps` steps in slices (other sessions and this session's controls run in
        between). The future resolves when done; a REST run is never cut short, a streamed one
        stops at a pause, reset or re-initialisation."""
        self._check_open()
        run = _StepRun(steps, self._step_generation, streamed)
        self._continue(run)
        return run.future

    def _continue(self, run: _StepRun) -> None:
        if self.closed:
            run.future.set_exception(SessionClosed(f"session {self.id} closed while training"))
            return
        if run.streamed and run.generation != self._step_generation:
            run.future.set_result(None)
            return
        try:
            if run.remaining > 0:
                deadline = time.perf_counter() + self._scheduler.slice_seconds()
                run.remaining -= self._advance(run.remaining, deadline)
        except Diverged as error:
            self._on_diverged(error)
            run.future.set_result(None)
            return
        if run.remaining > 0:
            if time.perf_counter() >= self._next_frame_at and self.state is not SessionState.RUNNING:
                self._emit_frame()
                self._next_frame_at = time.perf_counter() + self._scheduler.frame_period
            self._scheduler.submit(lambda: self._continue(run), urgent=False)
            return
        self._emit_frame()
        self._emit_heatmaps()
        run.future.set_result(None)

    def _play_tick(self) -> float | None:
        """One turn of the play loop: train for a slice, then a frame when one is due.
        Returns when to run again (None: stop)."""
        if self.state is not SessionState.RUNNING:
            return None
        try:
            return self._play_turn()
        except Exception as error:  # the engine failed: this session only
            self._fail(error)
            return None

    def _play_turn(self) -> float | None:
        scheduler = self._scheduler
        period = scheduler.frame_period
        now = time.perf_counter()
        if self._next_frame_at < now - period:
            self._next_frame_at = now  # fell behind (many sessions): no burst of catch-up frames
        speed = self.steps_per_second
        if speed == 0:
            max_steps = self._settings.limits.max_steps_per_request
            deadline = min(now + scheduler.slice_seconds(), self._next_frame_at - scheduler.frame_cost)
        else:
            self._owed = min(self._owed + (now - self._owed_at) * speed, max(1.0, speed * 0.1))
            self._owed_at = now
            max_steps = int(self._owed)
            deadline = now + scheduler.slice_seconds()
        if max_steps > 0:
            try:
                done = self._advance(max_steps, max(deadline, now))
            except Diverged as error:
                self._on_diverged(error)
                return None
            self._owed -= done if speed else 0
        now = time.perf_counter()
        if now >= self._next_frame_at - 0.0005 and self.trainer.step_count != self._last_frame_step:
            self._emit_frame()
            self._next_frame_at = max(self._next_frame_at + period, now + 0.5 * period)
            if now >= self._next_heatmap_at and self.trainer.step_count != self._last_heatmap_step:
                self._emit_heatmaps()
                interval = max(1.0 / self.heatmap_rate, 0.01 * scheduler.players)
                self._next_heatmap_at = now + interval
        if speed == 0:
            return time.perf_counter()  # again at once, behind every other session in the queue
        next_step = now + max(0.0, 1.0 - self._owed) / speed
        if speed >= 1.0 / period:
            return max(next_step, self._next_frame_at - scheduler.slice_seconds())
        return next_step

    # --- frames (training thread) --------------------------------------------------------------
    def _emit_frame(self) -> None:
        started = time.perf_counter()
        trainer = self.trainer
        layout = trainer.network.layout
        step = trainer.step_count
        elapsed = started - self._last_frame_time
        if self._last_frame_step >= 0 and elapsed > 0 and step >= self._last_frame_step:
            measured = (step - self._last_frame_step) / elapsed
            self._measured_speed += 0.3 * (measured - self._measured_speed)
        frame = {
            "type": "frame",
            "step": step,
            "epoch": trainer.epoch,
            "state": self.state.value,
            "metrics": self._metrics(),
            "params": views.layers_view(layout, trainer.network.parameters, np.float32),
            "gradients": views.layers_view(layout, trainer.last_gradient, np.float32),
            "updates": views.layers_view(layout, trainer.last_update, np.float32),
            "probe": views.probe_view(self._probe_trace(), np.float32),
            "steps_per_second": round(self._measured_speed, 1) if self.state is SessionState.RUNNING else 0.0,
        }
        self._send((encode(frame),), "frame")
        self._last_frame_step = step
        self._last_frame_time = started
        self._scheduler.note_frame_cost(time.perf_counter() - started)

    def _heatmap_parts(self) -> tuple[Part, ...]:
        if self._grid is None:
            self._grid = heatmaps.HeatmapGrid.of(self.trainer.dataset, self.trainer.config.features,
                                                 self.heatmap_resolution)
        ranges, data = heatmaps.render(self.trainer.network, self._grid)
        self._last_heatmap_step = self.trainer.step_count
        message = {
            "type": "heatmaps",
            "step": self.trainer.step_count,
            "resolution": self._grid.resolution,
            "extent": list(self._grid.extent),
            "layers": ranges,
            "bytes": len(data),
        }
        return encode(message), data

    def _emit_heatmaps(self) -> None:
        self._send(self._heatmap_parts(), "heatmaps")

    # --- ending (training thread) --------------------------------------------------------------
    def close(self) -> None:
        if self.state is SessionState.CLOSED:
            return
        self._transition(SessionState.CLOSED)
        self._step_generation += 1
        self._scheduler.cancel(self._ticker)

    def _fail(self, error: BaseException) -> None:
        logger.error("session %s failed", self.id[:8], exc_info=error)
        self.close()
        if self.on_failure is not None:
            on_failure = self.on_failure
            try:
                self._loop.call_soon_threadsafe(on_failure, self, error)
            except RuntimeError:
                pass

