"""Every choice the API offers has the texts the page writes for it, keyed by its registry name."""

from __future__ import annotations

from backprop_lab.engine.activations import ACTIVATIONS
from backprop_lab.engine.features import FEATURES, FORMULAS
from backprop_lab.engine.formulas import INIT_FORMULAS, NETWORK_FORMULAS
from backprop_lab.engine.losses import LOSSES, OUTPUT_FORMULAS, REGULARIZATIONS
from backprop_lab.engine.network import INITS
from backprop_lab.engine.optimizers import OPTIMIZER_KINDS


def test_every_activation_has_its_formula_and_its_derivative_text():
    for name, activation in ACTIVATIONS.items():
        assert activation.name == name
        assert "z" in activation.formula and activation.derivative_formula, name
    assert ACTIVATIONS["tanh"].derivative_formula.endswith("1 − a²")


def test_every_loss_writes_its_output_delta_through_the_outputs_it_pairs_with():
    for loss in LOSSES.values():
        assert loss.formula and loss.softmax_delta_formula
    assert LOSSES["mse"].linear_delta_formula == LOSSES["cross_entropy"].softmax_delta_formula == "ŷ_j − y_j"
    assert LOSSES["cross_entropy"].linear_delta_formula is None  # refused: cross-entropy needs softmax
    assert set(OUTPUT_FORMULAS) == {"softmax", "linear"}


def test_the_text_tables_cover_exactly_their_registries():
    assert list(FORMULAS) == list(FEATURES)
    assert all(kind.name == name and kind.formula for name, kind in OPTIMIZER_KINDS.items())
    assert list(INIT_FORMULAS) == list(INITS)
    assert all(penalty.formula and penalty.gradient_formula for penalty in REGULARIZATIONS.values())
    assert all(text for text in NETWORK_FORMULAS.values())
