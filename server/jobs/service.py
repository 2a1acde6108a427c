"""Jobs: long work that runs off the request (docs/api.md, "Jobs").

`POST /api/v1/jobs` plans the work on a training thread (builds what it needs, estimates its
cost) and, if it fits the job caps (`JobLimits`) and the caller's share (`Resource.JOBS`, the
same ledger as sessions and sweeps: a student's share, an address's, the server's cap with its
reserve), answers at once while the job runs:

- a sweep or a range test takes turns on the training threads in a lane of its owner's account
  (`backprop_lab.server.runtime.scheduler`), each turn `SLICE_SECONDS` long, so a student's job
  shares the threads as fairly as their sessions do; each turn resubmits the next from the
  training thread, so a running job costs the event loop nothing;
- a training job asks its session for one chunk of steps after another, from a task on the
  event loop.

A job's state moves queued → running → done, failed or cancelled (`JobState`; never back). A
cancel stops it before its next turn (or a training chunk's next slice): a queued turn is withdrawn,
a running one ends within a turn, and only then is its share given back. A finished job keeps its result for
`JobLimits.result_ttl_seconds` (and at most `max_kept_per_owner` of them an owner, `max_kept` in all), then it is
dropped. Jobs belong to whoever submitted them: another's job answers as an unknown id (404).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import threading
import time
from concurrent.futures import Future
from typing import Any, Protocol

from backprop_lab.engine.config import Config
from backprop_lab.server.classroom.identity import Identity
from backprop_lab.server.classroom.quotas import Claim, Resource
from backprop_lab.server.jobs import work
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.live.session import Session
from backprop_lab.server.runtime.scheduler import Lane, Scheduler
from backprop_lab.server.settings import Settings
from backprop_lab.server.wire.config_models import to_engine_config
from backprop_lab.server.wire.job_models import JobIn, JobState, RangeTestJobIn, SweepJobIn, TrainingJobIn
from backprop_lab.server.wire.problems import CapReached, Conflict, InvalidInput, NotFound, Unavailable

logger = logging.getLogger(__name__)
JSON = dict[str, Any]
CANCEL_WAIT_SECONDS = 2.0  # a cancel waits this long for a running turn to end (a turn is far shorter)


FINISHED = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)
# the allowed moves (a state machine, as a session's)
MOVES = {
    JobState.QUEUED: {JobState.RUNNING, JobState.FAILED, JobState.CANCELLED},
    JobState.RUNNING: {JobState.DONE, JobState.FAILED, JobState.CANCELLED},
}


class SlicedWork(Protocol):
    total: int

    def advance(self, deadline: float) -> bool: ...

    def done(self) -> int: ...

    def result(self) -> JSON: ...


class Job:
    """One job: what was asked, its state and progress, and its result once done. Its fields
    change on a training thread or the event loop, always under `lock`."""

    def __init__(self, job_id: str, kind: str, request: JSON, claim: Claim, total: int, estimated_seconds: float,
                 loop: asyncio.AbstractEventLoop):
        self.id = job_id
        self.kind = kind
        self.request = request
        self.claim = claim  # its place in the owner's share, given back when it ends
        self.owner = claim.identity.id
        self.total = total
        self.estimated_seconds = estimated_seconds
        self.created = time.time()
        self.started: float | None = None
        self.finished: float | None = None
        self.state = JobState.QUEUED
        self.done = 0
        self.elapsed = 0.0  # compute time of its turns (a training job: time since it started)
        self.result: JSON | None = None
        self.error: JSON | None = None
        self.lock = threading.Lock()
        self.cancelling = False
        self.stop = threading.Event()  # set with `cancelling`: a running training chunk ends before its next slice
        self.turn_running = False
        self.pending: Future[None] | None = None  # the next turn, queued on the training threads
        self.ended = asyncio.Event()  # set (on the loop) once it has stopped, whatever the end
        self._loop = loop

    # --- under self.lock ------------------------------------------------------------------
    def _move(self, target: JobState) -> None:
        if target not in MOVES.get(self.state, set()):
            raise RuntimeError(f"a job cannot go from {self.state.value} to {target.value}")
        self.state = target

    def start(self) -> None:
        if self.state is JobState.QUEUED:
            self._move(JobState.RUNNING)
            self.started = time.time()

    def end(self, state: JobState, result: JSON | None = None, error: JSON | None = None) -> None:
        """The job's end: its state, result or error; its share given back; `ended` set."""
        if self.state in FINISHED:
            return
        self._move(state)
        self.finished = time.time()
        self.result, self.error = result, error
        self.pending = None
        self.claim.release()
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
            self._loop.call_soon_threadsafe(self.ended.set)

    # --- reading ----------------------------------------------------------------------------
    def view(self, ttl: float, with_result: bool = True) -> JSON:
        with self.lock:
            fraction = min(1.0, self.done / self.total) if self.total else 1.0
            if self.state is JobState.DONE:
                fraction = 1.0
            seconds_left: float | None = None
            if self.state is JobState.QUEUED:
                seconds_left = self.estimated_seconds
            elif self.state is JobState.RUNNING and fraction > 0:
                seconds_left = round(self.elapsed / fraction * (1.0 - fraction), 3)
            elif self.state in FINISHED:
                seconds_left = 0.0
            return {
                "id": self.id,
                "kind": self.kind,
                "state": self.state.value,
                "created": self.created,
                "started": self.started,
                "finished": self.finished,
                "expires": None if self.finished is None else self.finished + ttl,
                "estimated_seconds": round(self.estimated_seconds, 3),
                "progress": {"done": self.total if self.state is JobState.DONE else self.done, "total": self.total,
                             "fraction": fraction, "elapsed_seconds": round(self.elapsed, 3),
                             "seconds_left": seconds_left},
                "request": self.request,
                "result": self.result if with_result else None,
                "error": self.error,
            }


def start_chunk(session: Session, steps: int, stop: threading.Event) -> tuple[int, Future[None]]:
    """In the session's lane: its step count now, and its `…/step` of `steps` steps started (ended
    early, between two slices, once `stop` is set)."""
    return session.trainer.step_count, session.start_steps(steps, streamed=False, stop=stop)


def failure(error: BaseException) -> JSON:
    """A job's error as a refusal says it: `detail`, `code`, `field`, `params`."""
    if isinstance(error, CapReached | InvalidInput):
        return {"detail": error.message, "code": error.code, "field": error.field, "params": error.params}
    if isinstance(error, NotFound):
        return {"detail": error.message, "code": "session_closed", "field": "session_id", "params": {}}
    if isinstance(error, Unavailable):
        return {"detail": error.message, "code": error.code, "field": None, "params": error.params}
    if isinstance(error, Conflict):
        return {"detail": error.message, "code": error.code, "field": None, "params": {}}
    return {"detail": "the job failed; the server log has the details", "code": "internal", "field": None,
            "params": {}}


class JobService:
    """Every job of the server: submits, runs, cancels, expires them. Lives on the event loop."""

    def __init__(self, settings: Settings, scheduler: Scheduler, manager: SessionManager,
                 loop: asyncio.AbstractEventLoop):
        self.settings = settings
        self.limits = settings.jobs
        self.scheduler = scheduler
        self.manager = manager
        self.loop = loop
        self._jobs: dict[str, Job] = {}  # oldest first
        self._tasks: set[asyncio.Task[None]] = set()  # training jobs' drivers

    # --- submitting -----------------------------------------------------------------------
    async def submit(self, body: JobIn, identity: Identity) -> Job:
        """Plan `body`'s work (429 past a job cap, 422 for a bad config, 404 for another's
        session) and start it under a claim of the caller's jobs share."""
        self.expire()
        claim = self.manager.ledger.claim(Resource.JOBS, identity)
        try:
            if isinstance(body, TrainingJobIn):
                return await self._submit_training(body, identity, claim)
            return await self._submit_sliced(body, identity, claim)
        except BaseException:
            claim.release()
            raise

    def _new_job(self, body: JobIn, claim: Claim, total: int, seconds: float) -> Job:
        job = Job(secrets.token_urlsafe(12), body.kind, body.model_dump(mode="json"), claim, total, seconds, self.loop)
        self._jobs[job.id] = job
        return job

    async def _submit_sliced(self, body: SweepJobIn | RangeTestJobIn, identity: Identity, claim: Claim) -> Job:
        config = to_engine_config(body.config, Config())
        table = self.manager.table_for(config.dataset, ("body", "config"))
        self.manager.check_caps(config, table)
        lane = Lane(f"job-{body.kind}", self.manager.account_of(identity))
        limits = self.limits

        def plan() -> tuple[SlicedWork, float]:
            if isinstance(body, SweepJobIn):
                return work.plan_sweep(config, table, list(body.learning_rates), body.steps, body.record_every,
                                       limits)
            return work.plan_range_test(config, table, body.min_rate, body.max_rate, body.steps, limits)

        sliced, seconds = await asyncio.wrap_future(self.scheduler.submit(plan, urgent=True, lane=lane))
        job = self._new_job(body, claim, sliced.total, seconds)
        try:
            with job.lock:
                job.pending = self.scheduler.submit(lambda: self._turn(job, sliced, lane), urgent=False, lane=lane)
        except Unavailable:  # the server is shutting down: the job never was
            del self._jobs[job.id]
            raise
        return job

    async def _submit_training(self, body: TrainingJobIn, identity: Identity, claim: Claim) -> Job:
        try:
            session = self.manager.owned(body.session_id, identity)
        except NotFound as missing:
            raise NotFound(f"{missing.message}; a training job needs one of your sessions") from None
        self.manager.training_gate(session.owner)
        per_step = await session.run(session.step_seconds)
        plan = work.plan_training(body.steps, per_step, self.limits)
        job = self._new_job(body, claim, plan.steps, plan.seconds)
        task = asyncio.create_task(self._train(job, session), name=f"job-{job.id[:8]}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    # --- running (a training thread) ------------------------------------------------------
    def _turn(self, job: Job, sliced: SlicedWork, lane: Lane) -> None:
        """One turn of a sweep or range test; queues the next unless it ended."""
        with job.lock:
            job.pending = None
            if job.cancelling:
                job.end(JobState.CANCELLED)
                return
            job.start()
            job.turn_running = True
        started = time.perf_counter()
        try:
            finished = sliced.advance(started + work.SLICE_SECONDS)
            result = sliced.result() if finished else None
        except Exception as error:  # the job fails, not the server: its owner reads why
            if not isinstance(error, CapReached | InvalidInput):
                logger.exception("job %s failed", job.id[:8])
            with job.lock:
                job.turn_running = False
                job.end(JobState.FAILED, error=failure(error))
            return
        with job.lock:
            job.turn_running = False
            job.elapsed += time.perf_counter() - started
            job.done = sliced.done()
            if job.cancelling:
                job.end(JobState.CANCELLED)
            elif result is not None:
                job.end(JobState.DONE, result=result)
            else:
                try:
                    job.pending = self.scheduler.submit(lambda: self._turn(job, sliced, lane), urgent=False, lane=lane)
                except Unavailable as stopped:  # the server is shutting down
                    job.end(JobState.FAILED, error=failure(stopped))

    # --- running (the event loop): a training job -------------------------------------------
    async def _train(self, job: Job, session: Session) -> None:
        started = time.perf_counter()
        with job.lock:
            job.start()
        try:
            while True:
                with job.lock:
                    if job.cancelling:
                        job.end(JobState.CANCELLED)
                        return
                    left = job.total - job.done
                if left <= 0:
                    break
                self.manager.training_gate(session.owner)  # the teacher paused the class: it fails
                diverged, per_step = await session.run(lambda: (session.diverged is not None, session.step_seconds()))
                if diverged:
                    break
                chunk = work.chunk_of(per_step, left)
                before, done = await session.run(functools.partial(start_chunk, session, chunk, job.stop))
                await asyncio.wrap_future(done)
                after = await session.run(lambda: session.trainer.step_count)
                with job.lock:
                    job.done += min(chunk, max(0, after - before))
                    job.elapsed = time.perf_counter() - started
            result = {"session": await session.run(session.view), "steps_trained": job.done}
        except Exception as error:
            if not isinstance(error, NotFound | CapReached | InvalidInput | Unavailable | Conflict):
                logger.exception("job %s failed", job.id[:8])
            with job.lock:
                job.end(JobState.FAILED, error=failure(error))
            return
        with job.lock:
            job.elapsed = time.perf_counter() - started
            if job.cancelling:
                job.end(JobState.CANCELLED)
            else:
                job.end(JobState.DONE, result=result)

    # --- finding, cancelling, forgetting ----------------------------------------------------
    def owned(self, job_id: str, identity: Identity) -> Job:
        """The job, when `identity` submitted it (or is the teacher); otherwise 404, as for an unknown id."""
        self.expire()
        job = self._jobs.get(job_id)
        if job is None or not identity.owns(job.owner):
            raise NotFound(f"no job {job_id[:64]!r} (a finished job is kept for "
                           f"{self.limits.result_ttl_seconds:g} s)")
        return job

    def listed(self, identity: Identity) -> list[Job]:
        """The caller's jobs (the teacher's: everyone's), newest first."""
        self.expire()
        return [job for job in reversed(self._jobs.values()) if identity.owns(job.owner)]

    async def cancel(self, job: Job) -> None:
        """Stop `job` (nothing when it has ended): a queued turn is withdrawn, a running one ends
        first. Returns once it has stopped and given its share back."""
        with job.lock:
            if job.state in FINISHED:
                return
            job.cancelling = True
            job.stop.set()
            pending = job.pending
            if not job.turn_running and pending is not None and pending.cancel():
                job.end(JobState.CANCELLED)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(job.ended.wait(), CANCEL_WAIT_SECONDS)

    async def delete(self, job: Job) -> None:
        """Cancel `job` if it runs, then forget it and its result."""
        await self.cancel(job)
        self._jobs.pop(job.id, None)

    def expire(self, now: float | None = None) -> None:
        """Drop finished jobs past their time to live, each owner's oldest finished ones past
        `max_kept_per_owner`, and the server's oldest past `max_kept`."""
        now = time.time() if now is None else now
        ttl = self.limits.result_ttl_seconds
        kept: dict[str, int] = {}
        everyone = 0
        for job in reversed(list(self._jobs.values())):  # newest first
            if job.finished is None:
                continue
            kept[job.owner] = kept.get(job.owner, 0) + 1
            everyone += 1
            if (now - job.finished > ttl or kept[job.owner] > self.limits.max_kept_per_owner
                    or everyone > self.limits.max_kept):
                del self._jobs[job.id]

    async def expire_forever(self) -> None:
        interval = min(self.settings.timing.reap_interval_seconds, max(self.limits.result_ttl_seconds / 4, 0.05))
        while True:
            await asyncio.sleep(interval)
            self.expire()

    def running(self) -> int:
        return sum(1 for job in self._jobs.values() if job.state not in FINISHED)

    def close(self) -> None:
        """At shutdown: every job still queued or running is cancelled (the training threads stop after)."""
        for job in list(self._jobs.values()):
            with job.lock:
                if job.state in FINISHED:
                    continue
                job.cancelling = True
                job.stop.set()
                if job.pending is not None:
                    job.pending.cancel()
                job.end(JobState.CANCELLED)
        for task in self._tasks:
            task.cancel()
