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
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable

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


def warm_half(index: int) -> None:
    """Runs one half of the paths (`HALVES[index]`) for every warm-up config."""
    for config in WARM_UP_CONFIGS:
        HALVES[index](Trainer(config))


def _start_helper() -> subprocess.Popen[bytes] | None:
    """A process that warms the analyses' half, when there is a second core to run it on."""
    if (os.cpu_count() or 1) < 2:
        return None
    # this process's import path, so the helper compiles this very engine (a checkout, an
    # install) into the cache this process reads
    command = f"import sys; sys.path[:] = {sys.path!r}; from backprop_lab.engine.warmup import warm_half; warm_half(1)"
    return subprocess.Popen([sys.executable, "-c", command], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class _HelperOnFirstCompile(event.Listener):
    """Starts the helper when this process first has to compile: a warm cache never starts one,
    nor does a second warm-up in a process that already has every kernel."""

    def __init__(self) -> None:
        self.asked = False
        self.helper: subprocess.Popen[bytes] | None = None

    def on_start(self, compiling: event.Event) -> None:
        if not self.asked:
            self.asked = True
            self.helper = _start_helper()

    def on_end(self, compiling: event.Event) -> None:
        pass


def warm_up() -> float:
    """Runs every compiled path once; returns the seconds it took (compiling or loading)."""
    started = time.perf_counter()
    listener = _HelperOnFirstCompile()
    try:
        with event.install_listener("numba:compile", listener):
            warm_half(0)
    except BaseException:
        if listener.helper is not None:
            listener.helper.kill()
            listener.helper.wait()
        raise
    helper = listener.helper
    if helper is not None:
        _, errors = helper.communicate()  # its half is in the cache now
        if helper.returncode != 0:
            warnings.warn(f"the warm-up helper failed ({helper.returncode}), so this process compiles its half: "
                          f"{errors.decode(errors='replace')[-500:]}", RuntimeWarning, stacklevel=2)
    warm_half(1)
    return time.perf_counter() - started
