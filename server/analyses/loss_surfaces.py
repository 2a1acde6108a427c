"""Loss surfaces for sessions: choosing the plane, computing its grid off the streaming path,
and the live point that frames carry (docs/api.md, "Loss surface"; docs/protocol.md, `frame`).

A surface is made in three moves, so neither the event loop nor the training threads ever
compute a grid:
1. `plan` runs in the session's lane (it reads the trainer): it picks the plane (the two weights
   with the largest gradient by default, random directions from a seed, or the PCA of the
   recorded trajectory), copies what the grid needs and estimates its cost;
2. `SurfaceWorkers.compute` runs the grid on threads of their own — both cores, at a lower
   priority than the training threads, so frames keep their rate while it runs — in chunks of
   about `CHUNK_SECONDS`, so a surface whose client has gone stops between two chunks;
3. the session shows the plane (`Session.show_surface`): from then on every frame carries the
   current weights' coordinates on it, `surface_point`, until the next surface or a rebuild.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from backprop_lab.engine.losses import get_loss
from backprop_lab.engine.network import Network
from backprop_lab.engine.surface import (
    LossSurface,
    Plane,
    SurfaceError,
    largest_gradient_weights,
    loss_surface,
    pca_plane,
    random_plane,
    weight_plane,
)
from backprop_lab.engine.trainer import Trainer
from backprop_lab.server.analyses import readouts
from backprop_lab.server.wire import views
from backprop_lab.server.wire.analysis_models import SurfaceIn
from backprop_lab.server.wire.problems import InvalidInput

JSON = dict[str, Any]
T = TypeVar("T")
LOWER_PRIORITY = 10  # nice increment of the surface threads: training and frames go first
# A grid is cut into chunks of about this long on one thread (at least one per thread, at most
# MAX_CHUNKS): a surface whose client left stops within about a chunk. Each chunk allocates the
# buffers of one forward pass over the training split, so chunks are not made much smaller.
CHUNK_SECONDS = 0.1
MAX_CHUNKS = 128


@dataclass(frozen=True, eq=False)
class SurfacePlan:
    """Everything a grid needs, copied out of the session so it can be computed elsewhere."""

    plane: Plane
    network: Network  # a copy: its layout, activation and output layer
    loss_name: str
    inputs: np.ndarray  # (n_train, n_inputs)
    targets: np.ndarray  # (n_train, K)
    trajectory: np.ndarray  # (n, P) recorded weights, oldest first
    trajectory_steps: list[int]
    step: int
    build: int  # the session's build it was made for (a rebuild makes it stale)
    request: SurfaceIn
    seconds: float  # the estimated time of the grid on one thread


def plan(trainer: Trainer, trajectory: np.ndarray, steps: list[int], build: int, request: SurfaceIn) -> SurfacePlan:
    """The plane of `request` at the trainer's current weights (training thread).
    `InvalidInput` names the field of a plane that cannot be made."""
    network = trainer.network
    layout = network.layout
    centre = network.parameters.copy()
    if request.weights is not None and request.directions != "weights":
        raise InvalidInput(("body", "weights"), "weights: only `weights` directions take weights")
    try:
        if request.directions == "weights":
            if request.weights is None:
                _, _, gradient = readouts.objective(trainer).gradient()
                chosen: list[list[int]] = [list(ref) for ref in largest_gradient_weights(layout, gradient)]
            else:
                chosen = request.weights
            plane = weight_plane(layout, centre, chosen)
        elif request.directions == "random":
            plane = random_plane(layout, centre, request.seed)
        else:
            plane = pca_plane(centre, np.vstack([trajectory, centre]))
    except SurfaceError as error:
        raise InvalidInput(("body", error.field), error.message) from None
    if steps and steps[-1] == trainer.step_count:
        trajectory, steps = trajectory[:-1], steps[:-1]  # the centre is appended as the last point
    points = request.resolution * request.resolution
    train = trainer.dataset.train
    return SurfacePlan(
        plane, network.copy(), trainer.loss.name, train.inputs, train.targets, trajectory, [*steps, trainer.step_count],
        trainer.step_count, build, request, points * readouts.forward_seconds(trainer),
    )


def _lower_priority() -> None:
    """Run this thread at a lower priority (Linux: per-thread nice), so a grid yields the cores
    to the training threads that stream frames."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWER_PRIORITY)


class SurfaceAbandoned(Exception):
    """A chunk of a grid skipped: the request it was for has gone."""


class _Abandonable(Executor):
    """The surface threads, as the engine's `loss_surface` sees them for one grid: each chunk it
    submits runs on the pool unless the grid was abandoned before the chunk's turn came."""

    def __init__(self, pool: Executor, abandoned: threading.Event) -> None:
        self._pool = pool
        self._abandoned = abandoned
        self.chunks: list[Future[Any]] = []

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        def chunk() -> T:
            if self._abandoned.is_set():
                raise SurfaceAbandoned
            return fn(*args, **kwargs)

        future = self._pool.submit(chunk)
        self.chunks.append(future)
        return future


class SurfaceWorkers:
    """The threads that compute grids, one surface at a time (the next waits its turn; how many
    may wait is the ledger's `surfaces` cap and shares, so requests cannot pile up copies of
    networks in memory)."""

    def __init__(self, threads: int) -> None:
        self.threads = max(1, threads)
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="surface", initializer=_lower_priority)
        self._turn = asyncio.Lock()
        self.computing = 0  # grids on the threads now: 0 or 1 (event loop only)

    async def compute(self, job: SurfacePlan) -> tuple[LossSurface, float]:
        """The grid of `job` and the seconds it took; the event loop only awaits it. Cancelled
        (its client left), the chunks not started are skipped, and it returns once the ones
        running have ended: the threads are then free for the next surface."""
        async with self._turn:
            abandoned = threading.Event()
            grid = asyncio.ensure_future(asyncio.to_thread(self._compute, job, abandoned))
            self.computing += 1
            try:
                return await asyncio.shield(grid)
            except asyncio.CancelledError:
                abandoned.set()
                await asyncio.wait({grid})
                if not grid.cancelled():
                    grid.exception()  # SurfaceAbandoned, as asked
                raise
            finally:
                self.computing -= 1

    def _compute(self, job: SurfacePlan, abandoned: threading.Event) -> tuple[LossSurface, float]:
        started = time.perf_counter()
        chunks = max(self.threads, min(MAX_CHUNKS, math.ceil(job.seconds / CHUNK_SECONDS)))
        executor = _Abandonable(self._pool, abandoned)
        try:
            with np.errstate(all="ignore"):
                surface = loss_surface(job.network, get_loss(job.loss_name), job.inputs, job.targets, job.plane,
                                       job.request.span, job.request.resolution, job.trajectory, chunks, executor)
        finally:
            concurrent.futures.wait(executor.chunks)  # an abandoned grid's running chunks end first
        return surface, time.perf_counter() - started

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def surface_view(job: SurfacePlan, surface: LossSurface, surface_id: int, seconds: float) -> JSON:
    """The REST answer (docs/api.md): the grid, the trajectory and the plane's directions."""
    plane = surface.plane
    layout = job.network.layout
    request = job.request
    return {
        "x": surface.x,
        "y": surface.y,
        "loss": surface.loss,
        "center_loss": views.finite_or_none(surface.center_loss),
        "trajectory": surface.trajectory,
        "trajectory_steps": job.trajectory_steps,
        "directions": [{"layers": views.layers_view(layout, direction)} for direction in plane.directions],
        "kind": plane.kind,
        "weights": [list(ref) for ref in plane.weights] if plane.weights is not None else None,
        "explained_variance": list(plane.explained_variance) if plane.explained_variance is not None else None,
        "seed": request.seed if plane.kind == "random" else None,
        "span": request.span,
        "resolution": request.resolution,
        "step": job.step,
        "surface_id": surface_id,
        "seconds": round(seconds, 6),
    }
