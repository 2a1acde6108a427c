"""REST v1 sessions (docs/api.md): create, read, configure, train, reset, weights, data,
gradients, one sample's trace, the gradient check, delete.

Routes stay thin: validation is the schemas', work is the session's (on the training thread),
and each answer is the session's view encoded by `JSONBody` (never NaN). The `response_model`
of each route documents that view; the tests validate answers against it.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import anyio.to_thread
import numpy as np
from fastapi import APIRouter, Body, Query, Response

from backprop_lab.engine.gradcheck import GradientCheck, Objective, check_gradients
from backprop_lab.server.analyses import readouts
from backprop_lab.server.classroom.quotas import Resource
from backprop_lab.server.deps import IdentityDep, ManagerDep, ServicesDep, SessionDep
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.live.recording import default_record_every
from backprop_lab.server.live.session import Session
from backprop_lab.server.live.share_codes import spoken
from backprop_lab.server.web.errors import JSONBody
from backprop_lab.server.wire.config_models import ConfigIn, SplitName
from backprop_lab.server.wire.error_models import error_responses
from backprop_lab.server.wire.params import flat_parameters
from backprop_lab.server.wire.problems import CapReached
from backprop_lab.server.wire.session_models import (
    DatasetOut,
    GradientCheckOut,
    GradientsOut,
    ParamsBody,
    ParamsOut,
    SessionListOut,
    SessionOut,
    ShareOut,
    StepIn,
    TraceOut,
)
from backprop_lab.server.wire.views import gradient_check_view

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


@router.post(
    "",
    status_code=201,
    response_model=SessionOut,
    responses=error_responses(413, 429),
    summary="Create a session (all config fields optional)",
    description="A new session built from the config: the data set drawn from its seed, the network initialised, "
    "step 0, paused. Fields left out take the page's defaults (docs/api.md, \"The config\"); the answer is the "
    "session with its `id`, the key to every other session route and to its WebSocket `/ws/sessions/{id}`. 422 "
    "names a field that does not fit; 429 when the network or the data is past this server's caps, or when the "
    "caller or the server holds as many sessions as it may.",
)
async def create_session(
    manager: ManagerDep, identity: IdentityDep, config: Annotated[ConfigIn | None, Body()] = None
) -> Response:
    session = await manager.create(config or ConfigIn(), identity)
    return JSONBody(await session.run(session.view), status_code=201)


@router.get(
    "",
    response_model=SessionListOut,
    summary="List your live sessions",
    description="The caller's own live sessions, oldest first, each with its id, creation time, config, step "
    "and state (no metrics: read a session for those), so a script that lost a session id finds it again. In "
    "classroom mode a student sees only the sessions they created, forked or opened; the teacher sees every one.",
)
async def list_sessions(manager: ManagerDep, identity: IdentityDep) -> Response:
    return JSONBody({"sessions": [listed_view(session, created) for session, created in manager.listed(identity)]})


def listed_view(session: Session, created: str) -> dict:
    """A session's line in the list, read on the event loop without waiting for its lane: the
    counters are as of now (a playing session moves on), and no metric is evaluated."""
    trainer = session.trainer
    layout = trainer.network.layout
    return {"id": session.id, "created": created, "config": trainer.config.as_dict(), "step": trainer.step_count,
            "epoch": trainer.epoch, "state": session.state.value, "parameters": layout.size,
            "layer_sizes": list(layout.layer_sizes), "owner": session.owner}


@router.get(
    "/{session_id}",
    response_model=SessionOut,
    responses=error_responses(404),
    summary="Read a session: config, step, epoch, state and metrics on whole splits",
    description="The metrics (`train_loss`, `test_loss`, accuracies or regression errors) are evaluated on the "
    "whole training and test splits at the current weights, not averaged over recent batches.",
)
async def read_session(session: SessionDep) -> Response:
    return JSONBody(await session.run(session.view))


@router.delete(
    "/{session_id}",
    status_code=204,
    responses=error_responses(404),
    summary="End a session",
    description="Frees its memory and closes its sockets (their clients get an `error` message saying so); its "
    "share code ends with it. Idle sessions also end on their own after 30 minutes.",
)
async def delete_session(session: SessionDep, manager: ManagerDep) -> Response:
    await manager.delete(session.id)
    return Response(status_code=204)


@router.post(
    "/{session_id}/share",
    operation_id="share_session",
    response_model=ShareOut,
    responses=error_responses(404),
    summary="Share the session read-only: a short code to read aloud, and the viewer page's address",
    description="The same code each time, valid while the session lives. `/watch/{code}` is the viewer page, "
    "`/ws/watch/{code}` its stream (docs/protocol.md); `POST /api/v1/shares/{code}/fork` copies the session.",
)
async def share(session: SessionDep, manager: ManagerDep) -> Response:
    return JSONBody(await share_view(manager, session))


async def share_view(manager: SessionManager, session: Session) -> dict:
    code = await manager.share(session)
    return {"code": code, "spoken": spoken(code), "url": manager.watch_url(code), "viewers": session.hub.viewer_count,
            "local_only": manager.settings.local_only}


@router.patch(
    "/{session_id}/config",
    response_model=SessionOut,
    operation_id="configure_session",
    responses=error_responses(404, 413, 429),
    summary="Change config fields live (architecture and data changes re-initialise)",
    description="Only the fields given change. Hyperparameters (`learning_rate`, `momentum`, `batch_size`, "
    "`optimizer`, `regularization`, `regularization_rate`, `loss`) apply from the next step and keep the weights; "
    "data and architecture fields rebuild data and network from the seed (step 0). The session's sockets get the "
    "new config.",
)
async def patch_config(session: SessionDep, manager: ManagerDep, changes: ConfigIn) -> Response:
    await manager.configure(session, changes)
    return JSONBody(await session.run(session.view))


@router.post(
    "/{session_id}/step",
    operation_id="step_session",
    response_model=SessionOut,
    responses=error_responses(404, 409, 413, 429),
    summary="Train n steps (mini-batches), then answer with the session",
    description="The history (a saved run's loss curves) records the metrics every `record_every` steps "
    "meanwhile. 429 when the steps are past the cap, or would take longer than the time a request may "
    "train for (the message gives this server's speed).",
)
async def step(session: SessionDep, services: ServicesDep, body: Annotated[StepIn | None, Body()] = None) -> Response:
    services.manager.training_gate(session.owner)  # 409 `class_paused`
    request = body or StepIn()
    steps = request.steps
    limits = services.settings.limits
    if steps > limits.max_steps_per_request:
        raise CapReached(
            f"steps: at most {limits.max_steps_per_request:,} steps per request on this server",
            "too_many_steps",
            "steps",
            {"value": steps, "maximum": limits.max_steps_per_request},
        )
    if steps:
        per_step = await session.run(session.step_seconds)
        if steps * per_step > limits.max_request_seconds:
            raise CapReached(
                f"steps: {steps:,} steps would take about {steps * per_step:,.0f} s here ({1 / per_step:,.0f} "
                f"steps a second); one request may train for at most {limits.max_request_seconds:g} s: send "
                "several requests, or play the session over its WebSocket",
                "takes_too_long",
                "steps",
                {"value": steps, "seconds": round(steps * per_step, 1), "maximum": limits.max_request_seconds,
                 "fits": int(limits.max_request_seconds / per_step)},
            )
        every = request.record_every or default_record_every(steps)
        done = await session.run(lambda: session.start_steps(steps, streamed=False, record_every=every))
        await asyncio.wrap_future(done)
    return JSONBody(await session.run(session.view))


@router.post(
    "/{session_id}/reset",
    operation_id="reset_session",
    response_model=SessionOut,
    responses=error_responses(404),
    summary="Back to the initial weights of this config and seed",
    description="Step 0, epoch 0, a fresh optimiser, the same data and initial weights as when the session was "
    "created (or last re-initialised).",
)
async def reset(session: SessionDep) -> Response:
    await session.run(session.reset)
    return JSONBody(await session.run(session.view))


@router.get(
    "/{session_id}/params",
    response_model=ParamsOut,
    responses=error_responses(404),
    summary="Every weight and bias, layer by layer",
    description="One entry per weighted layer (the hidden layers, then the output layer): `weights` is n_in rows "
    "of n_out (inputs × outputs, so `z = a_prev @ W + b`; PyTorch's `nn.Linear.weight` is its transpose), "
    "`biases` n_out numbers, float64 as the engine holds them.",
)
async def read_params(session: SessionDep) -> Response:
    return JSONBody(await session.read(readouts.params))


@router.put(
    "/{session_id}/params",
    response_model=ParamsOut,
    responses=error_responses(404, 413),
    summary="Set every weight and bias (same shape as GET)",
    description="Hand-editing a weight: the body has the shape `GET …/params` answers, and the answer is the new "
    "parameters. A layer count or a shape that does not fit the network is a 422 (`wrong_shape`) naming the layer.",
    # the default network's shapes (2 inputs, hidden layers [4, 2], 2 outputs), so it works as it stands
    openapi_extra={"requestBody": {"content": {"application/json": {"example": {"layers": [
        {"weights": [[0.5, -0.25, 0.1, 0.3], [-0.4, 0.2, 0.6, -0.1]], "biases": [0.0, 0.0, 0.0, 0.0]},
        {"weights": [[1.0, -1.0], [-0.5, 0.5], [0.25, 0.75], [-0.3, 0.3]], "biases": [0.0, 0.0]},
        {"weights": [[1.5, -1.5], [-0.8, 0.8]], "biases": [0.0, 0.0]}]}}}}},
)
async def write_params(session: SessionDep, body: ParamsBody) -> Response:
    def apply() -> dict:
        session.set_parameters(flatten(session, body))
        return readouts.params(session.trainer)

    return JSONBody(await session.run(apply))


def flatten(session: Session, body: ParamsBody) -> np.ndarray:
    """The flat parameter vector of a `{"layers": …}` body, checked shape by shape."""
    return flat_parameters(session.trainer.network.layout, body.layers, ("body",))


@router.get(
    "/{session_id}/dataset",
    response_model=DatasetOut,
    responses=error_responses(404),
    summary="The session's data: both splits, as drawn and as the network is fed",
    description="Each split has `points` (where each sample is drawn), `inputs` (after the feature transforms, what "
    "the network is fed), `targets` (one-hot rows, or one value a row for regression) and `labels`.",
)
async def read_dataset(session: SessionDep) -> Response:
    return JSONBody(await session.read(readouts.dataset))


@router.get(
    "/{session_id}/gradients",
    response_model=GradientsOut,
    responses=error_responses(404),
    summary="Gradients of the objective on the whole training split (weights unchanged)",
    description="∂objective/∂W and ∂objective/∂b in the shape of params, with the data `loss` and the "
    "`objective` (data loss + regularisation penalty); nothing is trained.",
)
async def read_gradients(session: SessionDep) -> Response:
    return JSONBody(await session.read(readouts.gradients))


@router.get(
    "/{session_id}/trace",
    response_model=TraceOut,
    responses=error_responses(404),
    summary="One sample's forward and backward pass at the current weights",
    description="For sample `index` of `split`: its inputs, targets, outputs and data loss, and per layer the "
    "pre-activations z, activations a, deltas ∂loss/∂z, and the gradients of that sample's data loss (no "
    "regularisation). An index outside the split is a 422.",
)
async def read_trace(
    session: SessionDep,
    split: Annotated[SplitName, Query()] = "train",
    index: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    return JSONBody(await session.read(lambda trainer: readouts.trace(trainer, split, index)))


@router.post(
    "/{session_id}/gradient-check",
    operation_id="check_gradients",
    response_model=GradientCheckOut,
    responses=error_responses(404, 429),
    summary="Backprop against central differences for every parameter, both timed",
    description="Why backprop: central differences need 2P forward passes, backprop one forward and one backward "
    "pass. Runs on a copy of the network (the session keeps training). 429 when the 2P passes would take longer "
    "than one request may compute, or when too many checks run at once.",
)
async def gradient_check(session: SessionDep, services: ServicesDep, identity: IdentityDep) -> Response:
    objective, network, seconds = await session.read(readouts.gradient_check_plan)
    cap = services.settings.limits.max_request_seconds
    if seconds > cap:
        raise CapReached(
            f"checking all {network.layout.size:,} parameters takes 2P = {2 * network.layout.size:,} forward "
            f"passes, about {seconds:,.0f} s here, past this server's cap of {cap:g} s per request; check single "
            "parameters from the inspector instead",
            "takes_too_long",
            "",
            {"seconds": round(seconds, 1), "maximum": cap, "parameters": network.layout.size},
        )
    # On a copy of the network, off the training thread: the session keeps training meanwhile. It
    # is compute no scheduler account sees, so it counts in the caller's share (backprop_lab.server.classroom.quotas).
    with services.manager.ledger.holding(Resource.CHECKS, identity):
        check = await anyio.to_thread.run_sync(_quiet_check, objective)
    return JSONBody(gradient_check_view(check, network.layout))


def _quiet_check(objective: Objective) -> GradientCheck:
    with np.errstate(all="ignore"):
        return check_gradients(objective)
