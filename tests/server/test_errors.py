"""Error answers: echoed inputs are made JSON-safe and bounded, and every refusal carries a
stable `code`, its `field` and `params` beside the English message, for a page to translate."""

from __future__ import annotations

import httpx
from server_helpers import strict_json

from backprop_lab.server.settings import Limits
from backprop_lab.server.web.errors import JSONBody, validation_detail
from backprop_lab.server.web.limits import TokenBucket
from backprop_lab.server.wire.protocol import encode


def test_non_finite_inputs_are_echoed_as_strings_and_big_ones_not_at_all():
    detail = validation_detail(
        [
            {"loc": ("body", "learning_rate"), "msg": "bad", "type": "finite_number", "input": float("nan")},
            {"loc": ("body", "layers"), "msg": "bad", "type": "x", "input": [[1.0] * 100] * 100},
            {"loc": ("body", "seed"), "msg": "bad", "type": "x", "input": 3 * 10**24, "ctx": {"le": 2**63 - 1}},
            {"loc": ("body",), "msg": "bad", "type": "x", "input": {"a": float("-inf")},
             "ctx": {"error": ValueError("e")}},
        ]
    )
    assert detail[0]["input"] == "NaN" and "input" not in detail[1]
    assert detail[2]["input"] == "3000000000000000000000000" and detail[2]["ctx"] == {"le": "9223372036854775807"}
    assert detail[3]["input"] == {"a": "-Infinity"} and detail[3]["ctx"] == {"error": "e"}
    strict_json(encode({"detail": detail}))
    strict_json(JSONBody({"x": float("inf")}).body)


def test_the_token_bucket_allows_bursts_up_to_its_rate():
    bucket = TokenBucket(5)
    assert [bucket.allow() for _ in range(7)] == [True] * 5 + [False] * 2


def test_a_malformed_field_names_pydantics_code_its_field_and_bounds(http):
    response = http.post("/api/v1/sessions", json={"learning_rate": 5000, "momentum": "fast"})
    assert response.status_code == 422
    by_field = {item["field"]: item for item in response.json()["detail"]}
    rate = by_field["learning_rate"]
    assert rate["loc"] == ["body", "learning_rate"] and rate["msg"]  # FastAPI's shape, English kept
    assert rate["code"] == rate["type"] == "less_than_equal" and rate["params"] == {"le": 1000.0, "value": 5000}
    assert by_field["momentum"]["code"] == "float_parsing" and by_field["momentum"]["params"]["value"] == "fast"


def test_an_engine_refusal_carries_the_engines_code_and_params(http):
    response = http.post("/api/v1/sessions", json={"features": ["x1", "x1"]})
    (item,) = response.json()["detail"]
    assert (item["code"], item["field"], item["params"]) == ("duplicate", "features", {"value": "x1"})
    response = http.post("/api/v1/sessions", json={"dataset": "csv_nothing_here"})
    (item,) = response.json()["detail"]
    assert (item["code"], item["field"], item["params"]["value"]) == ("unknown_dataset", "dataset", "csv_nothing_here")


def test_a_bad_csv_says_which_row_column_and_problem_in_params(http):
    files = {"file": ("bad.csv", b"a,b,label\n1,2,x\n3,oops,y\n", "text/csv")}
    (item,) = http.post("/api/v1/datasets", files=files).json()["detail"]
    assert item["loc"] == ["body", "file"] and item["type"] == "csv_error"
    assert item["msg"] == "bad.csv: row 3, column 'b': 'oops' is not a number"
    assert (item["code"], item["field"]) == ("not_a_number", "file")
    assert item["params"] == {"value": "oops", "row": 3, "column": "b"}


def test_a_cap_answers_429_with_its_code_field_and_maximum(live_factory):
    server = live_factory(Limits(max_neurons=8))
    with httpx.Client(base_url=server.base) as http:
        response = http.post("/api/v1/sessions", json={"hidden_layers": [4, 9]})
        assert response.status_code == 429
        body = response.json()
        assert body["detail"] == "hidden_layers: at most 8 neurons per layer on this server"
        assert (body["code"], body["field"]) == ("too_many_neurons", "hidden_layers")
        assert body["params"] == {"value": 9, "maximum": 8}
