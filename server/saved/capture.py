"""Saved runs: a session captured as a run, a run as the API shows and exports it, an imported
document checked against its config, and a run's trainer rebuilt to resume it.

A run holds the config (and, for an uploaded data set, its table as CSV text), the metric
history, weight snapshots (the session's trajectory: θ at evenly spread steps, and always at
the saved step) and the trainer's state (`backprop_lab.engine.trainer_state`), so `Trainer.from_state`
carries on bit for bit. Capturing runs on the session's training thread (in its lane, so it
sees one consistent step); checking an import and building a trainer run in a worker thread;
the views are cheap (NumPy views, encoded once by the response).
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import platform
import secrets
from datetime import UTC, datetime
from typing import Any

import numba
import numpy as np

from backprop_lab import __version__
from backprop_lab.engine.config import Config
from backprop_lab.engine.datasets import BUILTIN, Dataset
from backprop_lab.engine.layout import ParameterLayout
from backprop_lab.engine.tabular import CsvError, Table, parse_csv, table_csv
from backprop_lab.engine.trainer import Trainer
from backprop_lab.engine.trainer_state import StateError, TrainerState
from backprop_lab.server.live.session import Session
from backprop_lab.server.saved.run_models import FORMAT, FORMAT_VERSION, PACKINGS, RunDocument
from backprop_lab.server.saved.run_store import RunSummary, StoredRun
from backprop_lab.server.settings import Limits
from backprop_lab.server.wire import views
from backprop_lab.server.wire.config_models import to_engine_config
from backprop_lab.server.wire.problems import InvalidInput, config_problem

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
def resume_json(state: TrainerState, layer_sizes: tuple[int, ...]) -> JSON:
    """The state as JSON values, with the network's layer sizes (what the snapshots' layers are
    cut by)."""
    rng = state.rng_state
    return {
        "layer_sizes": list(layer_sizes),
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


def run_table(run: StoredRun, limits: Limits) -> Table | None:
    """The uploaded table a run keeps (None for a built-in data set), parsed as an upload is."""
    if run.data is None:
        return None
    return parse_csv(run.data["csv"], name=run.data["name"], max_rows=limits.max_rows, max_columns=limits.max_columns)


def run_dataset(run: StoredRun, limits: Limits) -> Dataset:
    """The run's data set as its trainer draws it (an export's digest). Builds a trainer: a
    worker thread."""
    config = Config().replace(**run.summary.config)
    return resumed_trainer(run, config, run_table(run, limits)).dataset


def resumed_trainer(run: StoredRun, config: Config, table: Table | None) -> Trainer:
    """A trainer at the run's saved step: its weights, optimiser memory and data order."""
    return Trainer.from_state(trainer_state(config, run.resume), table)


# --- capturing a session (its training thread) ---------------------------------------------------
def capture(session: Session, run_id: str, name: str, *, owner: str, address: str, tags: tuple[str, ...] = (),
            note: str = "") -> StoredRun:
    """The session as a run of `owner`, saved from `address`: call in its lane. The history gets
    the current step's metrics; an uploaded table goes with it as CSV text
    (`backprop_lab.engine.tabular.table_csv`)."""
    view = session.view()  # evaluates (and records) the current metrics
    trainer = session.trainer
    steps = list(session.trajectory.steps)
    snapshots = session.trajectory.parameters()  # (S, P)
    if not steps or steps[-1] != trainer.step_count:
        steps.append(trainer.step_count)
        snapshots = np.vstack([snapshots, trainer.network.parameters[None, :]])
    keep = thinned(len(steps), max(2, min(MAX_SAVED_SNAPSHOTS, SNAPSHOT_FLOATS // trainer.network.layout.size)))
    summary = RunSummary(run_id, name, now(), view["step"], view["epoch"], view["parameters"], view["config"],
                         owner=owner, tags=tuple(sorted(set(tags))), note=note)
    history = [_history_point(point) for point in session.history.points()]
    if not history or history[-1]["step"] != view["step"]:  # the saved step's metrics end the curves
        history.append(_history_point({"step": view["step"], **view["metrics"]}))
    data = None if session.table is None else {"name": session.table.name, "csv": table_csv(session.table)}
    resume = _plain(resume_json(trainer.export_state(), trainer.network.layout.layer_sizes))
    return StoredRun(summary, history, resume, [steps[i] for i in keep], snapshots[keep], data, address)


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
            "epoch": summary.epoch, "parameters": summary.parameters, "config": summary.config,
            "owner": summary.owner, "published": summary.published, "tags": list(summary.tags),
            "note": summary.note, "imported": summary.imported}


def run_view(run: StoredRun) -> JSON:
    """`GET /api/v1/runs/{id}`: the summary, the history and the snapshots as layers."""
    layout = ParameterLayout(tuple(run.resume["layer_sizes"]))
    return {
        **_run_body(run),
        "snapshots": [{"step": step, "layers": views.layers_view(layout, row)}
                      for step, row in zip(run.snapshot_steps, run.snapshots, strict=True)],
    }


def _run_body(run: StoredRun) -> JSON:
    """A run's summary and history, as `run_view` and an export show them."""
    return {**summary_view(run.summary), "upload": None if run.data is None else run.data["name"],
            "history": run.history}


def export_document(run: StoredRun, dataset: Dataset) -> JSON:
    """One JSON document that `import_run` reads back into the same run (a new id and time):
    snapshots packed as float32 (`PackedSnapshots`), the trainer's state exact, what rebuilds the
    data set (`dataset`, the run's as its trainer draws it) and the versions that wrote it."""
    # `imported` is this server's record of how the run came here, not part of the run: an
    # export → import → export gives the same document
    body = {key: value for key, value in _run_body(run).items() if key != "imported"}
    packed = np.ascontiguousarray(run.snapshots, dtype=PACKINGS["float32"])  # (S, P)
    snapshots = {"steps": list(run.snapshot_steps), "dtype": "float32",
                 "data": base64.b64encode(packed.tobytes()).decode("ascii")}
    return {"format": FORMAT, "version": FORMAT_VERSION, "exported": now(), "produced_by": produced_by(),
            "run": {**body, "snapshots": snapshots, "resume": run.resume, "data": run.data,
                    "dataset": dataset_origin(run.summary.config, dataset, run.data)}}


def produced_by() -> JSON:
    """The versions that write a document: what to install to reproduce it exactly."""
    return {"app": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "platform": platform.platform()}


def dataset_origin(config: JSON, dataset: Dataset, data: JSON | None) -> JSON:
    """What rebuilds the run's data set, and a digest of what it is (`DatasetOrigin`)."""
    return {"name": data["name"] if data is not None else config["dataset"], "generator": data is None,
            "seed": config["seed"], "samples": dataset.train.size + dataset.test.size,
            "sha256": dataset_digest(dataset)}


def dataset_digest(dataset: Dataset) -> str:
    """SHA-256 of the train then test inputs, then their targets, as little-endian float64."""
    digest = hashlib.sha256()
    for split in (dataset.train, dataset.test):
        digest.update(np.ascontiguousarray(split.inputs, dtype="<f8").tobytes())
    for split in (dataset.train, dataset.test):
        digest.update(np.ascontiguousarray(split.targets, dtype="<f8").tobytes())
    return digest.hexdigest()


def unpack(document: RunDocument, size: int) -> np.ndarray:
    """The document's snapshots as float64 rows (S, P), checked: base64, len(steps) × `size`
    numbers, all finite. Raises `InvalidInput` at `run.snapshots.data`."""
    packed = document.run.snapshots
    where = ("body", "run", "snapshots", "data")
    dtype = np.dtype(PACKINGS[packed.dtype])
    try:
        raw = base64.b64decode(packed.data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(where, "run.snapshots.data: not base64", code="bad_run_file",
                           params={"part": "run.snapshots.data"}) from None
    expected = len(packed.steps) * size * dtype.itemsize
    if len(raw) != expected:
        raise InvalidInput(where, f"run.snapshots.data: expected shape ({len(packed.steps)}, {size}): "
                           f"{expected} bytes of {packed.dtype}, not {len(raw)}", code="bad_run_file",
                           params={"part": "run.snapshots.data"})
    rows = np.frombuffer(raw, dtype=dtype).astype(np.float64).reshape(len(packed.steps), size)  # (S, P)
    if not np.isfinite(rows).all():
        raise InvalidInput(where, "run.snapshots.data: a weight is not a finite number", "finite_number",
                           code="bad_run_file", params={"part": "run.snapshots.data"})
    return rows


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
def document_config(document: RunDocument, limits: Limits) -> tuple[Config, Table | None]:
    """The document's config and, for an uploaded data set, its table (parsed with the upload
    caps); refused at the field when a data set that is not built in comes without its data."""
    config = to_engine_config(document.run.config, Config())
    data = document.run.data
    if config.dataset in BUILTIN:
        return config, None
    if data is None:
        raise InvalidInput(
            ("body", "run", "data"),
            f"run.data: {config.dataset!r} is not a built-in data set, and the document does not carry its "
            "table; export the run again from a server that keeps it",
            code="missing_data",
        )
    try:
        table = parse_csv(data.csv, name=data.name, max_rows=limits.max_rows, max_columns=limits.max_columns)
    except CsvError as error:
        raise InvalidInput(("body", "run", "data", "csv"), f"run.data.csv: {error}", "csv_error",
                           code="bad_run_file", params={"part": "run.data.csv"}) from None
    return config, table


def import_run(document: RunDocument, config: Config, table: Table | None, *, owner: str,
               address: str) -> StoredRun:
    """The document as a new run of `owner` (unpublished, whatever the document says), imported
    from `address`, once everything in it fits its config: the trainer's state (shapes, counters,
    epoch orders, generator), every snapshot's layers, the steps. Raises `InvalidInput` naming the
    first part that does not fit. Builds a trainer: a worker thread."""
    body = document.run
    where = ("body", "run")
    resume = body.resume.model_dump()
    try:
        trainer = Trainer.from_state(trainer_state(config, resume), table)
    except StateError as error:
        key = {"rng_state": "rng"}.get(error.field, error.field)
        raise InvalidInput((*where, "resume", key), f"run.resume.{key}: {error.message}", code="bad_run_file",
                           params={"part": f"run.resume.{key}"}) from None
    except ValueError as error:
        raise config_problem(error, (*where, "config")) from None
    for name in ("step", "epoch"):
        if getattr(body, name) != resume[name]:
            raise InvalidInput((*where, name), f"run.{name}: {getattr(body, name)} is not the resume state's "
                                                f"{name} {resume[name]}",
                               code="bad_run_file", params={"part": f"run.{name}"})
    layout = trainer.network.layout
    if body.parameters is not None and body.parameters != layout.size:  # the count a summary shows
        raise InvalidInput((*where, "parameters"), f"run.parameters: {body.parameters} is not the {layout.size} "
                                                    "weights and biases of the config's network",
                           code="bad_run_file", params={"part": "run.parameters"})
    if body.dataset is not None and body.dataset.sha256 != dataset_digest(trainer.dataset):
        raise InvalidInput((*where, "dataset", "sha256"), "run.dataset.sha256: this server's data set "
                           f"{body.dataset.name!r} is not the one the run was trained on (another version of its "
                           "generator draws other points); import it where it was made",
                           code="data_changed", params={"part": "run.dataset"})
    rows = unpack(document, layout.size)  # (S, P)
    steps = list(body.snapshots.steps)
    for index, step in enumerate(steps):
        if step > body.step or (index and step < steps[index - 1]):
            raise InvalidInput((*where, "snapshots", "steps", index), f"run.snapshots.steps.{index}: snapshots go "
                               f"in step order, up to the run's step {body.step}", code="bad_run_file",
                               params={"part": f"run.snapshots.steps.{index}"})
    history = [point.model_dump(exclude_unset=True) for point in body.history]
    for index, point in enumerate(history):
        if point["step"] > body.step or (index and point["step"] < history[index - 1]["step"]):
            raise InvalidInput((*where, "history", index, "step"), f"run.history.{index}.step: points go in step "
                                                                    f"order, up to the run's step {body.step}",
                               code="bad_run_file", params={"part": f"run.history.{index}.step"})
    created = now()
    summary = RunSummary(new_run_id(), body.name, created, body.step, body.epoch, layout.size,
                         trainer.config.as_dict(), owner=owner, tags=tuple(sorted(set(body.tags))), note=body.note,
                         imported=created)
    resume = _plain(resume_json(trainer.export_state(), layout.layer_sizes))
    data = None if table is None else {"name": table.name, "csv": table_csv(table)}
    return StoredRun(summary, history, resume, steps, rows, data, address)
