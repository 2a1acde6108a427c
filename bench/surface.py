"""Loss surface speed: a 41×41 slice, random directions, side by side in one process.

    python bench/surface.py [--repeats 7] [--resolution 41]

For the default network (2-4-2-2, 250 training points) and 2-16×6-2 (the same data), it times
in interleaved rounds:
- yours: `engine.surface.loss_surface` with 2 threads (both cores) and with 1;
- the per-point loop: a Python loop over the grid's points, each one `metrics.evaluate` (the
  session's own whole-split evaluation kernel) at the moved weights;
- the floor: `np.tanh` alone over as many values as the slice must compute (points × training
  rows × hidden neurons), in chunks of 1 M so memory stays small.
It prints each one's median and the median of per-round ratios, against the targets of
docs/budgets.md: ≤ 2× the floor and ≥ 1.5× faster than the per-point loop.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.choices import training_codes  # noqa: E402
from engine.config import Config  # noqa: E402
from engine.kernels.metrics import evaluate  # noqa: E402
from engine.surface import grid_axis, loss_surface, random_plane  # noqa: E402
from engine.trainer import Trainer  # noqa: E402
from engine.workspace import Workspace  # noqa: E402

NETWORKS = {"default 2-4-2-2": (4, 2), "2-16×6-2": (16,) * 6}
CHUNK = 1_000_000


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


def timed(run) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--resolution", type=int, default=41)
    parser.add_argument("--span", type=float, default=1.0)
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
            for _ in range(args.repeats):
                for key, run in contenders.items():
                    times[key].append(timed(run))
        print(f"{name}: {resolution}×{resolution} slice, {train.size} training points, {values:,} tanh values")
        for key, seconds in times.items():
            print(f"  {key:18s} {statistics.median(seconds) * 1e3:8.1f} ms")
        for key in ("yours, 2 threads", "yours, 1 thread"):
            floor = statistics.median(a / b for a, b in zip(times[key], times["floor: np.tanh"], strict=True))
            faster = statistics.median(b / a for a, b in zip(times[key], times["per-point loop"], strict=True))
            print(f"  {key}: {floor:.2f}× the floor (target ≤ 2), {faster:.2f}× faster than the per-point loop "
                  "(target ≥ 1.5)")


if __name__ == "__main__":
    main()
