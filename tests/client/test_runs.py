"""The Python client's runs and weights against a live server: every method of `Runs` and
`Weights`, their arrays equal to the JSON endpoints', refusals as `ApiError`."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from backprop_lab.client.runs import Runs, query
from backprop_lab.client.transport import ApiError, Transport
from backprop_lab.client.weights import Weights, as_layers


@pytest.fixture(scope="module")
def transport(live) -> Iterator[Transport]:
    with Transport(live.base) as client:
        yield client


@pytest.fixture(scope="module")
def runs(transport) -> Runs:
    return Runs(transport)


def session(transport: Transport, steps: int, **config: object) -> str:
    sid = transport.json("POST", "/api/v1/sessions", json=config)["id"]
    transport.json("POST", f"/api/v1/sessions/{sid}/step", json={"steps": steps})
    return sid


def test_query_turns_ranges_and_lists_into_the_servers_parameters():
    assert query(0, 10, ["a", "b"], dataset=["xor", "moons"], activation="tanh", learning_rate=(0.01, None),
                 test_loss=(None, 0.5)) == {"offset": 0, "limit": 10, "tag": ["a", "b"], "dataset": ["xor", "moons"],
                                            "activation": "tanh", "learning_rate_min": 0.01, "test_loss_max": 0.5}


def test_save_search_get_update_and_delete(transport, runs):
    first = runs.save(session(transport, 20, dataset="xor", learning_rate=0.1), "client a", tags=["client", "x"])
    second = runs.save(session(transport, 20, dataset="moons", learning_rate=0.5), "client b", tags=["client"],
                       note="moons")
    assert first["tags"] == ["client", "x"] and second["note"] == "moons"
    assert {run["id"] for run in runs.search(tags=["client"])} == {first["id"], second["id"]}
    assert [run["id"] for run in runs.search(tags=["client"], learning_rate=(0.2, None))] == [second["id"]]
    assert [run["id"] for run in runs.search(tags=["client"], dataset="xor")] == [first["id"]]
    assert runs.list(limit=1, tags=["client"])["total"] == 2
    assert runs.get(first["id"])["history"][-1]["step"] == 20
    changed = runs.update(first["id"], tags=["kept"], note="a note")
    assert changed["tags"] == ["kept"] and changed["note"] == "a note" and changed["name"] == "client a"
    runs.delete(second["id"])
    with pytest.raises(ApiError) as missing:
        runs.get(second["id"])
    assert missing.value.status == 404


def test_a_misspelt_filter_is_an_api_error_naming_it(runs):
    with pytest.raises(ApiError) as refused:
        runs.search(learning_rat=(0.1, None))
    assert refused.value.status == 422 and refused.value.field == "learning_rat_min"


def test_export_to_a_file_import_it_and_resume_bit_for_bit(transport, runs, tmp_path):
    sid = session(transport, 45, dataset="spiral", optimizer="momentum", seed=3)
    run = runs.save(sid, "to export")
    path = tmp_path / "run.json"
    document = runs.export(run["id"], path)
    assert document["version"] == 2 and path.stat().st_size > 0
    imported = runs.import_document(path)
    resumed = runs.resume(imported["id"])
    for session_id in (sid, resumed["id"]):
        transport.json("POST", f"/api/v1/sessions/{session_id}/step", json={"steps": 25})
    assert (transport.json("GET", f"/api/v1/sessions/{sid}/params")
            == transport.json("GET", f"/api/v1/sessions/{resumed['id']}/params"))
    assert runs.metrics_csv(run["id"]).startswith("step,train_loss,test_loss")


def test_compare_two_runs(transport, runs):
    a = runs.save(session(transport, 30, learning_rate=0.1), "cmp a")
    b = runs.save(session(transport, 30, learning_rate=0.2), "cmp b")
    compared = runs.compare(a["id"], b["id"])
    assert [d["field"] for d in compared["differences"]] == ["learning_rate"]
    assert len(compared["curves"][0]["train_loss"]) == len(compared["steps"])


@pytest.mark.parametrize("fmt", ["npz", "safetensors"])
def test_weights_of_a_session_and_a_run_equal_the_json_endpoints(transport, runs, fmt):
    sid = session(transport, 15, hidden_layers=[3, 2])
    layers = transport.json("GET", f"/api/v1/sessions/{sid}/params")["layers"]
    run = runs.save(sid, "weights")
    for tensors in (Weights(transport).session(sid, fmt), runs.weights(run["id"], fmt)):
        assert sorted(tensors) == sorted(f"layers.{n}.{kind}" for n in range(3) for kind in ("weight", "bias"))
        for (weights, biases), layer in zip(as_layers(tensors), layers, strict=True):
            assert np.array_equal(weights, np.array(layer["weights"])) and np.array_equal(biases, layer["biases"])


def test_an_unknown_format_is_refused_before_asking(transport):
    with pytest.raises(ValueError, match="npz"):
        Weights(transport).session("any", "pt")  # type: ignore[arg-type]


def test_the_client_reaches_runs_and_weights_as_lab_runs_and_lab_weights(live):
    from backprop_lab.client import Client

    with Client(live.base) as lab:
        view = lab.sessions.create(dataset="xor", hidden_layers=[3], seed=4)
        lab.sessions.step(view.id, 64, record_every=16)
        run = lab.runs.save(view.id, "through the client", tags=["lab"])
        assert [found["id"] for found in lab.runs.search(tags=["lab"])] == [run["id"]]
        assert [entry["step"] for entry in lab.runs.get(run["id"])["history"]] == [0, 16, 32, 48, 64]
        weights = as_layers(lab.weights.run(run["id"]))
        for (w, b), layer in zip(weights, lab.sessions.params(view.id), strict=True):
            assert np.array_equal(w, layer.weights) and np.array_equal(b, layer.biases)
