"""REST v1 jobs (docs/api.md, "Jobs"): submit long work, follow its progress, cancel it, read its
result. Thin routes: `backprop_lab.server.jobs.service` plans, runs and keeps the jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response

from backprop_lab.server.deps import IdentityDep, ServicesDep
from backprop_lab.server.web.errors import JSONBody
from backprop_lab.server.wire.error_models import error_responses
from backprop_lab.server.wire.job_models import (
    RANGE_TEST_EXAMPLE,
    SWEEP_EXAMPLE,
    TRAINING_EXAMPLE,
    JobIn,
    JobListOut,
    JobOut,
)

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
JobId = Annotated[str, Path(min_length=1, max_length=64, description="The id POST /api/v1/jobs returned.")]
EXAMPLES = {
    "sweep": {"summary": "Eight learning rates, 20,000 steps each", "value": SWEEP_EXAMPLE},
    "range_test": {"summary": "A range test of 50,000 steps", "value": RANGE_TEST_EXAMPLE},
    "training": {"summary": "200,000 steps of one of your sessions", "value": TRAINING_EXAMPLE},
}


@router.post(
    "",
    status_code=201,
    response_model=JobOut,
    responses=error_responses(404, 409, 413, 429),
    operation_id="submit_job",
    summary="Submit long work as a job: a sweep, a range test or a training",
    description="The job is planned (its cost estimated on this server) and answered at once, `queued`; it then "
    "runs on the training threads in slices, sharing them fairly with everyone's sessions. Its caps are a job's, "
    "far above one request's (`jobs` in `/api/v1/options`). 429 past a job cap (`params.fits` says what would "
    "fit) or when you hold your share of jobs (`student_quota`) or the server holds its cap of them. 404 for a "
    "training job on a session that is not yours.",
)
async def submit_job(
    body: Annotated[JobIn, Body(openapi_examples=EXAMPLES)], services: ServicesDep, identity: IdentityDep
) -> Response:
    job = await services.jobs.submit(body, identity)
    ttl = services.settings.jobs.result_ttl_seconds
    return JSONBody(job.view(ttl), status_code=201, headers={"Location": f"/api/v1/jobs/{job.id}"})


@router.get(
    "",
    response_model=JobListOut,
    operation_id="list_jobs",
    summary="Your jobs, newest first",
    description="Queued, running and finished jobs (a finished one until it expires), without their results: "
    "read a job for its result. In classroom mode a student sees only their own; the teacher sees all.",
)
async def list_jobs(services: ServicesDep, identity: IdentityDep) -> Response:
    ttl = services.settings.jobs.result_ttl_seconds
    return JSONBody({"jobs": [job.view(ttl, with_result=False) for job in services.jobs.listed(identity)]})


@router.get(
    "/{job_id}",
    response_model=JobOut,
    responses=error_responses(404),
    operation_id="read_job",
    summary="A job's state, progress and, once done, its result",
    description="`progress` says how far it is (`done` of `total`, the `fraction`, the time left, estimated); "
    "`result` is set once `state` is `done`, `error` once it is `failed`. A finished job is kept until "
    "`expires`, then 404.",
)
async def read_job(job_id: JobId, services: ServicesDep, identity: IdentityDep) -> Response:
    job = services.jobs.owned(job_id, identity)
    return JSONBody(job.view(services.settings.jobs.result_ttl_seconds))


@router.post(
    "/{job_id}/cancel",
    response_model=JobOut,
    responses=error_responses(404),
    operation_id="cancel_job",
    summary="Stop a job, keeping it to read",
    description="A queued or running job stops before its next slice (within a second) and gives its place in "
    "your share back before this answers; its state is then `cancelled`. A finished job is left as it is.",
)
async def cancel_job(job_id: JobId, services: ServicesDep, identity: IdentityDep) -> Response:
    job = services.jobs.owned(job_id, identity)
    await services.jobs.cancel(job)
    return JSONBody(job.view(services.settings.jobs.result_ttl_seconds))


@router.delete(
    "/{job_id}",
    status_code=204,
    responses=error_responses(404),
    operation_id="delete_job",
    summary="Stop a job if it runs, and forget it and its result",
    description="As cancel, then the job is dropped: reading it again is 404.",
)
async def delete_job(job_id: JobId, services: ServicesDep, identity: IdentityDep) -> Response:
    job = services.jobs.owned(job_id, identity)
    await services.jobs.delete(job)
    return Response(status_code=204)
