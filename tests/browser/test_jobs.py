"""The page runs its range test as a job (static/js/jobs.js): a progress bar that rises, in the
reader's language, and a cancel button that stops the job on the server; run again, the test
finishes and its result is drawn."""

from __future__ import annotations

import json
import time
from typing import Any

from browser_helpers import SCREENSHOTS, api, screenshot
from playwright.sync_api import expect

FRACTION = "() => Number(document.querySelector('[data-testid=lr-range-progress]')?.dataset.fraction ?? 0)"
PAST = f"(above) => ({FRACTION})() > above"  # the bar shows more than `above` done


def lengthened(route: Any) -> None:
    """The page's range test, made long enough to watch and cancel: 100,000 steps of slowly growing rates."""
    if route.request.method == "POST":
        body = json.loads(route.request.post_data)
        route.continue_(post_data=json.dumps({**body, "steps": 100_000, "min_rate": 1e-5, "max_rate": 1e-2}))
    else:
        route.continue_()


def test_a_long_range_test_shows_a_rising_progress_bar_and_cancel_stops_the_job(open_page):
    page, watch = open_page("#dataset=circle", width=1366, height=768, chart=False)
    page.route("**/api/v1/jobs", lengthened)
    page.get_by_test_id("lr-lab-view").scroll_into_view_if_needed()
    page.get_by_test_id("lr-range-run").click()
    bar = page.get_by_test_id("lr-range-job")
    bar.wait_for(state="visible", timeout=10_000)
    page.wait_for_function(PAST, arg=0, timeout=20_000)
    first = page.evaluate(FRACTION)
    page.wait_for_function(PAST, arg=first, timeout=20_000)
    assert page.get_by_test_id("lr-range-run").is_disabled()
    assert "done" in page.get_by_test_id("lr-range-progress-text").inner_text()
    screenshot(page, "job-progress-en-1366")
    page.get_by_test_id("lr-lab-view").screenshot(path=str(SCREENSHOTS / "job-progress-en-1366-lab.png"))
    page.get_by_test_id("language-select").select_option("id")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=lr-range-progress-text]').textContent.includes('selesai')",
        timeout=5_000)
    assert page.get_by_test_id("lr-range-cancel").inner_text() == "Batal"
    page.set_viewport_size({"width": 1024, "height": 768})
    page.get_by_test_id("lr-lab-view").screenshot(path=str(SCREENSHOTS / "job-progress-id-1024-lab.png"))
    (job,) = [job for job in api(watch.base, "GET", "/api/v1/jobs")["jobs"] if job["state"] == "running"]
    started = time.monotonic()
    page.get_by_test_id("lr-range-cancel").click()
    bar.wait_for(state="hidden", timeout=5_000)
    took = time.monotonic() - started
    assert took < 1.5, f"the cancel took {took:.2f} s to show"
    stopped = api(watch.base, "GET", f"/api/v1/jobs/{job['id']}")
    assert stopped["state"] == "cancelled" and stopped["progress"]["fraction"] < 1
    # the result line says so at the page's next drawing, a frame after the bar hides
    expect(page.get_by_test_id("lr-range-suggestion")).to_contain_text("dibatalkan", timeout=5_000)
    assert not page.get_by_test_id("lr-range-run").is_disabled()
    # the page's own range test, not lengthened, runs to its end and is drawn
    page.unroute("**/api/v1/jobs")
    page.get_by_test_id("lr-range-run").click()
    page.wait_for_selector("#lr-range-chart[data-suggested-rate]", timeout=30_000)
    assert bar.is_hidden()
    assert "disarankan" in page.get_by_test_id("lr-range-suggestion").inner_text()
    assert page.get_by_test_id("lr-range-apply").is_enabled()
    watch.assert_clean()


def test_more_rates_than_a_live_race_takes_run_as_a_sweep_job_drawn_as_a_finished_race(open_page):
    page, watch = open_page("#dataset=circle&lang=id", width=1024, height=768, chart=False)
    page.get_by_test_id("lr-lab-view").scroll_into_view_if_needed()
    assert "pekerjaan sapuan" in page.locator("#lr-race-rates-hint").inner_text()
    rates = "0.001 0.003 0.01 0.03 0.1 0.3 1 3 10 30"  # ten: a live race takes eight
    page.get_by_test_id("lr-race-rates").fill(rates)
    page.get_by_test_id("lr-race-steps").fill("20000")
    page.get_by_test_id("lr-race-start").click()
    page.get_by_test_id("lr-sweep-job").wait_for(state="visible", timeout=10_000)
    page.wait_for_selector('#lr-race-copies[data-status="finished"]', timeout=60_000)
    assert page.get_by_test_id("lr-sweep-job").is_hidden()
    page.get_by_test_id("lr-lab-view").screenshot(path=str(SCREENSHOTS / "job-sweep-id-1024-lab.png"))
    drawn = page.locator("#lr-race-copies li[data-rate]")
    assert [float(rate) for rate in drawn.evaluate_all("(items) => items.map((item) => item.dataset.rate)")] == [
        float(rate) for rate in rates.split()]
    job = api(watch.base, "GET", "/api/v1/jobs")["jobs"][0]  # the newest (the server is shared by the browser tests)
    assert job["kind"] == "sweep" and job["state"] == "done" and len(job["request"]["learning_rates"]) == 10
    result = api(watch.base, "GET", f"/api/v1/jobs/{job['id']}")["result"]
    steps = [int(item) for item in drawn.evaluate_all("(items) => items.map((item) => item.dataset.step)")]
    assert steps == [run["history_steps"][-1] for run in result["runs"]]
    watch.assert_clean()
