"""Runs you can organise, on a real server: tags and a note (saved with the run, changed by
PATCH), search by tags, data set, hyperparameter and metric ranges returning exactly the matching
runs, unknown query parameters refused, runs compared, and the export format 2: smaller than
format 1 on the issue's case, carrying its data set and versions, importable in both formats."""

from __future__ import annotations

import base64
import json

import httpx
import numpy as np
import pytest

from backprop_lab.engine.layout import ParameterLayout


@pytest.fixture(scope="module")
def live(runs_live):
    """This module's server keeps its runs in an SQLite file, then in PostgreSQL (conftest.py)."""
    return runs_live


def trained_run(live, http: httpx.Client, name: str, steps: int = 40, tags: list[str] | None = None,
                **config: object) -> dict:
    sid = live.new_session(**config)
    assert http.post(f"/api/v1/sessions/{sid}/step", json={"steps": steps}).status_code == 200
    saved = http.post("/api/v1/runs", json={"session_id": sid, "name": name, "tags": tags or []})
    assert saved.status_code == 201, saved.text
    return saved.json()


@pytest.fixture(scope="module")
def catalogue(live, http) -> dict[str, dict]:
    """Five runs whose tags and config the searches below pick among (this module's server keeps
    only these: every search can be exact)."""
    return {
        "a": trained_run(live, http, "a", tags=["sweep", "tanh"], dataset="xor", learning_rate=0.01),
        "b": trained_run(live, http, "b", tags=["sweep"], dataset="xor", learning_rate=0.1),
        "c": trained_run(live, http, "c", tags=["sweep", "tanh"], dataset="spiral", learning_rate=1.0),
        "d": trained_run(live, http, "d", dataset="circle", learning_rate=0.1, hidden_layers=[8, 8, 8]),
        "e": trained_run(live, http, "e", steps=600, tags=["long"], dataset="circle", learning_rate=0.3),
    }


def found(http: httpx.Client, catalogue: dict[str, dict], **query: object) -> set[str]:
    response = http.get("/api/v1/runs", params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["runs"])
    names = {run_id: name for name, run in catalogue.items() for run_id in [run["id"]]}
    return {names[run["id"]] for run in body["runs"] if run["id"] in names}


def test_tags_and_ranges_return_exactly_the_matching_runs(http, catalogue):
    assert found(http, catalogue) == {"a", "b", "c", "d", "e"}
    assert found(http, catalogue, tag="sweep") == {"a", "b", "c"}
    assert found(http, catalogue, tag=["sweep", "tanh"]) == {"a", "c"}  # every tag given
    assert found(http, catalogue, dataset="xor") == {"a", "b"}
    assert found(http, catalogue, dataset=["xor", "spiral"]) == {"a", "b", "c"}  # any of the values
    assert found(http, catalogue, learning_rate_min=0.05, learning_rate_max=0.5) == {"b", "d", "e"}
    assert found(http, catalogue, tag="sweep", learning_rate_min=0.1) == {"b", "c"}
    assert found(http, catalogue, hidden_layers_min=3) == {"d"}
    assert found(http, catalogue, step_min=100) == {"e"}


def test_a_metric_range_uses_each_runs_loss_at_its_saved_step(http, catalogue):
    losses = {name: http.get(f"/api/v1/runs/{run['id']}").json()["history"][-1]["test_loss"]
              for name, run in catalogue.items()}
    middle = sorted(losses.values())[2]
    assert found(http, catalogue, test_loss_max=middle) == {name for name, loss in losses.items() if loss <= middle}
    assert found(http, catalogue, test_loss_min=middle) == {name for name, loss in losses.items() if loss >= middle}


UNKNOWN = [({"tags": "x"}, "tags"), ({"learning_rate_minimum": 1}, "learning_rate_minimum"),
           ({"offset": 0, "colour": "red"}, "colour")]


@pytest.mark.parametrize(("query", "name"), UNKNOWN)
def test_an_unknown_query_parameter_is_422_naming_it(http, query, name):
    response = http.get("/api/v1/runs", params=query)
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == ["query", name] and error["code"] == "unknown_parameter"
    assert "tag" in error["params"]["allowed"] and "learning_rate_min" in error["params"]["allowed"]


def test_every_runs_route_refuses_unknown_query_parameters(http, catalogue):
    run_id = catalogue["a"]["id"]
    for path in (f"/api/v1/runs/{run_id}", f"/api/v1/runs/{run_id}/export", f"/api/v1/runs/{run_id}/params.npz"):
        assert http.get(path, params={"step": 3}).status_code == 422
    assert http.get(f"/api/v1/runs/{run_id}").status_code == 200


def test_a_non_finite_range_is_422(http):
    assert http.get("/api/v1/runs", params={"learning_rate_min": "nan"}).status_code == 422


def test_tags_and_note_are_set_by_patch_and_shown_in_the_list(live, http):
    run = trained_run(live, http, "to tag", steps=5)
    assert run["tags"] == [] and run["note"] == ""
    changed = http.patch(f"/api/v1/runs/{run['id']}", json={"tags": ["zeta", "alpha", "zeta"], "note": "½ ok"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["tags"] == ["alpha", "zeta"] and changed.json()["note"] == "½ ok"
    assert changed.json()["name"] == "to tag"  # only what was given changes
    listed = {r["id"]: r for r in http.get("/api/v1/runs", params={"tag": "alpha"}).json()["runs"]}
    assert listed[run["id"]]["note"] == "½ ok"
    assert http.patch(f"/api/v1/runs/{run['id']}", json={"tags": []}).json()["tags"] == []
    for bad in ({"tags": ["a,b"]}, {"tags": [" lead"]}, {"tags": ["x"] * 17}, {"note": "n" * 2001}):
        refused = http.patch(f"/api/v1/runs/{run['id']}", json=bad)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][:2] == ["body", next(iter(bad))]


def test_compare_aligns_the_loss_curves_by_step_and_lists_what_differs(live, http):
    first = live.new_session(dataset="xor", learning_rate=0.1, seed=1)
    http.post(f"/api/v1/sessions/{first}/step", json={"steps": 60, "record_every": 20})
    second = live.new_session(dataset="xor", learning_rate=0.3, seed=1, activation="relu")
    http.post(f"/api/v1/sessions/{second}/step", json={"steps": 90, "record_every": 30})
    runs = [http.post("/api/v1/runs", json={"session_id": sid, "name": n}).json() for sid, n in
            ((first, "slow"), (second, "fast"))]
    response = http.get("/api/v1/runs/compare", params={"ids": [runs[0]["id"], runs[1]["id"]]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["steps"] == [0, 20, 30, 40, 60, 90]
    slow, fast = body["curves"]
    histories = [http.get(f"/api/v1/runs/{run['id']}").json()["history"] for run in runs]
    for curve, history in ((slow, histories[0]), (fast, histories[1])):
        at = {point["step"]: point["train_loss"] for point in history}
        assert curve["train_loss"] == [at.get(step) for step in body["steps"]]
    assert slow["train_loss"][2] is None and fast["train_loss"][1] is None  # nothing recorded there
    assert {d["field"]: d["values"] for d in body["differences"]} == {"learning_rate": [0.1, 0.3],
                                                                       "activation": ["tanh", "relu"]}
    assert "dataset" in body["same"] and [run["name"] for run in body["runs"]] == ["slow", "fast"]


def test_compare_refuses_one_run_too_many_and_an_unknown_id(http, catalogue):
    one = catalogue["a"]["id"]
    assert http.get("/api/v1/runs/compare", params={"ids": [one]}).status_code == 422
    assert http.get("/api/v1/runs/compare", params={"ids": [one, one]}).status_code == 422
    assert http.get("/api/v1/runs/compare", params={"ids": [one] * 9}).status_code == 422
    missing = http.get("/api/v1/runs/compare", params={"ids": [one, "nope"]})
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


def as_format_1(document: dict) -> dict:
    """What format 1 wrote for the same run: snapshots as JSON layers, no data set, no versions."""
    run = dict(document["run"])
    layout = ParameterLayout(tuple(run["resume"]["layer_sizes"]))
    packed = run.pop("snapshots")
    rows = np.frombuffer(base64.b64decode(packed["data"]), dtype="<f4").astype(np.float64)
    rows = rows.reshape(len(packed["steps"]), layout.size)
    snapshots = []
    for step, row in zip(packed["steps"], rows, strict=True):
        weights, biases = layout.views(row)
        snapshots.append({"step": step, "layers": [{"weights": w.tolist(), "biases": b.tolist()}
                                                   for w, b in zip(weights, biases, strict=True)]})
    run.pop("dataset")
    run.pop("tags")
    run.pop("note")
    return {"format": document["format"], "version": 1, "exported": document["exported"],
            "run": {**run, "snapshots": snapshots}}


def test_format_2_is_smaller_than_format_1_on_the_issues_case_and_carries_data_and_versions(live, http):
    sid = live.new_session(features=["x1", "x2", "x1_squared", "x2_squared", "x1_x2"], hidden_layers=[16, 16])
    for _ in range(4):
        http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 5000})
    run = http.post("/api/v1/runs", json={"session_id": sid, "name": "issue case"}).json()
    assert run["parameters"] == 402
    exported = http.get(f"/api/v1/runs/{run['id']}/export")
    document = exported.json()
    old = json.dumps(as_format_1(document), separators=(",", ":"))
    snapshots_then = len(json.dumps(as_format_1(document)["run"]["snapshots"], separators=(",", ":")))
    snapshots_now = len(json.dumps(document["run"]["snapshots"], separators=(",", ":")))
    assert len(document["run"]["snapshots"]["steps"]) > 100
    assert snapshots_now < 0.3 * snapshots_then and len(exported.content) < 0.45 * len(old)
    assert set(document["produced_by"]) == {"app", "python", "numpy", "numba", "platform"}
    assert document["produced_by"]["numpy"] == np.__version__
    origin = document["run"]["dataset"]
    assert origin["generator"] is True and origin["name"] == "circle" and origin["seed"] == 0
    assert origin["samples"] == 500 and len(origin["sha256"]) == 64


def test_a_format_1_document_imports_and_resumes_bit_for_bit(live, http):
    sid = live.new_session(dataset="moons", optimizer="adam", seed=9)
    http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 70})
    run = http.post("/api/v1/runs", json={"session_id": sid, "name": "old format"}).json()
    old = as_format_1(http.get(f"/api/v1/runs/{run['id']}/export").json())
    imported = http.post("/api/v1/runs/import", json=old)
    assert imported.status_code == 201, imported.text
    opened = http.post(f"/api/v1/runs/{imported.json()['id']}/session").json()
    for session_id in (sid, opened["id"]):
        http.post(f"/api/v1/sessions/{session_id}/step", json={"steps": 33})
    original, resumed = (http.get(f"/api/v1/sessions/{s}/params").json() for s in (sid, opened["id"]))
    assert original == resumed


def test_the_export_is_named_by_the_run_and_its_step(live, http):
    run = trained_run(live, http, "Lingkaran: lr 0.03 / tanh", steps=12)
    disposition = http.get(f"/api/v1/runs/{run['id']}/export").headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Lingkaran-lr-0.03-tanh-step-12.json"')
    csv_name = http.get(f"/api/v1/runs/{run['id']}/metrics.csv").headers["content-disposition"]
    assert 'filename="Lingkaran-lr-0.03-tanh-step-12-metrics.csv"' in csv_name


def test_the_openapi_example_of_an_import_imports(live, http):
    schema = http.get("/openapi.json").json()["components"]["schemas"]["RunDocument"]
    (example,) = schema["examples"]
    imported = http.post("/api/v1/runs/import", json=example)
    assert imported.status_code == 201, imported.text
    assert imported.json()["tags"] == ["example"] and imported.json()["step"] == 2
