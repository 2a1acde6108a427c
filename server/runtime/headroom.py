"""The event loop's headroom, measured where it is spent: a task on the loop that wakes a few
times a second and reports to `Cadence.adjust` how much of a core the loop used since its last
visit (`time.thread_time`: this thread's CPU time: the loop's sends, handshakes and requests).
The cadence turns that, and the frames' work on the training threads, into the frame rate every
client gets (`backprop_lab.server.runtime.cadence`)."""

from __future__ import annotations

import asyncio
import time

from backprop_lab.server.runtime.cadence import Cadence

INTERVAL = 0.25  # seconds between reports: a few adjustments a second, each over many frames


async def measure_forever(cadence: Cadence, interval: float = INTERVAL) -> None:
    """Report to `cadence` every `interval` seconds, until cancelled."""
    last_wall, last_cpu = time.perf_counter(), time.thread_time()
    while True:
        await asyncio.sleep(interval)
        wall, cpu = time.perf_counter(), time.thread_time()
        cadence.adjust(wall - last_wall, cpu - last_cpu)
        last_wall, last_cpu = wall, cpu
