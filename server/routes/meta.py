"""REST v1: health and the options a client can choose from (names, formulas, ranges, defaults, caps)."""

from __future__ import annotations

from fastapi import APIRouter

from backprop_lab.server import __version__
from backprop_lab.server.classroom.quotas import Resource
from backprop_lab.server.deps import IdentityDep, ServicesDep, SettingsDep
from backprop_lab.server.live.lifecycle import SessionState
from backprop_lab.server.options import options_document
from backprop_lab.server.wire.meta_models import HealthOut, IdentityOut, OptionsOut
from backprop_lab.server.wire.protocol import PROTOCOL_VERSION

router = APIRouter(prefix="/api/v1", tags=["meta"])


@router.get(
    "/health",
    operation_id="read_health",
    response_model=HealthOut,
    summary="Is the server ready, and what runs now",
    description="200 once the engine is ready, with the app's `version`, the WebSocket `protocol_version` and "
    "counts of what runs (sessions, playing, sockets, races, surfaces, experiments) and the training threads' "
    "time by kind of work. During a first start it answers 503 `engine_preparing` with the progress: a script "
    "polls it until 200.",
)
async def health(services: ServicesDep) -> dict:
    """What really runs, counted from the things themselves (each session's state, each race's,
    the sockets' reservations), so a count can never drift from what it counts."""
    manager = services.manager
    sessions = manager.sessions()
    return {
        "status": "ok",
        "version": __version__,
        "protocol_version": PROTOCOL_VERSION,
        "sessions": len(sessions),
        "playing": sum(1 for session in sessions if session.state is SessionState.RUNNING),
        "sockets": manager.sockets.open,
        "max_sockets": manager.sockets.max_sockets,
        "races_running": sum(1 for session in sessions if session.race is not None and session.race.running),
        "surfaces_computing": services.surfaces.computing,
        "experiments_running": manager.ledger.in_use(Resource.SWEEPS),
        "training_threads": services.scheduler.threads,
        "training_thread_seconds": services.cadence.spent(),
    }


@router.get(
    "/identity",
    operation_id="read_identity",
    response_model=IdentityOut,
    summary="Who you are to this server: the teacher or a student",
    description="Outside classroom mode every caller is the teacher. In classroom mode the teacher key (a bearer "
    "token or the teacher link's cookie) makes the teacher; anyone else is a student known by a hash of their "
    "token (`id`).",
)
async def identity(identity: IdentityDep, settings: SettingsDep) -> dict:
    return {"classroom": settings.classroom, "role": identity.role.value, "id": identity.id}


@router.get(
    "/options",
    operation_id="read_options",
    response_model=OptionsOut,
    summary="Every name, formula, range, default and cap a client may use",
    description="Data sets, features, activations, losses, optimisers, inits and regularisations with their "
    "maths; the range of every numeric field (the API's, the server's cap, what the page offers); the analyses' "
    "fields; the defaults and this server's limits and classroom shares. A client reads these instead of "
    "hard-coding them.",
)
async def options(settings: SettingsDep) -> dict:
    """Every name, formula and range the page shows (see `backprop_lab.server.options`)."""
    return options_document(settings)
