"""How the page writes the initialisations, keyed by the names in `backprop_lab.engine.network.INITS`, and a
neuron's own maths.

The activations, losses, optimisers, features and regularisations carry their texts in their
own registries; the inits are a plain name tuple, so their texts live here (docs/engine.md).
`tests/engine/test_formulas.py` keeps the keys equal to the registry.
"""

from __future__ import annotations

INIT_FORMULAS: dict[str, str] = {
    "xavier": "w ~ U(−√(6 / (n_in + n_out)), +√(6 / (n_in + n_out))),  b = 0",
    "he": "w ~ N(0, 2 / n_in),  b = 0",
    "uniform": "w ~ U(−0.5, 0.5),  b = 0",
}

# The network's own maths for one neuron j (docs/engine.md: z = a_prev @ W + b, a = f(z)), as the
# inspector writes it before filling in the numbers; L is the sample's loss.
NETWORK_FORMULAS: dict[str, str] = {
    "pre_activation": "z_j = Σ_i w_ij·a_i + b_j",
    "activation": "a_j = f(z_j)",
    "hidden_delta": "δ_j = ∂L/∂z_j = f′(z_j)·Σ_k w_jk·δ_k",
    "weight_gradient": "∂L/∂w_ij = ∂z_j/∂w_ij·∂L/∂z_j = a_i·δ_j",
    "bias_gradient": "∂L/∂b_j = δ_j",
}
