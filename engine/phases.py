"""One training step taken phase by phase, for teaching mode.

    forward 1 … L  →  loss  →  backward L … 1  →  update

Each phase runs the compiled kernels a step is made of (`backprop_lab.engine.kernels.passes`: `layer_forward`,
`loss_and_deltas`, `layer_gradients`, `layer_chain`; then `Trainer.apply_gradient`), one call
per phase, in the order `Trainer.step` runs them inside one call — so walking every phase ends
in bit-identical weights, and each phase returns exactly the numbers it produced. The walk
uses the mini-batch an ordinary step would take next; it goes stale (and says so) if the
trainer steps, resets or re-initialises before it ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from backprop_lab.engine.kernels.passes import (
    layer_chain,
    layer_forward,
    layer_gradients,
    loss_and_deltas,
    objective_penalty,
)
from backprop_lab.engine.trainer import Trainer
from backprop_lab.engine.workspace import Workspace

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
        start, self._stop = trainer.batch_bounds()
        self.batch_indices = trainer.order[start : self._stop].copy()  # (n,) rows of the training split
        self._inputs, self._targets = trainer.batch(start, self._stop)  # (n, n_inputs), (n, K)
        self._rows = self._stop - start
        self._workspace = Workspace(trainer.network.layout, self._rows)
        self._gradient = np.zeros(trainer.network.layout.size)  # (P,) filled layer by layer, L first
        depth = trainer.network.depth
        self.total = 2 * depth + 2
        self._next_index = 0
        self._batch_loss = 0.0
        self._objective = 0.0

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

    def _below(self, layer: int) -> np.ndarray:
        """What layer `layer` is fed: the inputs, or the activations of the layer below."""
        return self._inputs if layer == 0 else self._workspace.a(layer - 1, self._rows)

    def _forward_phase(self, layer: int) -> Phase:
        trainer, workspace, rows = self._trainer, self._workspace, self._rows
        z, a = workspace.z(layer, rows), workspace.a(layer, rows)
        layer_forward(trainer.network.layout.table, trainer.codes, trainer.network.parameters, layer,
                      self._below(layer), z, a)
        return self._phase("forward", layer, {"pre_activations": z.copy(), "activations": a.copy()})

    def _loss_phase(self) -> Phase:
        trainer, workspace, rows = self._trainer, self._workspace, self._rows
        output = trainer.network.depth - 1
        outputs = workspace.a(output, rows)
        self._batch_loss = float(loss_and_deltas(trainer.codes, workspace.z(output, rows), outputs, self._targets,
                                                 workspace.losses, workspace.deltas(output, rows)))
        return self._phase(
            "loss",
            None,
            {
                "outputs": outputs.copy(),
                "targets": self._targets,
                "losses": workspace.losses.copy(),
                "loss": self._batch_loss,
                "objective": self._batch_loss + trainer.penalty(),
            },
        )

    def _backward_phase(self, layer: int) -> Phase:
        trainer, workspace, rows = self._trainer, self._workspace, self._rows
        table, theta = trainer.network.layout.table, trainer.network.parameters
        deltas = workspace.deltas(layer, rows)
        layer_gradients(table, trainer.codes, trainer.hyper, theta, layer, self._below(layer), deltas, self._gradient)
        if layer > 0:
            layer_chain(table, trainer.codes, theta, layer, deltas, workspace.z(layer - 1, rows),
                        workspace.a(layer - 1, rows), workspace.deltas(layer - 1, rows))
        weight_grads, bias_grads = trainer.network.layout.views(self._gradient)
        return self._phase(
            "backward",
            layer,
            {
                "deltas": deltas.copy(),  # ∂L/∂z of the batch's mean loss L
                "weight_gradients": weight_grads[layer].copy(),
                "bias_gradients": bias_grads[layer].copy(),
            },
        )

    def _update_phase(self) -> Phase:
        trainer = self._trainer
        objective = self._batch_loss + float(objective_penalty(trainer.network.layout.table, trainer.codes,
                                                               trainer.hyper, trainer.network.parameters))
        trainer.apply_gradient(self._gradient, self._batch_loss, objective, self._stop)
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
