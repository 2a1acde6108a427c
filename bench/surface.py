"""Loss surface speed: a 41×41 slice, random directions, side by side in one process.

    python bench/surface.py [--repeats 7] [--resolution 41]

For the default network (2-4-2-2, 250 training points) and 2-16×6-2 (the same data), it times
in interleaved rounds:
- yours: `backprop_lab.engine.surface.loss_surface` with 2 threads (both cores) and with 1;
- the per-point loop: a Python loop over the grid's points, each one `metrics.evaluate` (the
  session's own whole-split evaluation kernel) at the moved weights;
- the floor: `np.tanh` alone over as many values as the slice must compute (points × training
  rows × hidden neurons), in chunks of 1 M so memory stays small.
It prints each one's median wall time (and CPU time, all threads: when other jobs keep the
cores busy, two threads cannot halve the wall time, and the CPU time shows the work itself) and
the median of per-round ratios, against the targets of docs/budgets.md: ≤ 2× the floor and
≥ 1.5× faster than the per-point loop.

Then (unless `--no-stream`) it starts `python -m backprop_lab` on a free port and, for each network,
plays a session at full speed with one WebSocket client: frames/s and the p95 gap in
alternating rounds with no surface and while `POST …/loss-surface` (random, 41 × 41) is asked
for back to back — the surfaces are computed off the streaming path, so frames must keep ≥ 55/s.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from backprop_lab.engine.choices import training_codes  # noqa: E402
from backprop_lab.engine.config import Config  # noqa: E402
from backprop_lab.engine.kernels.metrics import evaluate  # noqa: E402
from backprop_lab.engine.surface import grid_axis, loss_surface, random_plane  # noqa: E402
from backprop_lab.engine.trainer import Trainer  # noqa: E402
from backprop_lab.engine.workspace import Workspace  # noqa: E402

NETWORKS = {"default 2-4-2-2": (4, 2), "2-16×6-2": (16,) * 6}
CHUNK = 1_000_000


def _stream_bench():  # type: ignore[no-untyped-def]
    """bench/stream.py (its server and frame reader), loaded by path: with bench/ on sys.path,
    bench/engine.py would shadow the engine package."""
    spec = importlib.util.spec_from_file_location("stream_bench", ROOT / "bench" / "stream.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["stream_bench"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


stream_bench = _stream_bench()


def per_point_loop(trainer: Trainer, plane, span: float, resolution: int):  # type: ignore[no-untyped-def]
    """The slice as a Python loop over its points, one whole-split evaluation each."""
    network, train = trainer.network, trainer.dataset.train
    layout = network.layout
    codes = training_codes(network.activation, network.classify, trainer.loss.name)
    workspace = Workspace(layout, train.size)
    confusion = np.zeros((train.targets.shape[1],) * 2, dtype=np.int64)
    axis = grid_axis(span, resolution)
    out = np.empty((resolution, resolution))

    def run() -> None:
        for i, alpha in enumerate(axis):
            for j, beta in enumerate(axis):
                theta = plane.center + alpha * plane.directions[0] + beta * plane.directions[1]
                out[i, j] = evaluate(layout.table, codes, theta, train.inputs, train.targets, workspace.z_buffer,
                                     workspace.a_buffer, workspace.losses, confusion)[0]

    return run, out


def yours(trainer: Trainer, plane, span: float, resolution: int, workers: int):  # type: ignore[no-untyped-def]
    train = trainer.dataset.train
    return lambda: loss_surface(trainer.network, trainer.loss, train.inputs, train.targets, plane, span, resolution,
                                workers=workers)


def tanh_floor(values: int):  # type: ignore[no-untyped-def]
    chunk = np.linspace(-3.0, 3.0, CHUNK)
    out = np.empty(CHUNK)

    def run() -> None:
        left = values
        while left > 0:
            n = min(left, CHUNK)
            np.tanh(chunk[:n], out=out[:n])
            left -= n

    return run


def timed(run) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(wall seconds, CPU seconds of every thread of the process)."""
    start, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - start, time.process_time() - cpu


async def frames_while_computing(base: str, hidden: tuple[int, ...], seconds: float, rounds: int) -> dict[str, float]:
    """frames/s and p95 gap of one full-speed client, in alternating rounds without and with
    surfaces computing back to back (medians over the rounds: this machine's load drifts)."""
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        session_id = (await http.post("/api/v1/sessions", json={"hidden_layers": list(hidden)})).json()["id"]
        await http.post(f"/api/v1/sessions/{session_id}/step", json={"steps": 200})
        ws = await stream_bench.open_client(base, session_id)
        await ws.send('{"type": "play"}')
        figures: dict[str, list[float]] = {}
        surfaces = 0
        for _ in range(rounds):
            for label, computing in (("idle", False), ("computing", True)):
                watch = stream_bench.Watch()
                start = time.monotonic() + 0.3
                until = start + seconds
                read = asyncio.create_task(stream_bench.reader(ws, watch, start, until))
                while computing and time.monotonic() < until:
                    answer = await http.post(f"/api/v1/sessions/{session_id}/loss-surface",
                                             json={"directions": "random", "resolution": 41, "seed": surfaces})
                    assert answer.status_code == 200, answer.text
                    surfaces += 1
                await read
                figures.setdefault(f"{label}_fps", []).append(watch.fps())
                figures.setdefault(f"{label}_p95_ms", []).append(stream_bench.percentile(watch.gaps(), 0.95) * 1e3)
        await ws.close()
        await http.delete(f"/api/v1/sessions/{session_id}")
    return {key: statistics.median(values) for key, values in figures.items()} | {"surfaces": surfaces}


def stream_part(seconds: float, rounds: int) -> None:
    process, base = stream_bench.start_server(2)
    try:
        for name, hidden in NETWORKS.items():
            f = asyncio.run(frames_while_computing(base, hidden, seconds, rounds))
            print(f"{name}, one client playing at full speed: {f['idle_fps']:.1f} frames/s (p95 gap "
                  f"{f['idle_p95_ms']:.0f} ms) with no surface; {f['computing_fps']:.1f} frames/s (p95 gap "
                  f"{f['computing_p95_ms']:.0f} ms) while {f['surfaces']:.0f} surfaces of 41 × 41 computed "
                  f"back to back, medians of {rounds} rounds (target ≥ 55)")
    finally:
        process.terminate()
        process.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--resolution", type=int, default=41)
    parser.add_argument("--span", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=3.0, help="of streaming per round, without and with surfaces")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, alternating without and with surfaces")
    parser.add_argument("--no-stream", action="store_true", help="skip the frames-while-computing part")
    args = parser.parse_args()
    resolution, span = args.resolution, args.span
    for name, hidden in NETWORKS.items():
        trainer = Trainer(Config(hidden_layers=hidden))
        trainer.step(500)
        network, train = trainer.network, trainer.dataset.train
        plane = random_plane(network.layout, network.parameters, seed=0)
        values = resolution * resolution * train.size * sum(hidden)
        loop, loop_out = per_point_loop(trainer, plane, span, resolution)

        contenders = {"yours, 2 threads": yours(trainer, plane, span, resolution, 2),
                      "yours, 1 thread": yours(trainer, plane, span, resolution, 1), "per-point loop": loop,
                      "floor: np.tanh": tanh_floor(values)}
        with threadpool_limits(1):
            for run in contenders.values():
                run()  # compile or load, and warm the caches
            ours = loss_surface(network, trainer.loss, train.inputs, train.targets, plane, span, resolution, workers=2)
            np.testing.assert_allclose(ours.loss, loop_out, rtol=1e-12)  # the same slice
            times: dict[str, list[float]] = {key: [] for key in contenders}
            cpu: dict[str, list[float]] = {key: [] for key in contenders}
            for _ in range(args.repeats):
                for key, run in contenders.items():
                    wall, used = timed(run)
                    times[key].append(wall)
                    cpu[key].append(used)
        print(f"{name}: {resolution}×{resolution} slice, {train.size} training points, {values:,} tanh values")
        for key, seconds in times.items():
            used = statistics.median(cpu[key]) * 1e3
            print(f"  {key:18s} {statistics.median(seconds) * 1e3:8.1f} ms  (CPU {used:7.1f} ms)")
        for key in ("yours, 2 threads", "yours, 1 thread"):
            floor = statistics.median(a / b for a, b in zip(times[key], times["floor: np.tanh"], strict=True))
            faster = statistics.median(b / a for a, b in zip(times[key], times["per-point loop"], strict=True))
            print(f"  {key}: {floor:.2f}× the floor (target ≤ 2), {faster:.2f}× faster than the per-point loop "
                  "(target ≥ 1.5)")
    if not args.no_stream:
        stream_part(args.seconds, args.rounds)


if __name__ == "__main__":
    main()
