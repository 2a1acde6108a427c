"""A scripted run with the Python client: create a session, train it in chunks, read its metrics
as it learns, and save the results (a CSV of the loss curves, the final weights as JSON and as a
NumPy .npz of arrays).

    backprop-lab &                                   # the server, on http://127.0.0.1:8000
    python examples/scripted_run.py --out results/   # this script

The client (`backprop_lab.client`) is installed with the app. docs/api.md lists the same calls
over plain HTTP; docs/notebook.md walks through the client.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

import numpy as np

from backprop_lab.client import Client

CONFIG = {
    "dataset": "spiral",
    "noise": 0.1,
    "features": ["x1", "x2", "sin_x1", "sin_x2"],
    "hidden_layers": [8, 8],
    "activation": "tanh",
    "optimizer": "adam",
    "learning_rate": 0.01,
    "batch_size": 10,
    "seed": 1,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=os.environ.get("BASE", "http://127.0.0.1:8000"))
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--chunks", type=int, default=10)
    parser.add_argument("--steps", type=int, default=250, help="steps per chunk")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    with Client(args.base) as lab:
        lab.wait_until_ready()  # a first start compiles the engine for most of a minute
        # 1. Create a session: every config field is optional; the rest are the UI's defaults.
        session = lab.sessions.create(CONFIG)
        print(f"session {session.id}: {session.layer_sizes} network, {session.parameters} parameters")
        print("(lost the id? lab.sessions.list() lists your live sessions)")

        # 2. Train in chunks; each answer carries step, epoch and metrics on whole splits.
        rows = [{"step": session.step, "epoch": session.epoch, **session.metrics}]
        for _ in range(args.chunks):
            session = lab.sessions.step(session.id, args.steps)
            if session.state == "diverged":
                print("diverged:", session.diverged["message"] if session.diverged else "")
                break
            metrics = session.metrics
            rows.append({"step": session.step, "epoch": session.epoch, **metrics})
            print(f"step {session.step:>6}  epoch {session.epoch:>4}  train loss {metrics['train_loss']:.4f}  "
                  f"test loss {metrics['test_loss']:.4f}  test accuracy {metrics['test_accuracy']:.3f}")

        # 3. Save results: the loss curves as CSV; the final weights as JSON (nested lists) and as
        #    arrays in an .npz (layer l's weights (n_in, n_out) as W{l}, its biases (n_out,) as b{l}).
        fields = [key for key in rows[0] if key != "test_confusion"]
        with open(args.out / "metrics.csv", "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        layers = lab.sessions.params(session.id)
        result = {"config": session.config, "step": session.step, "metrics": session.metrics,
                  "layers": [{"weights": layer.weights.tolist(), "biases": layer.biases.tolist()} for layer in layers]}
        (args.out / "result.json").write_text(json.dumps(result, indent=1))
        arrays = {f"{kind}{index}": array for index, layer in enumerate(layers)
                  for kind, array in (("W", layer.weights), ("b", layer.biases))}
        np.savez(args.out / "weights.npz", **arrays)
        print(f"saved {args.out / 'metrics.csv'}, {args.out / 'result.json'} and {args.out / 'weights.npz'}")

        # 4. Free the server's memory (sessions also expire after 30 idle minutes).
        lab.sessions.delete(session.id)


if __name__ == "__main__":
    main()
