"""The loss and regularisation registries: the API's names, their kernel codes and formulas."""

import pytest

from backprop_lab.engine.losses import LOSSES, REGULARIZATIONS, get_loss, get_regularization


def test_every_loss_and_penalty_has_its_own_kernel_code_and_a_formula():
    assert sorted(LOSSES) == ["cross_entropy", "mse"]
    assert len({loss.code for loss in LOSSES.values()}) == len(LOSSES)
    assert list(REGULARIZATIONS) == ["none", "l1", "l2"]
    assert len({penalty.code for penalty in REGULARIZATIONS.values()}) == len(REGULARIZATIONS)
    assert LOSSES["cross_entropy"].formula == "−Σ_k y_k·log ŷ_k"
    assert REGULARIZATIONS["l2"].formula == "(λ/2)·Σ w²"


def test_unknown_names_list_the_choices():
    with pytest.raises(ValueError, match="cross_entropy"):
        get_loss("hinge")
    with pytest.raises(ValueError, match="l2"):
        get_regularization("l3")
