"""Engine speed: µs per training step (batch 10), measured side by side in one process.

    python bench/engine.py [--repeats 7] [--steps 3000]

For the default network (2-4-2-2, DESIGN §5 defaults) and 2-8-8-8-8-8-8-2 (tanh, softmax,
cross-entropy, sgd): the engine's untraced step, its traced step (every activation, delta,
gradient and update kept), a minimal hand-written NumPy step (the floor: same maths, nothing
else), and PyTorch eager on the CPU (one thread, float64) when torch is installed
(`pip install torch==2.13.0`; optional, never needed by the tests). Prints medians of
`--repeats` runs and the ratios DESIGN §7 sets: traced ≤ 1.5× the floor, ≤ 0.25× PyTorch.
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


def traced_steps(trainer: Trainer):
    """Traced steps, each trace dropped before the next step as a consumer would (keeping
    thousands alive would measure the allocator, not the step)."""

    def run(steps: int) -> None:
        for _ in range(steps):
            trainer.traced_step()

    return run


def numpy_floor(trainer: Trainer):
    """The same network and batches as the trainer, trained by the shortest honest NumPy code."""
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
                activations.append(np.tanh(activations[-1] @ w + b))
            z = activations[-1] @ weights[-1] + biases[-1]
            e = np.exp(z - z.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            delta = (p - y) / x.shape[0]
            for layer in range(len(weights) - 1, -1, -1):
                grad_w = activations[layer].T @ delta
                grad_b = delta.sum(axis=0)
                if layer:
                    delta = (delta @ weights[layer].T) * (1 - activations[layer] ** 2)
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
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=3000)
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
        print(f"{name}, batch 10 — median µs per step over {args.repeats} × {args.steps} steps")
        for key, value in medians.items():
            print(f"  {key:14s} {value:8.1f} µs")
        floor = medians["numpy floor"]
        print(f"  traced / floor   = {medians['traced'] / floor:.2f}  (target ≤ 1.5)")
        print(f"  untraced / floor = {medians['untraced'] / floor:.2f}")
        if "pytorch eager" in medians:
            print(f"  traced / pytorch = {medians['traced'] / medians['pytorch eager']:.2f}  (target ≤ 0.25)")
        else:
            print("  pytorch: not installed (pip install torch==2.13.0 to compare)")


if __name__ == "__main__":
    main()
