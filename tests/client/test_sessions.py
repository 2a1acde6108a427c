"""`Client.sessions` against a live server: every method, its arrays equal to the JSON endpoints'
numbers bit for bit, and the engine in this process trained alike lands on the same weights."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from backprop_lab.client import ApiError, Client, Layer, flat
from backprop_lab.engine.config import Config
from backprop_lab.engine.evaluation import evaluate_split
from backprop_lab.engine.trainer import Trainer
from backprop_lab.server.wire.session_models import SessionListOut

CONFIG = {"dataset": "xor", "samples": 120, "hidden_layers": [5, 3], "optimizer": "adam", "learning_rate": 0.02,
          "seed": 7}


def json_floats(values: object) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def test_create_takes_a_dict_and_keywords_and_get_reads_the_same_session(lab: Client, http: httpx.Client):
    session = lab.sessions.create({"dataset": "circle", "seed": 3}, hidden_layers=[3], seed=4)
    assert session.config["dataset"] == "circle" and session.config["seed"] == 4  # keywords win
    assert session.config["hidden_layers"] == [3] and session.layer_sizes == [2, 3, 2]
    assert session.step == 0 and session.state == "idle" and session.parameters == 2 * 3 + 3 * 2 + 3 + 2
    again = lab.sessions.get(session.id)
    assert again.raw == http.get(f"/api/v1/sessions/{session.id}").json()
    assert again.metrics == session.metrics  # the same weights, evaluated again
    lab.sessions.delete(session.id)


def test_list_finds_a_session_by_its_config_with_its_creation_time_and_step(lab: Client, http: httpx.Client):
    session = lab.sessions.create(CONFIG)
    lab.sessions.step(session.id, 30)
    listed = {entry.id: entry for entry in lab.sessions.list()}
    entry = listed[session.id]
    assert entry.step == 30 and entry.epoch == 5 and entry.state == "paused"  # 30 batches of 10 over 60 training rows
    assert entry.config == lab.sessions.get(session.id).config and entry.layer_sizes == [2, 5, 3, 2]
    assert entry.owner == "teacher" and entry.created.endswith("Z") and entry.created[:2] == "20"
    SessionListOut.model_validate(http.get("/api/v1/sessions").json())  # the shape /openapi.json gives
    lab.sessions.delete(session.id)
    assert session.id not in {entry.id for entry in lab.sessions.list()}


def test_step_train_and_a_notebooks_trainer_land_on_the_same_weights(lab: Client):
    session = lab.sessions.create(CONFIG)
    assert lab.sessions.step(session.id, 40).step == 40
    trained = lab.sessions.train(session.id, 250, chunk=100)  # three requests: 100, 100, 50
    assert trained.step == 290 and trained.state == "paused"

    trainer = Trainer(Config().replace(**trained.config))
    trainer.step(290)
    assert np.array_equal(flat(lab.sessions.params(session.id)), trainer.network.parameters)
    test = trainer.dataset.test
    assert evaluate_split(trainer.network, trainer.loss, test.inputs, test.targets).metrics["loss"] == (
        trained.metrics["test_loss"])
    lab.sessions.delete(session.id)


def test_params_are_inputs_by_outputs_arrays_equal_to_the_json(lab: Client, http: httpx.Client):
    session = lab.sessions.create(CONFIG)
    lab.sessions.step(session.id, 20)
    layers = lab.sessions.params(session.id)
    body = http.get(f"/api/v1/sessions/{session.id}/params").json()
    assert [layer.weights.shape for layer in layers] == [(2, 5), (5, 3), (3, 2)]
    for layer, expected in zip(layers, body["layers"], strict=True):
        assert isinstance(layer, Layer) and layer.weights.dtype == np.float64
        assert np.array_equal(layer.weights, json_floats(expected["weights"]))
        assert np.array_equal(layer.biases, json_floats(expected["biases"]))
    lab.sessions.delete(session.id)


def test_set_params_writes_every_weight_and_answers_what_the_server_now_holds(lab: Client):
    session = lab.sessions.create(CONFIG)
    layers = lab.sessions.params(session.id)
    edited = [Layer(layer.weights * 0.5, layer.biases + 0.25) for layer in layers]
    answered = lab.sessions.set_params(session.id, edited)
    for mine, theirs in zip(edited, lab.sessions.params(session.id), strict=True):
        assert np.array_equal(mine.weights, theirs.weights) and np.array_equal(mine.biases, theirs.biases)
    assert np.array_equal(flat(answered), flat(edited))
    with pytest.raises(ApiError) as refused:
        lab.sessions.set_params(session.id, edited[:2])
    assert refused.value.status == 422 and refused.value.code == "wrong_shape" and refused.value.field == "layers"
    lab.sessions.delete(session.id)


def test_gradients_dataset_and_trace_are_the_json_numbers_as_arrays(lab: Client, http: httpx.Client):
    session = lab.sessions.create(CONFIG)
    lab.sessions.step(session.id, 15)
    base = f"/api/v1/sessions/{session.id}"

    gradients = lab.sessions.gradients(session.id)
    body = http.get(f"{base}/gradients").json()
    assert gradients.loss == body["loss"] and gradients.objective == body["objective"]
    for layer, expected in zip(gradients.layers, body["layers"], strict=True):
        assert np.array_equal(layer.weights, json_floats(expected["weights"]))
        assert np.array_equal(layer.biases, json_floats(expected["biases"]))

    data = lab.sessions.dataset(session.id)
    body = http.get(f"{base}/dataset").json()
    assert data.features == body["features"] and data.classes == 2 and not data.regression
    for split, expected in ((data.train, body["train"]), (data.test, body["test"])):
        for name in ("points", "inputs", "targets"):
            assert np.array_equal(getattr(split, name), json_floats(expected[name]))
        assert split.labels is not None and split.labels.tolist() == expected["labels"]
    assert data.train.inputs.shape == (60, 2) and data.train.targets.shape == (60, 2)

    trace = lab.sessions.trace(session.id, split="test", index=3)
    body = http.get(f"{base}/trace", params={"split": "test", "index": 3}).json()
    assert (trace.split, trace.index, trace.loss) == ("test", 3, body["loss"])
    assert np.array_equal(trace.inputs, json_floats(body["inputs"]))
    assert np.array_equal(trace.outputs, json_floats(body["outputs"]))
    for layer, expected in zip(trace.layers, body["layers"], strict=True):
        for name in ("pre_activations", "activations", "deltas", "weight_gradients", "bias_gradients"):
            assert np.array_equal(getattr(layer, name), json_floats(expected[name]))
    assert trace.layers[0].derivatives is not None and trace.layers[-1].derivatives is None
    assert trace.layers[1].weight_gradients.shape == (5, 3)
    lab.sessions.delete(session.id)


def test_configure_reset_and_the_gradient_check(lab: Client):
    session = lab.sessions.create(CONFIG)
    lab.sessions.step(session.id, 25)
    changed = lab.sessions.configure(session.id, {"learning_rate": 0.05}, batch_size=4)
    assert changed.config["learning_rate"] == 0.05 and changed.config["batch_size"] == 4 and changed.step == 25
    rebuilt = lab.sessions.configure(session.id, hidden_layers=[2])
    assert rebuilt.step == 0 and rebuilt.layer_sizes == [2, 2, 2]
    lab.sessions.step(session.id, 5)
    assert lab.sessions.reset(session.id).step == 0
    check = lab.sessions.gradient_check(session.id)
    assert check["parameters"] == 12 and check["numerical_forward_passes"] == 24
    assert check["max_relative_error"] < 1e-6
    lab.sessions.delete(session.id)


def test_share_and_fork_make_an_independent_copy_at_the_same_step(lab: Client):
    session = lab.sessions.create(CONFIG)
    lab.sessions.step(session.id, 12)
    share = lab.sessions.share(session.id)
    assert len(share["code"]) == 6 and share["url"].endswith(share["code"])
    fork = lab.sessions.fork(share["code"].lower())
    assert fork.id != session.id and fork.step == 12
    assert np.array_equal(flat(lab.sessions.params(fork.id)), flat(lab.sessions.params(session.id)))
    for session_id in (session.id, fork.id):
        lab.sessions.delete(session_id)


def test_refusals_come_as_api_errors_with_their_code_field_and_params(lab: Client):
    with pytest.raises(ApiError) as refused:
        lab.sessions.create(learning_rate=0)
    assert (refused.value.status, refused.value.code, refused.value.field) == (422, "greater_than", "learning_rate")
    assert refused.value.problems[0]["loc"] == ["body", "learning_rate"]

    with pytest.raises(ApiError) as refused:
        lab.sessions.create(hidden_layers=[5000])
    error = refused.value
    assert (error.status, error.code, error.field) == (429, "too_many_neurons", "hidden_layers")
    assert error.params["maximum"] == 1024 and error.retry_after is not None and error.retry_after > 0

    session = lab.sessions.create(CONFIG)
    with pytest.raises(ApiError) as refused:
        lab.sessions.trace(session.id, index=10_000)
    assert (refused.value.status, refused.value.code, refused.value.field) == (422, "out_of_range", "index")
    lab.sessions.delete(session.id)

    with pytest.raises(ApiError) as refused:
        lab.sessions.get(session.id)
    assert refused.value.status == 404 and "no session" in refused.value.detail


def test_the_documents_example_of_new_params_fits_a_default_session(lab: Client, live):
    """What /docs offers for `PUT …/params` works on a session made with every default."""
    operation = live.app.openapi()["paths"]["/api/v1/sessions/{session_id}/params"]["put"]
    example = operation["requestBody"]["content"]["application/json"]["example"]
    session = lab.sessions.create()
    written = lab.sessions.set_params(session.id, [Layer(np.array(layer["weights"]), np.array(layer["biases"]))
                                                   for layer in example["layers"]])
    assert written[2].weights.tolist() == example["layers"][2]["weights"]
    lab.sessions.delete(session.id)
