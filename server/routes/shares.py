"""REST for a shared session, by its share code (docs/api.md, "Sharing"): what a viewer may do
without the session id — check the code and how many watch, and fork a copy of its own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from backprop_lab.server.deps import IdentityDep, ManagerDep
from backprop_lab.server.live.share_codes import normalise, spoken
from backprop_lab.server.web.errors import JSONBody
from backprop_lab.server.wire.error_models import error_responses
from backprop_lab.server.wire.session_models import SessionOut, ShareOut

router = APIRouter(prefix="/api/v1/shares", tags=["sharing"])
ShareCode = Annotated[str, Path(min_length=1, max_length=32, description="The code POST …/share returned.")]


@router.get(
    "/{code}",
    response_model=ShareOut,
    responses=error_responses(404),
    summary="A share code's session is still there: the code, its viewer page, how many watch",
    description="The code typed loosely (any case, with or without spaces and dashes) names its session while "
    "the session lives; 404 once it has ended.",
)
async def read_share(code: ShareCode, manager: ManagerDep) -> Response:
    session = manager.shared(code)
    shared = normalise(code) or ""  # a code that names a session is a valid one
    return JSONBody({"code": shared, "spoken": spoken(shared), "url": manager.watch_url(shared),
                     "viewers": session.hub.viewer_count, "local_only": manager.settings.local_only})


@router.post(
    "/{code}/fork",
    operation_id="fork_shared_session",
    status_code=201,
    response_model=SessionOut,
    responses=error_responses(404, 429),
    summary="Try it yourself: a new session in the shared session's current state, training on its own",
    description="Copies the weights, the optimiser's memory, the data and its order, the step and the loss "
    "curve; the new session starts paused, belongs to the caller (docs/reliability.md, \"Ownership\") and its "
    "id goes to the caller only.",
)
async def fork(code: ShareCode, manager: ManagerDep, identity: IdentityDep) -> Response:
    session = await manager.fork(manager.shared(code), identity)
    return JSONBody(await session.run(session.view), status_code=201)
