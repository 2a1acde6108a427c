"""Every script in examples/ runs as written against a server started the documented way
(`backprop-lab`, here `python -m backprop_lab`, which README says is the same) and prints or saves
what its docstring promises; docs/api.md's health example names the protocol the server speaks."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from backprop_lab.server.wire.protocol import PROTOCOL_VERSION

sys.path.insert(0, str(Path(__file__).parent))
from server_helpers import SERVER_START_SECONDS, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(path.name for path in (ROOT / "examples").glob("*.py"))
# this checkout's package, as `pip install .` would give the scripts
ENVIRONMENT = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("examples")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "backprop_lab", "--port", str(port),
                                    "--db", str(folder / "runs.sqlite3")], cwd=folder, env=ENVIRONMENT,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            assert process.poll() is None, (folder / "server.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{base}/api/v1/health", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def run(name: str, *arguments: str, cwd: Path) -> str:
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name), *arguments], cwd=cwd, env=ENVIRONMENT,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return result.stdout


def check_scripted_run(base: str, folder: Path) -> None:
    out = run("scripted_run.py", "--base", base, "--out", str(folder), "--chunks", "4", "--steps", "150", cwd=folder)
    with open(folder / "metrics.csv") as file:
        rows = list(csv.DictReader(file))
    assert [int(row["step"]) for row in rows] == [0, 150, 300, 450, 600]
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    saved = json.loads((folder / "result.json").read_text())
    assert saved["step"] == 600 and saved["config"]["dataset"] == "spiral"
    assert [len(layer["biases"]) for layer in saved["layers"]] == [8, 8, 2]
    with np.load(folder / "weights.npz") as arrays:
        assert arrays["W0"].shape == (4, 8) and arrays["b2"].shape == (2,)
        assert np.array_equal(arrays["W1"], np.array(saved["layers"][1]["weights"]))
    assert out.count("test accuracy") == 4


def check_engine_and_server(base: str, folder: Path) -> None:
    out = run("engine_and_server.py", "--base", base, "--steps", "600", cwd=folder)
    assert "weights bit-identical: True" in out
    assert "test loss identical: True" in out
    assert "gradients bit-identical: True" in out


def check_evaluate_weights(base: str, folder: Path) -> None:
    out = run("evaluate_weights.py", "--base", base, "--steps", "300", cwd=folder)
    server, mine = (float(number) for number in re.search(r"test loss +server (\S+) +numpy (\S+)", out).groups())
    assert abs(server - mine) <= 1e-12 * server
    accuracy = re.search(r"test accuracy +server (\S+) +numpy (\S+)", out)
    assert accuracy is not None and accuracy.group(1) == accuracy.group(2)
    assert "(2, 6), (6, 4), (4, 2)" in out


CHECKS = {"scripted_run.py": check_scripted_run, "engine_and_server.py": check_engine_and_server,
          "evaluate_weights.py": check_evaluate_weights}


def test_every_example_has_a_check():
    assert set(EXAMPLES) == set(CHECKS)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_example_runs_as_written_and_does_what_it_says(name: str, server: str, tmp_path: Path):
    CHECKS[name](server, tmp_path)


def test_the_api_documents_health_example_names_the_protocol_the_server_speaks():
    text = (ROOT / "docs" / "api.md").read_text()
    versions = {int(found) for found in re.findall(r'"protocol_version": (\d+)', text)}
    assert versions == {PROTOCOL_VERSION}


# Where a refusal's `code` is written in the source: a keyword, a refusal's positional code, a
# default, the runs database's and the engine's tables. Codes built at run time
# (`too_many_<resource>`, `<scope>_quota`) are in the table by their resources.
CODE_PATTERNS = [
    r'\bcode="([a-z_]+)"',
    r'\bcode: str = "([a-z_]+)"',
    r'"code": "([a-z_]+)"',
    r'CapReached\(\s*(?:f?"[^"]*"\s*)+,\s*"([a-z_]+)"',
    r'Forbidden\(\s*(?:f?"[^"]*"\s*)+,\s*"([a-z_]+)"\)',
    r'super\(\).__init__\(\s*(?:f?"[^"]*"\s*)+,\s*"([a-z_]+)"\)',
    r'StoreError\(\s*"([a-z_]+)"',
    r'ConfigError\(\s*[a-z_"]+,\s*"([a-z_]+)"',
    r'SessionQuota\([^)]*?,\s*"([a-z_]+)"\)',
    r'^\s+\d+: "([a-z_]+)",\s+# SQLITE',
]
ANSWERED_AT_START_ONLY = {"newer_database"}  # the server refuses to start; no request ever gets it


def test_every_code_the_server_can_answer_with_is_in_the_api_documents_table():
    found: set[str] = set()
    for folder in ("server", "engine"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            for pattern in CODE_PATTERNS:
                found.update(re.findall(pattern, text, re.M | re.S))
    assert {"cap_reached", "invalid", "too_many_steps", "not_yours", "busy", "not_a_number"} <= found
    errors = (ROOT / "docs" / "api.md").read_text().split("## Errors", 1)[1]
    assert sorted(code for code in found - ANSWERED_AT_START_ONLY if f"`{code}`" not in errors) == []


def test_the_api_documents_client_example_runs_as_written(server: str, tmp_path: Path):
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split("## A scripted run with the Python client", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0].replace("http://127.0.0.1:8000", server)
    script = tmp_path / "from_the_docs.py"
    script.write_text(code)
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=ENVIRONMENT, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [int(line.split()[0]) for line in lines[:10]] == list(range(250, 2501, 250))
    assert lines[10] == "429 too_many_neurons hidden_layers {'value': 4096, 'maximum': 1024} 10.0"
