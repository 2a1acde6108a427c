"""The engine's preparation while the server already listens: how far it is, what to answer
meanwhile, and what the terminal says.

A cold start (an empty numba cache: a fresh install) compiles the engine's kernels for most of
a minute. The server listens as soon as the first kernel starts compiling
(`backprop_lab.server.app`), so a browser gets a page that shows this progress instead of
"connection refused"; `backprop_lab.server.routes.preparing` answers every request from
`Preparation.problem` until the engine is ready. A warm start compiles nothing: the server
listens once ready, as it always did, and nothing here prints a line.

The estimate is a measurement: the duration of the last start on this machine that compiled
every kernel, kept in a small JSON file (`Settings.cold_start_record`; the CLI's is in the
user's data folder). Without one the page and the terminal say there is no estimate yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

import platformdirs

from backprop_lab.engine.warmup import COLD_START_KERNELS, Progress

logger = logging.getLogger(__name__)

LINE_INTERVAL_SECONDS = 5.0  # the terminal's progress lines: one at the first compile, then at most this often
MAX_RETRY_AFTER_SECONDS = 10  # a client told to come back later is never told to wait longer than this


class Stage(Enum):
    PREPARING = "preparing"
    READY = "ready"
    FAILED = "failed"


def default_record() -> Path:
    """Where the CLI remembers the last cold start: the user's data folder, beside the saved runs."""
    return Path(platformdirs.user_data_dir("backprop-lab", appauthor=False)) / "last-cold-start.json"


def read_record(path: Path | None) -> float | None:
    """The seconds the last cold start took, or None: no file (never measured here) or one that
    cannot be read (it is only an estimate: the start goes on without it)."""
    if path is None:
        return None
    try:
        seconds = json.loads(path.read_text(encoding="utf-8"))["seconds"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(seconds) if isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0 else None


class Preparation:
    """The engine's stage and progress, fed from the warm-up's threads (`on_progress`,
    `succeeded`, `failed`) and read by the event loop (`problem`, `ready`)."""

    def __init__(self, record: Path | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.record = record
        self.clock = clock
        self.started = clock()
        self.last_cold_seconds = read_record(record)
        self.stage = Stage.PREPARING
        self.kernels_done = 0
        self.kernels_total = COLD_START_KERNELS
        self.kernel = ""  # the kernel whose compile began or ended last
        self.kernels_compiled = 0  # by this start: all of them is a cold start, worth remembering
        self.failure = ""
        self._lock = threading.Lock()
        self._last_line: float | None = None
        self._compiling = asyncio.Event()  # a kernel is compiling: a cold cache, so the server listens meanwhile

    @property
    def ready(self) -> bool:
        return self.stage is Stage.READY

    def elapsed(self) -> float:
        return self.clock() - self.started

    def seconds_left(self) -> float | None:
        """The last cold start's duration less the time spent so far (never below 0); None: no estimate."""
        if self.last_cold_seconds is None:
            return None
        return max(0.0, self.last_cold_seconds - self.elapsed())

    def warm_up_in_background(self, warm_up: Callable[[Progress], float]) -> asyncio.Future[float]:
        """Runs `warm_up` in a thread of its own, reporting here; the future (of the running event
        loop) gets the seconds it took, or its error. A daemon thread: a server stopped during a
        cold start exits without waiting for the compiler (whose helper process exits with it)."""
        loop = asyncio.get_running_loop()
        warmed: asyncio.Future[float] = loop.create_future()

        def on_loop(callback: Callable[[], object]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the server stopped meanwhile
                loop.call_soon_threadsafe(callback)

        def progress(kernels_done: int, kernels_total: int, kernel: str) -> None:
            self.on_progress(kernels_done, kernels_total, kernel)
            on_loop(self._compiling.set)

        def settle(seconds: float, error: Exception | None) -> None:
            if warmed.done():  # cancelled: the server stopped meanwhile
                return
            if error is None:
                warmed.set_result(seconds)
            else:
                warmed.set_exception(error)

        def run() -> None:
            try:
                seconds, error = warm_up(progress), None
            except Exception as failure:
                seconds, error = 0.0, failure
            on_loop(lambda: settle(seconds, error))

        threading.Thread(target=run, name="engine-warm-up", daemon=True).start()
        return warmed

    async def until_listening(self, started: asyncio.Task[None]) -> None:
        """Until the server should listen: once a kernel compiles (a cold start: the wait is
        long, the preparing answers say so), or once `started` (the services) is done."""
        compiling = asyncio.create_task(self._compiling.wait())
        await asyncio.wait((started, compiling), return_when=asyncio.FIRST_COMPLETED)
        compiling.cancel()

    def on_progress(self, kernels_done: int, kernels_total: int, kernel: str) -> None:
        """`backprop_lab.engine.warmup.Progress`: called from the warm-up's threads as kernels compile."""
        with self._lock:
            self.kernels_done, self.kernels_total = kernels_done, kernels_total
            if kernel:
                self.kernel = kernel
                self.kernels_compiled = max(self.kernels_compiled, kernels_done)
            now = self.clock()
            if self._last_line is None:
                estimate = (f"the last cold start here took {self.last_cold_seconds:.0f} s"
                            if self.last_cold_seconds is not None else "first time: no estimate yet")
                logger.info("Preparing the engine (first start only): compiling its %d kernels; %s",
                            kernels_total, estimate)
                self._last_line = now
            elif now - self._last_line >= LINE_INTERVAL_SECONDS and kernel:
                self._last_line = now
                left = self.seconds_left()
                if left is None:
                    estimate = ""
                elif left > 0:
                    estimate = f"; about {left:.0f} s left"
                else:
                    estimate = f"; longer than the last cold start ({self.last_cold_seconds:.0f} s)"
                logger.info("engine: %d of %d kernels compiled after %.0f s (now %s)%s", kernels_done, kernels_total,
                            self.elapsed(), kernel, estimate)

    def succeeded(self, seconds: float) -> None:
        """The warm-up is done: remember its duration when it compiled every kernel."""
        with self._lock:
            self.stage = Stage.READY
            cold = self.kernels_compiled >= self.kernels_total
        if cold and self.record is not None:
            try:
                self.record.parent.mkdir(parents=True, exist_ok=True)
                self.record.write_text(json.dumps({"seconds": round(seconds, 1), "kernels": self.kernels_total}),
                                       encoding="utf-8")
            except OSError as error:  # a read-only home: no estimate next time, nothing worse
                logger.warning("could not remember this cold start's duration in %s: %s", self.record, error)

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self.stage = Stage.FAILED
            self.failure = f"{type(error).__name__}: {error}"
        logger.error("the engine could not be prepared, so the lab cannot train: %s", self.failure, exc_info=error)

    def retry_after(self) -> int:
        """Seconds a client should wait before asking again: the estimate left, within 1…10 s."""
        left = self.seconds_left()
        if left is None:
            return MAX_RETRY_AFTER_SECONDS // 2
        return min(MAX_RETRY_AFTER_SECONDS, max(1, math.ceil(left)))

    def problem(self) -> dict[str, Any]:
        """The answer to a request while not ready, in the API's error shape (docs/api.md, "Errors")."""
        with self._lock:
            if self.stage is Stage.FAILED:
                return {
                    "detail": f"the engine could not be prepared ({self.failure}); the server's log has the details",
                    "code": "engine_failed",
                    "field": None,
                    "params": {"error": self.failure},
                }
            done, total = self.kernels_done, self.kernels_total
            left = self.seconds_left()
            return {
                "detail": f"the engine is being prepared (first start only): {done} of {total} kernels compiled; "
                "try again in a few seconds",
                "code": "engine_preparing",
                "field": None,
                "params": {
                    "kernels_done": done,
                    "kernels_total": total,
                    "kernel": self.kernel,
                    "elapsed_seconds": round(self.elapsed(), 1),
                    "seconds_left": None if left is None else round(left, 1),
                },
            }
