"""A scripted run over the REST API: create a session, train it in chunks, read its metrics
as it learns, and save the results (a CSV of the loss curves and a JSON of the final weights).

    backprop-lab &                                   # the server, on http://127.0.0.1:8000
    python examples/scripted_run.py --out results/   # this script

Only `httpx` is needed on the client side. docs/api.md walks through the same calls.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

import httpx

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

    with httpx.Client(base_url=args.base, timeout=60) as http:
        # 1. Create a session: every config field is optional; the rest are the UI's defaults.
        response = http.post("/api/v1/sessions", json=CONFIG)
        response.raise_for_status()
        session = response.json()
        sid = session["id"]
        print(f"session {sid}: {session['layer_sizes']} network, {session['parameters']} parameters")

        # 2. Train in chunks; each answer carries step, epoch and metrics on whole splits.
        rows = [{"step": session["step"], "epoch": session["epoch"], **session["metrics"]}]
        for _ in range(args.chunks):
            session = http.post(f"/api/v1/sessions/{sid}/step", json={"steps": args.steps}).json()
            if session["state"] == "diverged":
                print("diverged:", session["diverged"]["message"])
                break
            rows.append({"step": session["step"], "epoch": session["epoch"], **session["metrics"]})
            m = session["metrics"]
            print(f"step {session['step']:>6}  epoch {session['epoch']:>4}  train loss {m['train_loss']:.4f}  "
                  f"test loss {m['test_loss']:.4f}  test accuracy {m['test_accuracy']:.3f}")

        # 3. Save results: the loss curves as CSV, the config and final weights as JSON.
        with open(args.out / "metrics.csv", "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        params = http.get(f"/api/v1/sessions/{sid}/params").json()
        result = {"config": session["config"], "step": session["step"], "metrics": session["metrics"], **params}
        (args.out / "result.json").write_text(json.dumps(result, indent=1))
        print(f"saved {args.out / 'metrics.csv'} and {args.out / 'result.json'}")

        # 4. Free the server's memory (sessions also expire after 30 idle minutes).
        http.delete(f"/api/v1/sessions/{sid}")


if __name__ == "__main__":
    main()
