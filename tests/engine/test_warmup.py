"""Compiled code is cached: a second process loads the kernels instead of compiling them, also
from a cache folder of its own (`NUMBA_CACHE_DIR`, what a read-only install falls back to); the
warm-up compiles its two halves in two processes when there is a second core."""

import os
import subprocess
import sys
from pathlib import Path

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


def run_fresh(cache_dir: Path) -> str:
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT,
                            env=environment, check=True)
    return result.stdout.split()


def test_a_second_process_loads_the_compiled_kernel_from_the_cache(tmp_path):
    assert run_fresh(tmp_path) == ["miss"]
    assert any(tmp_path.rglob("*.nbi")), "the compiled code was written to the cache folder"
    assert run_fresh(tmp_path) == ["hit"]


def test_warm_up_runs_every_path_and_says_how_long_it_took():
    seconds = warm_up()
    assert 0 < seconds < 120


def test_the_helper_warms_the_other_half_in_a_process_of_its_own_only_with_a_second_core(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    helper = warmup._start_helper()
    assert helper is not None
    _, errors = helper.communicate(timeout=120)
    assert helper.returncode == 0, errors.decode()
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert warmup._start_helper() is None


def test_only_a_first_compile_starts_the_helper_so_a_warm_cache_starts_none(monkeypatch):
    asked: list[int] = []
    monkeypatch.setattr(warmup, "_start_helper", lambda: asked.append(1))
    warm_up()  # every kernel is compiled or cached by now: no compile event, no helper
    assert asked == []
    listener = warmup._HelperOnFirstCompile()
    listener.on_start(None)
    listener.on_start(None)
    assert asked == [1]
