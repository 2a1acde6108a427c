"""`create_app(settings)`: the FastAPI application, its middleware, routes and lifecycle.

At startup the app first opens the saved-runs store (`backprop_lab.server.saved.run_store`: migrates its schema, refuses
a database newer than the code), then compiles the engine's kernels (or loads them from numba's cache:
`backprop_lab.engine.warmup`) in a thread of their own, so no request ever waits for the compiler. A warm cache
loads them in about a second, and the server starts listening once they are in, as it always did. A cold cache
(a first start) compiles for most of a minute: the server listens as soon as the first kernel starts compiling,
and until the engine is ready every answer says so (`backprop_lab.server.routes.preparing`: 503 `engine_preparing`
with the progress, a page that shows it). Then the app starts the training threads and the session manager (both
need the running event loop) and a task that expires idle sessions, and `/api/v1/health` answers 200; at shutdown
it closes every socket (1001) and stops the threads. `backprop_lab.server.cli` runs it under uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from threadpoolctl import threadpool_limits

from backprop_lab.server import __version__
from backprop_lab.server.analyses.loss_surfaces import SurfaceWorkers
from backprop_lab.server.classes import student_news
from backprop_lab.server.classes.actions import ClassActions
from backprop_lab.server.classes.registry import ClassRegistry
from backprop_lab.server.classes.view import ClassViewer
from backprop_lab.server.classroom.identity import Identities, IdentityMiddleware
from backprop_lab.server.cluster.checkpoints import Checkpoints
from backprop_lab.server.cluster.classes import SharedClasses
from backprop_lab.server.cluster.link import ClusterLink
from backprop_lab.server.cluster.quotas import share_across
from backprop_lab.server.cluster.relay import Relay
from backprop_lab.server.deps import Services
from backprop_lab.server.jobs.service import JobService
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.routes import (
    apidocs,
    classes,
    datasets,
    jobs,
    learning_rates,
    meta,
    pages,
    runs,
    sessions,
    shares,
    surfaces,
    websockets,
    weights,
)
from backprop_lab.server.routes.preparing import PreparingGate
from backprop_lab.server.runtime import headroom
from backprop_lab.server.runtime.cadence import Cadence
from backprop_lab.server.runtime.loop_turns import LoopTurns
from backprop_lab.server.runtime.preparation import Preparation
from backprop_lab.server.runtime.scheduler import Scheduler
from backprop_lab.server.saved.run_store import RunStore, StoreError
from backprop_lab.server.settings import Settings
from backprop_lab.server.web import errors
from backprop_lab.server.web.assets import static_dir
from backprop_lab.server.web.headers import HeadedFastAPI
from backprop_lab.server.web.limits import BodyLimit
from backprop_lab.server.web.security import AccessGuard
from backprop_lab.server.wire.error_models import PREPARING, UNAUTHORIZED

logger = logging.getLogger(__name__)

DESCRIPTION = """
Watch a neural network learn by backpropagation. Create a session, train it step by step or
let it play, and read everything: metrics on whole splits, weights, gradients of the objective,
one sample's forward and backward pass, a gradient check. The live stream of a session is the
WebSocket `/ws/sessions/{id}` (see docs/protocol.md); a shared session's, read-only, is
`/ws/watch/{code}`. Errors: 404 unknown id, 422 invalid input
(FastAPI's standard shape, naming the field), 429 a cap was reached, 413 a body too large,
503 `engine_preparing` during a first start (see `/api/v1/health`).
"""


def operation_id(route: APIRoute) -> str:
    """A route's OpenAPI `operationId`: its function's name (`create_session`, `read_params`), or
    the `operation_id` its decorator gives, so that a client generated from /openapi.json in any
    language gets readable method names (tests/server/test_openapi.py keeps them unique)."""
    return route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    preparation = Preparation(settings.cold_start_record)

    async def start_services(
        app: FastAPI, store: RunStore, warmed: asyncio.Future[float], running: contextlib.AsyncExitStack
    ) -> None:
        """Once the kernels are in: the training threads, the session manager and their tasks."""
        try:
            compile_seconds = await warmed
        except Exception as error:
            preparation.failed(error)
            return
        # One BLAS thread per training thread: the training threads already keep every core busy,
        # and BLAS threads of their own would only fight them (a 128-wide step ran 10× slower).
        # After the warm-up, which loads the BLAS that the kernels call.
        blas_threads = threadpool_limits(1)
        running.callback(blas_threads.restore_original_limits)
        logger.info("engine kernels ready in %.2f s", compile_seconds)
        timing = settings.timing
        cadence = Cadence(
            settings.training_threads,
            timing.frame_rate,
            timing.max_slice_seconds,
            timing.min_slice_seconds,
            refresh_rate=timing.metrics_rate,
        )
        scheduler = Scheduler(settings.training_threads)
        scheduler.start()
        running.callback(scheduler.stop)
        loop_turns = LoopTurns(scheduler, cadence, asyncio.get_running_loop())  # paced sessions' turns
        running.callback(loop_turns.close)
        # The training threads and the event loop share the GIL. Compiled training releases it,
        # and a thread coming back from a kernel waits for it up to one switch interval while
        # another runs Python (frames, metrics, the loop's sends). Measured here, two threads
        # training 50 sessions beside a busy Python thread: 23k steps/s at 1 ms, 94k at 0.1 ms.
        running.callback(sys.setswitchinterval, sys.getswitchinterval())
        sys.setswitchinterval(0.0001)
        manager = SessionManager(settings, scheduler, cadence, asyncio.get_running_loop())
        surfaces = SurfaceWorkers(settings.training_threads)
        running.callback(surfaces.close)
        running.push_async_callback(manager.close_all, 1001, "the server is shutting down")
        job_service = JobService(settings, scheduler, manager, asyncio.get_running_loop())
        running.callback(job_service.close)  # before the training threads stop (callbacks run last first)
        classes = ClassRegistry(settings.limits.max_sessions)  # the teacher's class (backprop_lab.server.classes)
        classes.on_change = functools.partial(student_news.tell, manager)
        manager.training_gate = classes.check_may_train
        cluster = relay = checkpoints = None
        class_actions = ClassActions(classes, manager, ClassViewer(manager))
        if settings.redis_url is not None:
            cluster = ClusterLink.connect(settings.worker or "w1", settings.redis_url)
            running.push_async_callback(cluster.close)
            await share_across(manager.ledger, cluster, running)
            relay = await Relay.start(cluster, manager, settings)
            running.push_async_callback(relay.close)
            class_actions = SharedClasses(cluster, classes, manager, ClassViewer(manager))  # the class on every worker
            await class_actions.start()
            running.push_async_callback(class_actions.stop)
            manager.keeper = checkpoints = Checkpoints(cluster, manager)
            heartbeat = asyncio.create_task(checkpoints.keep_alive_forever(), name="checkpoint-heartbeat")
            running.callback(heartbeat.cancel)
        app.state.services = Services(settings, scheduler, cadence, manager, store, surfaces, job_service, classes,
                                      class_actions, cluster, relay=relay, checkpoints=checkpoints)
        for task in (
            asyncio.create_task(manager.reap_forever(), name="session-reaper"),
            asyncio.create_task(manager.watch_sockets_forever(), name="send-watchdog"),
            asyncio.create_task(job_service.expire_forever(), name="job-reaper"),
            asyncio.create_task(headroom.measure_forever(cadence), name="headroom"),
        ):
            running.callback(task.cancel)
        preparation.succeeded(compile_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = RunStore(settings.db_path)
        try:
            await asyncio.to_thread(store.open)  # migrates the schema; refuses a newer database
        except StoreError as error:
            logger.error("%s", error)
            raise
        warmed = preparation.warm_up_in_background(settings.engine_warm_up)
        async with contextlib.AsyncExitStack() as running:
            running.callback(store.close)  # the last thing closed
            started = asyncio.create_task(start_services(app, store, warmed, running), name="start-services")
            running.callback(started.cancel)  # a server stopped during a cold start
            await preparation.until_listening(started)
            yield

    app = HeadedFastAPI(  # the browser's security headers on every answer (backprop_lab.server.web.headers)
        title="Backprop Lab",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=errors.JSONBody,
        # any route: the 401 of backprop_lab.server.classroom.identity's middleware, the 503 of a first start
        responses={**UNAUTHORIZED, **PREPARING},
        docs_url=None,  # served by routes.apidocs from installed files, not a CDN
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    errors.install(app)
    app.include_router(meta.router)
    app.include_router(sessions.router)
    app.include_router(shares.router)
    app.include_router(surfaces.router)
    app.include_router(datasets.router)
    app.include_router(learning_rates.router)
    app.include_router(jobs.router)
    app.include_router(runs.router)
    app.include_router(weights.router)
    app.include_router(classes.router)
    app.include_router(websockets.router)
    app.include_router(pages.router)
    app.include_router(apidocs.router)
    app.mount(apidocs.ASSETS, apidocs.swagger_assets, name="swagger-ui")
    app.mount("/static", StaticFiles(directory=static_dir(settings), check_dir=False), name="static")
    # add_middleware wraps what is there, so the last added runs first: who may talk to us
    # (AccessGuard), then how much they may send (BodyLimit), then whether the engine is ready
    # (PreparingGate), then who they are (IdentityMiddleware).
    app.state.identities = Identities(settings.classroom, settings.teacher_key)  # the teacher link reads it too
    app.state.preparation = preparation
    app.add_middleware(IdentityMiddleware, identities=app.state.identities)
    app.add_middleware(PreparingGate, preparation=preparation, settings=settings)
    app.add_middleware(BodyLimit, max_bytes=settings.limits.max_body_bytes)
    app.add_middleware(
        AccessGuard, allowed_hosts=settings.allowed_hosts(), allowed_origins=settings.allowed_origins()
    )
    return app


async def shutdown_streams(app: FastAPI) -> None:
    """Close every socket with 1001 ("going away") before uvicorn drops connections (SIGTERM)."""
    services: Services | None = getattr(app.state, "services", None)
    if services is not None:
        reason = "the server is shutting down"
        await services.manager.close_all(1001, reason)
        if services.relay is not None:  # a cluster worker's viewers of sessions other workers hold
            await services.relay.close_viewers(1001, reason)
