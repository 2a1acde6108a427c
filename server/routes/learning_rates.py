"""REST v1, the learning-rate lab (docs/api.md, "Learning-rate lab"): a sweep of learning rates
from one start, the loss line of a session, and the learning-rate range test.

Thin routes: the schemas validate, `server.analyses.rate_experiments` estimates the cost (429 past the cap) and runs
the work on the training threads, never on the event loop. A sweep or range test whose client
leaves stops and frees its slot (`backprop_lab.server.runtime.disconnects`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from backprop_lab.engine.config import Config
from backprop_lab.engine.lr_lab import loss_line
from backprop_lab.engine.trainer import Trainer
from backprop_lab.server.analyses import rate_experiments
from backprop_lab.server.classroom.quotas import Resource
from backprop_lab.server.deps import IdentityDep, ServicesDep, SessionDep
from backprop_lab.server.runtime.disconnects import while_connected
from backprop_lab.server.runtime.scheduler import Lane
from backprop_lab.server.web.errors import JSONBody
from backprop_lab.server.wire.analysis_models import (
    LossLineIn,
    LossLineOut,
    LrSweepIn,
    LrSweepOut,
    RangeTestIn,
    RangeTestOut,
)
from backprop_lab.server.wire.config_models import to_engine_config
from backprop_lab.server.wire.error_models import error_responses
from backprop_lab.server.wire.problems import CapReached

router = APIRouter(prefix="/api/v1", tags=["learning-rate lab"])


@router.post(
    "/lr-sweep",
    operation_id="sweep_learning_rates",
    response_model=LrSweepOut,
    responses=error_responses(413, 429),
    summary="Race learning rates: copies of one config, identical initial weights and data order",
    description="Each copy trains `steps` steps at its own rate; a copy whose loss or weights would become "
    "non-finite stops there and is marked diverged at that step. 429 when the training would take longer "
    "than one request may compute, or when too many sweeps and range tests run at once.",
)
async def lr_sweep(body: LrSweepIn, app: ServicesDep, identity: IdentityDep, request: Request) -> Response:
    config = to_engine_config(body.config, Config())
    table = app.manager.table_for(config.dataset, ("body", "config"))
    app.manager.check_caps(config, table)
    limits = app.settings.limits
    if body.steps > limits.max_steps_per_request:
        raise CapReached(f"steps: at most {limits.max_steps_per_request:,} steps per request on this server; "
                         "a longer sweep runs as a job (POST /api/v1/jobs)", "too_many_steps", "steps",
                         {"value": body.steps, "maximum": limits.max_steps_per_request})
    record_every = body.record_every or rate_experiments.default_record_every(body.steps)
    sweep = rate_experiments.Sweep(config, table, body.learning_rates, body.steps, record_every,
                      limits.max_request_seconds)
    with app.manager.ledger.holding(Resource.SWEEPS, identity):
        lane = Lane("lr-sweep", app.manager.account_of(identity))
        work = rate_experiments.run_in_slices(app.scheduler, lane, sweep.advance)
        await while_connected(request, rate_experiments.until_ended(work))
    return JSONBody(sweep.view())


@router.post(
    "/sessions/{session_id}/loss-line",
    operation_id="compute_loss_line",
    response_model=LossLineOut,
    responses=error_responses(404, 413, 429),
    summary="The U-curve: the loss of θ − η·g along the full-batch gradient, η from 0 to a multiple of the rate",
    description="The data loss on the training split at `points` rates evenly spaced from 0 to "
    "`max_rate_multiple` × the session's learning rate, g the full-batch gradient of the objective at the current "
    "weights; where one step at the current rate lands, the best rate on the line and the first that overshoots. "
    "Nothing is trained. 429 when the line would take longer than one request may compute.",
)
async def read_loss_line(
    session: SessionDep, app: ServicesDep, body: Annotated[LossLineIn | None, Body()] = None
) -> Response:
    request = body or LossLineIn()
    cap = app.settings.limits.max_request_seconds

    def compute(trainer: Trainer) -> dict:
        rate_experiments.check_line_cost(trainer, request.points, cap)
        return rate_experiments.line_view(loss_line(trainer, request.points, request.max_rate_multiple,
                                                    request.spacing))

    return JSONBody(await session.read(compute))


@router.post(
    "/lr-range-test",
    operation_id="run_range_test",
    response_model=RangeTestOut,
    responses=error_responses(413, 429),
    summary="The learning-rate range test: the rate grows exponentially per step; the loss says which rate",
    description="Smith's range test (fastai's `lr_find`) on a fresh copy of `config`: step i trains one "
    "mini-batch at min_rate·(max_rate/min_rate)^(i/(steps−1)). It stops when the smoothed loss passes 4× its best "
    "or a step diverges; `suggested_rate` is where the smoothed loss falls fastest. 422 when `max_rate` is not "
    "above `min_rate`; 429 when it would take longer than one request may compute, or when too many sweeps and "
    "range tests run at once.",
)
async def lr_range_test(body: RangeTestIn, app: ServicesDep, identity: IdentityDep, request: Request) -> Response:
    rate_experiments.check_range(body.min_rate, body.max_rate)
    config = to_engine_config(body.config, Config())
    table = app.manager.table_for(config.dataset, ("body", "config"))
    app.manager.check_caps(config, table)
    cap = app.settings.limits.max_request_seconds
    with app.manager.ledger.holding(Resource.SWEEPS, identity):
        work = app.scheduler.submit(
            lambda: rate_experiments.run_range_test(config, table, body.min_rate, body.max_rate, body.steps, cap),
            urgent=False, lane=Lane("lr-range-test", app.manager.account_of(identity)),
        )
        test = await while_connected(request, rate_experiments.until_ended(work))
    return JSONBody(rate_experiments.range_view(test))
