"""The protocol module: one dispatch table covering every client message type, encoding that
never writes NaN, and decoding that names what is wrong."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest
from server_helpers import strict_json

from backprop_lab.server.live.control import DISPATCH
from backprop_lab.server.wire import protocol
from backprop_lab.server.wire.protocol import ClientMessageType, ProtocolError, decode, encode


def test_every_client_message_type_has_one_model_and_one_handler():
    assert set(DISPATCH) == set(get_args(ClientMessageType))
    for kind, (model, handler) in DISPATCH.items():
        assert callable(handler)
        assert model.model_fields["type"].annotation.__args__ == (kind,)  # type: ignore[union-attr]


def test_encoding_writes_arrays_directly_and_non_finite_numbers_as_null():
    weights = np.arange(6.0).reshape(2, 3)
    message = {
        "type": "frame",
        "weights": weights,
        "column": weights[:, 1],  # not contiguous
        "bad": np.array([np.nan, np.inf, -np.inf, 1.5]),
        "float32": np.array([0.1], dtype=np.float32),
        "scalar": np.float64("nan"),
        "labels": np.array([1, 2], dtype=np.int64),
    }
    decoded = strict_json(encode(message))
    assert decoded["weights"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and decoded["column"] == [1.0, 4.0]
    assert decoded["bad"] == [None, None, None, 1.5] and decoded["scalar"] is None
    assert decoded["float32"] == [0.1] and decoded["labels"] == [1, 2]


def test_the_version_is_in_the_hello():
    assert protocol.hello("abc", {})["protocol"] == protocol.PROTOCOL_VERSION == 3


@pytest.mark.parametrize(("text", "code"), [("{nope", "bad_json"), ("[1, 2]", "bad_message"), ("NaN", "bad_json")])
def test_decoding_refuses_what_is_not_a_json_object(text, code):
    with pytest.raises(ProtocolError) as refused:
        decode(text)
    assert refused.value.code == code


def test_client_messages_are_validated_with_their_fields():
    model, _ = DISPATCH["set_parameter"]
    message = model.model_validate({"type": "set_parameter", "layer": 0, "kind": "bias", "i": 1, "value": 2.5})
    assert message.j == 0 and message.value == 2.5  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        model.model_validate({"type": "set_parameter", "layer": 0, "kind": "bias", "i": 1, "value": float("nan")})
    speed, _ = DISPATCH["speed"]
    with pytest.raises(ValueError):
        speed.model_validate({"type": "speed", "steps_per_second": -1})
