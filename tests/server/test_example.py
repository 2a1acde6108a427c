"""examples/scripted_run.py runs against a real server and saves what docs/api.md promises."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_scripted_run_trains_reads_metrics_and_saves_results(live, tmp_path: Path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "scripted_run.py"), "--base", live.base, "--out", str(tmp_path),
         "--chunks", "4", "--steps", "150"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "metrics.csv") as file:
        rows = list(csv.DictReader(file))
    assert [int(row["step"]) for row in rows] == [0, 150, 300, 450, 600]
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["step"] == 600 and saved["config"]["dataset"] == "spiral"
    assert [len(layer["biases"]) for layer in saved["layers"]] == [8, 8, 2]
    assert "test accuracy" in result.stdout
