"""Typed dependencies for the routes: the app's parts and the session a path names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from starlette.requests import HTTPConnection

from backprop_lab.server.analyses.loss_surfaces import SurfaceWorkers
from backprop_lab.server.classes.actions import ClassActions
from backprop_lab.server.classes.registry import ClassRegistry
from backprop_lab.server.classroom.identity import Identity, identity_of
from backprop_lab.server.cluster.checkpoints import Checkpoints
from backprop_lab.server.cluster.link import ClusterLink
from backprop_lab.server.cluster.relay import Relay
from backprop_lab.server.jobs.service import JobService
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.live.session import Session
from backprop_lab.server.runtime.cadence import Cadence
from backprop_lab.server.runtime.scheduler import Scheduler
from backprop_lab.server.saved.run_store import RunStore
from backprop_lab.server.settings import Settings


@dataclass
class Services:
    """What the app runs on, created at startup (it needs the running event loop)."""

    settings: Settings
    scheduler: Scheduler
    cadence: Cadence
    manager: SessionManager
    store: RunStore
    surfaces: SurfaceWorkers  # the threads that compute loss surfaces, apart from training
    jobs: JobService  # long work off the request (backprop_lab.server.jobs)
    classes: ClassRegistry  # the open class and its students (backprop_lab.server.classes)
    class_actions: ClassActions  # what the teacher and the students do with it, and the teacher's view
    cluster: ClusterLink | None = None  # a cluster worker's Redis (backprop_lab.server.cluster); None: one process
    relay: Relay | None = None  # a cluster worker's codes and viewers across workers (server.cluster.relay)
    checkpoints: Checkpoints | None = None  # a cluster worker's sessions' checkpoints; None: one process


def get_services(request: Request) -> Services:
    return request.app.state.services


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_manager(services: Annotated[Services, Depends(get_services)]) -> SessionManager:
    return services.manager


def get_store(services: Annotated[Services, Depends(get_services)]) -> RunStore:
    return services.store


SessionId = Annotated[str, Path(min_length=1, max_length=64, description="The id POST /api/v1/sessions returned.")]
ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ManagerDep = Annotated[SessionManager, Depends(get_manager)]
StoreDep = Annotated[RunStore, Depends(get_store)]


def get_identity(connection: HTTPConnection) -> Identity:
    """Who is asking (`backprop_lab.server.classroom.identity`): the teacher, or a student."""
    return identity_of(connection)


IdentityDep = Annotated[Identity, Depends(get_identity)]


async def get_session(session_id: SessionId, services: ServicesDep, identity: IdentityDep) -> Session:
    """The session the path names, when the caller may control it (404 otherwise); a dead
    worker's, from its checkpoint, on a cluster worker (`backprop_lab.server.cluster.checkpoints`)."""
    if services.checkpoints is not None:
        await services.checkpoints.recover(session_id)
    return services.manager.owned(session_id, identity)


SessionDep = Annotated[Session, Depends(get_session)]
