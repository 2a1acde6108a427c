"""Engine speed: µs per training step (batch 10), measured side by side in one process.

    python bench/engine.py [--repeats 15] [--steps 1000]

For the default network (2-4-2-2, the defaults of docs/api.md) and 2-8-8-8-8-8-8-2 (tanh,
softmax, cross-entropy, sgd): the engine's untraced step, its traced step (every activation,
delta, gradient and update kept), a minimal hand-written NumPy step (the floor: same maths,
nothing else), and PyTorch eager on the CPU (one thread, float64) when torch is installed
(`pip install torch==2.13.0`; optional, never needed by the tests). Prints medians of
`--repeats` runs and the ratios it was written for: traced ≤ 1.5× the floor, ≤ 0.25× PyTorch
(docs/budgets.md has the current budgets).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.config import Config  # noqa: E402
from engine.trainer import Trainer  # noqa: E402

NETWORKS = {"default 2-4-2-2": (4, 2), "2-8-8-8-8-8-8-2": (8, 8, 8, 8, 8, 8)}


def per_step_us(run_steps, steps: int) -> float:
    start = time.perf_counter()
    run_steps(steps)
    return (time.perf_counter() - start) / steps * 1e6


def ratio(times: list[float], reference: list[float]) -> str:
    """Median of the rounds' own ratios: each round's contenders ran back to back, so a slow
    spell of this shared machine cancels out of its ratio."""
    per_round = [a / b for a, b in zip(times, reference, strict=True)]
    return f"{statistics.median(per_round):.2f} (rounds {min(per_round):.2f}…{max(per_round):.2f})"


def traced_steps(trainer: Trainer):
    """Traced steps, each trace dropped before the next step as a consumer would (keeping
    thousands alive would measure the allocator, not the step)."""

    def run(steps: int) -> None:
        for _ in range(steps):
            trainer.traced_step()

    return run


def numpy_floor(trainer: Trainer):
    """The same network and batches as the trainer, trained by the shortest honest NumPy code
    (np.dot for the products, as the engine uses: the cheapest call for tiny matrices)."""
    weights = [w.copy() for w in trainer.network.weights]
    biases = [b.copy() for b in trainer.network.biases]
    inputs, targets = trainer.dataset.train.inputs, trainer.dataset.train.targets
    n_train, batch, lr = inputs.shape[0], 10, 0.03
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


def torch_step(trainer: Trainer):
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
            position[0] = (start + 10) % inputs.shape[0]
            optimiser.zero_grad()
            loss = loss_fn(model(inputs[start : start + 10]), labels[start : start + 10])
            loss.backward()
            optimiser.step()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    for name, hidden in NETWORKS.items():
        trainer = Trainer(Config(hidden_layers=hidden))
        traced = Trainer(Config(hidden_layers=hidden))
        contenders = {
            "untraced": trainer.step,
            "traced": traced_steps(traced),
            "numpy floor": numpy_floor(trainer),
        }
        torch_run = torch_step(trainer)
        if torch_run is not None:
            contenders["pytorch eager"] = torch_run
        samples: dict[str, list[float]] = {key: [] for key in contenders}
        for _ in range(args.repeats):  # interleaved, so machine noise hits every contender alike
            for key, run in contenders.items():
                samples[key].append(per_step_us(run, args.steps))
        medians = {key: statistics.median(values) for key, values in samples.items()}
        print(f"{name}, batch 10 — median µs per step over {args.repeats} rounds × {args.steps} steps")
        for key, value in medians.items():
            print(f"  {key:14s} {value:8.1f} µs")
        print(f"  traced / floor   = {ratio(samples['traced'], samples['numpy floor'])}  target ≤ 1.5")
        print(f"  untraced / floor = {ratio(samples['untraced'], samples['numpy floor'])}")
        if "pytorch eager" in samples:
            print(f"  traced / pytorch = {ratio(samples['traced'], samples['pytorch eager'])}  target ≤ 0.25")
        else:
            print("  pytorch: not installed (pip install torch==2.13.0 to compare)")


if __name__ == "__main__":
    main()
