"""Jobs (backprop_lab.server.jobs) against a real uvicorn: a long sweep runs to its end with rising
progress and the very numbers of the synchronous sweep; a range test and a training likewise; a
cancelled job stops within a second and frees its place; the jobs share of a student in
classroom mode; results dropped after their time to live; every job cap a 429 saying what fits."""

from __future__ import annotations

import time
from typing import Any

import httpx
import numpy as np
import pytest
from server_helpers import TEACHER_KEY, client_from, strict_json

from backprop_lab.server.classroom.quotas import Quotas, Share
from backprop_lab.server.settings import JobLimits, Limits
from backprop_lab.server.wire.job_models import JobOut

SPIRAL = {"dataset": "spiral", "hidden_layers": [8, 8], "batch_size": 10, "seed": 3}
RATES = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 0.0003, 0.0001]  # 12: past one request's 8


def wait_for(http: httpx.Client, job_id: str, seconds: float = 120.0, every: float = 0.05) -> list[dict[str, Any]]:
    """Every view of the job read until it finished (the last one has its result)."""
    views = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = http.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        view = strict_json(response.text)
        JobOut.model_validate(view)
        views.append(view)
        if view["state"] in ("done", "failed", "cancelled"):
            return views
        time.sleep(every)
    raise AssertionError(f"job {job_id} did not finish within {seconds} s: {views[-1]}")


def submit(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/api/v1/jobs", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/v1/jobs/{response.json()['id']}"
    return response.json()


def running_until(http: httpx.Client, job_id: str, fraction: float) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        view = http.get(f"/api/v1/jobs/{job_id}").json()
        if view["state"] == "running" and view["progress"]["fraction"] >= fraction:
            return view
        assert view["state"] in ("queued", "running"), view
        time.sleep(0.02)
    raise AssertionError("the job never got that far")


def test_a_sweep_job_of_twelve_rates_reports_rising_progress_and_equals_the_synchronous_sweeps_bit_for_bit(http):
    steps = 6000
    job = submit(http, {"kind": "sweep", "config": SPIRAL, "learning_rates": RATES, "steps": steps})
    assert job["state"] in ("queued", "running") and job["result"] is None
    assert job["progress"]["total"] == len(RATES) * steps and job["estimated_seconds"] > 0
    views = wait_for(http, job["id"])
    final = views[-1]
    assert final["state"] == "done", final
    fractions = [view["progress"]["fraction"] for view in views if view["state"] == "running"]
    assert len(set(fractions)) >= 3, f"progress was reported only {sorted(set(fractions))}"
    assert fractions == sorted(fractions), "progress never goes back"
    assert sum(0 < fraction < 1 for fraction in set(fractions)) >= 2 and final["progress"]["fraction"] == 1.0
    assert final["progress"]["done"] == final["progress"]["total"]
    assert final["started"] >= final["created"] and final["finished"] >= final["started"]
    # one request takes at most 8 rates: the same sweep done synchronously, in two requests
    synchronous = []
    for rates in (RATES[:8], RATES[8:]):
        response = http.post("/api/v1/lr-sweep", json={"config": SPIRAL, "learning_rates": rates, "steps": steps})
        assert response.status_code == 200, response.text
        synchronous += strict_json(response.text)["runs"]
    result = strict_json(http.get(f"/api/v1/jobs/{job['id']}").text)["result"]
    assert result["steps"] == steps and result["record_every"] == 12
    assert result["runs"] == synchronous, "the job's numbers are the synchronous sweep's, bit for bit"
    assert [run["learning_rate"] for run in result["runs"]] == RATES


def test_a_range_test_job_equals_the_synchronous_one_and_may_be_longer_than_a_request_allows(http):
    body = {"config": {"dataset": "circle"}, "min_rate": 1e-4, "max_rate": 10.0, "steps": 400}
    job = submit(http, {"kind": "range_test", **body})
    done = wait_for(http, job["id"])[-1]
    assert done["state"] == "done", done
    synchronous = strict_json(http.post("/api/v1/lr-range-test", json=body).text)
    assert done["result"] == synchronous
    # past the request's range of steps (422 there) a job runs it
    long = {"config": {"dataset": "circle", "batch_size": 1}, "min_rate": 1e-5, "max_rate": 1e-2, "steps": 30_000}
    assert http.post("/api/v1/lr-range-test", json=long).status_code == 422
    views = wait_for(http, submit(http, {"kind": "range_test", **long})["id"])
    assert views[-1]["state"] == "done", views[-1]
    assert views[-1]["result"]["stopped_at"] is None and len(views[-1]["result"]["rates"]) == 30_000


def test_a_training_job_trains_a_session_as_step_would_bit_for_bit(live):
    config = {"dataset": "xor", "hidden_layers": [6, 3], "seed": 11}
    with httpx.Client(base_url=live.base, timeout=60) as http:
        trained, stepped = live.new_session(**config), live.new_session(**config)
        job = submit(http, {"kind": "training", "session_id": trained, "steps": 30_000})
        done = wait_for(http, job["id"])[-1]
        assert done["state"] == "done", done
        assert done["result"]["steps_trained"] == 30_000 and done["result"]["session"]["step"] == 30_000
        for _ in range(3):
            assert http.post(f"/api/v1/sessions/{stepped}/step", json={"steps": 10_000}).status_code == 200
        mine = http.get(f"/api/v1/sessions/{trained}/params").json()
        theirs = http.get(f"/api/v1/sessions/{stepped}/params").json()
        assert mine == theirs
        assert http.post("/api/v1/jobs", json={"kind": "training", "session_id": "nope", "steps": 5}).status_code == 404


def test_a_cancelled_job_stops_within_a_second_and_frees_its_place_for_the_next(live_factory):
    server = live_factory(limits=Limits(max_jobs=1))
    with httpx.Client(base_url=server.base, timeout=60) as http:
        long = {"kind": "sweep", "config": SPIRAL, "learning_rates": RATES[:8], "steps": 60_000}  # 5–20 s here
        job = submit(http, long)
        refused = http.post("/api/v1/jobs", json=long)
        assert refused.status_code == 429 and refused.json()["code"] == "too_many_jobs"
        assert int(refused.headers["retry-after"]) > 0 and refused.json()["params"]["maximum"] == 1
        halfway = running_until(http, job["id"], 0.5)
        started = time.monotonic()
        cancelled = http.post(f"/api/v1/jobs/{job['id']}/cancel")
        took = time.monotonic() - started
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        assert took < 1.0, f"the cancel took {took:.2f} s"
        assert cancelled.json()["result"] is None and cancelled.json()["progress"]["fraction"] < 1
        assert server.lab.scheduler is not None and server.lab.jobs.running() == 0
        done = cancelled.json()["progress"]["done"]
        assert done >= halfway["progress"]["done"]
        time.sleep(0.3)
        assert http.get(f"/api/v1/jobs/{job['id']}").json()["progress"]["done"] == done, "it trains no more"
        # its place is free at once: the next job is accepted right after
        following = submit(http, {"kind": "range_test", "config": {"dataset": "circle"}, "steps": 200})
        assert wait_for(http, following["id"])[-1]["state"] == "done"
        # a training job, cancelled, stops too; delete forgets a job
        session = server.new_session()
        training = submit(http, {"kind": "training", "session_id": session, "steps": 1_000_000})
        running_until(http, training["id"], 0.0)
        started = time.monotonic()
        assert http.delete(f"/api/v1/jobs/{training['id']}").status_code == 204
        assert time.monotonic() - started < 1.0
        stopped_at = http.get(f"/api/v1/sessions/{session}").json()["step"]
        time.sleep(0.3)
        assert http.get(f"/api/v1/sessions/{session}").json()["step"] == stopped_at, "its session trains no more"
        assert http.get(f"/api/v1/jobs/{training['id']}").status_code == 404
        assert [listed["id"] for listed in http.get("/api/v1/jobs").json()["jobs"]] == [following["id"], job["id"]]


def test_a_student_holds_at_most_their_share_of_jobs_and_never_sees_another_students(live_factory):
    server = live_factory(classroom_mode=True, teacher_key=TEACHER_KEY, quotas=Quotas(jobs=Share(1, 10)))
    long = {"kind": "sweep", "config": SPIRAL, "learning_rates": [0.01, 0.1], "steps": 400_000}
    with client_from(server.base, "127.0.0.2") as ana, client_from(server.base, "127.0.0.3") as budi:
        mine = submit(ana, long)
        refused = ana.post("/api/v1/jobs", json=long)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert refused.json()["code"] == "student_quota"
        assert refused.json()["params"] == {"resource": "jobs", "maximum": 1}
        theirs = submit(budi, long)  # another student is not held back
        assert budi.get(f"/api/v1/jobs/{mine['id']}").status_code == 404
        assert budi.post(f"/api/v1/jobs/{mine['id']}/cancel").status_code == 404
        assert budi.delete(f"/api/v1/jobs/{mine['id']}").status_code == 404
        assert [job["id"] for job in ana.get("/api/v1/jobs").json()["jobs"]] == [mine["id"]]
        teacher = httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {TEACHER_KEY}"}, timeout=60)
        with teacher:
            assert {job["id"] for job in teacher.get("/api/v1/jobs").json()["jobs"]} == {mine["id"], theirs["id"]}
        assert ana.post(f"/api/v1/jobs/{mine['id']}/cancel").json()["state"] == "cancelled"
        submit(ana, {"kind": "range_test", "steps": 100})  # the share is back
        assert budi.delete(f"/api/v1/jobs/{theirs['id']}").status_code == 204


def test_a_finished_job_is_dropped_after_its_time_to_live(live_factory):
    server = live_factory(jobs=JobLimits(result_ttl_seconds=1.0))
    options = httpx.get(f"{server.base}/api/v1/options").json()
    assert options["jobs"]["result_ttl_seconds"] == 1.0 and options["quotas"]["shares"]["jobs"]["student"] > 0
    with httpx.Client(base_url=server.base, timeout=60) as http:
        job = submit(http, {"kind": "range_test", "steps": 100})
        done = wait_for(http, job["id"])[-1]
        assert done["state"] == "done" and done["expires"] == pytest.approx(done["finished"] + 1.0)
        time.sleep(max(0.0, done["expires"] - time.time()) + 0.3)
        assert http.get(f"/api/v1/jobs/{job['id']}").status_code == 404
        assert http.get("/api/v1/jobs").json() == {"jobs": []}


def test_an_owner_keeps_their_newest_finished_jobs_only(live_factory):
    server = live_factory(jobs=JobLimits(max_kept_per_owner=2))
    with httpx.Client(base_url=server.base, timeout=60) as http:
        ids = []
        for _ in range(3):
            ids.append(submit(http, {"kind": "range_test", "steps": 50})["id"])
            assert wait_for(http, ids[-1])[-1]["state"] == "done"
        assert [job["id"] for job in http.get("/api/v1/jobs").json()["jobs"]] == ids[:0:-1]
        assert http.get(f"/api/v1/jobs/{ids[0]}").status_code == 404


def test_past_a_job_cap_is_429_with_what_would_fit_and_what_fits_is_accepted(live_factory):
    server = live_factory(jobs=JobLimits(max_seconds=1.0, max_rates=16, max_range_test_steps=5000))
    with httpx.Client(base_url=server.base, timeout=60) as http:
        too_many = http.post("/api/v1/jobs", json={"kind": "sweep", "learning_rates": [0.1] * 17, "steps": 10})
        assert too_many.status_code == 429 and too_many.json()["code"] == "too_many_rates"
        assert too_many.json()["params"] == {"value": 17, "maximum": 16, "fits": 16}
        body = {"kind": "sweep", "config": SPIRAL, "learning_rates": [0.1] * 8, "steps": 2_000_000}
        for_too_long = http.post("/api/v1/jobs", json={**body, "steps": 900_000})
        assert for_too_long.status_code == 429 and for_too_long.json()["code"] == "takes_too_long"
        params = for_too_long.json()["params"]
        assert for_too_long.json()["field"] == "steps" and params["value"] == 900_000 and params["maximum"] == 1.0
        assert 0 < params["fits"] < 900_000 and params["seconds"] > 1.0
        fitting = submit(http, {**body, "steps": int(params["fits"] * 0.3)})  # measured anew, on shared cores
        assert wait_for(http, fitting["id"])[-1]["state"] == "done"
        points = http.post("/api/v1/jobs", json={**body, "steps": 1000, "record_every": 0})
        assert points.status_code == 422  # outside what the API accepts at all
        range_test = http.post("/api/v1/jobs", json={"kind": "range_test", "steps": 6000})
        assert range_test.status_code == 429 and range_test.json()["params"]["fits"] == 5000


def test_a_job_with_a_bad_config_is_422_naming_the_field_and_an_unknown_kind_too(http):
    bad = http.post("/api/v1/jobs", json={"kind": "sweep", "config": {"loss": "cross_entropy", "dataset": "plane"},
                                          "learning_rates": [0.1]})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][:2] == ["body", "config"]
    assert http.post("/api/v1/jobs", json={"kind": "dance"}).status_code == 422
    assert http.get("/api/v1/jobs/unknown").status_code == 404
    options = http.get("/api/v1/options").json()["jobs"]
    assert set(options["kinds"]) == {"sweep", "range_test", "training"} and options["max_rates"] > 8
    assert np.isfinite(options["max_seconds"])
