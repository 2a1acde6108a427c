"""The client's jobs (backprop_lab.client.jobs) against a live server: submit each kind, wait with
progress, list, cancel, delete, and refusals as ApiError with what would fit."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from server_conftest import start_live  # tests/server/conftest.py, loaded by tests/client/conftest.py

from backprop_lab.client.jobs import JobFailed, Jobs
from backprop_lab.client.transport import ApiError, Transport
from backprop_lab.server.settings import JobLimits, Settings


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    """A live server (the server tests' `start_live`) with a low job cap on a range test's steps."""
    server = start_live(Settings(jobs=JobLimits(max_range_test_steps=20_000)))
    yield server.base
    server.stop()


@pytest.fixture
def jobs(base: str) -> Iterator[Jobs]:
    with Transport(base) as transport:
        yield Jobs(transport)


def test_a_sweep_job_waited_for_reports_progress_and_gives_the_synchronous_sweeps_numbers(jobs, base):
    config = {"dataset": "moons", "hidden_layers": [6, 6], "seed": 5}
    rates = [0.003, 0.03, 0.3, 3.0]
    job = jobs.submit_sweep(rates, steps=20_000, config=config, record_every=100)
    assert job["kind"] == "sweep" and job["state"] in ("queued", "running")
    seen: list[float] = []
    done = jobs.wait(job["id"], progress=lambda view: seen.append(view["progress"]["fraction"]), poll=0.02)
    assert done["state"] == "done" and seen == sorted(seen) and len(seen) >= 2
    synchronous = httpx.post(f"{base}/api/v1/lr-sweep", json={"config": config, "learning_rates": rates,
                                                              "steps": 20_000, "record_every": 100}, timeout=60)
    assert done["result"] == synchronous.json()
    assert job["id"] in [listed["id"] for listed in jobs.list()]


def test_a_range_test_and_a_training_job_run_to_their_end(jobs, base):
    test = jobs.wait(jobs.submit_range_test(1e-4, 10.0, 500, config={"dataset": "circle"})["id"])
    assert test["result"]["suggested_rate"] > 0 and len(test["result"]["rates"]) <= 500
    session = httpx.post(f"{base}/api/v1/sessions", json={"dataset": "xor"}, timeout=60).json()["id"]
    trained = jobs.wait(jobs.submit_training(session, 5000)["id"], timeout=60)
    assert trained["result"]["session"]["step"] == 5000 and trained["result"]["steps_trained"] == 5000


def test_cancel_stops_a_job_and_wait_then_raises_job_failed_and_delete_forgets_it(jobs):
    job = jobs.submit_sweep([0.01, 0.1], steps=1_000_000, config={"hidden_layers": [16, 16]})
    with pytest.raises(TimeoutError):
        jobs.wait(job["id"], timeout=0.3, poll=0.05)
    assert jobs.cancel(job["id"])["state"] == "cancelled"
    with pytest.raises(JobFailed) as failed:
        jobs.wait(job["id"])
    assert failed.value.view["state"] == "cancelled"
    jobs.delete(job["id"])
    with pytest.raises(ApiError) as missing:
        jobs.get(job["id"])
    assert missing.value.status == 404


def test_a_refusal_is_an_api_error_saying_what_would_fit_and_when_to_try_again(jobs):
    with pytest.raises(ApiError) as refused:
        jobs.submit_range_test(1e-4, 10.0, 30_000)
    error = refused.value
    assert error.status == 429 and error.code == "too_many_steps" and error.field == "steps"
    assert error.params["fits"] == 20_000 and error.retry_after is not None and error.retry_after >= 1
    with pytest.raises(ApiError) as invalid:
        jobs.submit({"kind": "sweep", "learning_rates": []})
    assert invalid.value.status == 422 and invalid.value.field == "sweep.learning_rates"  # the tag, then the field


def test_the_client_reaches_its_jobs_as_lab_jobs(base):
    from backprop_lab.client import Client

    with Client(base) as lab:
        job = lab.jobs.submit_range_test(config={"dataset": "xor", "seed": 2}, min_rate=0.001, max_rate=1.0,
                                         steps=200)
        assert lab.jobs.wait(job["id"], timeout=120)["state"] == "done"
        assert job["id"] in [listed["id"] for listed in lab.jobs.list()]
