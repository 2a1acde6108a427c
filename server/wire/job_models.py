"""Wire models of jobs (docs/api.md, "Jobs"): long work submitted with `POST /api/v1/jobs` that
runs off the request — a sweep of learning rates, a range test, or N training steps of a
session — its state, its progress and, once done, its result.

The bounds here are what the API accepts at all (422 outside); the server's own caps, lower,
are `backprop_lab.server.settings.JobLimits` (429 past them, with what would fit).
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backprop_lab.engine.lr_lab import RANGE_TEST_STEPS
from backprop_lab.server.wire.analysis_models import LrSweepOut, RangeTestIn, RangeTestOut
from backprop_lab.server.wire.config_models import ConfigIn, LearningRate, _Input
from backprop_lab.server.wire.session_models import SessionOut

MAX_JOB_STEPS = 100_000_000  # what a job's `steps` may name at all; the server's cap is lower
MAX_JOB_RATES = 1024  # learning rates one sweep job may name at all
JobKind = Literal["sweep", "range_test", "training"]


class JobState(enum.Enum):
    """A job's life: queued → running → done, failed or cancelled (never back)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


SWEEP_EXAMPLE: dict[str, Any] = {"kind": "sweep", "config": {"dataset": "spiral", "hidden_layers": [8, 8]},
                                 "learning_rates": [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3], "steps": 20000}
RANGE_TEST_EXAMPLE: dict[str, Any] = {"kind": "range_test", "config": {"dataset": "circle"}, "min_rate": 1e-5,
                                      "max_rate": 10, "steps": 50000}
TRAINING_EXAMPLE: dict[str, Any] = {"kind": "training", "session_id": "mD0kTqQ3cXh2V1u9Zr7bNw", "steps": 200000}


class SweepJobIn(_Input):
    """A sweep of learning rates as a job: `POST /api/v1/lr-sweep`'s body, without its limits of
    one request (more rates, more steps; trained eight copies at a time)."""

    model_config = ConfigDict(json_schema_extra={"examples": [SWEEP_EXAMPLE]})

    kind: Literal["sweep"]
    config: ConfigIn = Field(default_factory=ConfigIn, description="Fields left out take the defaults.")
    learning_rates: Annotated[list[LearningRate], Field(min_length=1, max_length=MAX_JOB_RATES)]
    steps: Annotated[int, Field(ge=1, le=MAX_JOB_STEPS)] = 1000
    record_every: Annotated[int, Field(ge=1, le=MAX_JOB_STEPS)] | None = Field(
        default=None, description="Steps between history points; null: every step up to 500 steps, else "
        "about 500 points in all (as the synchronous sweep)."
    )


class RangeTestJobIn(_Input):
    """A learning-rate range test as a job: `POST /api/v1/lr-range-test`'s body, with more steps."""

    model_config = ConfigDict(json_schema_extra={"examples": [RANGE_TEST_EXAMPLE]})

    kind: Literal["range_test"]
    config: ConfigIn = Field(default_factory=ConfigIn, description="Fields left out take the defaults.")
    min_rate: LearningRate = 1e-4
    max_rate: LearningRate = 10.0
    steps: Annotated[int, Field(ge=RANGE_TEST_STEPS.low, le=MAX_JOB_STEPS)] = RangeTestIn.model_fields["steps"].default


class TrainingJobIn(_Input):
    """`steps` training steps of one of your sessions, as `…/step` would train them (the same
    weights, bit for bit), in slices: the session stays usable meanwhile."""

    model_config = ConfigDict(json_schema_extra={"examples": [TRAINING_EXAMPLE]})

    kind: Literal["training"]
    session_id: Annotated[str, Field(min_length=1, max_length=64, description="The session to train.")]
    steps: Annotated[int, Field(ge=1, le=MAX_JOB_STEPS)]


JobIn = Annotated[SweepJobIn | RangeTestJobIn | TrainingJobIn, Field(discriminator="kind")]


class ProgressOut(BaseModel):
    """How far a job is, and how long it may still take."""

    done: int = Field(description="Units of work done: steps of all copies together for a sweep, steps otherwise.")
    total: int = Field(description="Units of work in all.")
    fraction: float = Field(description="done / total, from 0 to 1.")
    elapsed_seconds: float = Field(description="Compute time since the job started (0 while queued).")
    seconds_left: float | None = Field(description="An estimate of the time left (null: not known yet).")


class JobErrorOut(BaseModel):
    """Why a job failed, as a refusal says it (docs/api.md, "Errors")."""

    detail: str
    code: str
    field: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class TrainingResultOut(BaseModel):
    """A training job's end: the session as `…/step` answers it, and the steps this job trained
    (fewer than asked when the session diverged)."""

    session: SessionOut
    steps_trained: int


class JobOut(BaseModel):
    """A job: what was asked, where it is, and its result once done (docs/api.md, "Jobs")."""

    id: str
    kind: JobKind
    state: JobState = Field(description="queued → running → done, failed or cancelled.")
    created: float = Field(description="Unix time the job was accepted.")
    started: float | None = Field(description="Unix time its first slice ran.")
    finished: float | None = Field(description="Unix time it ended.")
    expires: float | None = Field(description="Unix time a finished job and its result are dropped.")
    estimated_seconds: float = Field(description="The compute time the server expected when it accepted the job.")
    progress: ProgressOut
    request: dict[str, Any] = Field(description="The body the job was submitted with.")
    result: LrSweepOut | RangeTestOut | TrainingResultOut | None = Field(
        description="Once `done`: a sweep's as `POST /api/v1/lr-sweep`, a range test's as `POST "
        "/api/v1/lr-range-test`, a training's the session; null before."
    )
    error: JobErrorOut | None = Field(description="Once `failed`: why.")


class JobListOut(BaseModel):
    """The caller's jobs (`GET /api/v1/jobs`)."""

    jobs: list[JobOut] = Field(description="Your jobs, newest first, without their results (read one for it).")


class JobOptionsOut(BaseModel):
    """What a job may ask for on this server (docs/api.md, "Jobs"); 429 past any of these."""

    kinds: list[JobKind] = Field(description="What `kind` may name.")
    max_seconds: float = Field(description="Estimated compute time of one job.")
    max_steps: int = Field(description="Steps of a sweep's copies, or of a training job.")
    max_rates: int = Field(description="Learning rates of one sweep (trained eight at a time).")
    max_range_test_steps: int = Field(description="Steps of one range test.")
    max_history_points: int = Field(description="Points of each sweep copy's loss history.")
    result_ttl_seconds: float = Field(description="A finished job and its result are kept this long, then dropped.")
    max_kept_per_owner: int = Field(description="Finished jobs kept per owner; past it the oldest is dropped first.")
    max_kept: int = Field(description="Finished jobs kept server-wide; past it the oldest is dropped first.")
    max_jobs: int = Field(description="Jobs queued or running at once, server-wide (`limits.max_jobs`).")
