"""REST v1: health and the options a client can choose from (names, defaults, caps)."""

from __future__ import annotations

from fastapi import APIRouter

from engine.activations import ACTIVATIONS
from engine.config import BUILTIN_DATASETS
from engine.datasets import GENERATED_CLASSES
from engine.features import FEATURES
from engine.losses import LOSSES, REGULARIZATIONS
from engine.network import INITS
from engine.optimizers import OPTIMIZERS
from server import __version__
from server.deps import LabDep, SettingsDep
from server.manager import _iris
from server.protocol import PROTOCOL_VERSION
from server.schemas import ConfigIn, HealthOut, OptionsOut

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
        "sockets": manager.sockets,
        "training_threads": lab.scheduler.threads,
        "training_thread_seconds": lab.cadence.spent(),
    }


def dataset_options() -> list[dict]:
    out = []
    for name in BUILTIN_DATASETS:
        if name in GENERATED_CLASSES:
            classes, planar = GENERATED_CLASSES[name], True
        else:
            classes, planar = _iris().classes, False
        kind = "regression" if classes is None else "classification"
        out.append({"name": name, "kind": kind, "classes": classes, "planar": planar})
    return out


@router.get("/options", response_model=OptionsOut)
async def options(settings: SettingsDep) -> dict:
    limits = settings.limits
    return {
        "datasets": dataset_options(),
        "features": list(FEATURES),
        "activations": list(ACTIVATIONS),
        "losses": list(LOSSES),
        "optimizers": list(OPTIMIZERS),
        "inits": list(INITS),
        "regularizations": list(REGULARIZATIONS),
        "defaults": ConfigIn(),
        "limits": {
            "max_sessions": limits.max_sessions,
            "max_parameters": limits.max_parameters,
            "max_rows": limits.max_rows,
            "max_columns": limits.max_columns,
            "max_hidden_layers": limits.max_hidden_layers,
            "max_neurons": limits.max_neurons,
            "max_steps_per_request": limits.max_steps_per_request,
            "max_body_bytes": limits.max_body_bytes,
            "max_message_bytes": limits.max_message_bytes,
            "max_messages_per_second": limits.max_messages_per_second,
            "max_sockets_per_session": limits.max_sockets_per_session,
        },
        "protocol_version": PROTOCOL_VERSION,
        "frame_rate": settings.timing.frame_rate,
        "heatmap_rate": settings.timing.heatmap_rate,
    }
