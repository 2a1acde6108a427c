"""Weights as files: a session's and a saved run's `.npz` and `.safetensors` load in NumPy and
`safetensors`, hold PyTorch's layout (the JSON weights transposed), rebuild the network's loss
from a plain NumPy forward pass, are named by the run, and keep to the JSON routes' owners."""

from __future__ import annotations

import io
import json
import re

import httpx
import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load as safetensors_load

from backprop_lab.engine import reference


def npz(response: httpx.Response) -> dict[str, np.ndarray]:
    assert response.status_code == 200, response.text
    with np.load(io.BytesIO(response.content), allow_pickle=False) as files:
        return {name: files[name] for name in files.files}


def reference_loss(tensors: dict[str, np.ndarray], config: dict, inputs: list, targets: list) -> float:
    """The data loss from the file's arrays alone, by engine/reference.py's forward pass."""
    count = len(tensors) // 2
    layers = [(tensors[f"layers.{number}.weight"].T, tensors[f"layers.{number}.bias"]) for number in range(count)]
    choices = reference.Choices(config["activation"], config["loss"] == "cross_entropy", config["loss"])
    x, y = np.array(inputs), np.array(targets)
    z, a = reference.forward(layers, x, choices)
    return reference.data_loss(z[-1], a[-1], y, config["loss"])


@pytest.mark.parametrize("dataset", ["spiral", "plane"])
def test_a_sessions_npz_and_safetensors_rebuild_its_loss_in_numpy(live, http, dataset):
    sid = live.new_session(dataset=dataset, hidden_layers=[5, 3], activation="relu", seed=7)
    assert http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 300}).status_code == 200
    session = http.get(f"/api/v1/sessions/{sid}").json()
    data = http.get(f"/api/v1/sessions/{sid}/dataset").json()
    json_layers = http.get(f"/api/v1/sessions/{sid}/params").json()["layers"]

    from_npz = npz(http.get(f"/api/v1/sessions/{sid}/params.npz"))
    file = http.get(f"/api/v1/sessions/{sid}/params.safetensors")
    assert file.status_code == 200 and file.headers["content-type"] == "application/octet-stream"
    from_safetensors = safetensors_load(file.content)

    names = [f"layers.{number}.{kind}" for number in range(3) for kind in ("weight", "bias")]
    assert sorted(from_npz) == sorted(from_safetensors) == sorted(names)
    sizes = session["layer_sizes"]
    for number, layer in enumerate(json_layers):
        assert from_npz[f"layers.{number}.weight"].shape == (sizes[number + 1], sizes[number])  # outputs × inputs
        assert np.array_equal(from_npz[f"layers.{number}.weight"], np.array(layer["weights"]).T)
        assert np.array_equal(from_npz[f"layers.{number}.bias"], np.array(layer["biases"]))
        assert from_safetensors[f"layers.{number}.weight"].dtype == np.float64
    for name in names:
        assert np.array_equal(from_npz[name], from_safetensors[name])
    for split in ("train", "test"):
        loss = reference_loss(from_npz, session["config"], data[split]["inputs"], data[split]["targets"])
        # the weights are the same bits; NumPy's sums run in another order than the kernels' loops
        assert loss == pytest.approx(session["metrics"][f"{split}_loss"], rel=1e-13, abs=0)


def test_the_safetensors_header_says_what_network_it_is(live, http, tmp_path):
    sid = live.new_session(hidden_layers=[4], activation="sigmoid")
    path = tmp_path / "weights.safetensors"
    path.write_bytes(http.get(f"/api/v1/sessions/{sid}/params.safetensors").content)
    with safe_open(str(path), framework="numpy") as file:
        metadata = file.metadata()
    assert metadata["format"] == "backprop-lab-weights"
    assert json.loads(metadata["layer_sizes"]) == [2, 4, 2] and json.loads(metadata["activation"]) == "sigmoid"
    assert json.loads(metadata["output"]) == "softmax" and json.loads(metadata["step"]) == 0


def test_a_runs_files_hold_its_saved_steps_weights_exactly_and_are_named_by_the_run(live, http):
    sid = live.new_session(dataset="xor", seed=2)
    http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 120})
    at_save = http.get(f"/api/v1/sessions/{sid}/params").json()["layers"]
    run = http.post("/api/v1/runs", json={"session_id": sid, "name": "xor / tanh, lr 0.03"}).json()
    http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 50})  # the session moves on; the run does not

    response = http.get(f"/api/v1/runs/{run['id']}/params.npz")
    tensors = npz(response)
    for number, layer in enumerate(at_save):
        assert np.array_equal(tensors[f"layers.{number}.weight"], np.array(layer["weights"]).T)
        assert np.array_equal(tensors[f"layers.{number}.bias"], np.array(layer["biases"]))
    assert response.headers["content-disposition"] == 'attachment; filename="xor-tanh-lr-0.03-step-120.npz"; ' \
        "filename*=UTF-8''xor-tanh%2C-lr-0.03-step-120.npz"
    named = http.get(f"/api/v1/runs/{run['id']}/params.safetensors").headers["content-disposition"]
    assert re.search(r'filename="xor-tanh-lr-0\.03-step-120\.safetensors"', named)
    assert http.get("/api/v1/runs/nope/params.npz").status_code == 404


def test_in_classroom_mode_anothers_weights_answer_404_as_an_unknown_id(alice, bob):
    sid = alice.post("/api/v1/sessions", json={"hidden_layers": [3]}).json()["id"]
    run = alice.post("/api/v1/runs", json={"session_id": sid, "name": "mine"}).json()
    for path in (f"/api/v1/sessions/{sid}/params.npz", f"/api/v1/sessions/{sid}/params.safetensors",
                 f"/api/v1/runs/{run['id']}/params.npz", f"/api/v1/runs/{run['id']}/params.safetensors"):
        assert alice.get(path).status_code == 200
        refused = bob.get(path)
        assert refused.status_code == 404 and refused.headers["content-type"].startswith("application/json")
