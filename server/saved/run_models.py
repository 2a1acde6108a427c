"""Wire models of the saved-runs API (docs/api.md, "Saved runs"): what a save, a rename and an
import take, and what a run, the list and an export give.

An export is one JSON document, `RunDocument`: `{"format": "backprop-lab-run", "version": 2,
"exported", "produced_by", "run": {…}}`. Version 2 keeps the weight snapshots packed (`PackedSnapshots`:
little-endian float32 in base64, 4 bytes a number where JSON text took ~18; a replay's weights
are not promised exact) and the trainer's state exact (float64 as JSON numbers: resuming is bit
for bit), and says what rebuilds the data set (`run.dataset`) and what produced the document
(`produced_by`). Import reads version 2 and version 1 (whose snapshots are JSON layers, packed
here as float64 before validation). Its caps (`MAX_*`) keep a document within what a saved run
can hold; the checks that need the config (shapes, the trainer's state) are
`backprop_lab.server.saved.capture`'.

Imports are strict (`_Strict`): a field of the wrong type is refused, not coerced ("7" or true
for 7, "0.5" for 0.5), so what is imported is what the document says and its re-export says
the same.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, field_validator, model_validator
from pydantic_core import PydanticCustomError

from backprop_lab.engine.bounds import Interval
from backprop_lab.server.saved.example_document import EXAMPLE_DOCUMENT
from backprop_lab.server.saved.run_fields import METRICS, NUMBER_FIELDS, TEXT_FIELDS
from backprop_lab.server.wire.config_models import ConfigIn, ConfigOut, MaybeNumber, Number, _Input
from backprop_lab.server.wire.session_models import LayerParams, LayerValues

FORMAT = "backprop-lab-run"
FORMAT_VERSION = 2  # the export document's version; an import of a higher one is refused
MAX_NAME = 200  # characters of a run's name
PAGE_SIZE = Interval(1, 200, integer=True)  # runs in one page of the list (`limit`)
DEFAULT_PAGE_SIZE = 50
MAX_HISTORY = 4000  # metric points (a session keeps at most 2000)
MAX_SNAPSHOTS = 512  # weight snapshots (a saved run keeps at most 256)
MAX_ORDER_ROWS = 64  # epoch orders drawn ahead (backprop_lab.engine.trainer.epochs_ahead: at most 64)
MAX_TAG = 40  # characters of one tag
MAX_TAGS = 16  # tags on one run
MAX_NOTE = 2000  # characters of a run's note
MAX_COMPARED = 8  # runs one comparison overlays
PACKINGS = {"float32": "<f4", "float64": "<f8"}  # a packed array's `dtype`: NumPy's little-endian type

def _unicode(value: str) -> str:
    """JSON's "\\ud800" parses to a lone surrogate, which no database or page can hold, and
    "\\u0000" to a NUL character, which PostgreSQL's text cannot hold."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be Unicode text (it holds a lone surrogate)") from None
    if "\x00" in value:
        raise ValueError("must be text without NUL characters")
    return value


RunName = Annotated[
    str,
    Field(min_length=1, max_length=MAX_NAME, pattern=r"\S", description="Shown as text, never as markup."),
    AfterValidator(_unicode),
]
Tag = Annotated[
    str,
    Field(min_length=1, max_length=MAX_TAG, pattern=r"^[^\s,]([^,]*[^\s,])?$",
          description="A word or short phrase: no commas, no spaces at either end."),
    AfterValidator(_unicode),
]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS, description="Each tag once; listed alphabetically.")]
Note = Annotated[str, Field(max_length=MAX_NOTE, description="Free text, shown as text, never as markup."),
                 AfterValidator(_unicode)]
Count = Annotated[int, Field(ge=0, le=2**62)]
BigInt = Annotated[str, Field(pattern=r"^[0-9]{1,40}$", description="An integer too large for JSON numbers.")]


class _Strict(_Input):
    model_config = ConfigDict(strict=True)


class StrictConfigIn(ConfigIn):
    """A document's config: as `ConfigIn`, but strict (see the module's docstring)."""

    model_config = ConfigDict(strict=True)


class SaveRunIn(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"session_id": "Jx0m1Q2w3E4r5T6y7U8i9O", "name": "xor, lr 0.03", "tags": ["xor"], "note": ""}]})

    session_id: Annotated[str, Field(min_length=1, max_length=64)]
    name: RunName
    tags: Tags = Field(default_factory=list)
    note: Note = ""


class RenameRunIn(_Input):
    """What to change: only the fields given."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "xor, lr 0.03", "tags": ["xor", "baseline"], "note": "The boundary forms by step 400."}]})

    name: RunName | None = Field(default=None, description="A new name (the run's owner or the teacher).")
    published: bool | None = Field(default=None, description="Show the run to the whole class (the teacher only).")
    tags: Tags | None = Field(default=None, description="The run's tags, replacing those it had ([] removes all).")
    note: Note | None = Field(default=None, description="The run's note, replacing the one it had.")


class RunSummaryOut(BaseModel):
    id: str
    name: str
    created: str = Field(description="ISO 8601, UTC.")
    step: int
    epoch: int
    parameters: int = Field(description="Weights and biases of the network.")
    config: ConfigOut
    owner: str = Field(description="Who saved (or imported) the run; \"teacher\" on a server without accounts.")
    published: bool = Field(description="Listed for everyone, not only its owner; a new run is not.")
    tags: list[str] = Field(description="Alphabetical.")
    note: str
    imported: str | None = Field(default=None, description="When an import made this run (ISO 8601, UTC); null "
                                 "for a run saved from a session. Not part of an export.")


class ListedRunOut(RunSummaryOut):
    manageable: bool = Field(description="You may rename and delete it: you saved it, or you are the teacher.")


class RunListOut(BaseModel):
    runs: list[ListedRunOut] = Field(description="Newest first: a student's own runs and the published ones; "
                                     "the teacher's, every run.")
    total: int = Field(description="All saved runs, of which `runs` is the page from `offset`.")
    offset: int
    limit: int


class HistoryPoint(_Strict):
    """The metrics of whole splits at one step (null where a huge weight made them overflow)."""

    step: Count
    train_loss: Number | None = None
    test_loss: Number | None = None
    train_accuracy: Number | None = None
    test_accuracy: Number | None = None
    train_rmse: Number | None = None
    test_rmse: Number | None = None
    train_r2: Number | None = None
    test_r2: Number | None = None


class HistoryPointOut(BaseModel):
    step: int
    train_loss: MaybeNumber = None
    test_loss: MaybeNumber = None
    train_accuracy: MaybeNumber = None
    test_accuracy: MaybeNumber = None
    train_rmse: MaybeNumber = None
    test_rmse: MaybeNumber = None
    train_r2: MaybeNumber = None
    test_r2: MaybeNumber = None


class SnapshotIn(_Strict):
    step: Count
    layers: list[LayerParams]


class SnapshotOut(BaseModel):
    step: int
    layers: list[LayerValues]


class RunOut(RunSummaryOut):
    upload: str | None = Field(description="The uploaded CSV's file name, for a run of an uploaded data set.")
    history: list[HistoryPointOut] = Field(description="Oldest first.")
    snapshots: list[SnapshotOut] = Field(
        description="The weights at recorded steps, oldest first; the last is the saved step."
    )


class RngState(_Strict):
    """NumPy's PCG64 `bit_generator.state`, its 128-bit integers as decimal strings."""

    bit_generator: Literal["PCG64"]
    state: BigInt
    inc: BigInt
    has_uint32: Annotated[int, Field(ge=0, le=1)]
    uinteger: Annotated[int, Field(ge=0, le=2**32 - 1)]


class ResumeState(_Strict):
    """What training changed, to carry on bit for bit (backprop_lab.engine.trainer_state.TrainerState)."""

    layer_sizes: list[int] | None = Field(
        default=None, description="Inputs, hidden layers, outputs. On import the config decides them."
    )
    parameters: list[Number] = Field(description="θ (P,), flat in the engine's layout.")
    moments: list[list[Number]] = Field(description="(2, P) the optimiser's memory.")
    step: Count
    epoch: Count
    position: Count
    optimizer_steps: Count
    order_index: Count
    orders: Annotated[list[list[Annotated[int, Field(ge=0, le=2**31)]]], Field(min_length=1, max_length=MAX_ORDER_ROWS)]
    rng: RngState


class RunData(_Strict):
    """An uploaded data set, carried by its run: the CSV as uploaded (re-written exactly)."""

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME), AfterValidator(_unicode)]
    csv: Annotated[str, Field(min_length=1), AfterValidator(_unicode)] = Field(
        description="Input columns, then the target last (POST /api/v1/datasets' format)."
    )


class PackedSnapshots(_Strict):
    """Weight snapshots, packed: θ at each of `steps`, one after another, little-endian in `dtype`,
    in base64: `numpy.frombuffer(base64.b64decode(data), dtype).reshape(len(steps), P)`, each row
    in the engine's flat order (every layer's weights, n_in × n_out row by row, then every layer's
    biases)."""

    steps: Annotated[list[Count], Field(max_length=MAX_SNAPSHOTS)] = Field(description="Oldest first.")
    dtype: Literal["float32", "float64"] = Field(
        description="An export writes float32 (a replay's weights to ~7 digits); float64 is exact.")
    data: str = Field(description="base64 of len(steps) × P numbers.")


class DatasetOrigin(_Strict):
    """What rebuilds a run's data set exactly: a built-in generator drawn from the config's
    `seed` (with its `samples`, `noise`, `train_ratio`), or the uploaded table in `data`; and a
    digest of what it gave, which an import checks (a newer generator that draws other points is
    refused rather than resumed on different data)."""

    name: str = Field(description="The data set: a built-in generator's name, or an upload's file name.")
    generator: bool = Field(description="True: rebuilt from the config by the built-in generator.")
    seed: Count
    samples: Count = Field(description="Train and test rows together.")
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="SHA-256 of the train then test inputs, then targets, as little-endian float64.")


class ProducedBy(_Strict):
    """The versions that wrote a document: what to install to reproduce it exactly."""

    app: Annotated[str, Field(max_length=100)]
    python: Annotated[str, Field(max_length=100)]
    numpy: Annotated[str, Field(max_length=100)]
    numba: Annotated[str, Field(max_length=100)]
    platform: Annotated[str, Field(max_length=300)]


class RunBody(_Strict):
    id: str | None = Field(default=None, description="Ignored on import: the run gets a new id.")
    upload: str | None = Field(default=None, description="Ignored on import: `data` names the table.")
    name: RunName
    created: str | None = Field(default=None, description="Ignored on import: the run is created now.")
    step: Count
    epoch: Count
    parameters: Count | None = Field(default=None, description="Weights and biases: on import, the config's network's.")
    owner: str | None = Field(default=None, description="Ignored on import: the run is the importer's.")
    published: bool | None = Field(default=None, description="Ignored on import: an imported run is not published.")
    tags: Tags = Field(default_factory=list)
    note: Note = ""
    config: StrictConfigIn
    history: Annotated[list[HistoryPoint], Field(max_length=MAX_HISTORY)]
    snapshots: PackedSnapshots
    resume: ResumeState
    data: RunData | None = Field(default=None, description="Null for a built-in data set.")
    dataset: DatasetOrigin | None = Field(default=None, description="What rebuilds the data set (version 2).")


class RunDocument(_Strict):
    """A run as `GET /api/v1/runs/{id}/export` writes it (version 2; version 1 is read too)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_DOCUMENT]})

    format: Literal["backprop-lab-run"]
    version: int = Field(ge=1, description=f"The format version: 1 or {FORMAT_VERSION}.")
    exported: str | None = None
    produced_by: ProducedBy | None = Field(default=None, description="Version 2: what wrote the document.")
    run: RunBody

    @field_validator("version", mode="before")
    @classmethod
    def _readable(cls, version: Any) -> Any:
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            raise PydanticCustomError(
                "newer_version", "this document's format version {value} is newer than this server reads "
                "({maximum}); import it with a newer Backprop Lab", {"value": version, "maximum": FORMAT_VERSION})
        return version

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, document: Any) -> Any:
        """A version 1 document's snapshots (`[{"step", "layers"}]`) packed as float64, the
        layers' weights then their biases: the engine's flat order (docs/engine.md)."""
        if not (isinstance(document, dict) and document.get("version") == 1 and isinstance(document.get("run"), dict)):
            return document
        snapshots = document["run"].get("snapshots")
        if not isinstance(snapshots, list):
            return document
        try:
            rows = [np.concatenate([np.ravel(np.asarray(layer["weights"], dtype="<f8")) for layer in shot["layers"]]
                                   + [np.asarray(layer["biases"], dtype="<f8") for layer in shot["layers"]])
                    for shot in snapshots]
            steps = [shot["step"] for shot in snapshots]
        except (KeyError, TypeError, ValueError):
            return document  # left as it is: validation names what is wrong
        data = base64.b64encode(np.concatenate(rows).tobytes() if rows else b"").decode("ascii")
        run = {**document["run"], "snapshots": {"steps": steps, "dtype": "float64", "data": data}}
        return {**document, "run": run}


class ImportedOut(BaseModel):
    id: str
    name: str
    created: str
    step: int


class PackedSnapshotsOut(BaseModel):
    steps: list[int]
    dtype: Literal["float32", "float64"]
    data: str = Field(description="base64 of len(steps) × P little-endian numbers (see PackedSnapshots).")


class ExportedRun(RunSummaryOut):
    upload: str | None
    history: list[HistoryPointOut]
    snapshots: PackedSnapshotsOut
    resume: ResumeState
    data: RunData | None
    dataset: DatasetOrigin


class RunDocumentOut(BaseModel):
    """The export document: what `POST /api/v1/runs/import` reads back."""

    format: Literal["backprop-lab-run"]
    version: int = Field(description=f"The document's format version ({FORMAT_VERSION}).")
    exported: str = Field(description="ISO 8601, UTC.")
    produced_by: ProducedBy
    run: ExportedRun


def _query_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {
        "offset": (int, Field(default=0, ge=0, le=1_000_000_000)),
        "limit": (int, Field(default=DEFAULT_PAGE_SIZE, ge=PAGE_SIZE.low, le=PAGE_SIZE.high)),
        "tag": (list[Tag], Field(default_factory=list, max_length=MAX_TAGS,
                                 description="Runs with this tag (repeat it: runs with every one given).")),
    }
    for name in TEXT_FIELDS:
        fields[name] = (list[Annotated[str, Field(max_length=200)]], Field(
            default_factory=list, max_length=50, description=f"Runs whose `{name}` is this (repeat it: any of them)."))
    for name in NUMBER_FIELDS:
        what = "the metric at the run's saved step" if name in METRICS else f"`{name}`"
        for end, word in (("min", "at least"), ("max", "at most")):
            fields[f"{name}_{end}"] = (float | None, Field(default=None, description=f"Runs whose {what} is {word} "
                                                                                      "this."))
    return fields


RunQuery: type[BaseModel] = create_model(  # GET /api/v1/runs's query: a page, then filters (AND of all given)
    "RunQuery", __config__=ConfigDict(allow_inf_nan=False), **_query_fields())


class CompareRunOut(BaseModel):
    id: str
    name: str
    step: int
    tags: list[str]
    config: ConfigOut


class CurveOut(BaseModel):
    """One run's metrics at `CompareOut.steps`: null where the run recorded none at that step."""

    id: str
    train_loss: list[float | None]
    test_loss: list[float | None]
    train_accuracy: list[float | None] | None = Field(description="Classification only.")
    test_accuracy: list[float | None] | None = Field(description="Classification only.")


class DifferenceOut(BaseModel):
    field: str = Field(description="A config field whose value is not the same in every run.")
    values: list[Any] = Field(description="Its value in each run, in the order of `runs`.")


class CompareOut(BaseModel):
    runs: list[CompareRunOut] = Field(description="In the order of `ids`.")
    steps: list[int] = Field(description="Every step at which any of the runs recorded its metrics, ascending.")
    curves: list[CurveOut] = Field(description="One per run, aligned to `steps`.")
    differences: list[DifferenceOut] = Field(description="The config fields that differ, in the config's order.")
    same: list[str] = Field(description="The config fields every run shares.")
