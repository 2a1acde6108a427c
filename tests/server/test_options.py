"""`GET /api/v1/options` is the page's one source of names, formulas and ranges: it says what
the engine's registries say, and its ranges are exactly what the API accepts."""

from __future__ import annotations

import pytest
from server_helpers import strict_json

from backprop_lab.engine.activations import ACTIVATIONS
from backprop_lab.engine.datasets import BUILTIN, is_regression_dataset
from backprop_lab.engine.features import FEATURES, FORMULAS
from backprop_lab.engine.formulas import INIT_FORMULAS, NETWORK_FORMULAS
from backprop_lab.engine.losses import LOSSES, OUTPUT_FORMULAS, REGULARIZATIONS
from backprop_lab.engine.optimizers import OPTIMIZER_KINDS
from backprop_lab.server.app import create_app
from backprop_lab.server.wire.meta_models import OptionsOut

RANGED_FIELDS = {
    "samples", "noise", "train_ratio", "seed", "learning_rate", "momentum", "batch_size", "regularization_rate",
    "hidden_layers", "neurons", "steps", "steps_per_second",
}  # fmt: skip


@pytest.fixture(scope="module")
def options(http):  # type: ignore[no-untyped-def]
    response = http.get("/api/v1/options")
    assert response.status_code == 200
    body = strict_json(response.text)
    OptionsOut.model_validate(body, strict=False)
    return body


def test_every_activation_comes_with_its_formula_and_derivative_from_the_engine(options):
    served = options["formulas"]["activations"]
    assert list(served) == list(ACTIVATIONS) == options["activations"]
    for name, activation in ACTIVATIONS.items():
        assert served[name] == {"formula": activation.formula, "derivative": activation.derivative_formula}
        assert served[name]["formula"] and served[name]["derivative"]
    assert served["tanh"] == {"formula": "tanh(z)", "derivative": "1 − tanh²(z) = 1 − a²"}


def test_losses_features_outputs_optimisers_inits_and_penalties_are_the_engine_s_texts(options):
    formulas = options["formulas"]
    for name, loss in LOSSES.items():
        assert formulas["losses"][name] == {
            "formula": loss.formula,
            "delta": {"softmax": loss.softmax_delta_formula, "linear": loss.linear_delta_formula},
        }
    assert formulas["features"] == {name: FORMULAS[name] for name in FEATURES}
    assert list(formulas["features"]) == options["features"]
    assert formulas["outputs"] == OUTPUT_FORMULAS
    assert formulas["optimizers"] == {name: kind.formula for name, kind in OPTIMIZER_KINDS.items()}
    assert list(OPTIMIZER_KINDS) == options["optimizers"]
    assert formulas["inits"] == INIT_FORMULAS and list(INIT_FORMULAS) == options["inits"]
    assert formulas["regularizations"] == {
        name: {"penalty": penalty.formula, "gradient": penalty.gradient_formula}
        for name, penalty in REGULARIZATIONS.items()
    }
    assert formulas["network"] == NETWORK_FORMULAS


def test_which_sets_are_regression_is_the_engine_s_decision(options):
    datasets = {entry["name"]: entry for entry in options["datasets"]}
    assert list(datasets) == list(BUILTIN)
    for name, entry in datasets.items():
        assert entry["regression"] is is_regression_dataset(name)
        assert entry["kind"] == ("regression" if entry["regression"] else "classification")
        assert (entry["classes"] is None) is entry["regression"]
        assert entry["classes"] == BUILTIN[name].classes and entry["tabular"] is BUILTIN[name].tabular
    assert [name for name, entry in datasets.items() if entry["regression"]] == ["plane", "multi_gaussian"]
    assert datasets["iris"] == {**datasets["iris"], "tabular": True, "planar": False, "classes": 3}


def test_every_numeric_field_has_its_range_its_cap_and_what_the_page_offers(options, live):
    ranges = options["ranges"]
    assert set(ranges) == RANGED_FIELDS
    limits = live.settings.limits
    assert ranges["learning_rate"]["min"] == 0 and ranges["learning_rate"]["min_exclusive"] is True
    assert ranges["learning_rate"]["max"] == 1000 and ranges["learning_rate"]["ui"]["max"] == 1000
    assert ranges["noise"]["min"] == 0 and ranges["noise"]["max"] == 0.5
    assert (ranges["train_ratio"]["min"], ranges["train_ratio"]["max"]) == (0.1, 0.9)
    assert ranges["momentum"]["max"] == 1 and ranges["momentum"]["max_exclusive"] is True
    assert ranges["hidden_layers"]["max"] == 64 and ranges["neurons"]["max"] is None
    # docs/product.md: 0–6 hidden layers and 1–16 neurons each in the UI; the server's caps beyond
    assert (ranges["hidden_layers"]["ui"]["min"], ranges["hidden_layers"]["ui"]["max"]) == (0, 6)
    assert (ranges["neurons"]["ui"]["min"], ranges["neurons"]["ui"]["max"]) == (1, 16)
    assert ranges["hidden_layers"]["cap"] == limits.max_hidden_layers
    assert ranges["neurons"]["cap"] == limits.max_neurons and ranges["samples"]["cap"] == limits.max_rows
    assert 0 in ranges["steps_per_second"]["ui"]["presets"]  # 0 = as fast as the engine goes
    # the page starts at a pace a class can watch (not "max", which ends the lesson in half a second)
    pace = ranges["steps_per_second"]["ui"]
    assert pace["default"] in pace["presets"] and 0 < pace["default"] < 1000
    for name, entry in ranges.items():
        assert isinstance(entry["integer"], bool), name
        ui = entry["ui"]
        if entry["min"] is not None:
            assert ui["min"] >= entry["min"], name
        if entry["max"] is not None and ui["max"] is not None:
            assert ui["max"] <= entry["max"], name
        for preset in ui.get("presets") or []:
            assert (entry["min"] is None or preset >= entry["min"]) and (entry["max"] is None or preset <= entry["max"])


@pytest.mark.parametrize("field", ["noise", "train_ratio", "learning_rate", "momentum", "regularization_rate"])
def test_the_served_range_is_what_the_api_accepts(http, options, field):
    entry = options["ranges"][field]
    for bound, side in ((entry["min"], "min"), (entry["max"], "max")):
        exclusive = entry[f"{side}_exclusive"]
        response = http.post("/api/v1/sessions", json={field: bound, "samples": 20, "hidden_layers": []})
        assert response.status_code == (422 if exclusive else 201), (field, side, response.text)
        outside = bound - 0.01 if side == "min" else bound + 0.01
        response = http.post("/api/v1/sessions", json={field: outside, "samples": 20, "hidden_layers": []})
        assert response.status_code == 422, (field, outside)
        assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]


def test_the_openapi_document_declares_the_options_model():
    spec = create_app().openapi()
    operation = spec["paths"]["/api/v1/options"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OptionsOut"
    }
    schemas = spec["components"]["schemas"]
    assert {"formulas", "ranges", "datasets"} <= set(schemas["OptionsOut"]["required"])
    assert set(schemas["ActivationFormula"]["required"]) == {"formula", "derivative"}
    assert RANGED_FIELDS == set(schemas["RangesOut"]["required"])
    assert {"regression", "tabular"} <= set(schemas["DatasetOption"]["properties"])


def test_an_engine_refusal_is_a_422_naming_the_field_with_its_code(http):
    response = http.post("/api/v1/sessions", json={"dataset": "plane", "loss": "cross_entropy"})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "loss"] and error["type"] == "value_error"
    assert error["msg"].startswith("loss: cross_entropy needs a classification data set")
    assert (error["code"], error["field"], error["params"]) == ("needs_classification", "loss", {"dataset": "plane"})


def test_an_uploaded_table_says_whether_it_is_a_regression_set(http):
    files = {"file": ("heights.csv", b"a,b,height\n1,2,1.5\n3,4,1.75\n5,6,1.6\n7,8,1.9\n", "text/csv")}
    upload = http.post("/api/v1/datasets", files=files).json()
    assert upload["regression"] is True and upload["classes"] is None
    response = http.post("/api/v1/sessions", json={"dataset": upload["id"], "loss": "cross_entropy"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "loss"]


def test_every_analysis_serves_its_bounds_and_defaults(options, live):
    analyses = options["analyses"]
    surface = analyses["surface"]
    assert surface["directions"] == ["weights", "random", "pca"]
    resolution = surface["resolution"]
    assert (resolution["min"], resolution["max"], resolution["default"]) == (3, 101, 41)
    assert surface["resolution"]["presets"][-1] == 101 and surface["span"]["min_exclusive"] is True
    assert (analyses["race"]["copies"]["min"], analyses["race"]["copies"]["max"]) == (1, 8)
    assert analyses["race"]["steps"]["max"] == 100_000 and analyses["race"]["steps"]["default"] == 1000
    assert analyses["sweep"]["copies"] == analyses["race"]["copies"]
    assert analyses["sweep"]["steps"]["cap"] == live.settings.limits.max_steps_per_request
    assert analyses["loss_line"]["points"]["max"] == 1001 and analyses["loss_line"]["points"]["default"] == 101
    test = analyses["range_test"]
    assert (test["steps"]["min"], test["steps"]["max"], test["steps"]["default"]) == (10, 10_000, 200)
    assert test["min_rate"]["max"] == options["ranges"]["learning_rate"]["max"] == 1000
    assert options["runs"]["name_length"] == 200 and options["runs"]["page_size"]["max"] == 200


@pytest.mark.parametrize(
    ("path", "field", "section"),
    [
        ("/api/v1/lr-range-test", "steps", ("range_test", "steps")),
        ("/api/v1/lr-range-test", "max_rate", ("range_test", "max_rate")),
        ("/api/v1/lr-sweep", "learning_rates", ("sweep", "copies")),
    ],
)
def test_a_served_analysis_bound_is_what_the_api_accepts(http, options, path, field, section):
    bounds = options["analyses"][section[0]][section[1]]
    past = bounds["max"] + 1
    body = {"config": {"samples": 20, "hidden_layers": []}}
    body[field] = [0.1] * past if field == "learning_rates" else past
    response = http.post(path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]
