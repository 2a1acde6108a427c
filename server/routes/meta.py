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


@router.get("/health", response_model=HealthOut)
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


@router.get("/identity", response_model=IdentityOut, summary="Who you are to this server: the teacher or a student")
async def identity(identity: IdentityDep, settings: SettingsDep) -> dict:
    return {"classroom": settings.classroom, "role": identity.role.value, "id": identity.id}


@router.get("/options", response_model=OptionsOut)
async def options(settings: SettingsDep) -> dict:
    """Every name, formula and range the page shows (see `backprop_lab.server.options`)."""
    return options_document(settings)
