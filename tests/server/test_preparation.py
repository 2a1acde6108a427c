"""The preparation's estimate and terminal lines: the estimate is the last cold start measured on
this machine (none the first time, and it says so), remembered only from a start that compiled
every kernel; the terminal gets a line at the first compile and then one every few seconds, not
one per kernel."""

from __future__ import annotations

import json
import logging

from backprop_lab.server.runtime.preparation import LINE_INTERVAL_SECONDS, Preparation, read_record

TOTAL = 35


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def compile_all(preparation: Preparation, clock: Clock, seconds_each: float = 0.5) -> None:
    for done in range(TOTAL):
        preparation.on_progress(done, TOTAL, f"kernels.k{done}")
        clock.now += seconds_each
        preparation.on_progress(done + 1, TOTAL, f"kernels.k{done}")
    preparation.on_progress(TOTAL, TOTAL, "")


def test_the_first_cold_start_has_no_estimate_and_leaves_one_for_the_next(tmp_path, caplog):
    record = tmp_path / "data" / "last-cold-start.json"
    clock = Clock()
    first = Preparation(record, clock)
    caplog.set_level(logging.INFO)
    compile_all(first, clock)
    assert first.problem()["params"]["seconds_left"] is None
    assert "first time: no estimate yet" in caplog.text
    first.succeeded(17.5)
    assert read_record(record) == 17.5

    second = Preparation(record, clock)
    second.on_progress(0, TOTAL, "training.train")
    clock.now += 5
    assert second.problem()["params"]["seconds_left"] == 12.5
    assert second.retry_after() == 10  # never longer than that
    clock.now += 20  # slower than last time: no negative time left
    assert second.problem()["params"]["seconds_left"] == 0
    assert second.retry_after() == 1


def test_a_start_that_compiled_only_some_kernels_leaves_the_estimate_as_it_was(tmp_path):
    record = tmp_path / "last-cold-start.json"
    record.write_text(json.dumps({"seconds": 48.0}))
    clock = Clock()
    preparation = Preparation(record, clock)
    preparation.on_progress(0, TOTAL, "surface.slice_losses")  # one source file changed: its kernels only
    preparation.on_progress(3, TOTAL, "surface.slice_losses")
    preparation.on_progress(TOTAL, TOTAL, "")
    preparation.succeeded(4.0)
    assert read_record(record) == 48.0


def test_a_record_that_cannot_be_read_is_no_estimate(tmp_path):
    record = tmp_path / "last-cold-start.json"
    for text in ("not json", '{"seconds": -3}', '{"seconds": "soon"}', "[]"):
        record.write_text(text)
        assert read_record(record) is None, text
    assert read_record(tmp_path / "missing.json") is None


def test_the_terminal_gets_a_line_every_few_seconds_not_one_per_kernel(caplog):
    clock = Clock()
    preparation = Preparation(None, clock)
    caplog.set_level(logging.INFO, logger="backprop_lab.server.runtime.preparation")
    seconds_each = 0.5
    compile_all(preparation, clock, seconds_each)
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0].startswith("Preparing the engine (first start only): compiling its 35 kernels")
    spent = TOTAL * seconds_each
    assert 1 + spent // LINE_INTERVAL_SECONDS - 1 <= len(lines) <= 1 + spent // LINE_INTERVAL_SECONDS
    assert "kernels compiled after" in lines[1] and "of 35" in lines[1]
