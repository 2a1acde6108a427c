"""Everything a trainer needs to carry on exactly where it stood: `TrainerState`.

Saving a run keeps one of these beside the config; `Trainer.from_state` rebuilds a trainer
whose next steps are bit-identical to the ones the original would have taken. The data set
and the initial weights are not in it: they follow from the config and its seed (they are
drawn first, always in the same order). What is in it is what training has changed since:

    parameters      θ (P,): every weight and bias, flat (backprop_lab.engine.layout.ParameterLayout)
    moments         (2, P): the optimiser's memory (momentum's buf, or Adam's m and v)
    step, epoch     steps taken, epochs completed
    position        the row of the current epoch's order where the next batch starts
    optimizer_steps updates the optimiser has made (Adam's t, momentum's first step)
    orders          (E, n_train) the epoch orders drawn ahead; `order_index` is the current one
    rng_state       the random generator's state after drawing them (NumPy's
                    `bit_generator.state`: plain ints and strings), so later epochs shuffle
                    the same way too

`check_state` refuses a state that does not fit its config, naming the field: an order that
is not a permutation of the training split would make the compiled loop read past its rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_lab.engine.config import Config


@dataclass(frozen=True)
class TrainerState:
    config: Config  # the resolved config (loss named)
    parameters: np.ndarray  # (P,)
    moments: np.ndarray  # (2, P)
    step: int
    epoch: int
    position: int
    optimizer_steps: int
    order_index: int
    orders: np.ndarray  # (E, n_train) int64
    rng_state: dict[str, Any]


class StateError(ValueError):
    """A state that does not fit its trainer; `field` names the part (e.g. "orders")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _count(name: str, value: object, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise StateError(name, f"must be a whole number, not {value!r}")
    number = int(value)
    if number < low or (high is not None and number > high):
        span = f"{low} … {high}" if high is not None else f"at least {low}"
        raise StateError(name, f"must be {span}, not {number}")
    return number


def _floats(name: str, value: object, shape: tuple[int, ...]) -> np.ndarray:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise StateError(name, "must be numbers") from None
    if array.shape != shape:
        raise StateError(name, f"expected shape {shape}, got {array.shape}")
    if not np.isfinite(array).all():
        raise StateError(name, "must be finite numbers")
    return array


def check_state(state: TrainerState, n_parameters: int, n_train: int) -> TrainerState:
    """A checked copy of `state` for a network of `n_parameters` and a training split of
    `n_train` rows; raises `StateError` naming what does not fit."""
    parameters = _floats("parameters", state.parameters, (n_parameters,))
    moments = _floats("moments", state.moments, (2, n_parameters))
    try:
        orders = np.array(state.orders)
    except (TypeError, ValueError):
        raise StateError("orders", "must be rows of whole numbers") from None
    if orders.ndim != 2 or orders.shape[0] < 1 or orders.shape[1] != n_train:
        raise StateError("orders", f"expected one or more rows of {n_train} (the training split), got {orders.shape}")
    if not np.issubdtype(orders.dtype, np.integer):
        raise StateError("orders", "must be whole numbers")
    orders = orders.astype(np.int64)
    expected = np.arange(n_train)
    for row in orders:
        if not np.array_equal(np.sort(row), expected):
            raise StateError("orders", f"each row must be a permutation of the training split's rows 0 … {n_train - 1}")
    step = _count("step", state.step, 0)
    epoch = _count("epoch", state.epoch, 0, step)
    position = _count("position", state.position, 0, n_train - 1)
    optimizer_steps = _count("optimizer_steps", state.optimizer_steps, 0, step)
    order_index = _count("order_index", state.order_index, 0, orders.shape[0] - 1)
    rng_state = _check_rng(state.rng_state)
    return TrainerState(state.config, parameters, moments, step, epoch, position, optimizer_steps, order_index,
                        orders, rng_state)


def _check_rng(rng_state: object) -> dict[str, Any]:
    """NumPy accepts (and checks) a generator's state; a wrong one names itself here."""
    if not isinstance(rng_state, dict):
        raise StateError("rng_state", "must be an object (a NumPy bit generator's state)")
    generator = np.random.PCG64()
    try:
        generator.state = rng_state  # type: ignore[assignment]  # NumPy checks it at run time
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise StateError("rng_state", f"not a PCG64 state: {error}") from None
    return dict(generator.state)
