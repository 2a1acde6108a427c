"""Compiled code is cached: a second process loads the kernels instead of compiling them, also
from a cache folder of its own (`NUMBA_CACHE_DIR`, what a read-only install falls back to); the
warm-up compiles its two halves in two processes when there is a second core, and says how far
it has got: kernel counts that only grow and end at the total, nothing at all on a warm cache."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numba

from backprop_lab.engine import warmup
from backprop_lab.engine.warmup import warm_up

ROOT = Path(__file__).resolve().parents[2]
# One small kernel, compiled (or loaded) in a fresh process; prints how it got its code.
SCRIPT = """
import numpy as np
from backprop_lab.engine.kernels.losses import mean
mean(np.ones(3))
stats = mean.stats
print(stats.cache_hits and "hit" or "", stats.cache_misses and "miss" or "")
"""


# The whole warm-up in a fresh process; prints every progress report and the seconds it took.
WARM_UP = """
import json
from backprop_lab.engine.warmup import warm_up
reports = []
seconds = warm_up(lambda done, total, kernel: reports.append((done, total, kernel)))
print(json.dumps({"reports": reports, "seconds": seconds}))
"""


def run_fresh(cache_dir: Path, script: str = SCRIPT) -> str:
    # the repository first: the engine of this checkout, whatever else is installed
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                            env=environment, check=True, timeout=900)
    return result.stdout


def test_a_second_process_loads_the_compiled_kernel_from_the_cache(tmp_path):
    assert run_fresh(tmp_path).split() == ["miss"]
    assert any(tmp_path.rglob("*.nbi")), "the compiled code was written to the cache folder"
    assert run_fresh(tmp_path).split() == ["hit"]


def test_a_cold_start_reports_each_kernel_up_to_the_total_and_a_warm_one_reports_nothing(tmp_path):
    """The one test that compiles everything (about a minute of both cores, more on a busy
    machine): `COLD_START_KERNELS` is what an empty cache really compiles."""
    cold = json.loads(run_fresh(tmp_path, WARM_UP))["reports"]
    totals = {total for _, total, _ in cold}
    assert totals == {warmup.COLD_START_KERNELS}, "the total is known from the first report on"
    done = [report[0] for report in cold]
    assert done == sorted(done), "the count only grows"
    assert all(kernel for _, _, kernel in cold[:-1]), "each report names the kernel"
    assert cold[-1] == [warmup.COLD_START_KERNELS] * 2 + [""], "the last report: all done"
    assert done[-2] == warmup.COLD_START_KERNELS, "every kernel counted was compiled: none more, none fewer"
    assert any(kernel.startswith("surface.") for _, _, kernel in cold), "the helper's half is counted too"
    assert json.loads(run_fresh(tmp_path, WARM_UP))["reports"] == [], "a warm cache compiles nothing"


def test_warm_up_runs_every_path_and_says_how_long_it_took():
    seconds = warm_up()
    assert 0 < seconds < 120


def test_the_helper_warms_the_other_half_in_a_process_of_its_own_only_with_a_second_core(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    helper = warmup._start_helper(warmup._KernelCount(None))
    assert helper is not None
    helper.wait()
    assert helper.process.returncode == 0, "\n".join(helper.other_output)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert warmup._start_helper(warmup._KernelCount(None)) is None


def test_only_a_first_compile_starts_the_helper_so_a_warm_cache_starts_none(monkeypatch):
    asked: list[int] = []
    monkeypatch.setattr(warmup, "_start_helper", lambda count: asked.append(1))
    warm_up()  # every kernel is compiled or cached by now: no compile event, no helper
    assert asked == []
    with numba.core.event.install_listener("numba:compile", warmup._Compiles(warmup._KernelCount(None))):
        numba.njit(lambda x: x + 1)(1)  # two compiles, neither an engine kernel
        numba.njit(lambda x: x * 2)(1.0)
    assert asked == [1]
