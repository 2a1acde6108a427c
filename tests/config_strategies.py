"""Hypothesis strategies for small engine configurations, shared by the engine's property tests.

Every choice a user has is drawn — each built-in data set, any non-empty set of input features,
0 to 3 hidden layers of 1 to 6 neurons, every activation, initialisation, optimiser and
regularisation, a loss that fits the data set, any batch size from 1 to past the training split
— but the sizes stay small (a few dozen samples) so that a hundred examples take seconds, and
the learning rate stays below `stable_rate`, so that training never diverges: finite losses are
then a property every example must have, not a matter of luck.
"""

from __future__ import annotations

from hypothesis import strategies as st

from backprop_lab.engine.activations import ACTIVATIONS
from backprop_lab.engine.config import Config
from backprop_lab.engine.datasets import BUILTIN, is_regression_dataset
from backprop_lab.engine.features import FEATURES
from backprop_lab.engine.losses import REGULARIZATIONS
from backprop_lab.engine.network import INITS
from backprop_lab.engine.optimizers import OPTIMIZERS

MAX_SAMPLES = 60  # samples of a generated set (iris always has its 150 rows)
# How large each input feature gets: the generated sets' points lie within about ±8 (±6 and the
# noise), iris's 4 columns are standardised (within about ±3).
FEATURE_BOUNDS = {"x1": 8, "x2": 8, "x1_squared": 64, "x2_squared": 64, "x1_x2": 64, "sin_x1": 1, "sin_x2": 1}
IRIS_SQUARED_NORM = 4 * 3**2


def fractions(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def stable_rate(dataset: str, features: tuple[str, ...]) -> float:
    """1 / (1 + the largest ‖x‖² of an input row). Gradient descent on a linear model's
    ½(x·w − y)² overshoots only at rates above 2 / ‖x‖², so below this bound a step shrinks the
    error instead of amplifying it (x1² up to 64 makes the bound small: divergence there at
    0.03 is real, the lesson the lab teaches at high rates, not a bug)."""
    squared = IRIS_SQUARED_NORM if dataset == "iris" else sum(FEATURE_BOUNDS[name] ** 2 for name in features)
    return 1.0 / (1.0 + squared)


def learning_rates(dataset: str, features: tuple[str, ...]) -> st.SearchStrategy[float]:
    """From 1 % of `stable_rate` up to it."""
    bound = stable_rate(dataset, features)
    return fractions(0.01 * bound, bound)


@st.composite
def small_configs(draw: st.DrawFn) -> Config:
    """A valid `Config` of a small network on a small data set, its loss named."""
    dataset = draw(st.sampled_from(list(BUILTIN)))
    losses = ["mse"] if is_regression_dataset(dataset) else ["cross_entropy", "mse"]
    features = tuple(draw(st.lists(st.sampled_from(sorted(FEATURES)), min_size=1, unique=True)))
    return Config(
        dataset=dataset,
        samples=draw(st.integers(2, MAX_SAMPLES)),
        noise=draw(fractions(0.0, 0.5)),
        train_ratio=draw(fractions(0.1, 0.9)),
        seed=draw(st.integers(0, 2**32)),
        features=features,
        hidden_layers=tuple(draw(st.lists(st.integers(1, 6), max_size=3))),
        activation=draw(st.sampled_from(sorted(ACTIVATIONS))),
        loss=draw(st.sampled_from(losses)),
        optimizer=draw(st.sampled_from(OPTIMIZERS)),
        learning_rate=draw(learning_rates(dataset, features)),
        momentum=draw(fractions(0.0, 0.99)),
        batch_size=draw(st.integers(1, MAX_SAMPLES + 10)),
        regularization=draw(st.sampled_from(sorted(REGULARIZATIONS))),
        regularization_rate=draw(fractions(0.0, 0.1)),
        init=draw(st.sampled_from(INITS)),
    )


@st.composite
def live_changes(draw: st.DrawFn, config: Config) -> Config:
    """`config` with some of the fields a user may change while training (the weights stay):
    learning rate, momentum, optimiser, batch size, regularisation and its rate, loss."""
    losses = ["mse"] if is_regression_dataset(config.dataset) else ["cross_entropy", "mse"]
    choices = {
        "learning_rate": learning_rates(config.dataset, config.features),
        "momentum": fractions(0.0, 0.99),
        "optimizer": st.sampled_from(OPTIMIZERS),
        "batch_size": st.integers(1, MAX_SAMPLES + 10),
        "regularization": st.sampled_from(sorted(REGULARIZATIONS)),
        "regularization_rate": fractions(0.0, 0.1),
        "loss": st.sampled_from(losses),
    }
    names = draw(st.lists(st.sampled_from(sorted(choices)), unique=True))
    return config.replace(**{name: draw(choices[name]) for name in names})
