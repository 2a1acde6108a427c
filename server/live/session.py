"""A session: one trainer, its play loop, and the state its page and its API calls share.

Threads. Everything that touches the trainer runs on a training thread, as a job in the
session's own lane (`backprop_lab.server.runtime.scheduler`): the methods below marked *training thread* are only
ever called from such jobs, and a lane runs one job at a time, in the order asked, so the
engine needs no locks and a session's operations never overlap. Another session may train at
the same moment on another thread; what sessions share (the number playing, the smoothed
costs, the time spent) lives in the server's `Cadence`, which locks. The event loop talks to a
session through `run()` (await a job) and its `hub` (the sockets). Messages for the sockets
are encoded on a training thread and handed to the loop through its `Outbox`, in order (a
batch at a time: `fanout.Outbox`).

Lifecycle (`SessionState`): idle (at initial weights) → running (playing) ⇄ paused;
divergence → diverged; reset or a re-initialising config → idle; close → closed (final).
Transitions are guarded: an impossible one raises `InvalidTransition` naming both states.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

from backprop_lab.engine.config import Config
from backprop_lab.engine.phases import Phase, PhaseWalk, StalePhaseWalk
from backprop_lab.engine.surface import Plane
from backprop_lab.engine.tabular import Table
from backprop_lab.engine.trace import SampleTrace
from backprop_lab.engine.trainer import Diverged, Trainer
from backprop_lab.server.analyses import readouts
from backprop_lab.server.analyses.live_race import LiveRace
from backprop_lab.server.analyses.loss_surfaces import SurfacePlan, plan
from backprop_lab.server.classroom.quotas import Claim
from backprop_lab.server.live.frames import FrameBuilder
from backprop_lab.server.live.lifecycle import SessionState, check_transition
from backprop_lab.server.live.recording import History, Trajectory
from backprop_lab.server.runtime.cadence import Cadence, Pacer
from backprop_lab.server.runtime.fanout import ClientChannel, Encoded, Outbox, Part, Role, SessionHub
from backprop_lab.server.runtime.scheduler import Account, Lane, Scheduler, Ticker
from backprop_lab.server.settings import Settings
from backprop_lab.server.wire import protocol, views
from backprop_lab.server.wire.analysis_models import SurfaceIn
from backprop_lab.server.wire.problems import SessionClosed, config_problem
from backprop_lab.server.wire.protocol import encode

logger = logging.getLogger(__name__)
T = TypeVar("T")
JSON = dict[str, Any]


class Checkpointer(Protocol):
    """Where a cluster worker's session checkpoints itself (`backprop_lab.server.cluster.checkpoints`)."""

    def changed(self, session: Session, urgent: bool) -> None: ...


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
    record_every: int = 0  # > 0: the history records the metrics at every multiple of it (REST `record_every`)
    stop: threading.Event | None = None  # set: the run ends before its next slice (a cancelled training job)
    future: Future[None] = field(default_factory=Future)


@dataclass
class Fork:
    """A session's state, copied, for a new session that trains on independently."""

    trainer: Trainer
    requested: Config
    table: Table | None
    history: History
    trajectory: Trajectory
    probe: ProbeChoice
    steps_per_second: float
    diverged: JSON | None


class Session:
    def __init__(
        self,
        session_id: str,
        trainer: Trainer,
        requested: Config,
        table: Table | None,
        scheduler: Scheduler,
        cadence: Cadence,
        loop: asyncio.AbstractEventLoop,
        settings: Settings,
        claim: Claim,
        account: Account,
    ) -> None:
        self.id = session_id
        self.claim = claim  # the session's place in its owner's share (server.classroom.quotas), given back at its end
        self.trainer = trainer
        self.requested = requested  # the config as asked for (loss may be None: follows the data)
        self.table = table
        self.state = SessionState.IDLE
        self.hub = SessionHub()
        self.steps_per_second = 0.0  # the speed setting; 0 = as fast as possible
        self.probe = ProbeChoice()
        self.diverged: JSON | None = None
        self.lesson: JSON | None = None  # the lesson step the presenter shows (show_lesson), for viewers
        self.created_at = time.monotonic()
        self.last_active = self.created_at
        self.last_trained = self.created_at  # when a step was last taken (a class's `idle` badge)
        self.disconnected_at: float | None = None
        self.on_failure: Callable[[Session, BaseException], None] | None = None
        self._scheduler = scheduler
        self._cadence = cadence
        self._loop = loop
        self._outbox = Outbox.of(loop)  # to the event loop, in order: broadcasts, greetings
        self._settings = settings
        self._lane = Lane(session_id[:8], account)  # this session's jobs: in order, one at a time
        self._ticker = Ticker(self._play_tick, self._lane, name=session_id[:8])
        self._step_generation = 0
        self._gridded_runs = 0  # REST step runs with `record_every` under way: the history stays on a grid
        self._step_seconds: float | None = None  # one training step, measured and smoothed
        self._walk: PhaseWalk | None = None
        # the latest learning-rate race of this session's config, kept once it ends (or is ending:
        # /api/v1/health counts it until its last turn)
        self.race: LiveRace | None = None
        self._races = 0
        self._builds = 0  # networks built so far: a surface planned for an older one is not shown
        self._surface: tuple[int, Plane] | None = None  # the id and plane of the surface shown
        self._surface_ids = 0
        self.pacer = Pacer(cadence, settings.limits.max_steps_per_request)
        self.frames = FrameBuilder(cadence, settings.timing)
        # a cluster worker's: told at every slice boundary where training changed the state
        # (it captures when due) and at once when training stops or a change comes; None in one process
        self.checkpoints: Checkpointer | None = None
        # the step this session went on from after another worker died (its checkpoint's): the next
        # control socket's `hello` says so, once (docs/protocol.md, `moved_from`)
        self.moved_from: int | None = None
        self._after_build()

    # --- event loop side ---------------------------------------------------------------------
    @property
    def owner(self) -> str:
        """The identity that created (or forked, or opened) it: it and the teacher control it."""
        return self.claim.identity.id

    async def run(self, function: Callable[[], T]) -> T:
        """Run `function` in this session's lane (urgently) and await its result."""
        return await asyncio.wrap_future(self.submit(function))

    async def read(self, function: Callable[[Trainer], T]) -> T:
        """Run a read-only `function(trainer)` (see `backprop_lab.server.analyses.readouts`) in this session's lane."""

        def job() -> T:
            self._check_open()
            return function(self.trainer)

        return await self.run(job)

    def submit(self, function: Callable[[], T]) -> Future[T]:
        """Run `function` in this session's lane, urgently (a control or a REST call)."""
        self.touch()
        cadence = self._cadence

        def request() -> T:
            started = time.perf_counter()
            try:
                return function()
            finally:
                cadence.spend("requests", time.perf_counter() - started)

        return self._scheduler.submit(request, lane=self._lane)

    def touch(self) -> None:
        self.last_active = time.monotonic()

    @property
    def closed(self) -> bool:
        return self.state is SessionState.CLOSED

    def _checkpoint(self, urgent: bool = True) -> None:
        """Tell the checkpoints the state changed (training thread)."""
        if self.checkpoints is not None:
            self.checkpoints.changed(self, urgent)

    # --- state machine (training thread) -----------------------------------------------------
    def _transition(self, target: SessionState) -> None:
        check_transition(self.state, target)
        if target is self.state:
            return
        full_speed = self.steps_per_second == 0
        if self.state is SessionState.RUNNING:
            self._cadence.playing(-1, full_speed)
        if target is SessionState.RUNNING:
            self._cadence.playing(+1, full_speed)
        self.state = target

    def _check_open(self) -> None:
        if self.state is SessionState.CLOSED:
            raise SessionClosed(f"session {self.id} is closed")

    # --- publishing (training thread) --------------------------------------------------------
    def _send(self, parts: tuple[Part, ...], kind: str = "control") -> None:
        self._outbox.put(self.hub.broadcast, Encoded.framed_now(parts), kind)

    def _publish(self, message: JSON, kind: str = "control") -> None:
        self._send((encode(message),), kind)

    def _publish_state(self) -> None:
        self._publish(
            {"type": "state", "state": self.state.value, "steps_per_second": self.steps_per_second,
             "step": self.trainer.step_count}
        )

    # --- building and rebuilding -------------------------------------------------------------
    def _after_build(self) -> None:
        """Fresh records for a new (or re-initialised) network."""
        network = self.trainer.network
        self.history = History()
        self.trajectory = Trajectory(network.layout.size)
        self.trajectory.record(0, network.parameters)
        self.diverged = None
        self._walk = None
        self._step_generation += 1
        self._builds += 1
        self._surface = None  # its plane lives in the old network's parameter space
        self.frames.rebuilt(self.trainer)
        dataset = self.trainer.dataset
        if self.probe.index >= (dataset.train if self.probe.split == "train" else dataset.test).size:
            self.probe = ProbeChoice()  # the chosen sample is gone with the old data

    def restore(self, history: list[JSON], snapshot_steps: list[int], snapshots: np.ndarray) -> None:
        """A session opened from a saved run gets its past back: the loss curves (`history`) and
        the trajectory (θ (S, P) at `snapshot_steps`). Past step 0 it is paused, not idle."""
        self._check_open()
        self.history.clear()
        for point in history:
            self.history.record(point["step"], {key: value for key, value in point.items() if key != "step"})
        self.trajectory.clear()
        for step, parameters in zip(snapshot_steps, snapshots, strict=True):
            self.trajectory.record(step, parameters)
        if self.trainer.step_count:
            self._trained()

    # --- forking (training thread) -------------------------------------------------------------
    def fork_state(self) -> Fork:
        """Everything a copy needs to go on from here on its own: the trainer in this exact
        state (weights, optimiser memory, data and its order, step), the records, the choices."""
        self._check_open()
        return Fork(self.trainer.copy(), self.requested, self.table, self.history.copy(),
                    self.trajectory.copy(), ProbeChoice(self.probe.split, self.probe.index),
                    self.steps_per_second, self.diverged)

    def adopt(self, fork: Fork) -> None:
        """Take over a fork's records (called once, right after construction)."""
        self.history, self.trajectory = fork.history, fork.trajectory
        self.probe, self.steps_per_second, self.diverged = fork.probe, fork.steps_per_second, fork.diverged
        if self.diverged is not None:
            self._transition(SessionState.DIVERGED)
        elif self.trainer.step_count > 0:
            self._transition(SessionState.PAUSED)

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
            # an upload's file name, so a viewer (who never saw the upload) can show it
            "dataset": {**views.dataset_summary_view(trainer.dataset),
                        "title": self.table.name if self.table is not None else None},
            "probe": views.probe_view(self._probe_trace()),
            "history": self.history.points(),
            "diverged": self.diverged,
            "heatmaps": {"resolution": self.frames.heatmap_resolution, "rate": self.frames.heatmap_rate},
        }

    def attach(self, channel: ClientChannel) -> None:
        """Greet a socket that joined the hub (`hello`, then the heatmaps); from then on it
        hears the session's broadcasts.

        The greeting is one event-loop callback queued behind every message published so far,
        so the socket misses nothing that came after its snapshot and gets nothing older. A
        socket that ended before its greeting (dropped during the handshake) was already
        discarded from the hub: the callback finds it gone and leaves it so.
        """
        self._check_open()
        viewer = channel.role is Role.VIEWER
        moved_from = None if viewer else self.moved_from
        if moved_from is not None:
            self.moved_from = None
        hello = encode(protocol.hello(None if viewer else self.id, self.snapshot(), channel.role.value, moved_from))
        heat = self.frames.heatmaps(self.trainer)

        def greet() -> None:
            if not self.hub.listen(channel):
                return
            channel.push((hello,))
            channel.push(heat, "heatmaps")
            self.announce_audience(None if viewer else channel)
            if self.lesson is not None:
                channel.push((encode(protocol.lesson(self.lesson)),), "lesson")

        self._outbox.put(greet)

    def greet_elsewhere(self, greet: Callable[[tuple[Part, ...]], None]) -> None:
        """A viewer's greeting (`hello`, then the heatmaps) for a viewer on another worker of a
        cluster (`backprop_lab.server.cluster.relay`): the very messages `attach` gives a viewer,
        handed to `greet` on the event loop at the point of the stream where `attach` would."""
        self._check_open()
        hello = encode(protocol.hello(None, self.snapshot(), Role.VIEWER.value))
        heat = self.frames.heatmaps(self.trainer)
        self._outbox.put(greet, (hello, *heat))

    def announce_audience(self, channel: ClientChannel | None = None) -> None:
        """The viewer count, to `channel` alone or (None: it changed) to every client. Event loop."""
        parts = (encode(protocol.audience(self.hub.viewer_count)),)
        if channel is None:
            self.hub.broadcast(parts, "audience")
        else:
            channel.push(parts, "audience")

    def show_lesson(self, place: JSON | None) -> None:
        """The lesson step the presenter's page shows (`{"id", "step", "done"}`, or None), to every
        client: viewers follow it (docs/protocol.md, `lesson`). Event loop."""
        self.lesson = place
        self.hub.broadcast((encode(protocol.lesson(place)),), "lesson")

    def _metrics(self) -> JSON:
        metrics = views.trainer_metrics(self.trainer)
        self.history.record(self.trainer.step_count, metrics)
        return metrics

    def _probe_trace(self) -> SampleTrace:
        return readouts.sample_trace(self.trainer, self.probe.split, self.probe.index, ("probe", "index"))

    # --- controls (training thread) ------------------------------------------------------------
    def play(self) -> None:
        self._check_open()
        if self.state is SessionState.RUNNING:
            self._publish_state()
            return
        self._transition(SessionState.RUNNING)
        self.pacer.start(time.perf_counter())
        self._publish_state()
        self._place_turns()
        self._scheduler.wake(self._ticker)

    def pause(self) -> None:
        self._check_open()
        self._step_generation += 1  # also stops a streamed `step`
        if self.state is not SessionState.RUNNING:
            self._publish_state()
            return
        self._transition(SessionState.PAUSED)
        self._publish_state()
        self._checkpoint()
        if self.trainer.step_count != self.frames.last_frame_step:
            self._emit_frame()
            self._emit_heatmaps()
        elif not self.frames.last_frame_exact:
            self._emit_frame()  # the same step, now in float64: the inspector's exact numbers

    def set_speed(self, steps_per_second: float) -> None:
        self._check_open()
        if self.state is SessionState.RUNNING and (steps_per_second == 0) != (self.steps_per_second == 0):
            self._cadence.playing(-1, self.steps_per_second == 0)  # counted again at its new speed
            self._cadence.playing(+1, steps_per_second == 0)
        self.steps_per_second = float(steps_per_second)
        self.pacer.start(time.perf_counter())
        self._publish_state()
        if self.state is SessionState.RUNNING:
            self._place_turns()
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
        self._emit_heatmaps()
        self._publish_state()
        self._checkpoint()

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
        self.frames.stale()  # the loss, and so the metrics, may have changed
        if reinitialised:
            self._rebuilt()
        else:
            self._checkpoint()
            if self.state is not SessionState.RUNNING:
                self._emit_frame()
        return message

    def set_parameter(self, layer: int, kind: str, i: int, j: int, value: float) -> None:
        """Hand-edit one weight or bias."""
        self._check_open()
        parameters = self.trainer.network.parameters.copy()
        parameters[readouts.parameter_index(self.trainer, layer, kind, i, j)] = value
        self.set_parameters(parameters)

    def set_parameters(self, parameters: np.ndarray) -> None:
        self._check_open()
        self.trainer.set_parameters(parameters)
        self.trajectory.record(self.trainer.step_count, self.trainer.network.parameters)
        self._walk = None
        self._checkpoint()
        self._emit_frame()
        self._emit_heatmaps()

    def set_probe(self, split: str, index: int) -> JSON:
        self._check_open()
        trace = readouts.sample_trace(self.trainer, split, index, ("index",))
        self.probe = ProbeChoice(split, index)
        self.frames.stale()
        return views.probe_view(trace)

    def check_parameter(self, layer: int, kind: str, i: int, j: int) -> JSON:
        self._check_open()
        return readouts.parameter_check(self.trainer, layer, kind, i, j, self.probe.split, self.probe.index)

    # --- the learning-rate race (training thread) ------------------------------------------
    def start_race(self, rates: list[float], steps: int, steps_per_second: float,
                   take_claim: Callable[[], Claim]) -> None:
        """Race copies of this session's config, one per rate, in a lane of their own; the
        session itself is not touched. A race already running stops first and hands its place
        in its owner's share to the new one; otherwise `take_claim()` takes one (or refuses)."""
        self._check_open()
        old = self.race
        claim = old.hand_over_claim() if old is not None else None
        claim = claim or take_claim()
        self.stop_race()
        self._races += 1
        try:
            race = LiveRace(self.trainer.config, self.table, rates, steps, steps_per_second, self._scheduler,
                            self._send, self._races, claim, self._lane.account)
        except ValueError as error:
            claim.release()
            raise config_problem(error, ("learning_rates",)) from None
        self.race = race
        race.start()

    def stop_race(self) -> None:
        self._check_open()
        if self.race is not None:
            self.race.stop()

    def unattended(self) -> None:
        """Its last control socket closed: nobody steers it now, so nothing of it trains on for
        nobody. It pauses (kept to resume, docs/protocol.md "Lifecycle") and its race stops.
        Viewers, if any, watch it paused."""
        if self.closed:
            return
        self.pause()
        self.stop_race()

    # --- the loss surface (training thread) ----------------------------------------------------
    def surface_plan(self, request: SurfaceIn) -> SurfacePlan:
        """The plane of `request` through the current weights, ready to compute elsewhere."""
        self._check_open()
        return plan(self.trainer, self.trajectory.parameters(), list(self.trajectory.steps), self._builds, request)

    def show_surface(self, job: SurfacePlan) -> int | None:
        """Make `job`'s plane the one whose `surface_point` the frames carry; returns its id, or
        None when the network was rebuilt since it was planned (the plane no longer fits)."""
        self._check_open()
        if job.build != self._builds:
            return None
        self._surface_ids += 1
        self._surface = (self._surface_ids, job.plane)
        return self._surface_ids

    def _surface_point(self) -> JSON | None:
        """Where the current weights lie on the surface shown (two dot products per direction:
        cheap enough for every frame)."""
        if self._surface is None:
            return None
        surface_id, plane = self._surface
        alpha, beta = plane.coordinates(self.trainer.network.parameters).tolist()
        return {"surface_id": surface_id, "surface_point": [alpha, beta]}

    # --- teaching mode: one step, phase by phase (training thread) -----------------------------
    def next_phase(self) -> JSON:
        self._check_open()
        if self.state is SessionState.RUNNING:
            self.pause()
        if self._walk is None or self._walk.done:
            self._walk = PhaseWalk(self.trainer)
        try:
            phase = self._walk.next()
        except StalePhaseWalk:
            self._walk = PhaseWalk(self.trainer)
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
            self._checkpoint()
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
        started = time.perf_counter()
        try:
            self.trajectory.train(trainer, max_steps, deadline)
        finally:
            elapsed = time.perf_counter() - started
            self._cadence.spend("training", elapsed)
            taken = trainer.step_count - start
            if taken >= 10:
                per_step = elapsed / taken
                self._step_seconds = per_step if self._step_seconds is None else (
                    self._step_seconds + 0.2 * (per_step - self._step_seconds))
            if taken:
                self._trained()
                self._checkpoint(urgent=False)
        return trainer.step_count - start

    def step_seconds(self) -> float:
        """About how long one training step takes here, with this session's bookkeeping: measured
        while training, or the engine's estimate before the first steps."""
        self._check_open()
        if self._step_seconds is None:
            return self.trainer.step_seconds()
        return self._step_seconds

    def _trained(self) -> None:
        self.last_trained = time.monotonic()
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

    def start_steps(self, steps: int, streamed: bool, record_every: int = 0,
                    stop: threading.Event | None = None) -> Future[None]:
        """Train `steps` steps in slices (other sessions and this session's controls run in
        between). The future resolves when done; a REST run is never cut short, a streamed one
        stops at a pause, reset or re-initialisation, and any run ends before its next slice once
        `stop` is set. With `record_every` k the history gets the metrics of every step that is a
        multiple of k, and no others while the run lasts (`History.align`)."""
        self._check_open()
        run = _StepRun(steps, self._step_generation, streamed, record_every, stop)
        if record_every:
            self._gridded_runs += 1
            self.history.align(record_every)
            run.future.add_done_callback(self._grid_done)
        self._continue(run)
        return run.future

    def _grid_done(self, _: Future[None]) -> None:
        """A run with `record_every` ended (on the training thread): the history records any step
        again once no such run is left."""
        self._gridded_runs -= 1
        if not self._gridded_runs:
            self.history.align(0)

    def _advance_recording(self, run: _StepRun, deadline: float) -> int:
        """`_advance` for a run that records every `run.record_every` steps: it stops at each
        multiple to evaluate the metrics (whole splits), and until `deadline`."""
        every = run.record_every
        if not every:
            return self._advance(run.remaining, deadline)
        taken = 0
        while taken < run.remaining:
            taken += self._advance(min(run.remaining - taken, every - self.trainer.step_count % every), deadline)
            if self.trainer.step_count % every == 0:
                self._metrics()
            if time.perf_counter() >= deadline:
                break
        return taken

    def _continue(self, run: _StepRun) -> None:
        """One slice of a step run; queues the next slice behind other work until done."""
        if self.closed:
            run.future.set_exception(SessionClosed(f"session {self.id} closed while training"))
            return
        if run.streamed and run.generation != self._step_generation:
            run.future.set_result(None)
            return
        if run.stop is not None and run.stop.is_set():
            run.remaining = 0  # ends here, with the frame a finished run sends
        try:
            if run.remaining > 0:
                deadline = time.perf_counter() + self._cadence.slice_seconds()
                run.remaining -= self._advance_recording(run, deadline)
            if run.remaining > 0:
                now = time.perf_counter()
                if self.pacer.frame_due(now) and self.state is not SessionState.RUNNING:
                    self._emit_frame(refresh=self.frames.refresh_due(now), progress=True)
                    self.pacer.frame_sent(now)
                self._scheduler.submit(lambda: self._continue(run), urgent=False, lane=self._lane)
                return
            self._checkpoint()
            self._emit_frame()
            self._emit_heatmaps()
        except Diverged as error:
            self._on_diverged(error)
        except Exception as error:  # the engine failed: this session only, and the caller hears
            run.future.set_exception(error)
            self._fail(error)
            return
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
        cadence, frames, pacer = self._cadence, self.frames, self.pacer
        now, cpu = time.perf_counter(), time.thread_time()
        refresh = frames.refresh_due(pacer.next_frame_at)
        speed = self.steps_per_second
        plan = pacer.plan(now, speed, cadence.frame_cost + (cadence.refresh_cost if refresh else 0.0))
        training_cpu = 0.0
        if plan.max_steps > 0:
            try:
                pacer.trained(self._advance(plan.max_steps, plan.deadline), speed)
            except Diverged as error:
                self._on_diverged(error)
                return None
            finally:
                training_cpu = time.thread_time() - cpu
        now = time.perf_counter()
        if pacer.frame_due(now) and self.trainer.step_count != frames.last_frame_step:
            self._emit_frame(refresh=refresh or frames.refresh_due(now))
            pacer.frame_sent(now, full_speed=speed == 0)
            if pacer.heatmap_due(now) and self.trainer.step_count != frames.last_heatmap_step:
                self._emit_heatmaps()
                pacer.heatmap_sent(now, frames.heatmap_interval())
        cadence.note_python_work(time.thread_time() - cpu - training_cpu)
        self._place_turns()
        return pacer.next_turn(time.perf_counter(), speed)

    def _place_turns(self) -> None:
        """Where the next play turns run: on the event loop when they are nearly all Python,
        else on a training thread (`Cadence.turns_on_loop`); the scheduler reads it when it
        arms the ticker."""
        self._ticker.on_loop = self._cadence.turns_on_loop(self.steps_per_second, self.trainer.step_seconds())

    # --- frames (training thread) --------------------------------------------------------------
    def _emit_frame(self, refresh: bool = True, progress: bool = False) -> None:
        """A frame; float32 while playing or showing a long step's `progress`, float64 (every
        block, the engine's exact numbers) when training stands still."""
        running = self.state is SessionState.RUNNING
        exact = not running and not progress
        parts, kind = self.frames.frame(
            self.trainer, self.state.value, self.history, self._probe_trace, refresh, running, exact,
            self._surface_point(),
        )
        self._send(parts, kind)

    def _emit_heatmaps(self) -> None:
        self._send(self.frames.heatmaps(self.trainer), "heatmaps")

    # --- ending (training thread) --------------------------------------------------------------
    def close(self) -> None:
        if self.state is SessionState.CLOSED:
            return
        self._transition(SessionState.CLOSED)
        self._step_generation += 1
        self._scheduler.cancel(self._ticker)
        if self.race is not None:
            self.race.stop()

    def _fail(self, error: BaseException) -> None:
        logger.error("session %s failed", self.id[:8], exc_info=error)
        self.close()
        if self.on_failure is not None:
            on_failure = self.on_failure
            try:
                self._loop.call_soon_threadsafe(on_failure, self, error)
            except RuntimeError:
                pass

