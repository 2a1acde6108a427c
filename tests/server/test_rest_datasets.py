"""CSV upload: a table becomes a data set id; bad files are refused naming row and column."""

from __future__ import annotations

import httpx
import pytest

from backprop_lab.server.settings import Limits
from backprop_lab.server.wire.session_models import UploadOut

GOOD = "a,b,kind\n1,2,x\n2,1,y\n3,3,x\n0.5,4,y\n4,0.5,x\n"


def upload(http, text: str, name: str = "table.csv") -> httpx.Response:  # type: ignore[no-untyped-def]
    return http.post("/api/v1/datasets", files={"file": (name, text.encode(), "text/csv")})


def test_an_uploaded_csv_becomes_a_data_set_for_sessions(http):
    response = upload(http, GOOD)
    assert response.status_code == 201, response.text
    table = UploadOut.model_validate(response.json())
    assert (table.features, table.target, table.classes, table.rows) == (["a", "b"], "kind", 2, 5)
    assert table.class_names == ["x", "y"]
    session = http.post("/api/v1/sessions", json={"dataset": table.id, "hidden_layers": [3]}).json()
    assert session["layer_sizes"] == [2, 3, 2] and session["config"]["loss"] == "cross_entropy"
    data = http.get(f"/api/v1/sessions/{session['id']}/dataset").json()
    assert data["features"] == ["a", "b"] and data["planar"] is False
    assert len(data["train"]["inputs"]) + len(data["test"]["inputs"]) == 5
    back = http.patch(f"/api/v1/sessions/{session['id']}/config", json={"dataset": "circle"}).json()
    assert back["layer_sizes"] == [2, 3, 2] and back["config"]["dataset"] == "circle"


def test_a_semicolon_csv_with_decimal_commas_from_excel_uploads_like_any_other(http):
    text = "panjang;lebar;jenis\r\n" + "".join(f"{i},5;{i % 3},25;{'ab'[i % 2]}\r\n" for i in range(6))
    response = upload(http, text, "excel-id.csv")
    assert response.status_code == 201, response.text
    table = response.json()
    assert (table["features"], table["target"], table["classes"]) == (["panjang", "lebar"], "jenis", 2)
    session = http.post("/api/v1/sessions", json={"dataset": table["id"], "train_ratio": 0.5}).json()
    data = http.get(f"/api/v1/sessions/{session['id']}/dataset").json()
    points = sorted(data["train"]["points"] + data["test"]["points"])
    # 0,5 … 5,5 and 0,25 / 1,25 / 2,25 read as decimals: evenly spaced once standardised
    first = [point[0] for point in points]
    gaps = [b - a for a, b in zip(first, first[1:], strict=False)]
    assert len(set(first)) == 6 and max(gaps) - min(gaps) < 1e-9
    assert len({round(point[1], 9) for point in points}) == 3


def test_a_numeric_target_with_many_values_is_regression(http):
    rows = "".join(f"{i},{i * 0.37:.2f}\n" for i in range(40))
    table = upload(http, "x,y\n" + rows).json()
    assert table["classes"] is None
    session = http.post("/api/v1/sessions", json={"dataset": table["id"]}).json()
    assert session["config"]["loss"] == "mse" and "train_rmse" in session["metrics"]


@pytest.mark.parametrize(
    ("text", "row", "column"),
    [
        ("a,b,kind\n1,2,x\n2,oops,y\n3,3,x\n", "row 3", "'b'"),
        ("a,b,kind\n1,2,x\n2,,y\n", "row 3", "'b'"),
        ("a,b,kind\n1,2,x\n2,1,y,extra\n", "row 3", None),
    ],
)
def test_a_bad_csv_is_422_naming_row_and_column(http, text, row, column):
    response = upload(http, text)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "file"] and error["type"] == "csv_error"
    assert row in error["msg"] and (column is None or column in error["msg"])


def test_an_empty_or_non_csv_upload_is_422(http):
    assert upload(http, "").status_code == 422
    assert upload(http, "just one line\n").status_code == 422
    response = http.post("/api/v1/datasets", json={"file": "a,b\n1,2\n"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "file"]


def test_an_unknown_upload_id_is_422_naming_dataset(http):
    response = http.post("/api/v1/sessions", json={"dataset": "csv_doesnotexist"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "dataset"]


def test_row_caps_bodies_and_upload_slots(live_factory):
    server = live_factory(Limits(max_rows=4, max_uploads=1, max_body_bytes=2000))
    with httpx.Client(base_url=server.base) as http:
        response = upload(http, GOOD)  # 5 rows, cap 4: the engine's cap, reported at its row
        assert response.status_code == 422 and "too many rows" in response.json()["detail"][0]["msg"]
        small = "a,b,kind\n1,2,x\n2,1,y\n3,3,x\n"
        first = upload(http, small).json()["id"]
        second = upload(http, small).json()["id"]  # the unused first one makes room
        assert http.post("/api/v1/sessions", json={"dataset": first}).status_code == 422
        assert http.post("/api/v1/sessions", json={"dataset": second}).status_code == 201
        response = upload(http, small)  # the only slot is in use now
        assert response.status_code == 429 and "uploaded" in response.json()["detail"]
        response = upload(http, "a,b,kind\n" + "1,2,x\n" * 400)
        assert response.status_code == 413 and "larger than" in response.json()["detail"]
        response = http.post("/api/v1/sessions", content=b'{"seed": 1' + b" " * 3000 + b"}",
                             headers={"content-type": "application/json"})
        assert response.status_code == 413


def test_a_streamed_body_past_the_cap_is_413(live_factory):
    server = live_factory(Limits(max_body_bytes=1000))

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"seed": 1'
        for _ in range(20):
            yield b" " * 100
        yield b"}"

    with httpx.Client(base_url=server.base) as http:
        response = http.post("/api/v1/sessions", content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413
