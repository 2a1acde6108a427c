"""REST v1 sessions, against a real uvicorn: every endpoint's happy path and its refusals
(422 naming the field, 404, 429), answers that match their documented models, and numbers
checked against an independent NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest
from server_helpers import layers_of, strict_json

from backprop_lab.engine import reference
from backprop_lab.server.settings import Limits, descriptor_limit
from backprop_lab.server.wire.session_models import (
    DatasetOut,
    GradientCheckOut,
    GradientsOut,
    ParamsOut,
    SessionOut,
    TraceOut,
)

DOCUMENTED_DEFAULTS = {  # docs/api.md, "The config"
    "dataset": "circle", "samples": 500, "noise": 0.0, "train_ratio": 0.5, "seed": 0,
    "features": ["x1", "x2"], "hidden_layers": [4, 2], "activation": "tanh",
    "loss": "cross_entropy", "optimizer": "sgd", "learning_rate": 0.03, "momentum": 0.9,
    "batch_size": 10, "regularization": "none", "regularization_rate": 0.0, "init": "xavier",
}


def create(http, **config):  # type: ignore[no-untyped-def]
    response = http.post("/api/v1/sessions", json=config)
    assert response.status_code == 201, response.text
    return SessionOut.model_validate(strict_json(response.text))


def loc_names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [".".join(str(part) for part in error["loc"]) for error in response.json()["detail"]]


def test_health_says_ok_with_a_version_and_the_training_threads(live, http):
    body = http.get("/api/v1/health").json()
    assert body["status"] == "ok" and body["version"] and body["protocol_version"] == 3
    assert body["training_threads"] == live.settings.training_threads >= 1
    # the configured 1,000, unless this process may open too few files for them (see test_cli.py)
    assert body["max_sockets"] == live.settings.limits.sockets_within(descriptor_limit()) <= 1000
    counts = ("sessions", "playing", "sockets", "races_running", "surfaces_computing", "experiments_running")
    assert all(isinstance(body[name], int) and body[name] >= 0 for name in counts)


def test_options_list_every_choice_the_defaults_and_the_caps(http):
    body = http.get("/api/v1/options").json()
    assert [d["name"] for d in body["datasets"]][:3] == ["circle", "xor", "gaussian"]
    assert {"plane", "multi_gaussian", "iris"} <= {d["name"] for d in body["datasets"]}
    assert body["features"] == ["x1", "x2", "x1_squared", "x2_squared", "x1_x2", "sin_x1", "sin_x2"]
    assert set(body["activations"]) == {"linear", "sigmoid", "tanh", "relu", "leaky_relu"}
    assert body["defaults"]["hidden_layers"] == [4, 2] and body["defaults"]["loss"] is None
    assert body["limits"]["max_parameters"] == 50_000 and body["limits"]["max_sessions"] == 300


def test_creating_without_a_body_uses_exactly_the_design_defaults(http):
    response = http.post("/api/v1/sessions")
    assert response.status_code == 201
    body = response.json()
    assert body["config"] == DOCUMENTED_DEFAULTS
    assert (body["step"], body["epoch"], body["state"]) == (0, 0, "idle")
    assert set(body["metrics"]) == {"train_loss", "test_loss", "train_accuracy", "test_accuracy", "test_confusion"}
    confusion = body["metrics"]["test_confusion"]  # rows: true class; columns: predicted
    assert len(confusion) == 2 and all(len(row) == 2 for row in confusion)
    assert sum(map(sum, confusion)) == 250  # every test sample counted once
    assert (confusion[0][0] + confusion[1][1]) / 250 == body["metrics"]["test_accuracy"]
    assert len(body["id"]) >= 22  # 128 random bits, URL-safe


def test_a_partial_config_fills_the_rest_and_a_regression_set_follows_mse(http):
    session = create(http, dataset="plane", hidden_layers=[3])
    assert session.config.loss == "mse" and session.config.learning_rate == 0.03
    assert session.layer_sizes == [2, 3, 1]
    assert {"train_rmse", "test_r2"} <= set(session.metrics.model_dump(exclude_none=True))


def test_metrics_are_the_data_loss_of_whole_splits_at_the_current_weights(http):
    sid = create(http, dataset="xor", hidden_layers=[5], activation="relu").id
    session = http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 40}).json()
    layers = layers_of(http.get(f"/api/v1/sessions/{sid}/params").json())
    data = http.get(f"/api/v1/sessions/{sid}/dataset").json()
    choices = reference.Choices("relu", True, "cross_entropy")
    for split in ("train", "test"):
        inputs, targets = (np.array(data[split][key]) for key in ("inputs", "targets"))
        outputs = reference.forward(layers, inputs, choices)[1][-1]
        loss, _ = reference.loss_and_objective(layers, inputs, targets, choices)
        assert session["metrics"][f"{split}_loss"] == pytest.approx(loss)
        accuracy = np.mean(outputs.argmax(1) == targets.argmax(1))
        assert session["metrics"][f"{split}_accuracy"] == pytest.approx(accuracy)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"learning_rate": 0}, "body.learning_rate"),
        ({"learning_rate": 1001}, "body.learning_rate"),
        ({"learning_rate": 1e6}, "body.learning_rate"),
        ({"learning_rate": "fast"}, "body.learning_rate"),
        ({"batch_size": 0}, "body.batch_size"),
        ({"noise": 0.6}, "body.noise"),
        ({"train_ratio": 0.95}, "body.train_ratio"),
        ({"features": ["x3"]}, "body.features.0"),
        ({"features": []}, "body.features"),
        ({"hidden_layers": [4, 0]}, "body.hidden_layers.1"),
        ({"activation": "swish"}, "body.activation"),
        ({"optimizer": "rmsprop"}, "body.optimizer"),
        ({"lr": 0.1}, "body.lr"),
        ({"dataset": "mnist"}, "body.dataset"),
        ({"dataset": "plane", "loss": "cross_entropy"}, "body.loss"),
        ({"seed": -1}, "body.seed"),
    ],
)
def test_invalid_config_is_422_naming_the_field(http, body, field):
    response = http.post("/api/v1/sessions", json=body)
    assert response.status_code == 422, response.text
    assert field in loc_names(response)
    assert all(error["msg"] and error["type"] for error in response.json()["detail"])


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_non_finite_number_is_refused_and_never_echoed(http, literal):
    response = http.post(
        "/api/v1/sessions", content=f'{{"learning_rate": {literal}}}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    strict_json(response.text)  # the error itself is valid JSON: no NaN echoed back
    assert "body.learning_rate" in loc_names(response)


def test_malformed_json_is_422(http):
    response = http.post("/api/v1/sessions", content="{nope", headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "json_invalid"


def test_unknown_ids_are_404_on_every_session_route(http):
    missing = "no-such-session"
    for method, path in [
        ("GET", ""), ("DELETE", ""), ("PATCH", "/config"), ("POST", "/step"), ("POST", "/reset"),
        ("GET", "/params"), ("PUT", "/params"), ("GET", "/dataset"), ("GET", "/gradients"),
        ("GET", "/trace"), ("POST", "/gradient-check"),
    ]:
        body = {"layers": []} if path == "/params" and method == "PUT" else {}
        response = http.request(method, f"/api/v1/sessions/{missing}{path}", json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert "no session" in response.json()["detail"]


def test_patching_a_hyperparameter_applies_live_and_keeps_the_weights(http):
    sid = create(http).id
    http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 30})
    before = http.get(f"/api/v1/sessions/{sid}/params").json()
    patched = http.patch(f"/api/v1/sessions/{sid}/config", json={"learning_rate": 0.5, "batch_size": 25})
    assert patched.status_code == 200
    body = patched.json()
    assert body["config"]["learning_rate"] == 0.5 and body["config"]["batch_size"] == 25
    assert body["step"] == 30
    assert http.get(f"/api/v1/sessions/{sid}/params").json() == before


def test_patching_the_architecture_reinitialises_from_the_seed(http):
    sid = create(http).id
    http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 30})
    body = http.patch(f"/api/v1/sessions/{sid}/config", json={"hidden_layers": [3, 3, 3]}).json()
    assert body["step"] == 0 and body["state"] == "idle" and body["layer_sizes"] == [2, 3, 3, 3, 2]


def test_patching_an_invalid_value_is_422_and_changes_nothing(http):
    sid = create(http).id
    response = http.patch(f"/api/v1/sessions/{sid}/config", json={"dataset": "plane", "loss": "cross_entropy"})
    assert response.status_code == 422 and "body.loss" in loc_names(response)
    assert http.get(f"/api/v1/sessions/{sid}").json()["config"]["dataset"] == "circle"


def test_stepping_trains_counts_epochs_and_splits_like_one_call(http):
    one = create(http, seed=3, optimizer="adam").id
    two = create(http, seed=3, optimizer="adam").id
    body = http.post(f"/api/v1/sessions/{one}/step", json={"steps": 123}).json()
    assert body["step"] == 123 and body["epoch"] == 4 and body["state"] == "paused"  # 25 steps an epoch
    http.post(f"/api/v1/sessions/{two}/step", json={"steps": 60})
    http.post(f"/api/v1/sessions/{two}/step", json={"steps": 63})
    first = http.get(f"/api/v1/sessions/{one}/params").json()
    assert first == http.get(f"/api/v1/sessions/{two}/params").json()
    ParamsOut.model_validate(first)


def test_step_bounds(http):
    sid = create(http).id
    assert http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 0}).json()["step"] == 0
    assert http.post(f"/api/v1/sessions/{sid}/step").json()["step"] == 1  # no body: one step
    for bad in (-1, 1_000_001, 2.5, "many"):
        response = http.post(f"/api/v1/sessions/{sid}/step", json={"steps": bad})
        assert response.status_code == 422 and "body.steps" in loc_names(response)


def test_reset_goes_back_to_the_initial_weights(http):
    sid = create(http).id
    initial = http.get(f"/api/v1/sessions/{sid}/params").json()
    http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 50})
    body = http.post(f"/api/v1/sessions/{sid}/reset").json()
    assert (body["step"], body["epoch"], body["state"]) == (0, 0, "idle")
    assert http.get(f"/api/v1/sessions/{sid}/params").json() == initial


def test_params_can_be_written_back_exactly_and_bad_shapes_are_422(http):
    sid = create(http).id
    params = http.get(f"/api/v1/sessions/{sid}/params").json()
    params["layers"][1]["weights"][2][1] = 0.125
    params["layers"][2]["biases"][0] = -3.5
    assert http.put(f"/api/v1/sessions/{sid}/params", json=params).json() == params
    assert http.get(f"/api/v1/sessions/{sid}/params").json() == params

    wrong = {"layers": [dict(layer) for layer in params["layers"]]}
    wrong["layers"][0] = {"weights": [[1.0, 2.0]], "biases": [0.0] * 4}
    response = http.put(f"/api/v1/sessions/{sid}/params", json=wrong)
    assert response.status_code == 422 and loc_names(response) == ["body.layers.0.weights"]
    response = http.put(f"/api/v1/sessions/{sid}/params", json={"layers": params["layers"][:2]})
    assert response.status_code == 422 and loc_names(response) == ["body.layers"]
    ragged = {"layers": [dict(layer) for layer in params["layers"]]}
    ragged["layers"][2] = {"weights": [[1.0], [1.0, 2.0]], "biases": [0.0, 0.0]}
    assert http.put(f"/api/v1/sessions/{sid}/params", json=ragged).status_code == 422
    response = http.put(
        f"/api/v1/sessions/{sid}/params",
        content='{"layers": [{"weights": [[NaN]], "biases": [0]}]}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    strict_json(response.text)


def test_the_dataset_has_points_inputs_and_one_hot_targets(http):
    sid = create(http, features=["x1", "x2", "x1_squared"]).id
    data = DatasetOut.model_validate(http.get(f"/api/v1/sessions/{sid}/dataset").json())
    assert data.features == ["x1", "x2", "x1_squared"] and data.classes == 2
    assert len(data.train.points) == 250 and len(data.test.points) == 250
    inputs, points = np.array(data.train.inputs), np.array(data.train.points)
    assert np.allclose(inputs[:, 2], points[:, 0] ** 2)
    targets = np.array(data.train.targets)
    assert set(targets.sum(axis=1)) == {1.0} and data.train.labels == list(targets.argmax(axis=1))


def test_gradients_match_an_independent_backprop_without_changing_the_weights(http):
    config = {"dataset": "spiral", "hidden_layers": [5, 3], "activation": "sigmoid",
              "regularization": "l2", "regularization_rate": 0.01}
    sid = create(http, **config).id
    http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 20})
    params = http.get(f"/api/v1/sessions/{sid}/params").json()
    body = GradientsOut.model_validate(http.get(f"/api/v1/sessions/{sid}/gradients").json())
    assert http.get(f"/api/v1/sessions/{sid}/params").json() == params
    data = http.get(f"/api/v1/sessions/{sid}/dataset").json()
    inputs, targets = np.array(data["train"]["inputs"]), np.array(data["train"]["targets"])
    choices = reference.Choices("sigmoid", True, "cross_entropy", "l2", 0.01)
    expected = reference.training_step(layers_of(params), inputs, targets, choices, reference.Optimizer("sgd", 0.03))
    assert body.loss == pytest.approx(expected.loss, rel=1e-12)
    assert body.objective == pytest.approx(expected.objective, rel=1e-12)
    for got, (dw, db) in zip(body.layers, expected.gradients, strict=True):
        np.testing.assert_allclose(np.array(got.weights), dw, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(np.array(got.biases), db, rtol=1e-9, atol=1e-12)


def test_the_trace_of_one_sample_is_its_own_forward_and_backward_pass(http):
    sid = create(http, hidden_layers=[3]).id
    params = layers_of(http.get(f"/api/v1/sessions/{sid}/params").json())
    data = http.get(f"/api/v1/sessions/{sid}/dataset").json()
    trace = TraceOut.model_validate(http.get(f"/api/v1/sessions/{sid}/trace?split=test&index=7").json())
    x, y = np.array(data["test"]["inputs"][7])[None], np.array(data["test"]["targets"][7])[None]
    expected = reference.training_step(params, x, y, reference.Choices("tanh", True, "cross_entropy"),
                                       reference.Optimizer("sgd", 0.03))
    assert (trace.split, trace.index) == ("test", 7) and trace.loss == pytest.approx(expected.loss)
    for layer, z, a, (dw, db) in zip(trace.layers, expected.z, expected.a[1:], expected.gradients, strict=True):
        np.testing.assert_allclose(layer.pre_activations, z[0], rtol=1e-12)
        np.testing.assert_allclose(layer.activations, a[0], rtol=1e-12)
        np.testing.assert_allclose(np.array(layer.weight_gradients), dw, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(layer.bias_gradients, db, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(layer.deltas, db, rtol=1e-9, atol=1e-15)  # one sample: δ = ∂loss/∂b


def test_trace_refuses_a_sample_outside_the_split_naming_the_parameter(http):
    sid = create(http).id
    response = http.get(f"/api/v1/sessions/{sid}/trace?split=train&index=250")
    assert response.status_code == 422 and loc_names(response) == ["query.index"]
    response = http.get(f"/api/v1/sessions/{sid}/trace?split=validation")
    assert response.status_code == 422 and "query.split" in loc_names(response)


def test_the_gradient_check_counts_2p_forward_passes_and_agrees(http):
    sid = create(http, dataset="xor", hidden_layers=[6, 6]).id
    body = GradientCheckOut.model_validate(http.post(f"/api/v1/sessions/{sid}/gradient-check").json())
    p = 2 * 6 + 6 + 6 * 6 + 6 + 6 * 2 + 2
    assert body.parameters == p and body.numerical_forward_passes == 2 * p
    assert body.max_relative_error is not None and body.max_relative_error < 1e-5
    assert body.numerical_seconds > body.backprop_seconds > 0


def test_delete_ends_a_session(http):
    sid = create(http).id
    assert http.delete(f"/api/v1/sessions/{sid}").status_code == 204
    assert http.get(f"/api/v1/sessions/{sid}").status_code == 404
    assert http.delete(f"/api/v1/sessions/{sid}").status_code == 404


def test_a_diverging_step_pauses_reports_and_never_answers_nan(http):
    sid = create(http, dataset="plane", activation="relu", learning_rate=1000).id
    response = http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 500})
    body = strict_json(response.text)
    assert response.status_code == 200 and body["state"] == "diverged"
    assert body["diverged"]["cause"] in ("loss", "weights") and body["diverged"]["step"] == body["step"] + 1
    assert "learning rate" in body["diverged"]["message"]
    for path in ("/params", "/gradients", "/trace", ""):
        strict_json(http.get(f"/api/v1/sessions/{sid}{path}").text)
    http.patch(f"/api/v1/sessions/{sid}/config", json={"learning_rate": 0.001})
    assert http.post(f"/api/v1/sessions/{sid}/reset").json()["state"] == "idle"
    assert http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 100}).json()["state"] == "paused"


def test_caps_answer_429_with_a_message(live_factory):
    import httpx

    server = live_factory(Limits(max_sessions=2, max_request_seconds=0.001, max_steps_per_request=500))
    with httpx.Client(base_url=server.base) as http:
        sid = create(http, hidden_layers=[64, 64]).id
        response = http.post("/api/v1/sessions", json={"hidden_layers": [300, 300]})
        assert response.status_code == 429 and "parameters" in response.json()["detail"]
        response = http.post("/api/v1/sessions", json={"samples": 20_000})
        assert response.status_code == 429 and "samples" in response.json()["detail"]
        response = http.post("/api/v1/sessions", json={"hidden_layers": [1] * 17})
        assert response.status_code == 429 and "hidden_layers" in response.json()["detail"]
        response = http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 501})
        assert response.status_code == 429 and "steps" in response.json()["detail"]
        response = http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 500})  # ~10 µs a step: > 0.001 s
        assert response.status_code == 429 and "steps a second" in response.json()["detail"]
        assert http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 2}).status_code == 200
        response = http.post(f"/api/v1/sessions/{sid}/gradient-check")
        assert response.status_code == 429 and "2P" in response.json()["detail"]
        create(http)
        response = http.post("/api/v1/sessions", json={})
        assert response.status_code == 429 and "sessions" in response.json()["detail"]


def test_huge_integers_are_refused_and_echoed_as_text(http):
    response = http.post("/api/v1/sessions", json={"seed": 3245371357502779863072768, "hidden_layers": [10**20]})
    assert response.status_code == 422
    inputs = {".".join(map(str, e["loc"])): e.get("input") for e in strict_json(response.text)["detail"]}
    assert inputs["body.seed"] == "3245371357502779863072768"
