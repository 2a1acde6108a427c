"""The kernels' clock (engine/lowlevel/clock.py) is the monotonic clock Python reads."""

import time

from backprop_lab.engine.lowlevel.clock import monotonic_ns


def test_the_kernels_clock_reads_the_same_monotonic_clock_as_python():
    monotonic_ns()  # compiled or loaded from the cache before it is timed
    for _ in range(100):
        before = time.monotonic_ns()
        reading = monotonic_ns()
        after = time.monotonic_ns()
        assert before <= reading <= after


def test_the_kernels_clock_moves_forward_with_time():
    first = monotonic_ns()
    time.sleep(0.01)
    assert monotonic_ns() - first >= 10_000_000
