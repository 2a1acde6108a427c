"""How the page writes the optimisers' update rules and the initialisations, keyed by the
names in `engine.optimizers.OPTIMIZERS` and `engine.network.INITS`, and a neuron's own maths.

The activations, losses, features and regularisations carry their texts in their own
registries; these two registries are plain name tuples, so their texts live here, next to the
maths they describe (DESIGN §4). `tests/engine/test_formulas.py` keeps the keys equal to the
registries. g is the gradient of the objective, η the learning rate, μ the momentum.
"""

from __future__ import annotations

OPTIMIZER_UPDATES: dict[str, str] = {
    "sgd": "w ← w − η·g",
    "momentum": "b ← μ·b + g (first step: b = g);  w ← w − η·b",
    "adam": (
        "m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ);  "
        "w ← w − η·m̂ / (√v̂ + ε)   (β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸)"
    ),
}

INIT_FORMULAS: dict[str, str] = {
    "xavier": "w ~ U(−√(6 / (n_in + n_out)), +√(6 / (n_in + n_out))),  b = 0",
    "he": "w ~ N(0, 2 / n_in),  b = 0",
    "uniform": "w ~ U(−0.5, 0.5),  b = 0",
}

# The network's own maths for one neuron j (DESIGN §4: z = a_prev @ W + b, a = f(z)), as the
# inspector writes it before filling in the numbers; L is the sample's loss.
NETWORK_FORMULAS: dict[str, str] = {
    "pre_activation": "z_j = Σ_i w_ij·a_i + b_j",
    "activation": "a_j = f(z_j)",
    "hidden_delta": "δ_j = ∂L/∂z_j = f′(z_j)·Σ_k w_jk·δ_k",
    "weight_gradient": "∂L/∂w_ij = ∂z_j/∂w_ij·∂L/∂z_j = a_i·δ_j",
    "bias_gradient": "∂L/∂b_j = δ_j",
}
