"""Compiles every kernel (or loads it from numba's cache) before the first request needs it.

The first call of a numba function compiles it for its argument types — seconds for the
whole engine — and writes the machine code to the cache (`cache=True`: beside the package, or
numba's user-wide cache directory when the package folder is read-only, or `NUMBA_CACHE_DIR`),
so the next process only loads it. `warm_up` drives every path once on a tiny network — steps,
a traced step, a phase walk, the probe, an evaluation, a grid forward pass, the gradient check,
the learning-rate lab's loss line, a loss surface — for a classifier and for a regression, so a
server that calls it before it reports ready never makes a request wait for the compiler.
"""

from __future__ import annotations

import time

from engine.config import Config
from engine.datasets import grid_inputs
from engine.evaluation import evaluate_split, grid_activations
from engine.gradcheck import Objective, check_gradients
from engine.lr_lab import loss_line
from engine.phases import PhaseWalk
from engine.probe import probe_sample
from engine.surface import loss_surface, random_plane
from engine.trainer import Trainer

WARM_UP_CONFIGS = (
    Config(samples=40, hidden_layers=(3,), batch_size=4),
    Config(dataset="plane", samples=40, hidden_layers=(3,), batch_size=4, optimizer="adam", regularization="l2",
           regularization_rate=0.001),
)


def warm_up() -> float:
    """Runs every compiled path once; returns the seconds it took (compiling or loading)."""
    started = time.perf_counter()
    for config in WARM_UP_CONFIGS:
        trainer = Trainer(config)
        trainer.step(12)
        trainer.train_for(3, time.perf_counter() + 1.0)
        trainer.traced_step()
        walk = PhaseWalk(trainer)
        while not walk.done:
            walk.next()
        train = trainer.dataset.train
        probe_sample(trainer.network, trainer.loss, train.inputs[0], train.targets[0], "train", 0)
        evaluate_split(trainer.network, trainer.loss, train.inputs, train.targets)
        _, grid = grid_inputs(trainer.dataset, config.features, 5)
        grid_activations(trainer.network, grid)
        objective = Objective(trainer.network.copy(), trainer.loss, train.inputs, train.targets,
                              config.regularization, config.regularization_rate)
        check_gradients(objective)
        objective.value()
        loss_line(trainer, points=3, max_rate_multiple=2.0)
        plane = random_plane(trainer.network.layout, trainer.network.parameters, seed=0)
        loss_surface(trainer.network, trainer.loss, train.inputs, train.targets, plane, 1.0, 3)
    return time.perf_counter() - started
