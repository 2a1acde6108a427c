"""One training step taken phase by phase, for teaching mode.

    forward 1 … L  →  loss  →  backward L … 1  →  update

Each phase returns exactly the numbers it produced, computed by the same functions and in the
same order as `Trainer.step`, so walking every phase ends in bit-identical weights. The walk
uses the mini-batch an ordinary step would take next; it goes stale (and says so) if the
trainer steps, resets or re-initialises before it ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from engine.losses import add_regularization_gradient
from engine.network import Forward

if TYPE_CHECKING:
    from engine.trainer import Trainer

PhaseKind = Literal["forward", "loss", "backward", "update"]
PhaseValues = dict[str, np.ndarray | list[np.ndarray] | float]  # what a phase produced, by name


@dataclass(frozen=True)
class Phase:
    kind: PhaseKind
    layer: int | None  # 0-based index of the weighted layer (forward/backward), else None
    index: int  # 0 … total-1, the phase's place in the step
    total: int  # 2·L + 2 phases in a step
    values: PhaseValues = field(default_factory=dict)


class StalePhaseWalk(RuntimeError):
    """The trainer moved on (a step, reset or re-initialisation) while the walk was open."""


class PhaseWalk:
    def __init__(self, trainer: Trainer):
        self._trainer = trainer
        self._generation = trainer.generation
        self._step_at_start = trainer.step_count
        start, self._stop = trainer._batch_bounds()
        self.batch_indices = trainer._order[start : self._stop].copy()  # (n,) rows of the training split
        self._inputs = trainer._epoch_inputs[start : self._stop]  # (n, n_inputs)
        self._targets = trainer._epoch_targets[start : self._stop]  # (n, K)
        depth = trainer.network.depth
        self.total = 2 * depth + 2
        self._next_index = 0
        self._forward = Forward(self._inputs, [], [])
        self._deltas: np.ndarray | None = None  # ∂L/∂z of the layer the backward pass reached
        self._batch_loss = 0.0

    @property
    def done(self) -> bool:
        return self._next_index >= self.total

    def _check_fresh(self) -> None:
        trainer = self._trainer
        if trainer.generation != self._generation or trainer.step_count != self._step_at_start:
            raise StalePhaseWalk("the network changed since this step began; start the phases again")

    def next(self) -> Phase:
        """Runs the next phase and returns its numbers. Raises `Diverged` from the update."""
        if self.done:
            raise StopIteration("every phase of this step has run")
        self._check_fresh()
        index = self._next_index
        depth = self._trainer.network.depth
        with np.errstate(all="ignore"):  # as in Trainer.step: divergence is caught, not warned
            if index < depth:
                phase = self._forward_phase(index)
            elif index == depth:
                phase = self._loss_phase()
            elif index < 2 * depth + 1:
                phase = self._backward_phase(2 * depth - index)
            else:
                phase = self._update_phase()
        self._next_index += 1
        return phase

    def _phase(self, kind: PhaseKind, layer: int | None, values: PhaseValues) -> Phase:
        return Phase(kind, layer, self._next_index, self.total, values)

    def _forward_phase(self, layer: int) -> Phase:
        previous = self._inputs if layer == 0 else self._forward.activations[layer - 1]
        z, a = self._trainer.network.layer_forward(layer, previous)
        self._forward.pre_activations.append(z)
        self._forward.activations.append(a)
        return self._phase("forward", layer, {"pre_activations": z, "activations": a})

    def _loss_phase(self) -> Phase:
        trainer = self._trainer
        logits = self._forward.pre_activations[-1]
        losses = trainer.loss.per_sample(logits, self._forward.outputs, self._targets)  # (n,)
        self._batch_loss, self._deltas = trainer.loss.mean_and_deltas(
            logits, self._forward.outputs, self._targets, trainer.network.classify
        )
        return self._phase(
            "loss",
            None,
            {
                "outputs": self._forward.outputs,
                "targets": self._targets,
                "losses": losses,
                "loss": self._batch_loss,
                "objective": self._batch_loss + trainer.penalty(),
            },
        )

    def _backward_phase(self, layer: int) -> Phase:
        trainer = self._trainer
        assert self._deltas is not None
        weight_grads, bias_grads = trainer._scratch_views
        deltas = self._deltas
        self._deltas = trainer.network.layer_backward(
            layer, self._forward, deltas, weight_grads[layer], bias_grads[layer]
        )
        add_regularization_gradient(
            weight_grads[layer].reshape(-1),
            trainer.network.weights[layer].reshape(-1),
            trainer.config.regularization,
            trainer.config.regularization_rate,
        )
        return self._phase(
            "backward",
            layer,
            {
                "deltas": deltas,  # ∂L/∂z of the batch's mean loss L
                "weight_gradients": weight_grads[layer].copy(),
                "bias_gradients": bias_grads[layer].copy(),
            },
        )

    def _update_phase(self) -> Phase:
        trainer = self._trainer
        trainer._apply_update(self._batch_loss, self._stop)
        update_w, update_b = trainer.network.layout.views(trainer.last_update)
        return self._phase(
            "update",
            None,
            {
                "weight_updates": [w.copy() for w in update_w],
                "bias_updates": [b.copy() for b in update_b],
                "weights": [w.copy() for w in trainer.network.weights],
                "biases": [b.copy() for b in trainer.network.biases],
            },
        )
