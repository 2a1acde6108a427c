"""Jobs (docs/api.md, "Jobs"): long work the server runs off the request — a sweep of learning
rates, a range test, N training steps of a session — submitted, followed, cancelled and read.

    jobs = Jobs(transport)
    job = jobs.submit_sweep([0.001, 0.01, 0.1, 1.0], steps=200_000, config={"dataset": "spiral"})
    done = jobs.wait(job["id"], progress=lambda view: print(view["progress"]["fraction"]))
    done["result"]["runs"]  # as POST /api/v1/lr-sweep answers

Views are the server's JSON (`JobOut`): `state`, `progress` (`done`, `total`, `fraction`,
`seconds_left`), and `result` once `state` is `done`. A refusal raises `ApiError`; a 429 says
in `params["fits"]` what would fit and in `retry_after` when to try again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from backprop_lab.client.transport import ApiError, Transport

JSON = dict[str, Any]
FINISHED = ("done", "failed", "cancelled")
POLL_SECONDS = 0.25  # how often `wait` reads the job (a job's turn is far shorter; its progress moves smoothly)


class JobFailed(Exception):
    """`wait` on a job that ended failed or cancelled: its last view, and its error's `code`."""

    def __init__(self, view: JSON):
        error = view.get("error") or {}
        super().__init__(f"job {view['id']} {view['state']}: {error.get('detail', 'cancelled')}")
        self.view = view
        self.code: str | None = error.get("code")


class Jobs:
    """The jobs of the caller (in classroom mode, a student's own; the teacher's: everyone's)."""

    def __init__(self, transport: Transport):
        self.transport = transport

    def submit(self, body: JSON) -> JSON:
        """Submit any job: `body` is `POST /api/v1/jobs`'s, its `kind` one of sweep, range_test, training."""
        view: JSON = self.transport.json("POST", "/api/v1/jobs", json=body)
        return view

    def submit_sweep(self, learning_rates: list[float], steps: int, config: JSON | None = None,
                     record_every: int | None = None) -> JSON:
        """A sweep: copies of `config` from identical weights and data order, one per rate."""
        body: JSON = {"kind": "sweep", "config": config or {}, "learning_rates": list(learning_rates),
                      "steps": steps}
        if record_every is not None:
            body["record_every"] = record_every
        return self.submit(body)

    def submit_range_test(self, min_rate: float, max_rate: float, steps: int, config: JSON | None = None) -> JSON:
        """A learning-rate range test: the rate grows exponentially from `min_rate` to `max_rate`."""
        return self.submit({"kind": "range_test", "config": config or {}, "min_rate": min_rate,
                            "max_rate": max_rate, "steps": steps})

    def submit_training(self, session_id: str, steps: int) -> JSON:
        """`steps` training steps of one of your sessions, as `…/step` would train them."""
        return self.submit({"kind": "training", "session_id": session_id, "steps": steps})

    def get(self, job_id: str) -> JSON:
        """The job's view: its state, progress and, once done, its result."""
        view: JSON = self.transport.json("GET", f"/api/v1/jobs/{job_id}")
        return view

    def list(self) -> list[JSON]:
        """Your jobs, newest first, without their results."""
        jobs: list[JSON] = self.transport.json("GET", "/api/v1/jobs")["jobs"]
        return jobs

    def cancel(self, job_id: str) -> JSON:
        """Stop the job (the server answers once it has stopped); its view, `cancelled` unless it had ended."""
        view: JSON = self.transport.json("POST", f"/api/v1/jobs/{job_id}/cancel")
        return view

    def delete(self, job_id: str) -> None:
        """Stop the job if it runs, and have the server forget it and its result."""
        self.transport.request("DELETE", f"/api/v1/jobs/{job_id}")

    def wait(self, job_id: str, progress: Callable[[JSON], None] | None = None, timeout: float | None = None,
             poll: float = POLL_SECONDS) -> JSON:
        """Read the job until it ends and return its last view (with the result). `progress` is
        called with each view read while it is queued or running. A job that failed or was
        cancelled raises `JobFailed`; past `timeout` seconds, `TimeoutError` (the job runs on:
        cancel it if it is no longer wanted)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            view = self.get(job_id)
            if view["state"] == "done":
                return view
            if view["state"] in FINISHED:
                raise JobFailed(view)
            if progress is not None:
                progress(view)
            if deadline is not None and time.monotonic() + poll > deadline:
                raise TimeoutError(f"job {job_id} is still {view['state']} after {timeout:g} s "
                                   f"({view['progress']['fraction']:.0%} done)")
            time.sleep(poll)


__all__ = ["ApiError", "JobFailed", "Jobs"]
