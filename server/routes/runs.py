"""REST v1 saved runs (docs/api.md, "Saved runs"): save a session, list and search, compare,
read, rename, tag and annotate, delete, export and import one JSON document, open a live session
that resumes a run, its metrics as CSV. Every route refuses a query parameter it does not take
(`backprop_lab.server.web.query.known_query`).

Database work runs in a worker thread (`anyio.to_thread`), capturing a session in its lane,
building a trainer in a worker thread. An import's body is validated by FastAPI as it arrives
(`RunDocument`, strict): a format-2 document packs its snapshots in one string, so that is quick;
checking it against its config (which builds a trainer) runs in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel

from backprop_lab.engine.config import Config
from backprop_lab.server.classroom.identity import Identity
from backprop_lab.server.classroom.quotas import check_storage
from backprop_lab.server.deps import IdentityDep, ManagerDep, StoreDep
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.saved import capture
from backprop_lab.server.saved.comparison import comparison
from backprop_lab.server.saved.file_names import attachment
from backprop_lab.server.saved.run_fields import NUMBER_FIELDS, TEXT_FIELDS
from backprop_lab.server.saved.run_models import (
    MAX_COMPARED,
    CompareOut,
    ImportedOut,
    ListedRunOut,
    RenameRunIn,
    RunDocument,
    RunDocumentOut,
    RunListOut,
    RunOut,
    RunQuery,
    SaveRunIn,
)
from backprop_lab.server.saved.run_store import RunFilter, RunStore, RunSummary, StoredRun
from backprop_lab.server.web.errors import JSONBody
from backprop_lab.server.web.query import known_query
from backprop_lab.server.wire import error_models
from backprop_lab.server.wire.error_models import ErrorOut, error_responses
from backprop_lab.server.wire.problems import Forbidden, InvalidInput, NotFound
from backprop_lab.server.wire.session_models import HISTORY_POINTS, SessionOut

router = APIRouter(prefix="/api/v1/runs", tags=["runs"], dependencies=[Depends(known_query)])
T = TypeVar("T")
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


def json_refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The refusals of a route whose success is not JSON: their bodies still are (the app's 401
    among them, which FastAPI would otherwise document in the route's media type)."""
    return error_models.json_refusals(refusals(*codes))



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


async def stored_run(store: RunStore, run_id: str, identity: Identity) -> StoredRun:
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
             operation_id="save_run",
             summary="Save a session as a run: config, metric history, weight snapshots, optimiser state, data order",
             description=f"The run keeps the session's history (its loss curves, at most {HISTORY_POINTS:,} evenly "
             "spread points, ending at the saved step), its weight trajectory and the trainer's state, so `POST "
             "/api/v1/runs/{id}/session` resumes it bit for bit; `tags` and `note` are optional. 429 past your "
             "share of the store (classroom mode).")
async def save_run(body: SaveRunIn, manager: ManagerDep, store: StoreDep, identity: IdentityDep) -> Response:
    session = manager.owned(body.session_id, identity)
    run = await session.run(lambda: capture.capture(session, capture.new_run_id(), body.name, owner=identity.id,
                                                 address=identity.address, tags=tuple(body.tags), note=body.note))
    await _db(store.save, run, _admission(store, identity, manager))
    return JSONBody(_listed(run.summary, identity), status_code=201)


@router.get("", response_model=RunListOut, responses=refusals(), operation_id="list_runs",
            summary="Saved runs, newest first, a page at a time; search by tags, config fields and metrics",
            description="Filters combine (a run must match all): `tag` (repeat it: every one), a text field "
            f"({', '.join(f'`{name}`' for name in TEXT_FIELDS)}; repeat it: any of the values), and a range of a "
            "number, `<field>_min` and/or `<field>_max` (inclusive), for "
            f"{', '.join(f'`{name}`' for name in NUMBER_FIELDS)}; the metrics are those at the run's saved step. "
            "A query parameter the route does not take is 422 (`unknown_parameter`), not ignored.")
async def list_runs(
    store: StoreDep,
    identity: IdentityDep,
    query: Annotated[RunQuery, Query()],  # type: ignore[valid-type]
) -> Response:
    """A student's own runs and the published ones; the teacher's list has every run."""
    asked: BaseModel = query
    values = asked.model_dump()
    ranges = {name: (values[f"{name}_min"], values[f"{name}_max"]) for name in NUMBER_FIELDS
              if values[f"{name}_min"] is not None or values[f"{name}_max"] is not None}
    matching = RunFilter(tuple(values["tag"]), {name: tuple(values[name]) for name in TEXT_FIELDS if values[name]},
                         ranges)
    offset, limit = values["offset"], values["limit"]
    summaries, total = await _db(store.list, offset, limit, None if identity.is_teacher else identity.id, matching)
    return JSONBody({"runs": [_listed(s, identity) for s in summaries], "total": total, "offset": offset,
                     "limit": limit})


@router.get("/compare", response_model=CompareOut, responses=refusals(404), operation_id="compare_runs",
            summary="Compare saved runs: their loss curves aligned by step, and the config fields that differ",
            description=f"2 to {MAX_COMPARED} runs (`ids`, repeated), each one you may see (404 names the first "
            "that is not). `steps` is every step any of them recorded; each curve has a value at each (null where "
            "that run recorded none).")
async def compare_runs(
    store: StoreDep,
    identity: IdentityDep,
    ids: Annotated[list[Annotated[str, Query(min_length=1, max_length=64)]],
                   Query(min_length=2, max_length=MAX_COMPARED, description="Run ids, in the order to show them.")],
) -> Response:
    runs = [await stored_run(store, run_id, identity) for run_id in dict.fromkeys(ids)]
    if len(runs) < 2:
        raise InvalidInput(("query", "ids"), "ids: compare at least two different runs", code="too_few",
                           params={"minimum": 2})
    return JSONBody(comparison(runs))


@router.post("/import", status_code=201, response_model=ImportedOut, operation_id="import_run",
             responses=refusals(413, 429),
             summary="Import a document GET /api/v1/runs/{id}/export gave (a new id and time)",
             description="Reads format version 2 and version 1. 422 names the problem: JSON that does not parse, a "
             "field of the wrong type (strict: \"7\" is not 7), a format version newer than this server reads "
             "(`newer_version`), a non-finite number, shapes that do not fit the config, more history or "
             "snapshots than a run holds, or a data set this server draws differently (`data_changed`).")
async def import_run(manager: ManagerDep, store: StoreDep, identity: IdentityDep, document: RunDocument) -> Response:
    config, table = await anyio.to_thread.run_sync(capture.document_config, document, manager.settings.limits)
    manager.check_caps(config, table)
    run = await anyio.to_thread.run_sync(
        lambda: capture.import_run(document, config, table, owner=identity.id, address=identity.address))
    await _db(store.save, run, _admission(store, identity, manager))
    return JSONBody(capture.summary_view(run.summary), status_code=201)


@router.get("/{run_id}", response_model=RunOut, responses=refusals(404),
            summary="A saved run: its summary, metric history and weight snapshots",
            description="`history` is the loss curves as the session recorded them, `snapshots` the weights at evenly "
            "spread steps (step 0 and the saved step among them), each in the shape of params. Another student's "
            "unpublished run answers 404, as an unknown id does.")
async def read_run(run_id: RunIdPath, store: StoreDep, identity: IdentityDep) -> Response:
    run = await stored_run(store, run_id, identity)
    return JSONBody(capture.run_view(run))


@router.patch("/{run_id}", response_model=ListedRunOut, responses=refusals(403, 404, 413),
              operation_id="change_run",
              summary="Rename a run, set its tags or note, or (the teacher) publish it to the class",
              description="Only the fields given change; `tags` replaces the run's tags. 403 for a student "
              "changing a run someone else published (`not_yours`) or publishing one (`teacher_only`).")
async def change_run(run_id: RunIdPath, body: RenameRunIn, store: StoreDep, identity: IdentityDep) -> Response:
    await _manageable(store, run_id, identity)
    if body.published is not None:
        if not identity.is_teacher:
            raise Forbidden("only the teacher publishes runs to the class", "teacher_only")
        await _db(store.set_published, run_id, body.published)
    if body.name is not None:
        await _db(store.rename, run_id, body.name)
    if body.tags is not None or body.note is not None:
        await _db(store.organise, run_id, None if body.tags is None else sorted(set(body.tags)), body.note)
    summary = await _db(store.summary, run_id)
    if summary is None:  # deleted meanwhile
        raise NotFound(f"no saved run {run_id!r}")
    return JSONBody(_listed(summary, identity))


@router.delete("/{run_id}", status_code=204, responses=refusals(403, 404), summary="Delete a saved run",
               description="403 (`not_yours`) for a student deleting a run someone else published.")
async def delete_run(run_id: RunIdPath, store: StoreDep, identity: IdentityDep) -> Response:
    await _manageable(store, run_id, identity)
    if not await _db(store.delete, run_id):
        raise NotFound(f"no saved run {run_id!r}")
    return Response(status_code=204)


@router.get("/{run_id}/export", response_model=RunDocumentOut, responses=refusals(404), operation_id="export_run",
            summary="The run as one JSON document, for POST /api/v1/runs/import",
            description="Format 2: snapshots packed as float32 in base64, the trainer's state exact (resuming is "
            "bit for bit), the data set's origin and digest, the versions that wrote it. Saved as "
            "`<name>-step-<step>.json`.")
async def export_run(run_id: RunIdPath, manager: ManagerDep, store: StoreDep, identity: IdentityDep) -> Response:
    run = await stored_run(store, run_id, identity)
    dataset = await anyio.to_thread.run_sync(capture.run_dataset, run, manager.settings.limits)
    document = capture.export_document(run, dataset)
    disposition = attachment(run.summary.name, run.summary.step, ".json")
    return JSONBody(document, headers={"Content-Disposition": disposition})


@router.get("/{run_id}/metrics.csv", response_class=CsvResponse, operation_id="download_run_metrics_csv",
            summary="A run's metric history as CSV",
            description="`step`, then one column per metric the history has; saved as "
            "`<name>-step-<step>-metrics.csv`.",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "step, then one column per metric of the history."},
                       **json_refusals(404)})
async def metrics_csv(run_id: RunIdPath, store: StoreDep, identity: IdentityDep) -> Response:
    run = await stored_run(store, run_id, identity)
    disposition = attachment(run.summary.name, run.summary.step, "-metrics.csv")
    return CsvResponse(capture.metrics_csv(run), headers={"Content-Disposition": disposition})


@router.post("/{run_id}/session", status_code=201, response_model=SessionOut,
             responses=refusals(404, 429),
             operation_id="open_run_session",
             summary="Open a live session resuming the run at its step (weights, optimiser state, data order)",
             description="A new session of yours at the run's step, with its loss curves and trajectory, paused. "
             "Trained n more steps it lands on exactly the weights the original session would have reached. 429 at "
             "the session caps or past this server's network caps.")
async def open_session(run_id: RunIdPath, manager: ManagerDep, store: StoreDep, identity: IdentityDep) -> Response:
    run = await stored_run(store, run_id, identity)
    async with manager.session_slot(identity) as claim:
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
