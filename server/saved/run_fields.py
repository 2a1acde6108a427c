"""A saved run's searchable fields: its config's hyperparameters, its size and step, and the
metrics at its saved step, kept beside the run (`run_fields`, revision 0004) so that
`GET /api/v1/runs` filters by them in the database: a text field by equality (`dataset=xor`), a
number by range (`learning_rate_min=0.01`, `test_loss_max=0.3`). One list here names them for
the store, the migration that fills them for older runs, the query parameters and docs/api.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

TEXT_FIELDS = ("dataset", "activation", "loss", "optimizer", "regularization", "init")
CONFIG_NUMBERS = ("samples", "noise", "train_ratio", "seed", "learning_rate", "momentum", "batch_size",
                  "regularization_rate")
SHAPE_NUMBERS = ("hidden_layers", "neurons")  # how many hidden layers, and hidden neurons in all
RUN_NUMBERS = ("step", "epoch", "parameters")
METRICS = ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "train_rmse", "test_rmse", "train_r2",
           "test_r2")
NUMBER_FIELDS = CONFIG_NUMBERS + SHAPE_NUMBERS + RUN_NUMBERS + METRICS


def searchable(config: dict[str, Any], history: Sequence[dict[str, Any]], step: int, epoch: int,
               parameters: int) -> tuple[dict[str, str], dict[str, float]]:
    """(text fields, number fields) of a run. The metrics are the last history point's when it is
    the saved step's (a metric that overflowed, null, is left out: no range holds it)."""
    texts = {name: str(config[name]) for name in TEXT_FIELDS if config.get(name) is not None}
    numbers: dict[str, float] = {name: float(config[name]) for name in CONFIG_NUMBERS
                                 if isinstance(config.get(name), int | float)}
    hidden = [int(width) for width in config.get("hidden_layers", [])]
    numbers.update(hidden_layers=len(hidden), neurons=sum(hidden), step=step, epoch=epoch, parameters=parameters)
    last = history[-1] if history and history[-1].get("step") == step else {}
    numbers.update({name: float(last[name]) for name in METRICS if isinstance(last.get(name), int | float)})
    return texts, numbers
