"""The monotonic clock, read from inside a compiled loop.

`training.train` stops at a deadline itself (`codes.DEADLINE`) instead of returning to Python
every so many steps to look at the time. Every return from a `nogil` kernel has to take the GIL
back, and with 50 sessions playing the other training threads and the event loop hold it much
of the time: a slice sized from the measured time of a step took 3.4 calls on average, and the
slowest of 50 sessions trained 127–132 epochs/s against 198–240 with one call a slice, side by
side (bench/stream.py, docs/budgets.md). The clock is the C library's
`clock_gettime(CLOCK_MONOTONIC)` (the clock of `time.monotonic_ns`), declared by name as numba
declares its own C helpers, so the compiled code still caches; a reading costs ~30 ns.
"""

from __future__ import annotations

import time

from numba import njit, types
from numba.core import cgutils
from numba.core.funcdesc import ExternalFunctionDescriptor
from numba.extending import intrinsic

# int clock_gettime(clockid_t, struct timespec *): a timespec is two 64-bit integers (seconds,
# nanoseconds) on the 64-bit platforms numba runs on.
_CLOCK_GETTIME = ExternalFunctionDescriptor("clock_gettime", types.int32, (types.int32, types.CPointer(types.int64)))


@intrinsic
def _clock_ns(typingctx):  # type: ignore[no-untyped-def]
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        clock_gettime = context.declare_external_function(builder.module, _CLOCK_GETTIME)
        reading = cgutils.alloca_once(builder, context.get_value_type(types.int64), size=2)  # (seconds, ns)
        builder.call(clock_gettime, [context.get_constant(types.int32, time.CLOCK_MONOTONIC), reading])
        seconds = builder.load(reading)
        nanoseconds = builder.load(cgutils.gep_inbounds(builder, reading, 1))
        return builder.add(builder.mul(seconds, context.get_constant(types.int64, 1_000_000_000)), nanoseconds)

    return types.int64(), codegen


@njit(cache=True, nogil=True, error_model="numpy")
def monotonic_ns() -> int:
    """The monotonic clock in nanoseconds: `time.monotonic_ns()`, readable inside a kernel."""
    return _clock_ns()  # type: ignore[call-arg, no-any-return]
