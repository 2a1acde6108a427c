"""Saved runs: a session captured as a run, a run as the API shows and exports it, an imported
document checked against its config, and a run's trainer rebuilt to resume it.

A run holds the config, the metric history, weight snapshots (the session's trajectory: θ at
evenly spread steps, and always at the saved step) and the trainer's state
(`engine.trainer_state`), so `Trainer.from_state` carries on bit for bit. Capturing runs on
the session's training thread (in its lane, so it sees one consistent step); everything else
here is plain computation that the routes run in a worker thread.
"""

from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, datetime
from typing import Any

import numpy as np

from engine.config import BUILTIN_DATASETS, Config
from engine.network import ParameterLayout
from engine.trainer import Trainer
from engine.trainer_state import StateError, TrainerState
from server import views
from server.params import flat_parameters
from server.problems import InvalidInput, config_problem
from server.run_schemas import FORMAT, FORMAT_VERSION, RunDocument
from server.schemas import to_engine_config
from server.sessions import Session
from server.store import RunSummary, StoredRun

JSON = dict[str, Any]
SNAPSHOT_FLOATS = 100_000  # a run keeps at most this many snapshot numbers (its export stays ~2 MB)
MAX_SAVED_SNAPSHOTS = 256  # what a session's trajectory holds, so a resumed one takes them all
METRIC_KEYS = ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "train_rmse", "test_rmse", "train_r2",
               "test_r2")


def new_run_id() -> str:
    return secrets.token_urlsafe(12)


def now() -> str:
    """The current time, ISO 8601 in UTC, to the microsecond (so it sorts as it reads)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- the trainer's state as JSON values ---------------------------------------------------------
def resume_json(state: TrainerState) -> JSON:
    rng = state.rng_state
    return {
        "parameters": state.parameters, "moments": state.moments, "step": state.step, "epoch": state.epoch,
        "position": state.position, "optimizer_steps": state.optimizer_steps, "order_index": state.order_index,
        "orders": state.orders,
        "rng": {"bit_generator": rng["bit_generator"], "state": str(rng["state"]["state"]),
                "inc": str(rng["state"]["inc"]), "has_uint32": int(rng["has_uint32"]),
                "uinteger": int(rng["uinteger"])},
    }


def trainer_state(config: Config, resume: JSON) -> TrainerState:
    """The engine's state from `resume_json`'s values; `check_state` (in `Trainer.from_state`)
    checks them against the config."""
    rng = resume["rng"]
    rng_state = {"bit_generator": rng["bit_generator"], "state": {"state": int(rng["state"]), "inc": int(rng["inc"])},
                 "has_uint32": int(rng["has_uint32"]), "uinteger": int(rng["uinteger"])}
    return TrainerState(
        config, _array("parameters", resume, np.float64), _array("moments", resume, np.float64),
        resume["step"], resume["epoch"], resume["position"], resume["optimizer_steps"], resume["order_index"],
        _array("orders", resume, np.int64), rng_state,
    )


def _array(field: str, resume: JSON, dtype: type) -> np.ndarray:
    try:
        return np.asarray(resume[field], dtype=dtype)
    except ValueError:
        raise StateError(field, "rows of unequal length") from None


def resumed_trainer(run: StoredRun) -> Trainer:
    """A trainer at the run's saved step: its weights, optimiser memory and data order."""
    config = Config().replace(**run.summary.config)
    return Trainer.from_state(trainer_state(config, run.resume))


# --- capturing a session (its training thread) ---------------------------------------------------
def check_savable(session: Session) -> None:
    if session.trainer.config.dataset not in BUILTIN_DATASETS:
        raise InvalidInput(
            ("body", "session_id"),
            "session_id: this session trains on an uploaded CSV; a saved run keeps its config, not its data, so "
            "only sessions on a built-in data set can be saved",
        )


def capture(session: Session, run_id: str, name: str) -> StoredRun:
    """The session as a run: call in its lane. The history gets the current step's metrics."""
    check_savable(session)
    view = session.view()  # evaluates (and records) the current metrics
    trainer = session.trainer
    steps = list(session.trajectory.steps)
    snapshots = session.trajectory.parameters()  # (S, P)
    if not steps or steps[-1] != trainer.step_count:
        steps.append(trainer.step_count)
        snapshots = np.vstack([snapshots, trainer.network.parameters[None, :]])
    keep = thinned(len(steps), max(2, min(MAX_SAVED_SNAPSHOTS, SNAPSHOT_FLOATS // trainer.network.layout.size)))
    summary = RunSummary(run_id, name, now(), view["step"], view["epoch"], view["parameters"], view["config"])
    history = [_history_point(point) for point in session.history.points()]
    return StoredRun(summary, history, _plain(resume_json(trainer.export_state())), [steps[i] for i in keep],
                     snapshots[keep])


def thinned(count: int, most: int) -> list[int]:
    """Indices of at most `most` of `count` items, evenly spread, the first and last kept."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def _history_point(point: JSON) -> JSON:
    return {"step": int(point["step"]), **{key: point[key] for key in METRIC_KEYS if key in point}}


def _plain(value: Any) -> Any:
    """NumPy arrays and numbers as lists and Python numbers (what the store's JSON reads back)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


# --- views ---------------------------------------------------------------------------------------
def summary_view(summary: RunSummary) -> JSON:
    return {"id": summary.id, "name": summary.name, "created": summary.created, "step": summary.step,
            "epoch": summary.epoch, "parameters": summary.parameters, "config": summary.config}


def run_view(run: StoredRun, layer_sizes: tuple[int, ...]) -> JSON:
    """`GET /api/v1/runs/{id}`: the summary, the history and the snapshots as layers."""
    layout = ParameterLayout(layer_sizes)
    return {
        **summary_view(run.summary),
        "history": run.history,
        "snapshots": [{"step": step, "layers": views.layers_view(layout, row)}
                      for step, row in zip(run.snapshot_steps, run.snapshots, strict=True)],
    }


def export_document(run: StoredRun, layer_sizes: tuple[int, ...]) -> JSON:
    """One JSON document that `import_run` reads back into the same run (a new id and time)."""
    return {"format": FORMAT, "version": FORMAT_VERSION, "exported": now(),
            "run": {**run_view(run, layer_sizes), "resume": run.resume}}


def metrics_csv(run: StoredRun) -> str:
    """The metric history as CSV: a `step` column, then each metric the run has."""
    present = [key for key in METRIC_KEYS if any(key in point for point in run.history)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["step", *present])
    for point in run.history:
        writer.writerow([point["step"], *("" if point.get(key) is None else repr(point[key]) for key in present)])
    return out.getvalue()


# --- importing a document ------------------------------------------------------------------------
def document_config(document: RunDocument) -> Config:
    """The document's config, refused at its field if it names an uploaded data set."""
    config = to_engine_config(document.run.config, Config())
    if config.dataset not in BUILTIN_DATASETS:
        raise InvalidInput(
            ("body", "run", "config", "dataset"),
            f"run.config.dataset: {config.dataset!r} is not a built-in data set; a saved run keeps its config, "
            f"not its data, so it must be one of {', '.join(BUILTIN_DATASETS)}",
        )
    return config


def import_run(document: RunDocument, config: Config) -> StoredRun:
    """The document as a new run, once everything in it fits its config: the trainer's state
    (shapes, counters, epoch orders, generator), every snapshot's layers, the steps. Raises
    `InvalidInput` naming the first part that does not fit. Builds a trainer: a worker thread."""
    body = document.run
    where = ("body", "run")
    resume = body.resume.model_dump()
    try:
        trainer = Trainer.from_state(trainer_state(config, resume), None)
    except StateError as error:
        key = {"rng_state": "rng"}.get(error.field, error.field)
        raise InvalidInput((*where, "resume", key), f"run.resume.{key}: {error.message}") from None
    except ValueError as error:
        raise config_problem(error, (*where, "config")) from None
    for name in ("step", "epoch"):
        if getattr(body, name) != resume[name]:
            raise InvalidInput((*where, name), f"run.{name}: {getattr(body, name)} is not the resume state's "
                                                f"{name} {resume[name]}")
    layout = trainer.network.layout
    steps: list[int] = []
    rows = np.zeros((len(body.snapshots), layout.size))  # (S, P)
    for index, snapshot in enumerate(body.snapshots):
        location = (*where, "snapshots", index)
        rows[index] = flat_parameters(layout, snapshot.layers, location)
        if snapshot.step > body.step or (steps and snapshot.step < steps[-1]):
            raise InvalidInput((*location, "step"), f"run.snapshots.{index}.step: snapshots go in step order, up to "
                                                     f"the run's step {body.step}")
        steps.append(snapshot.step)
    history = [point.model_dump(exclude_unset=True) for point in body.history]
    for index, point in enumerate(history):
        if point["step"] > body.step or (index and point["step"] < history[index - 1]["step"]):
            raise InvalidInput((*where, "history", index, "step"), f"run.history.{index}.step: points go in step "
                                                                    f"order, up to the run's step {body.step}")
    summary = RunSummary(new_run_id(), body.name, now(), body.step, body.epoch, layout.size,
                         trainer.config.as_dict())
    return StoredRun(summary, history, _plain(resume_json(trainer.export_state())), steps, rows)
