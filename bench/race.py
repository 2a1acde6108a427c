"""The learning-rate race against training its copies one after another, side by side in one run
(docs/budgets.md, "Learning-rate lab"): 8 copies × 1,000 steps of the default network.

    python -m bench.race [--repeats 7]

`race` is `engine.lr_lab.Race.run` as the REST sweep runs it by default for 1,000 steps (the
whole-split train loss recorded every 2 steps); `race, no history` advances the copies only
(`Race.advance`, what the live race does between its messages); `one after another` builds 8
trainers with the same config and rates and trains each for 1,000 steps. Each timing includes
building the trainers. The budget: race ≤ 1.2× one after another.
"""

from __future__ import annotations

import argparse
import statistics
import time

from engine.config import Config
from engine.lr_lab import Race
from engine.trainer import Trainer
from server.lab import default_record_every

RATES = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
STEPS = 1000


def one_after_another(config: Config) -> None:
    for rate in RATES:
        Trainer(config.replace(learning_rate=rate)).step(STEPS)


def race(config: Config) -> None:
    Race(config, RATES).run(STEPS, default_record_every(STEPS))


def race_without_history(config: Config) -> None:
    Race(config, RATES).advance(STEPS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    config = Config()
    runs = {"one after another": one_after_another, "race": race, "race, no history": race_without_history}
    for run in runs.values():
        run(config)  # compile or load the kernels
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, run in runs.items():  # interleaved, so drift hits all alike
            started = time.perf_counter()
            run(config)
            times[name].append(time.perf_counter() - started)
    base = statistics.median(times["one after another"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:>20}: median {median * 1e3:7.2f} ms  ({median / base:.2f}× one after another)")


if __name__ == "__main__":
    main()
