"""REST v1 saved runs (docs/api.md, "Saved runs"): save a session, list, read, rename, delete,
export and import one JSON document, open a live session that resumes a run, its metrics as CSV.

Database work runs in a worker thread (`anyio.to_thread`), capturing a session in its lane,
building a trainer in a worker thread: nothing here blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
import sqlalchemy as sa
from fastapi import APIRouter, Body, Path, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from engine.config import Config
from engine.tabular import Table
from server import runs
from server.deps import ManagerDep, StoreDep
from server.errors import JSONBody
from server.problems import InvalidInput, NotFound
from server.run_schemas import (
    FORMAT_VERSION,
    ImportedOut,
    RenameRunIn,
    RunDocument,
    RunDocumentOut,
    RunListOut,
    RunOut,
    RunSummaryOut,
    SaveRunIn,
)
from server.schemas import ErrorOut, SessionOut, error_responses
from server.store import StoredRun, StoreError

router = APIRouter(prefix="/api/v1/runs", tags=["runs"])
T = TypeVar("T")
RunIdPath = Annotated[str, Path(min_length=1, max_length=64, description="The id POST /api/v1/runs returned.")]
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorOut, "description": "The runs database cannot be reached."}
}


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`error_responses` with this router's 404 (a run id, or the session to save) and 503."""
    out = {**error_responses(*codes), **UNAVAILABLE}
    if 404 in out:
        out[404] = {"model": ErrorOut, "description": "Unknown run id (or, saving, session id)."}
    return out


class CsvResponse(Response):
    media_type = "text/csv"  # starlette adds "; charset=utf-8"


def _json_refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The refusals of a route whose success is not JSON: their bodies still are."""
    out = refusals(*codes)
    schema = {"$ref": "#/components/schemas/ErrorOut"}
    return {code: {"description": entry["description"], "content": {"application/json": {"schema": schema}}}
            for code, entry in out.items()}



async def _db(function: Callable[..., T], *args: Any) -> T:
    """A store call in a worker thread; a database that fails becomes `StoreError` (503)."""
    try:
        return await anyio.to_thread.run_sync(function, *args)
    except sa.exc.SQLAlchemyError as error:
        raise StoreError(f"the runs database failed: {error.__class__.__name__}") from error


async def _run(store: Any, run_id: str) -> StoredRun:
    run = await _db(store.get, run_id)
    if run is None:
        raise NotFound(f"no saved run {run_id!r}")
    return run


@router.post("", status_code=201, response_model=RunSummaryOut, responses=refusals(404, 413),
             summary="Save a session as a run: config, metric history, weight snapshots, optimiser state, data order")
async def save_run(body: SaveRunIn, manager: ManagerDep, store: StoreDep) -> Response:
    session = manager.get(body.session_id)
    run = await session.run(lambda: runs.capture(session, runs.new_run_id(), body.name))
    await _db(store.save, run)
    return JSONBody(runs.summary_view(run.summary), status_code=201)


@router.get("", response_model=RunListOut, responses=refusals(), summary="Saved runs, newest first, a page at a time")
async def list_runs(
    store: StoreDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    summaries, total = await _db(store.list, offset, limit)
    return JSONBody({"runs": [runs.summary_view(s) for s in summaries], "total": total, "offset": offset,
                     "limit": limit})


@router.post("/import", status_code=201, response_model=ImportedOut,
             responses=refusals(413, 429),
             summary="Import a document GET /api/v1/runs/{id}/export gave (a new id and time)",
             description="422 names the problem: JSON that does not parse, a field of the wrong type, a format "
             "version newer than this server reads, a non-finite number, shapes that do not fit the config, or "
             "more history or snapshots than a run holds.")
async def import_run(
    manager: ManagerDep,
    store: StoreDep,
    document: Annotated[dict[str, Any], Body(description="The export document (`format`, `version`, `run`).")],
) -> Response:
    def check() -> tuple[RunDocument, Config, Table | None]:  # a large document takes a while: not on the event loop
        version = document.get("version")
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            raise InvalidInput(("body", "version"), f"version: this document's format version {version} is newer "
                               f"than this server reads ({FORMAT_VERSION}); import it with a newer Backprop Lab",
                               code="newer_version", params={"value": version, "maximum": FORMAT_VERSION})
        try:
            # Strict: a field of the wrong type is refused, not coerced ("7" or true for 7, "0.5" for
            # 0.5), so what is imported is what the document says and its re-export says the same.
            parsed = RunDocument.model_validate(document, strict=True)
        except ValidationError as error:
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors()]) from None
        return parsed, *runs.document_config(parsed, manager.settings.limits)

    parsed, config, table = await anyio.to_thread.run_sync(check)
    manager.check_caps(config, table)
    run = await anyio.to_thread.run_sync(runs.import_run, parsed, config, table)
    await _db(store.save, run)
    return JSONBody(runs.summary_view(run.summary), status_code=201)


@router.get("/{run_id}", response_model=RunOut, responses=refusals(404))
async def read_run(run_id: RunIdPath, store: StoreDep) -> Response:
    run = await _run(store, run_id)
    return JSONBody(runs.run_view(run))


@router.patch("/{run_id}", response_model=RunSummaryOut, responses=refusals(404, 413),
              summary="Rename a run")
async def rename_run(run_id: RunIdPath, body: RenameRunIn, store: StoreDep) -> Response:
    if not await _db(store.rename, run_id, body.name):
        raise NotFound(f"no saved run {run_id!r}")
    run = await _run(store, run_id)
    return JSONBody(runs.summary_view(run.summary))


@router.delete("/{run_id}", status_code=204, responses=refusals(404))
async def delete_run(run_id: RunIdPath, store: StoreDep) -> Response:
    if not await _db(store.delete, run_id):
        raise NotFound(f"no saved run {run_id!r}")
    return Response(status_code=204)


@router.get("/{run_id}/export", response_model=RunDocumentOut, responses=refusals(404),
            summary="The run as one JSON document, for POST /api/v1/runs/import")
async def export_run(run_id: RunIdPath, store: StoreDep) -> Response:
    run = await _run(store, run_id)
    document = runs.export_document(run)
    return JSONBody(document, headers={"Content-Disposition": f'attachment; filename="run-{run.summary.id}.json"'})


@router.get("/{run_id}/metrics.csv", response_class=CsvResponse,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "step, then one column per metric of the history."},
                       **_json_refusals(404)})
async def metrics_csv(run_id: RunIdPath, store: StoreDep) -> Response:
    run = await _run(store, run_id)
    disposition = f'attachment; filename="run-{run.summary.id}-metrics.csv"'
    return CsvResponse(runs.metrics_csv(run), headers={"Content-Disposition": disposition})


@router.post("/{run_id}/session", status_code=201, response_model=SessionOut,
             responses=refusals(404, 429),
             summary="Open a live session resuming the run at its step (weights, optimiser state, data order)")
async def open_session(run_id: RunIdPath, manager: ManagerDep, store: StoreDep) -> Response:
    run = await _run(store, run_id)
    manager.check_room()
    config = Config().replace(**run.summary.config)
    try:
        table = await anyio.to_thread.run_sync(runs.run_table, run, manager.settings.limits)
    except ValueError as error:  # a table past this server's caps
        raise InvalidInput(("path", "run_id"), f"run_id: this run's data cannot be loaded here: {error}") from None
    if table is not None:  # its data set becomes an upload again, under a new id
        config = config.replace(dataset=manager.add_table(table))
    manager.check_caps(config, table)
    try:
        trainer = await anyio.to_thread.run_sync(runs.resumed_trainer, run, config, table)
    except ValueError as error:  # the run no longer fits this version's engine
        raise InvalidInput(("path", "run_id"), f"run_id: this run cannot be resumed here: {error}") from None
    session = manager.adopt(trainer, trainer.config, table)
    await session.run(lambda: session.restore(run.history, run.snapshot_steps, run.snapshots))
    return JSONBody(await session.run(session.view), status_code=201)
