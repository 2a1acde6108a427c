"""Wire models of the saved-runs API (docs/api.md, "Saved runs"): what a save, a rename and an
import take, and what a run, the list and an export give.

An export is one JSON document, `RunDocument`: `{"format": "backprop-lab-run", "version": 1,
"exported", "run": {…}}`. Import reads the same document; its caps (`MAX_*`) keep a document
within what a saved run can hold, and the checks that need the config (shapes, the trainer's
state) are `backprop_lab.server.saved.capture`'.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from backprop_lab.engine.bounds import Interval
from backprop_lab.server.wire.config_models import ConfigIn, ConfigOut, MaybeNumber, Number, _Input
from backprop_lab.server.wire.session_models import LayerParams, LayerValues

FORMAT = "backprop-lab-run"
FORMAT_VERSION = 1  # the export document's version; an import of a higher one is refused
MAX_NAME = 200  # characters of a run's name
PAGE_SIZE = Interval(1, 200, integer=True)  # runs in one page of the list (`limit`)
DEFAULT_PAGE_SIZE = 50
MAX_HISTORY = 4000  # metric points (a session keeps at most 2000)
MAX_SNAPSHOTS = 512  # weight snapshots (a saved run keeps at most 256)
MAX_ORDER_ROWS = 64  # epoch orders drawn ahead (backprop_lab.engine.trainer.epochs_ahead: at most 64)

def _unicode(value: str) -> str:
    """JSON's "\\ud800" parses to a lone surrogate, which no database or page can hold."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be Unicode text (it holds a lone surrogate)") from None
    return value


RunName = Annotated[
    str,
    Field(min_length=1, max_length=MAX_NAME, pattern=r"\S", description="Shown as text, never as markup."),
    AfterValidator(_unicode),
]
Count = Annotated[int, Field(ge=0, le=2**62)]
BigInt = Annotated[str, Field(pattern=r"^[0-9]{1,40}$", description="An integer too large for JSON numbers.")]


class SaveRunIn(_Input):
    session_id: Annotated[str, Field(min_length=1, max_length=64)]
    name: RunName


class RenameRunIn(_Input):
    name: RunName | None = Field(default=None, description="A new name (the run's owner or the teacher).")
    published: bool | None = Field(default=None, description="Show the run to the whole class (the teacher only).")


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


class ListedRunOut(RunSummaryOut):
    manageable: bool = Field(description="You may rename and delete it: you saved it, or you are the teacher.")


class RunListOut(BaseModel):
    runs: list[ListedRunOut] = Field(description="Newest first: a student's own runs and the published ones; "
                                     "the teacher's, every run.")
    total: int = Field(description="All saved runs, of which `runs` is the page from `offset`.")
    offset: int
    limit: int


class HistoryPoint(_Input):
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


class SnapshotIn(_Input):
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


class RngState(_Input):
    """NumPy's PCG64 `bit_generator.state`, its 128-bit integers as decimal strings."""

    bit_generator: Literal["PCG64"]
    state: BigInt
    inc: BigInt
    has_uint32: Annotated[int, Field(ge=0, le=1)]
    uinteger: Annotated[int, Field(ge=0, le=2**32 - 1)]


class ResumeState(_Input):
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


class RunData(_Input):
    """An uploaded data set, carried by its run: the CSV as uploaded (re-written exactly)."""

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME), AfterValidator(_unicode)]
    csv: Annotated[str, Field(min_length=1), AfterValidator(_unicode)] = Field(
        description="Input columns, then the target last (POST /api/v1/datasets' format)."
    )


class RunBody(_Input):
    id: str | None = Field(default=None, description="Ignored on import: the run gets a new id.")
    upload: str | None = Field(default=None, description="Ignored on import: `data` names the table.")
    name: RunName
    created: str | None = Field(default=None, description="Ignored on import: the run is created now.")
    step: Count
    epoch: Count
    parameters: Count | None = Field(default=None, description="Weights and biases: on import, the config's network's.")
    owner: str | None = Field(default=None, description="Ignored on import: the run is the importer's.")
    published: bool | None = Field(default=None, description="Ignored on import: an imported run is not published.")
    config: ConfigIn
    history: Annotated[list[HistoryPoint], Field(max_length=MAX_HISTORY)]
    snapshots: Annotated[list[SnapshotIn], Field(max_length=MAX_SNAPSHOTS)]
    resume: ResumeState
    data: RunData | None = Field(default=None, description="Null for a built-in data set.")


class RunDocument(_Input):
    format: Literal["backprop-lab-run"]
    version: Annotated[int, Field(ge=1, le=FORMAT_VERSION)]
    exported: str | None = None
    run: RunBody


class ImportedOut(BaseModel):
    id: str
    name: str
    created: str
    step: int


class ExportedRun(RunOut):
    resume: ResumeState
    data: RunData | None


class RunDocumentOut(BaseModel):
    """The export document: what `POST /api/v1/runs/import` reads back."""

    format: Literal["backprop-lab-run"]
    version: int = Field(description=f"The document's format version ({FORMAT_VERSION}).")
    exported: str = Field(description="ISO 8601, UTC.")
    run: ExportedRun
