"""REST v1 saved runs (docs/api.md, "Saved runs"): save a session, list, read, rename, delete,
export and import one JSON document, open a live session that resumes a run, its metrics as CSV.

Database work runs in a worker thread (`anyio.to_thread`), capturing a session in its lane,
building a trainer in a worker thread: nothing here blocks the event loop.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Body, Path, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from backprop_lab.engine.config import Config
from backprop_lab.engine.tabular import Table
from backprop_lab.server.classroom.identity import Identity
from backprop_lab.server.classroom.quotas import check_storage
from backprop_lab.server.deps import IdentityDep, ManagerDep, StoreDep
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.saved import capture
from backprop_lab.server.saved.run_models import (
    DEFAULT_PAGE_SIZE,
    FORMAT_VERSION,
    MAX_NAME,
    PAGE_SIZE,
    ImportedOut,
    ListedRunOut,
    RenameRunIn,
    RunDocument,
    RunDocumentOut,
    RunListOut,
    RunOut,
    SaveRunIn,
)
from backprop_lab.server.saved.run_store import RunStore, RunSummary, StoredRun
from backprop_lab.server.web.errors import JSONBody
from backprop_lab.server.wire.error_models import UNAUTHORIZED, ErrorOut, error_responses
from backprop_lab.server.wire.problems import Forbidden, InvalidInput, NotFound
from backprop_lab.server.wire.session_models import SessionOut

router = APIRouter(prefix="/api/v1/runs", tags=["runs"])
T = TypeVar("T")
FILE_STEM = 60  # characters of a run's name kept in its download's file name
RunIdPath = Annotated[str, Path(min_length=1, max_length=64, description="The id POST /api/v1/runs returned.")]
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorOut, "description": "The runs database cannot be used; `code` says why (docs/api.md)."}
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
    """The refusals of a route whose success is not JSON: their bodies still are (the app's 401
    among them, which FastAPI would otherwise document in the route's media type)."""
    out = {**UNAUTHORIZED, **refusals(*codes)}
    schema = {"$ref": "#/components/schemas/ErrorOut"}
    return {code: {"description": entry["description"], "content": {"application/json": {"schema": schema}}}
            for code, entry in out.items()}



async def _db(function: Callable[..., T], *args: Any) -> T:
    """A store call in a worker thread. A database that fails raises `StoreError` there, saying
    what failed (`backprop_lab.server.saved.run_store.failure`), which answers 503."""
    return await anyio.to_thread.run_sync(function, *args)


def _visible(summary: RunSummary | None, identity: Identity, run_id: str) -> RunSummary:
    """The run's summary when `identity` may see it (its own, a published one, or any for the
    teacher); another student's answers exactly as an unknown id does."""
    if summary is None or not (summary.published or identity.owns(summary.owner)):
        raise NotFound(f"no saved run {run_id!r}")
    return summary


async def _run(store: RunStore, run_id: str, identity: Identity) -> StoredRun:
    run = await _db(store.get, run_id)
    _visible(run.summary if run is not None else None, identity, run_id)
    assert run is not None
    return run


async def _manageable(store: RunStore, run_id: str, identity: Identity) -> RunSummary:
    """The run's summary when `identity` may rename or delete it; 403 for a published run of
    someone else (seen, not theirs)."""
    summary = _visible(await _db(store.summary, run_id), identity, run_id)
    if not identity.owns(summary.owner):
        raise Forbidden("this run was published by someone else: you may open and export it, not change it",
                        "not_yours")
    return summary


def _listed(summary: RunSummary, identity: Identity) -> dict[str, Any]:
    """A run's summary for `identity`: may they rename and delete it."""
    return {**capture.summary_view(summary), "manageable": identity.owns(summary.owner)}


def _admission(store: RunStore, identity: Identity, manager: SessionManager) -> Callable[[int], None]:
    """The check `RunStore.save` makes with a run's size: the saver's share of the store."""
    settings = manager.settings

    def admit(size: int) -> None:
        check_storage(settings.quotas, identity, settings.classroom, store.usage(owner=identity.id),
                      store.usage(address=identity.address), size)

    return admit


@router.post("", status_code=201, response_model=ListedRunOut, responses=refusals(404, 413, 429),
             summary="Save a session as a run: config, metric history, weight snapshots, optimiser state, data order")
async def save_run(body: SaveRunIn, manager: ManagerDep, store: StoreDep, identity: IdentityDep) -> Response:
    session = manager.owned(body.session_id, identity)
    run = await session.run(lambda: capture.capture(session, capture.new_run_id(), body.name, owner=identity.id,
                                                 address=identity.address))
    await _db(store.save, run, _admission(store, identity, manager))
    return JSONBody(_listed(run.summary, identity), status_code=201)


@router.get("", response_model=RunListOut, responses=refusals(), summary="Saved runs, newest first, a page at a time")
async def list_runs(
    store: StoreDep,
    identity: IdentityDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    limit: Annotated[int, Query(ge=PAGE_SIZE.low, le=PAGE_SIZE.high)] = DEFAULT_PAGE_SIZE,
) -> Response:
    """A student's own runs and the published ones; the teacher's list has every run."""
    summaries, total = await _db(store.list, offset, limit, None if identity.is_teacher else identity.id)
    return JSONBody({"runs": [_listed(s, identity) for s in summaries], "total": total, "offset": offset,
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
    identity: IdentityDep,
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
        return parsed, *capture.document_config(parsed, manager.settings.limits)

    parsed, config, table = await anyio.to_thread.run_sync(check)
    manager.check_caps(config, table)
    run = await anyio.to_thread.run_sync(
        lambda: capture.import_run(parsed, config, table, owner=identity.id, address=identity.address))
    name = await _db(_unused_name, store, run.summary.name, None if identity.is_teacher else identity.id)
    run = dataclasses.replace(run, summary=dataclasses.replace(run.summary, name=name))
    await _db(store.save, run, _admission(store, identity, manager))
    return JSONBody(capture.summary_view(run.summary), status_code=201)


def _unused_name(store: RunStore, name: str, visible_to: str | None) -> str:
    """`name`, or "name (2)", "name (3)", … when a run the importer sees has it already. A run
    exported and imported back on the same server (a document passed round a class, a backup
    restored) would otherwise be listed twice under one name, the two indistinguishable."""
    _, total = store.list(0, 0, visible_to)
    taken = {summary.name for summary in store.list(0, total, visible_to)[0]}
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        suffix = f" ({number})"
        candidate = name[:MAX_NAME - len(suffix)] + suffix
    return candidate


@router.get("/{run_id}", response_model=RunOut, responses=refusals(404))
async def read_run(run_id: RunIdPath, store: StoreDep, identity: IdentityDep) -> Response:
    run = await _run(store, run_id, identity)
    return JSONBody(capture.run_view(run))


@router.patch("/{run_id}", response_model=ListedRunOut, responses=refusals(403, 404, 413),
              summary="Rename a run, or (the teacher) publish it to the class",
              description="403 for a student renaming a run someone else published (`not_yours`) or publishing "
              "one (`teacher_only`).")
async def change_run(run_id: RunIdPath, body: RenameRunIn, store: StoreDep, identity: IdentityDep) -> Response:
    await _manageable(store, run_id, identity)
    if body.published is not None:
        if not identity.is_teacher:
            raise Forbidden("only the teacher publishes runs to the class", "teacher_only")
        await _db(store.set_published, run_id, body.published)
    if body.name is not None:
        await _db(store.rename, run_id, body.name)
    summary = await _db(store.summary, run_id)
    if summary is None:  # deleted meanwhile
        raise NotFound(f"no saved run {run_id!r}")
    return JSONBody(_listed(summary, identity))


@router.delete("/{run_id}", status_code=204, responses=refusals(403, 404),
               description="403 (`not_yours`) for a student deleting a run someone else published.")
async def delete_run(run_id: RunIdPath, store: StoreDep, identity: IdentityDep) -> Response:
    await _manageable(store, run_id, identity)
    if not await _db(store.delete, run_id):
        raise NotFound(f"no saved run {run_id!r}")
    return Response(status_code=204)


def _attachment(summary: RunSummary, suffix: str) -> str:
    """A download named by the run, not its id: "Kelas 7: spiral ü" saved at step 40 →
    `Kelas-7-spiral-u-step-40.json`. Accents are dropped and everything but ASCII letters, digits
    and "_" becomes "-", so the name is safe in the header and on every file system; "run" when
    nothing of the name is left."""
    ascii_name = unicodedata.normalize("NFKD", summary.name).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9_]+", "-", ascii_name).strip("-")[:FILE_STEM].strip("-") or "run"
    return f'attachment; filename="{stem}-step-{summary.step}{suffix}"'


@router.get("/{run_id}/export", response_model=RunDocumentOut, responses=refusals(404),
            summary="The run as one JSON document, for POST /api/v1/runs/import")
async def export_run(run_id: RunIdPath, store: StoreDep, identity: IdentityDep) -> Response:
    run = await _run(store, run_id, identity)
    document = capture.export_document(run)
    return JSONBody(document, headers={"Content-Disposition": _attachment(run.summary, ".json")})


@router.get("/{run_id}/metrics.csv", response_class=CsvResponse,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "step, then one column per metric of the history."},
                       **_json_refusals(404)})
async def metrics_csv(run_id: RunIdPath, store: StoreDep, identity: IdentityDep) -> Response:
    run = await _run(store, run_id, identity)
    disposition = _attachment(run.summary, "-metrics.csv")
    return CsvResponse(capture.metrics_csv(run), headers={"Content-Disposition": disposition})


@router.post("/{run_id}/session", status_code=201, response_model=SessionOut,
             responses=refusals(404, 429),
             summary="Open a live session resuming the run at its step (weights, optimiser state, data order)")
async def open_session(run_id: RunIdPath, manager: ManagerDep, store: StoreDep, identity: IdentityDep) -> Response:
    run = await _run(store, run_id, identity)
    with manager.session_slot(identity) as claim:
        config = Config().replace(**run.summary.config)
        try:
            table = await anyio.to_thread.run_sync(capture.run_table, run, manager.settings.limits)
        except ValueError as error:  # a table past this server's caps
            raise InvalidInput(("path", "run_id"), f"run_id: this run's data cannot be loaded here: {error}") from None
        if table is not None:  # its data set becomes an upload again, under a new id
            config = config.replace(dataset=manager.add_table(table, identity))
        manager.check_caps(config, table)
        try:
            trainer = await anyio.to_thread.run_sync(capture.resumed_trainer, run, config, table)
        except ValueError as error:  # the run no longer fits this version's engine
            raise InvalidInput(("path", "run_id"), f"run_id: this run cannot be resumed here: {error}") from None
        session = manager.adopt(trainer, trainer.config, table, claim)
    await session.run(lambda: session.restore(run.history, run.snapshot_steps, run.snapshots))
    return JSONBody(await session.run(session.view), status_code=201)
