"""REST v1 loss surface (docs/api.md, "Loss surface"): a 2-D slice of the data loss around a
session's current weights, with its recorded trajectory projected on it.

The plane is chosen in the session's lane (it reads the weights and the trajectory), the grid is
computed on the surface threads (`backprop_lab.server.analyses.loss_surfaces`), never on the event loop or the training
threads, and the session then shows the plane: its frames carry the live `surface_point`. A
request whose client leaves stops waiting for its turn, or its grid stops between two chunks
(`backprop_lab.server.runtime.disconnects`), and frees its place among the surfaces waiting.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from backprop_lab.server.analyses.loss_surfaces import surface_view
from backprop_lab.server.classroom.quotas import Resource
from backprop_lab.server.deps import IdentityDep, ServicesDep, SessionDep
from backprop_lab.server.runtime.disconnects import while_connected
from backprop_lab.server.web.errors import JSONBody
from backprop_lab.server.wire.analysis_models import SurfaceIn, SurfaceOut
from backprop_lab.server.wire.error_models import error_responses
from backprop_lab.server.wire.problems import CapReached

router = APIRouter(prefix="/api/v1/sessions", tags=["loss surface"])


@router.post(
    "/{session_id}/loss-surface",
    operation_id="compute_loss_surface",
    response_model=SurfaceOut,
    responses=error_responses(404, 413, 429),
    summary="A 2-D slice of the data loss around the current weights, with the trajectory on it",
    description="The data loss on the training split at θ + x[i]·d₁ + y[j]·d₂, for two chosen weights, two "
    "random filter-normalised directions or the top two PCA directions of the recorded trajectory. 429 when "
    "the grid would take longer than one request may compute for, or when the caller or the server already "
    "computes as many surfaces as it may (docs/reliability.md, \"Quotas\").",
)
async def loss_surface(
    session: SessionDep,
    services: ServicesDep,
    identity: IdentityDep,
    request: Request,
    body: Annotated[SurfaceIn | None, Body()] = None,
) -> Response:
    wanted = body or SurfaceIn()
    with services.manager.ledger.holding(Resource.SURFACES, identity):
        job = await session.run(lambda: session.surface_plan(wanted))
        cap = services.settings.limits.max_request_seconds
        estimate = job.seconds / services.surfaces.threads
        if estimate > cap:
            # the grid's cost grows with its points, resolution²: the resolution that fits
            fits = int(wanted.resolution * math.sqrt(cap / estimate))
            raise CapReached(
                f"resolution: a {wanted.resolution}×{wanted.resolution} slice of this network over its "
                f"{job.inputs.shape[0]:,} training points takes about {estimate:,.0f} s here, past this server's "
                f"cap of {cap:g} s per request; ask for a resolution of at most {fits}",
                "takes_too_long", "resolution",
                {"value": wanted.resolution, "seconds": round(estimate, 1), "maximum": cap, "fits": fits},
            )
        surface, seconds = await while_connected(request, services.surfaces.compute(job))
    surface_id = await session.run(lambda: session.show_surface(job))
    return JSONBody(surface_view(job, surface, surface_id or 0, seconds))
