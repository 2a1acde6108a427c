"""Error answers: echoed inputs are made JSON-safe and bounded."""

from __future__ import annotations

from server_helpers import strict_json

from server.errors import JSONBody, validation_detail
from server.limits import TokenBucket
from server.protocol import encode


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
