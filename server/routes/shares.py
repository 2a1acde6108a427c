"""REST for a shared session, by its share code (docs/api.md, "Sharing"): what a viewer may do
without the session id — check the code and how many watch, and fork a copy of its own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from backprop_lab.server.deps import IdentityDep, ServicesDep
from backprop_lab.server.live.session import Session
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
async def read_share(code: ShareCode, services: ServicesDep) -> Response:
    manager, relay = services.manager, services.relay
    if relay is None:
        viewers = manager.shared(code).hub.viewer_count
    else:  # a cluster: the session may live on another worker, its viewers on every one
        shared = await relay.shared(code)
        viewers = await relay.viewers(shared.id if isinstance(shared, Session) else shared.session_id)
    normal = normalise(code) or ""  # a code that names a session is a valid one
    return JSONBody({"code": normal, "spoken": spoken(normal), "url": manager.watch_url(normal),
                     "viewers": viewers, "local_only": manager.settings.local_only})


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
async def fork(code: ShareCode, services: ServicesDep, identity: IdentityDep) -> Response:
    manager, relay = services.manager, services.relay
    shared = manager.shared(code) if relay is None else await relay.shared(code)
    if isinstance(shared, Session):
        session = await manager.fork(shared, identity)
    else:  # held by another worker of the cluster: made here from its snapshot (server.cluster.forks)
        assert relay is not None
        session = await relay.fork(shared, identity)
    return JSONBody(await session.run(session.view), status_code=201)
