"""REST v1, the learning-rate lab (docs/api.md, "Learning-rate lab"): a sweep of learning rates
from one start, the loss line of a session, and the learning-rate range test.

Thin routes: the schemas validate, `server.lab` estimates the cost (429 past the cap) and runs
the work on the training threads, never on the event loop. A sweep or range test whose client
leaves stops and frees its slot (`server.disconnects`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from engine.config import Config
from engine.lr_lab import loss_line
from engine.trainer import Trainer
from server import lab
from server.deps import IdentityDep, LabDep, SessionDep
from server.disconnects import while_connected
from server.errors import JSONBody
from server.problems import CapReached
from server.quotas import Resource
from server.scheduler import Lane
from server.schemas import (
    LossLineIn,
    LossLineOut,
    LrSweepIn,
    LrSweepOut,
    RangeTestIn,
    RangeTestOut,
    error_responses,
    to_engine_config,
)

router = APIRouter(prefix="/api/v1", tags=["learning-rate lab"])


@router.post(
    "/lr-sweep",
    response_model=LrSweepOut,
    responses=error_responses(413, 429),
    summary="Race learning rates: copies of one config, identical initial weights and data order",
    description="Each copy trains `steps` steps at its own rate; a copy whose loss or weights would become "
    "non-finite stops there and is marked diverged at that step. 429 when the training would take longer "
    "than one request may compute, or when too many sweeps and range tests run at once.",
)
async def lr_sweep(body: LrSweepIn, app: LabDep, identity: IdentityDep, request: Request) -> Response:
    config = to_engine_config(body.config, Config())
    table = app.manager.table_for(config.dataset, ("body", "config"))
    app.manager.check_caps(config, table)
    limits = app.settings.limits
    if body.steps > limits.max_steps_per_request:
        raise CapReached(f"steps: at most {limits.max_steps_per_request:,} steps per request on this server")
    record_every = body.record_every or lab.default_record_every(body.steps)
    sweep = lab.Sweep(config, table, body.learning_rates, body.steps, record_every,
                      limits.max_request_seconds)
    with app.manager.ledger.holding(Resource.SWEEPS, identity):
        work = lab.run_in_slices(app.scheduler, Lane("lr-sweep", app.manager.account_of(identity)), sweep.advance)
        await while_connected(request, lab.until_ended(work))
    return JSONBody(sweep.view())


@router.post(
    "/sessions/{session_id}/loss-line",
    response_model=LossLineOut,
    responses=error_responses(404, 413, 429),
    summary="The U-curve: the loss of θ − η·g along the full-batch gradient, η from 0 to a multiple of the rate",
)
async def read_loss_line(
    session: SessionDep, app: LabDep, body: Annotated[LossLineIn | None, Body()] = None
) -> Response:
    request = body or LossLineIn()
    cap = app.settings.limits.max_request_seconds

    def compute(trainer: Trainer) -> dict:
        lab.check_line_cost(trainer, request.points, cap)
        return lab.line_view(loss_line(trainer, request.points, request.max_rate_multiple))

    return JSONBody(await session.read(compute))


@router.post(
    "/lr-range-test",
    response_model=RangeTestOut,
    responses=error_responses(413, 429),
    summary="The learning-rate range test: the rate grows exponentially per step; the loss says which rate",
)
async def lr_range_test(body: RangeTestIn, app: LabDep, identity: IdentityDep, request: Request) -> Response:
    lab.check_range(body.min_rate, body.max_rate)
    config = to_engine_config(body.config, Config())
    table = app.manager.table_for(config.dataset, ("body", "config"))
    app.manager.check_caps(config, table)
    cap = app.settings.limits.max_request_seconds
    with app.manager.ledger.holding(Resource.SWEEPS, identity):
        work = app.scheduler.submit(
            lambda: lab.run_range_test(config, table, body.min_rate, body.max_rate, body.steps, cap),
            urgent=False, lane=Lane("lr-range-test", app.manager.account_of(identity)),
        )
        test = await while_connected(request, lab.until_ended(work))
    return JSONBody(lab.range_view(test))
