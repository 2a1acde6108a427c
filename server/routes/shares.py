"""REST for a shared session, by its share code (docs/api.md, "Sharing"): what a viewer may do
without the session id — read how many watch, and fork a copy of its own to train."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from server.deps import ManagerDep
from server.errors import JSONBody
from server.schemas import SessionOut, error_responses

router = APIRouter(prefix="/api/v1/shares", tags=["sharing"])
ShareCode = Annotated[str, Path(min_length=1, max_length=32, description="The code POST …/share returned.")]


@router.post(
    "/{code}/fork",
    status_code=201,
    response_model=SessionOut,
    responses=error_responses(404, 429),
    summary="Try it yourself: a new session in the shared session's current state, training on its own",
    description="Copies the weights, the optimiser's memory, the data and its order, the step and the loss "
    "curve; the new session starts paused, and its id (the key that controls it) goes to the caller only.",
)
async def fork(code: ShareCode, manager: ManagerDep) -> Response:
    session = await manager.fork(manager.shared(code))
    return JSONBody(await session.run(session.view), status_code=201)
