"""Input features for the 2-D data sets: what the network is fed, computed from a point (x1, x2).

A network with no hidden layer draws a straight decision boundary in whatever space it is fed.
Feed it x1² and x2² as well and a straight line in (x1, x2, x1², x2²) is a circle on the plane:
the circle set becomes learnable without hidden layers. TensorFlow Playground teaches exactly
this with its feature toggles, and these are its seven features under the names the UI and the
API use.

Every feature maps points (n, 2) to one column (n,); `transform` stacks the chosen ones, in the
order given, into the network's input matrix (n, n_inputs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def _x1(points: np.ndarray) -> np.ndarray:
    return points[:, 0].copy()  # (n,)


def _x2(points: np.ndarray) -> np.ndarray:
    return points[:, 1].copy()  # (n,)


def _x1_squared(points: np.ndarray) -> np.ndarray:
    return points[:, 0] ** 2  # (n,)


def _x2_squared(points: np.ndarray) -> np.ndarray:
    return points[:, 1] ** 2  # (n,)


def _x1_x2(points: np.ndarray) -> np.ndarray:
    # Positive in the 1st and 3rd quadrants, negative in the others: the xor set in one number.
    return points[:, 0] * points[:, 1]  # (n,)


def _sin_x1(points: np.ndarray) -> np.ndarray:
    return np.sin(points[:, 0])  # (n,)


def _sin_x2(points: np.ndarray) -> np.ndarray:
    return np.sin(points[:, 1])  # (n,)


FEATURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": _x1,
    "x2": _x2,
    "x1_squared": _x1_squared,
    "x2_squared": _x2_squared,
    "x1_x2": _x1_x2,
    "sin_x1": _sin_x1,
    "sin_x2": _sin_x2,
}

# How the UI and the neuron inspector write each feature.
FORMULAS: dict[str, str] = {
    "x1": "x₁",
    "x2": "x₂",
    "x1_squared": "x₁²",
    "x2_squared": "x₂²",
    "x1_x2": "x₁·x₂",
    "sin_x1": "sin(x₁)",
    "sin_x2": "sin(x₂)",
}


def check_feature_names(names: Sequence[str]) -> None:
    """Raise ValueError naming the first unknown feature, or if no feature is chosen."""
    if isinstance(names, str):
        raise ValueError(f"features must be a list of names, not the string {names!r}")
    if len(names) == 0:
        raise ValueError("choose at least one input feature (for example 'x1' and 'x2')")
    for name in names:
        if name not in FEATURES:
            known = ", ".join(FEATURES)
            raise ValueError(f"unknown feature {name!r}; known features: {known}")


def transform(points: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The network's inputs for `points` (n, 2): one column per name, in the order given.

    Returns a float64 array (n, len(names)). The same point always gives the same row, so the
    heatmaps evaluate the network on a grid transformed exactly like the data.
    """
    check_feature_names(names)
    points = np.asarray(points, dtype=np.float64)  # (n, 2)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {points.shape}")
    columns = [FEATURES[name](points) for name in names]  # len(names) × (n,)
    return np.stack(columns, axis=1).astype(np.float64, copy=False)  # (n, len(names))
