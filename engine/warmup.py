"""Compiles every kernel (or loads it from numba's cache) before the first request needs it.

The first call of a numba function compiles it for its argument types and writes the machine
code to the cache (`cache=True`: beside the package, or numba's user-wide cache directory when
the package folder is read-only, or `NUMBA_CACHE_DIR`), so the next process only loads it.
`warm_up` drives every path once on a tiny network, for a classifier and for a regression, so a
server that calls it before it reports ready never makes a request wait for the compiler.

The paths come in two halves that share no kernel: training's (steps, a traced step, a phase
walk, an evaluation, a grid forward pass) and the analyses' (the probe, the gradient check, the
learning-rate lab's loss line, a loss surface). numba compiles one function at a time in a
process, so when this process first has to compile (numba's compile event: the cache is cold)
and there is a second core, a helper process compiles the analyses' half while this one
compiles training's; then this process loads the helper's half from the cache. On a cold cache
that about halves the wait (~48 s on this project's 2-core machine); a warm cache starts no
helper.

`warm_up(progress)` says how far a cold start has got, counting the engine's kernels as numba
compiles them (its compile events, in this process and, through the helper's output, in the
helper): `progress(kernels_done, kernels_total, kernel)`. A kernel is one engine function for
one list of argument types, counted once whichever process compiles it; `COLD_START_KERNELS` is
how many an empty cache compiles. A warm cache compiles nothing and reports nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from typing import IO, Any

from numba.core import event

from backprop_lab.engine.config import Config
from backprop_lab.engine.datasets import grid_inputs
from backprop_lab.engine.evaluation import evaluate_split, grid_activations
from backprop_lab.engine.gradcheck import Objective, check_gradients
from backprop_lab.engine.lr_lab import loss_line
from backprop_lab.engine.phases import PhaseWalk
from backprop_lab.engine.probe import probe_sample
from backprop_lab.engine.surface import loss_surface, random_plane
from backprop_lab.engine.trainer import Trainer

WARM_UP_CONFIGS = (
    Config(samples=40, hidden_layers=(3,), batch_size=4),
    Config(dataset="plane", samples=40, hidden_layers=(3,), batch_size=4, optimizer="adam", regularization="l2",
           regularization_rate=0.001),
)


def _training_paths(trainer: Trainer) -> None:
    trainer.step(12)
    trainer.train_for(3, time.perf_counter() + 1.0)
    trainer.step(1)  # now that a step's time is known: a call too brief to give the GIL away
    trainer.traced_step()
    walk = PhaseWalk(trainer)
    while not walk.done:
        walk.next()
    train = trainer.dataset.train
    evaluate_split(trainer.network, trainer.loss, train.inputs, train.targets)
    _, grid = grid_inputs(trainer.dataset, trainer.config.features, 5)
    grid_activations(trainer.network, grid)


def _analysis_paths(trainer: Trainer) -> None:
    config = trainer.config
    train = trainer.dataset.train
    probe_sample(trainer.network, trainer.loss, train.inputs[0], train.targets[0], "train", 0)
    objective = Objective(trainer.network.copy(), trainer.loss, train.inputs, train.targets,
                          config.regularization, config.regularization_rate)
    check_gradients(objective)
    objective.value()
    loss_line(trainer, points=3, max_rate_multiple=2.0)
    plane = random_plane(trainer.network.layout, trainer.network.parameters, seed=0)
    loss_surface(trainer.network, trainer.loss, train.inputs, train.targets, plane, 1.0, 3)


HALVES: tuple[Callable[[Trainer], None], ...] = (_training_paths, _analysis_paths)

# The engine's kernels (function, argument types) that `warm_up` compiles on an empty cache,
# counted by tests/engine/test_warmup.py: the total of a cold start's progress.
COLD_START_KERNELS = 36
ENGINE_MODULES = "backprop_lab.engine."
HELPER_REPORT = "warm-up kernel"  # the start of the helper's lines about its compiles

Progress = Callable[[int, int, str], None]
"""`progress(kernels_done, kernels_total, kernel)`: `kernel` is the one whose compile just began
or ended (its module and name, e.g. "training.train"); "" with the last call, when all are done."""


def warm_half(index: int) -> None:
    """Runs one half of the paths (`HALVES[index]`) for every warm-up config."""
    for config in WARM_UP_CONFIGS:
        HALVES[index](Trainer(config))


def _engine_kernel(compiling: event.Event) -> tuple[str, str] | None:
    """(key, name) of an engine kernel being compiled, None for numba's own helpers. The key
    is the same in every process: the function and its argument types."""
    data: dict[str, Any] = compiling.data
    function = data["dispatcher"].py_func
    if not function.__module__.startswith(ENGINE_MODULES):
        return None
    name = f"{function.__module__.rsplit('.', 1)[-1]}.{function.__qualname__}"
    return f"{function.__module__}.{function.__qualname__}{data['args']}", name


class _KernelCount:
    """The kernels this process and the helper have begun and finished compiling, each counted
    once (after a failed helper this process compiles them again); reports each change."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.lock = threading.Lock()
        self.begun: set[str] = set()
        self.finished: set[str] = set()

    @property
    def total(self) -> int:
        return max(COLD_START_KERNELS, len(self.begun))  # never below what was seen

    def begin(self, key: str, name: str) -> None:
        with self.lock:
            if key not in self.begun:
                self.begun.add(key)
                self._report(name)

    def finish(self, key: str, name: str) -> None:
        with self.lock:
            if key not in self.finished:
                self.finished.add(key)
                self._report(name)

    def all_done(self) -> None:
        """The last report, when anything was compiled: whatever a partly warm cache held is done too."""
        with self.lock:
            if self.begun and self.progress is not None:
                self.progress(self.total, self.total, "")

    def _report(self, name: str) -> None:
        if self.progress is not None:
            self.progress(len(self.finished), self.total, name)


class _Helper:
    """A process that warms the analyses' half (`HALVES[1]`) and writes a line per compile
    event, which a thread here reads into the count. It exits when this process does (its
    stdin closes), so a server stopped during a cold start leaves no compiler running."""

    def __init__(self, count: _KernelCount) -> None:
        # this process's import path, so the helper compiles this very engine (a checkout, an
        # install) into the cache this process reads
        command = (f"import sys; sys.path[:] = {sys.path!r}; "
                   "from backprop_lab.engine.warmup import warm_half_reporting; warm_half_reporting(1)")
        self.process = subprocess.Popen([sys.executable, "-c", command], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.count = count
        self.other_output: list[str] = []  # what else it wrote: a failure's traceback
        self.reader = threading.Thread(target=self._read, args=(self.process.stdout,), name="warm-up helper",
                                       daemon=True)
        self.reader.start()

    def _read(self, output: IO[bytes]) -> None:
        for raw in output:
            line = raw.decode(errors="replace").rstrip("\n")
            words = line.split("\t")
            if len(words) == 4 and words[0] == HELPER_REPORT:
                _, what, key, name = words
                (self.count.begin if what == "begin" else self.count.finish)(key, name)
            else:
                self.other_output.append(line)

    def wait(self) -> None:
        """Until its half is in the cache; a failure is a warning, and this process compiles that half."""
        code = self.process.wait()
        self.reader.join()
        self.close()
        if code != 0:
            errors = "\n".join(self.other_output)[-500:]
            warnings.warn(f"the warm-up helper failed ({code}), so this process compiles its half: {errors}",
                          RuntimeWarning, stacklevel=3)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.close()

    def close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def _start_helper(count: _KernelCount) -> _Helper | None:
    """The helper, when there is a second core to run it on."""
    if (os.cpu_count() or 1) < 2:
        return None
    return _Helper(count)


def warm_half_reporting(index: int) -> None:
    """The helper's work: `warm_half(index)`, a line on stdout per engine kernel whose compile
    begins or ends, and an exit as soon as the process that started it is gone."""

    def exit_when_parent_is_gone() -> None:
        # the file descriptor, not sys.stdin: a thread blocked in a buffered read would hold a
        # lock the interpreter takes at exit
        while os.read(0, 4096):
            pass  # end of file: the parent closed the pipe or exited
        os._exit(1)

    threading.Thread(target=exit_when_parent_is_gone, daemon=True).start()

    class Reporter(event.Listener):
        def on_start(self, compiling: event.Event) -> None:
            self.write("begin", compiling)

        def on_end(self, compiling: event.Event) -> None:
            self.write("end", compiling)

        def write(self, what: str, compiling: event.Event) -> None:
            kernel = _engine_kernel(compiling)
            if kernel is not None:
                print(HELPER_REPORT, what, *kernel, sep="\t", flush=True)

    with event.install_listener("numba:compile", Reporter()):
        warm_half(index)


class _Compiles(event.Listener):
    """Counts this process's compiles, and starts the helper at the first one: a warm cache never
    starts one, nor does a second warm-up in a process that already has every kernel."""

    def __init__(self, count: _KernelCount) -> None:
        self.count = count
        self.asked = False
        self.helper: _Helper | None = None

    def on_start(self, compiling: event.Event) -> None:
        if not self.asked:
            self.asked = True
            self.helper = _start_helper(self.count)
        kernel = _engine_kernel(compiling)
        if kernel is not None:
            self.count.begin(*kernel)

    def on_end(self, compiling: event.Event) -> None:
        kernel = _engine_kernel(compiling)
        if kernel is not None:
            self.count.finish(*kernel)


def warm_up(progress: Progress | None = None) -> float:
    """Runs every compiled path once; returns the seconds it took (compiling or loading).
    `progress` hears of each kernel compiled, from this thread and the helper's reader."""
    started = time.perf_counter()
    count = _KernelCount(progress)
    listener = _Compiles(count)
    with event.install_listener("numba:compile", listener):
        try:
            warm_half(0)
        except BaseException:
            if listener.helper is not None:
                listener.helper.kill()
            raise
        if listener.helper is not None:
            listener.helper.wait()  # its half is in the cache now
        warm_half(1)
    count.all_done()
    return time.perf_counter() - started
