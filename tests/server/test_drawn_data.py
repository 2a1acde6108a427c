"""Data the class draws (js/draw_points.js) travels as an ordinary upload: the page sends the drawn
points as a CSV of x1, x2 and the class. These tests check what a drawing student relies on: the
session trains on exactly the drawn points, a redrawn set reaches the viewers live, and a saved
run keeps the drawing."""

from __future__ import annotations

import httpx
import pytest
from server_helpers import Inbox
from websockets.asyncio.client import connect

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def drawn_csv(points: list[tuple[float, float, int]]) -> bytes:
    """The CSV js/draw_points.js uploads for these points."""
    return ("x1,x2,class\n" + "".join(f"{x1},{x2},{k}\n" for x1, x2, k in points)).encode()


LEFT_RIGHT = [(-3.0 + 0.2 * i, (-1) ** i * 1.5, 0) for i in range(6)] + [(2.0 + 0.2 * i, 0.5 * i, 1) for i in range(6)]


def upload(http: httpx.Client, points: list[tuple[float, float, int]]) -> dict:
    answer = http.post("/api/v1/datasets", files={"file": ("drawn.csv", drawn_csv(points), "text/csv")})
    assert answer.status_code == 201, answer.text
    return answer.json()


def shown_points(dataset: dict) -> list[tuple[float, int]]:
    """The points of a REST or snapshot data set as (x1 rounded, class), both splits, sorted."""
    rows = []
    for split in ("train", "test"):
        part = dataset[split]
        rows += [(round(point[0], 6), label) for point, label in zip(part["points"], part["labels"], strict=True)]
    return sorted(rows)


def test_a_drawn_set_trains_a_two_input_two_class_network_on_exactly_the_drawn_points(live, http):
    drawn = upload(http, LEFT_RIGHT)
    assert drawn["rows"] == 12 and drawn["classes"] == 2 and drawn["regression"] is False
    sid = live.new_session(dataset=drawn["id"], hidden_layers=[3])
    dataset = http.get(f"/api/v1/sessions/{sid}/dataset").json()
    labels = [label for _, label in shown_points(dataset)]
    assert labels == [0] * 6 + [1] * 6, "the drawn classes did not survive (left class 0, right class 1)"
    session = http.get(f"/api/v1/sessions/{sid}").json()
    assert session["layer_sizes"][0] == 2 and session["layer_sizes"][-1] == 2
    answer = http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 200})
    assert answer.status_code == 200, answer.text
    assert http.get(f"/api/v1/sessions/{sid}").json()["metrics"]["train_accuracy"] == 1.0, (
        "two clusters drawn apart were not learnt"
    )


async def test_a_viewer_sees_the_drawn_set_and_every_redrawing_live(live, http):
    first = upload(http, LEFT_RIGHT)
    sid = live.new_session(dataset=first["id"])
    code = http.post(f"/api/v1/sessions/{sid}/share").json()["code"]
    presenter = Inbox(await connect(f"{live.ws}/ws/sessions/{sid}", origin=live.base, max_size=2**24))
    viewer = Inbox(await connect(f"{live.ws}/ws/watch/{code}", origin=live.base, max_size=2**24))
    async with presenter.ws, viewer.ws:
        await presenter.until("hello")
        hello = await viewer.until("hello")
        assert shown_points(hello["snapshot"]["dataset"]) == shown_points(
            http.get(f"/api/v1/sessions/{sid}/dataset").json()
        )
        assert hello["snapshot"]["dataset"]["title"] == "drawn.csv"
        redrawn = upload(http, [*LEFT_RIGHT, (0.0, 4.0, 2), (0.3, 4.2, 2)])  # a third class drawn on top
        await presenter.send({"type": "config", "changes": {"dataset": redrawn["id"], "loss": None}})
        snapshot = await viewer.until("snapshot")
        assert len(shown_points(snapshot["dataset"])) == 14 and snapshot["dataset"]["classes"] == 3
        assert snapshot["network"]["layer_sizes"][-1] == 3, "the viewer's network did not follow the new class"


def test_a_saved_run_keeps_the_drawing(live, http):
    drawn = upload(http, LEFT_RIGHT)
    sid = live.new_session(dataset=drawn["id"])
    http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 20})
    run = http.post("/api/v1/runs", json={"session_id": sid, "name": "my drawing"}).json()
    document = http.get(f"/api/v1/runs/{run['id']}/export").json()
    assert document["run"]["data"]["csv"].splitlines()[0] == "x1,x2,class"
    assert len(document["run"]["data"]["csv"].splitlines()) == 13
    opened = http.post(f"/api/v1/runs/{run['id']}/session").json()
    reopened = http.get(f"/api/v1/sessions/{opened['id']}/dataset").json()
    assert shown_points(reopened) == shown_points(http.get(f"/api/v1/sessions/{sid}/dataset").json())
