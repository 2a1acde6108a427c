"""Engine speed: µs per training step, measured side by side in one process, and start-up time.

    python bench/engine.py [--repeats 15] [--steps 1000] [--no-start] [--only default]

For 2-4-2-2 (the default network), 2-8×6-2 and 2-16×6-2 (batch 10, as TF Playground) and
2-128-128-128-2 (batch 32, a network near the API's caps) — tanh, softmax, cross-entropy, sgd —
it times the engine's untraced steps (many steps per compiled call), its traced step (every
activation, delta, gradient and update kept), a minimal hand-written NumPy step (the floor: the
same maths, nothing else) and PyTorch eager on the CPU (one thread, float64) when torch is
installed (`pip install torch==2.13.0`; optional), all on one BLAS thread as in the server.
Rounds interleave the contenders, so the machine's noise hits them alike; it prints medians
and the median of per-round ratios against the targets of docs/budgets.md. Then it starts the
server twice — with an empty numba cache (the kernels compile) and again (they load) — and
prints the seconds until /api/v1/health answers.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backprop_lab.engine.config import Config  # noqa: E402
from backprop_lab.engine.trainer import Trainer  # noqa: E402
from backprop_lab.engine.warmup import warm_up  # noqa: E402

# name: (hidden layers, batch size, {ratio: target})
NETWORKS = {
    "default 2-4-2-2": ((4, 2), 10, {"untraced": 0.05, "traced": 0.5}),
    "2-8×6-2": ((8,) * 6, 10, {"untraced": 0.2}),
    "2-16×6-2": ((16,) * 6, 10, {}),
    "2-128-128-128-2": ((128,) * 3, 32, {"untraced": 1.0}),
}


def per_step_us(run_steps, steps: int) -> float:
    start = time.perf_counter()
    run_steps(steps)
    return (time.perf_counter() - start) / steps * 1e6


def ratio(times: list[float], reference: list[float]) -> str:
    """Median of the rounds' own ratios: each round's contenders ran back to back, so a slow
    spell of this shared machine cancels out of its ratio."""
    per_round = [a / b for a, b in zip(times, reference, strict=True)]
    return f"{statistics.median(per_round):.3f} (rounds {min(per_round):.3f}…{max(per_round):.3f})"


def traced_steps(trainer: Trainer):
    """Traced steps, each trace dropped before the next step as a consumer would (keeping
    thousands alive would measure the allocator, not the step)."""

    def run(steps: int) -> None:
        for _ in range(steps):
            trainer.traced_step()

    return run


def numpy_floor(trainer: Trainer, batch: int):
    """The same network and batches as the trainer, trained by the shortest honest NumPy code
    (np.dot for the products, as the engine uses: the cheapest call for tiny matrices)."""
    weights = [w.copy() for w in trainer.network.weights]
    biases = [b.copy() for b in trainer.network.biases]
    inputs, targets = trainer.dataset.train.inputs, trainer.dataset.train.targets
    n_train, lr = inputs.shape[0], 0.03
    position = [0]

    def run(steps: int) -> None:
        for _ in range(steps):
            start = position[0]
            x, y = inputs[start : start + batch], targets[start : start + batch]
            position[0] = (start + batch) % n_train
            activations = [x]
            for w, b in zip(weights[:-1], biases[:-1], strict=True):
                activations.append(np.tanh(np.dot(activations[-1], w) + b))
            z = np.dot(activations[-1], weights[-1]) + biases[-1]
            e = np.exp(z - z.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            delta = (p - y) / x.shape[0]
            for layer in range(len(weights) - 1, -1, -1):
                grad_w = np.dot(activations[layer].T, delta)
                grad_b = delta.sum(axis=0)
                if layer:
                    delta = np.dot(delta, weights[layer].T) * (1 - activations[layer] ** 2)
                weights[layer] -= lr * grad_w
                biases[layer] -= lr * grad_b

    return run


def torch_step(trainer: Trainer, batch: int):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    layers = []
    for w, b in zip(trainer.network.weights, trainer.network.biases, strict=True):
        linear = torch.nn.Linear(*w.shape).double()
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b.copy()))
        layers += [linear, torch.nn.Tanh()]
    model = torch.nn.Sequential(*layers[:-1])
    optimiser = torch.optim.SGD(model.parameters(), lr=0.03)
    inputs = torch.from_numpy(trainer.dataset.train.inputs)
    labels = torch.from_numpy(trainer.dataset.train.labels)
    loss_fn = torch.nn.CrossEntropyLoss()
    position = [0]

    def run(steps: int) -> None:
        for _ in range(steps):
            start = position[0]
            position[0] = (start + batch) % inputs.shape[0]
            optimiser.zero_grad()
            loss = loss_fn(model(inputs[start : start + batch]), labels[start : start + batch])
            loss.backward()
            optimiser.step()

    return run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seconds_to_ready(cache_dir: str) -> float:
    """Starts `python -m backprop_lab` with numba's cache in `cache_dir`; seconds until health answers."""
    port = free_port()
    environment = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "backprop_lab", "--port", str(port)], cwd=ROOT, env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < 300:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                return time.perf_counter() - started
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the server did not become ready within 300 s")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--steps", type=int, default=1000, help="steps per contender per round (÷5 at 128 wide)")
    parser.add_argument("--no-start", action="store_true", help="skip the start-up measurement")
    parser.add_argument("--only", default="", help="only the networks whose name contains this, e.g. default")
    args = parser.parse_args()
    warm_up()  # compiles (or loads) the kernels, and loads the BLAS they call
    threadpool_limits(1)  # one BLAS thread, as the server runs it (each training thread is one core)
    for name, (hidden, batch, targets) in NETWORKS.items():
        if args.only not in name:
            continue
        config = Config(hidden_layers=hidden, batch_size=batch)
        trainer, traced = Trainer(config), Trainer(config)
        trainer.step(10)  # compiled (or loaded) before timing
        traced.traced_step()
        steps = args.steps if max(hidden) < 128 else max(1, args.steps // 5)
        contenders = {"untraced": trainer.step, "traced": traced_steps(traced),
                      "numpy floor": numpy_floor(trainer, batch)}
        torch_run = torch_step(trainer, batch)
        if torch_run is not None:
            contenders["pytorch eager"] = torch_run
        samples: dict[str, list[float]] = {key: [] for key in contenders}
        for _ in range(args.repeats):  # interleaved, so machine noise hits every contender alike
            for key, run in contenders.items():
                samples[key].append(per_step_us(run, steps))
        print(f"{name}, batch {batch} — median µs per step over {args.repeats} rounds × {steps} steps")
        for key, values in samples.items():
            print(f"  {key:14s} {statistics.median(values):8.2f} µs")
        for key in ("untraced", "traced"):
            target = f"  target ≤ {targets[key]}" if key in targets else ""
            print(f"  {key} / floor = {ratio(samples[key], samples['numpy floor'])}{target}")
        if "pytorch eager" in samples:
            print(f"  traced / pytorch = {ratio(samples['traced'], samples['pytorch eager'])}")
    if not args.no_start:
        with tempfile.TemporaryDirectory() as cache_dir:
            cold = seconds_to_ready(cache_dir)
            warm = seconds_to_ready(cache_dir)
        print(f"server start to ready: cold (empty numba cache, kernels compile) {cold:.1f} s, "
              f"warm (cache loaded) {warm:.1f} s")


if __name__ == "__main__":
    main()
