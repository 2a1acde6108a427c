"""Typed dependencies for the routes: the app's parts and the session a path names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from starlette.requests import HTTPConnection

from server.cadence import Cadence
from server.identity import Identity, identity_of
from server.manager import SessionManager
from server.scheduler import Scheduler
from server.sessions import Session
from server.settings import Settings
from server.store import RunStore
from server.surfaces import SurfaceWorkers


@dataclass
class Lab:
    """What the app runs on, created at startup (it needs the running event loop)."""

    settings: Settings
    scheduler: Scheduler
    cadence: Cadence
    manager: SessionManager
    store: RunStore
    surfaces: SurfaceWorkers  # the threads that compute loss surfaces, apart from training


def get_lab(request: Request) -> Lab:
    return request.app.state.lab


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_manager(lab: Annotated[Lab, Depends(get_lab)]) -> SessionManager:
    return lab.manager


def get_store(lab: Annotated[Lab, Depends(get_lab)]) -> RunStore:
    return lab.store


SessionId = Annotated[str, Path(min_length=1, max_length=64, description="The id POST /api/v1/sessions returned.")]
LabDep = Annotated[Lab, Depends(get_lab)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ManagerDep = Annotated[SessionManager, Depends(get_manager)]
StoreDep = Annotated[RunStore, Depends(get_store)]


def get_identity(connection: HTTPConnection) -> Identity:
    """Who is asking (`server.identity`): the teacher, or a student."""
    return identity_of(connection)


IdentityDep = Annotated[Identity, Depends(get_identity)]


def get_session(session_id: SessionId, manager: ManagerDep, identity: IdentityDep) -> Session:
    """The session the path names, when the caller may control it (404 otherwise)."""
    return manager.owned(session_id, identity)


SessionDep = Annotated[Session, Depends(get_session)]
