"""The learning-rate race against training its copies one after another, side by side in one run
(docs/budgets.md, "Learning-rate lab"): 8 copies × 1,000 steps of the default network.

    python bench/race.py [--repeats 21]

Two pairs, each the same work done both ways:
- `race` advances the 8 copies together (`Race.advance`, what the live race does between its
  messages) against `one after another`: 8 trainers of the same config and rates, each trained
  1,000 steps in turn;
- `race + history` is `Race.run` as the REST sweep runs it by default for 1,000 steps (every
  copy's whole-split train loss every 2 steps) against `one after another + history`: each
  trainer in turn, evaluating its train loss at the same steps.
Each timing includes building the trainers. The budget: race ≤ 1.2× one after another.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backprop_lab.engine.config import Config  # noqa: E402
from backprop_lab.engine.lr_lab import Race, SplitLoss  # noqa: E402
from backprop_lab.engine.trainer import Trainer  # noqa: E402
from backprop_lab.server.analyses.rate_experiments import default_record_every  # noqa: E402

RATES = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
STEPS = 1000


def one_after_another(config: Config) -> None:
    for rate in RATES:
        Trainer(config.replace(learning_rate=rate)).step(STEPS)


def race(config: Config) -> None:
    Race(config, RATES).advance(STEPS)


def one_after_another_with_history(config: Config) -> None:
    every = default_record_every(STEPS)
    for rate in RATES:
        trainer = Trainer(config.replace(learning_rate=rate))
        data_loss = SplitLoss(trainer)
        history = [data_loss.of(trainer.network.parameters)]
        for _ in range(0, STEPS, every):
            trainer.step(every)
            history.append(data_loss.of(trainer.network.parameters))


def race_with_history(config: Config) -> None:
    Race(config, RATES).run(STEPS, default_record_every(STEPS))


PAIRS = {"race": "one after another", "race + history": "one after another + history"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    config = Config()
    threadpool_limits(1)  # one BLAS thread, as in the server
    runs = {"one after another": one_after_another, "race": race,
            "one after another + history": one_after_another_with_history, "race + history": race_with_history}
    for run in runs.values():
        run(config)  # compile or load the kernels
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for round_ in range(args.repeats):
        # interleaved, so drift hits all alike, in alternating order, so going first or last does too
        for name in names if round_ % 2 == 0 else reversed(names):
            run = runs[name]
            started = time.perf_counter()
            run(config)
            times[name].append(time.perf_counter() - started)
    for name, values in times.items():
        print(f"{name:>28}: median {statistics.median(values) * 1e3:7.2f} ms")
    for name, base in PAIRS.items():
        ratios = [mine / theirs for mine, theirs in zip(times[name], times[base], strict=True)]
        print(f"{name} / {base}: median ratio {statistics.median(ratios):.2f}× (budget ≤ 1.2×)")


if __name__ == "__main__":
    main()
