"""Runs side by side (`GET /api/v1/runs/compare`): their loss curves aligned on one axis of
steps, and which config fields differ. Runs recorded at different steps (another
`record_every`, a longer run) still line up: each curve has a value at every step of the union,
null where that run recorded nothing."""

from __future__ import annotations

from typing import Any

from backprop_lab.server.saved.run_store import StoredRun

JSON = dict[str, Any]
CURVES = ("train_loss", "test_loss", "train_accuracy", "test_accuracy")
CLASSIFY_ONLY = ("train_accuracy", "test_accuracy")


def comparison(runs: list[StoredRun]) -> JSON:
    steps = sorted({int(point["step"]) for run in runs for point in run.history})
    curves = []
    for run in runs:
        at = {int(point["step"]): point for point in run.history}
        curve: JSON = {"id": run.summary.id}
        for name in CURVES:
            values = [at[step].get(name) if step in at else None for step in steps]
            classify = run.summary.config.get("loss") == "cross_entropy"
            curve[name] = values if classify or name not in CLASSIFY_ONLY else None
        curves.append(curve)
    differences, same = [], []
    for name in dict.fromkeys(key for run in runs for key in run.summary.config):  # the config's order
        values = [run.summary.config.get(name) for run in runs]
        if all(value == values[0] for value in values):
            same.append(name)
        else:
            differences.append({"field": name, "values": values})
    return {
        "runs": [{"id": run.summary.id, "name": run.summary.name, "step": run.summary.step,
                  "tags": list(run.summary.tags), "config": run.summary.config} for run in runs],
        "steps": steps, "curves": curves, "differences": differences, "same": same,
    }
