"""REST v1: health and the options a client can choose from (names, formulas, ranges, defaults, caps)."""

from __future__ import annotations

from fastapi import APIRouter

from server import __version__
from server.deps import IdentityDep, LabDep, SettingsDep
from server.manager import _iris
from server.options import options_document
from server.protocol import PROTOCOL_VERSION
from server.quotas import Resource
from server.schemas import HealthOut, IdentityOut, OptionsOut

router = APIRouter(prefix="/api/v1", tags=["meta"])


@router.get("/health", response_model=HealthOut)
async def health(lab: LabDep) -> dict:
    manager = lab.manager
    return {
        "status": "ok",
        "version": __version__,
        "protocol_version": PROTOCOL_VERSION,
        "sessions": len(manager),
        "playing": lab.cadence.players,
        "sockets": manager.ledger.in_use(Resource.SOCKETS),
        "training_threads": lab.scheduler.threads,
        "training_thread_seconds": lab.cadence.spent(),
    }


@router.get("/identity", response_model=IdentityOut, summary="Who you are to this server: the teacher or a student")
async def identity(identity: IdentityDep, settings: SettingsDep) -> dict:
    return {"classroom": settings.classroom, "role": identity.role.value, "id": identity.id}


@router.get("/options", response_model=OptionsOut)
async def options(settings: SettingsDep) -> dict:
    """Every name, formula and range the page shows (see `server.options`)."""
    return options_document(settings, _iris())
