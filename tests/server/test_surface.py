"""REST loss surface against a real uvicorn: the grid matches an independent reference with the
weights moved by hand, the answer carries what a script needs to reproduce it (directions,
explained variance), every bad value is a 422 naming its field, and the frames that follow
carry the live point on the surface; a surface whose client leaves stops."""

from __future__ import annotations

import asyncio
import time

import httpx
import numpy as np
import pytest
from server_helpers import Inbox, layers_of, strict_json
from websockets.asyncio.client import connect

from backprop_lab.engine import reference
from backprop_lab.server.analyses.loss_surfaces import SurfaceWorkers
from backprop_lab.server.classroom.quotas import Resource
from backprop_lab.server.settings import Limits
from backprop_lab.server.wire.analysis_models import SurfaceOut


def loc_names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [".".join(str(part) for part in error["loc"]) for error in response.json()["detail"]]


def trained_session(http, steps: int = 300, **config):  # type: ignore[no-untyped-def]
    config = {"dataset": "xor", "hidden_layers": [4, 3], "learning_rate": 0.1, **config}
    response = http.post("/api/v1/sessions", json=config)
    assert response.status_code == 201, response.text
    sid = response.json()["id"]
    assert http.post(f"/api/v1/sessions/{sid}/step", json={"steps": steps}).status_code == 200
    return sid


def surface(http, sid: str, **body):  # type: ignore[no-untyped-def]
    response = http.post(f"/api/v1/sessions/{sid}/loss-surface", json=body)
    assert response.status_code == 200, response.text
    return SurfaceOut.model_validate(strict_json(response.text))


def flat(layers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    return np.concatenate([w.ravel() for w, _ in layers] + [b for _, b in layers])


def unflat(vector: np.ndarray, like: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    out, at = [], 0
    shapes = [w.shape for w, _ in like]
    weights = []
    for shape in shapes:
        weights.append(vector[at : at + shape[0] * shape[1]].reshape(shape))
        at += shape[0] * shape[1]
    for weight, shape in zip(weights, shapes, strict=True):
        out.append((weight, vector[at : at + shape[1]]))
        at += shape[1]
    return out


def weights_and_loss(http, sid: str):  # type: ignore[no-untyped-def]
    layers = layers_of(http.get(f"/api/v1/sessions/{sid}/params").json())
    train = http.get(f"/api/v1/sessions/{sid}/dataset").json()["train"]
    x, y = np.array(train["inputs"]), np.array(train["targets"])

    def loss_at(moved: list[tuple[np.ndarray, np.ndarray]]) -> float:
        return reference.loss_and_objective(moved, x, y, reference.Choices("tanh", True, "cross_entropy"))[0]

    return layers, loss_at


def test_along_two_chosen_weights_the_grid_is_the_loss_with_those_weights_set_by_hand(http):
    sid = trained_session(http)
    layers, loss_at = weights_and_loss(http, sid)
    answer = surface(http, sid, directions="weights", resolution=41, span=1.0, weights=[[0, 1, 2], [2, 0, 1]])
    grid = np.array(answer.loss, dtype=float)
    assert grid.shape == (41, 41) and answer.kind == "weights" and answer.weights == [[0, 1, 2], [2, 0, 1]]
    current = http.get(f"/api/v1/sessions/{sid}").json()["metrics"]["train_loss"]
    assert answer.center_loss == current and grid[20, 20] == current
    for i in range(0, 41, 4):
        for j in range(0, 41, 5):
            moved = [(w.copy(), b.copy()) for w, b in layers]
            moved[0][0][1, 2] += answer.x[i]
            moved[2][0][0, 1] += answer.y[j]
            assert grid[i, j] == pytest.approx(loss_at(moved), rel=1e-12)
    # each direction is one weight's unit vector, in the shape of params
    first = layers_of(answer.directions[0].model_dump())
    assert first[0][0][1, 2] == 1.0 and sum(np.abs(w).sum() + np.abs(b).sum() for w, b in first) == 1.0
    assert answer.trajectory[-1] == [0.0, 0.0] and answer.trajectory_steps[-1] == answer.step == 300


def test_by_default_the_two_weights_are_those_with_the_largest_gradient(http):
    sid = trained_session(http, 50)
    gradients = http.get(f"/api/v1/sessions/{sid}/gradients").json()["layers"]
    magnitudes = [(abs(value), [layer, i, j]) for layer, grads in enumerate(gradients)
                  for i, row in enumerate(grads["weights"]) for j, value in enumerate(row)]
    magnitudes.sort(key=lambda item: -item[0])
    answer = surface(http, sid, resolution=5)
    assert answer.kind == "weights" and answer.weights == [magnitudes[0][1], magnitudes[1][1]]


def test_random_directions_are_filter_normalised_and_reproduce_the_grid(http):
    sid = trained_session(http)
    layers, loss_at = weights_and_loss(http, sid)
    answer = surface(http, sid, directions="random", resolution=11, span=0.5, seed=7)
    assert answer.kind == "random" and answer.seed == 7
    directions = [flat(layers_of(d.model_dump())) for d in answer.directions]
    for direction in directions:
        for (w, b), (own, _) in zip(unflat(direction, layers), layers, strict=True):
            np.testing.assert_allclose(np.linalg.norm(w, axis=0), np.linalg.norm(own, axis=0), rtol=1e-12)
            assert not b.any()
    centre = flat(layers)
    grid = np.array(answer.loss)
    for i, j in [(0, 0), (3, 8), (10, 10), (7, 2)]:
        moved = centre + answer.x[i] * directions[0] + answer.y[j] * directions[1]
        assert grid[i, j] == pytest.approx(loss_at(unflat(moved, layers)), rel=1e-12)
    assert surface(http, sid, directions="random", resolution=11, span=0.5, seed=7).loss == answer.loss


def test_pca_directions_are_orthonormal_with_their_explained_variance(http):
    sid = trained_session(http)
    answer = surface(http, sid, directions="pca", resolution=21, span=2.0)
    d = np.array([flat(layers_of(direction.model_dump())) for direction in answer.directions])
    np.testing.assert_allclose(d @ d.T, np.eye(2), atol=1e-12)
    assert answer.explained_variance is not None
    first, second = answer.explained_variance
    assert 1.0 >= first >= second > 0.0
    assert answer.trajectory[-1] == [0.0, 0.0] and len(answer.trajectory) == len(answer.trajectory_steps) > 10
    assert answer.trajectory_steps[0] == 0 and np.all(np.isfinite(np.array(answer.loss, dtype=float)))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"resolution": 102}, "body.resolution"),
        ({"resolution": 2}, "body.resolution"),
        ({"span": 0}, "body.span"),
        ({"span": -1}, "body.span"),
        ({"directions": "sideways"}, "body.directions"),
        ({"weights": [[0, 0, 0]]}, "body.weights"),
        ({"weights": [[0, 0], [1, 0, 0]]}, "body.weights.0"),
        ({"weights": [[9, 0, 0], [1, 0, 0]]}, "body.weights"),
        ({"weights": [[0, 5, 0], [1, 0, 0]]}, "body.weights"),
        ({"weights": [[1, 2, 1], [1, 2, 1]]}, "body.weights"),
        ({"directions": "random", "weights": [[0, 0, 0], [1, 0, 0]]}, "body.weights"),
        ({"seed": -1}, "body.seed"),
        ({"colour": "blue"}, "body.colour"),
    ],
)
def test_every_bad_value_is_a_422_naming_its_field(http, body, field):
    sid = trained_session(http, 5)
    response = http.post(f"/api/v1/sessions/{sid}/loss-surface", json=body)
    assert response.status_code == 422, response.text
    assert any(name.startswith(field) for name in loc_names(response)), response.json()


def test_non_finite_spans_and_pca_before_training_are_refused(http):
    sid = trained_session(http, 0)
    response = http.post(f"/api/v1/sessions/{sid}/loss-surface", content=b'{"span": 1e999}',
                         headers={"content-type": "application/json"})
    assert response.status_code == 422 and "body.span" in loc_names(response)
    response = http.post(f"/api/v1/sessions/{sid}/loss-surface", json={"directions": "pca"})
    assert response.status_code == 422 and loc_names(response) == ["body.directions"]
    assert "train" in response.json()["detail"][0]["msg"]
    assert http.post("/api/v1/sessions/nope/loss-surface", json={}).status_code == 404


def test_a_network_with_a_single_weight_has_no_two_weight_plane(http):
    sid = trained_session(http, 5, dataset="plane", features=["x1"], hidden_layers=[])
    response = http.post(f"/api/v1/sessions/{sid}/loss-surface", json={})
    assert response.status_code == 422 and loc_names(response) == ["body.directions"]
    assert surface(http, sid, directions="random", resolution=5).kind == "random"


def test_a_grid_past_the_time_cap_is_a_429_that_says_what_to_lower(live_factory):
    from backprop_lab.server.settings import Limits

    live = live_factory(limits=Limits(max_request_seconds=0.0001))
    import httpx

    with httpx.Client(base_url=live.base, timeout=60) as http:
        sid = trained_session(http, 5)
        response = http.post(f"/api/v1/sessions/{sid}/loss-surface", json={"resolution": 101})
        assert response.status_code == 429 and "resolution" in response.json()["detail"]


async def collect_frames(inbox: Inbox, count: int) -> list[dict]:
    frames: list[dict] = []
    while len(frames) < count:
        frames.append(await inbox.until("frame", 10.0))
    return frames


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_frames_carry_the_current_point_on_the_surface_and_it_moves_while_playing(live, http, anyio_backend):
    sid = trained_session(http, 100)
    weights = [[1, 0, 0], [2, 1, 1]]
    ws = await connect(f"{live.ws}/ws/sessions/{sid}", origin=live.base, max_size=2**24, close_timeout=1)
    async with ws:
        inbox = Inbox(ws)
        await inbox.until("hello")
        answer = await asyncio.to_thread(surface, http, sid, directions="weights", resolution=11, weights=weights)
        before = layers_of((await asyncio.to_thread(http.get, f"/api/v1/sessions/{sid}/params")).json())
        await inbox.send({"type": "play"})
        frames = await collect_frames(inbox, 20)
        await inbox.send({"type": "pause"})
        still = await inbox.until("frame", 10.0, state="paused")  # float64: the exact weights
    assert all(frame["surface_id"] == answer.surface_id for frame in frames)
    points = {tuple(frame["surface_point"]) for frame in frames}
    assert len(points) > 5  # the point travels as the weights change
    after = layers_of(http.get(f"/api/v1/sessions/{sid}/params").json())
    assert still["step"] == http.get(f"/api/v1/sessions/{sid}").json()["step"]
    expected = [after[1][0][0, 0] - before[1][0][0, 0], after[2][0][1, 1] - before[2][0][1, 1]]
    assert still["surface_point"] == pytest.approx(expected, abs=1e-12)
    # a new surface is centred on the weights of now, and frames follow it
    again = surface(http, sid, directions="weights", resolution=3, weights=weights)
    assert again.surface_id == answer.surface_id + 1 and again.trajectory[-1] == [0.0, 0.0]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_reset_drops_the_surface_from_the_frames(live, http, anyio_backend):
    sid = trained_session(http, 20)
    ws = await connect(f"{live.ws}/ws/sessions/{sid}", origin=live.base, max_size=2**24, close_timeout=1)
    async with ws:
        inbox = Inbox(ws)
        await inbox.until("hello")
        await asyncio.to_thread(surface, http, sid, resolution=3)
        await inbox.send({"type": "step", "steps": 1})
        frame = await inbox.until("frame", 10.0, step=21)
        assert "surface_point" in frame and frame["surface_id"] >= 1
        await inbox.send({"type": "reset"})
        await inbox.until("snapshot", 10.0)
        await inbox.send({"type": "step", "steps": 1})
        frame = await inbox.until("frame", 10.0, step=1)
        assert "surface_point" not in frame and "surface_id" not in frame


def test_past_the_surfaces_cap_a_request_is_a_429_that_says_when_to_retry(live, http, monkeypatch):
    from backprop_lab.server.classroom.quotas import Resource

    sid = trained_session(http, 5)
    monkeypatch.setitem(live.lab.manager.ledger.totals, Resource.SURFACES, 0)
    response = http.post(f"/api/v1/sessions/{sid}/loss-surface", json={"resolution": 5})
    assert response.status_code == 429 and response.json()["code"] == "too_many_surfaces"
    assert "wait for your loss surface" in response.json()["detail"] and int(response.headers["retry-after"]) > 0
    monkeypatch.undo()
    assert http.post(f"/api/v1/sessions/{sid}/loss-surface", json={"resolution": 5}).status_code == 200


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_frames_keep_coming_while_a_surface_computes(live, http, anyio_backend):
    sid = trained_session(http, 10, dataset="circle", hidden_layers=[16] * 6)
    ws = await connect(f"{live.ws}/ws/sessions/{sid}", origin=live.base, max_size=2**24, close_timeout=1)
    async with ws:
        inbox = Inbox(ws)
        await inbox.until("hello")
        await inbox.send({"type": "play"})
        await inbox.until("frame", 10.0)
        request = asyncio.create_task(asyncio.to_thread(surface, http, sid, directions="random", resolution=81))
        arrivals: list[float] = []
        while not request.done():
            await inbox.until("frame", 10.0)
            arrivals.append(asyncio.get_running_loop().time())
        answer = await request
        await inbox.send({"type": "pause"})
    # the grid took a while, and the stream went on meanwhile: no frame waited for it
    assert answer.seconds > 0.5 and len(arrivals) >= 10, (answer.seconds, len(arrivals))
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    # a stream that waited for the grid would show one gap as long as the grid took
    limit = max(0.5, answer.seconds / 2)
    assert max(gaps) < limit, f"a gap of {max(gaps):.2f} s while a {answer.seconds:.1f} s surface computed"


def test_a_surface_whose_client_leaves_stops_between_chunks_and_frees_its_place(live_factory, monkeypatch):
    patient = live_factory(limits=Limits(max_request_seconds=600))
    ended: list[tuple[str, float, float]] = []  # how each grid ended, after how long, its estimate
    compute = SurfaceWorkers._compute

    def watched(workers: SurfaceWorkers, job, abandoned):  # type: ignore[no-untyped-def]
        started = time.monotonic()
        try:
            return compute(workers, job, abandoned)
        except BaseException as error:
            ended.append((type(error).__name__, time.monotonic() - started, job.seconds / workers.threads))
            raise

    monkeypatch.setattr(SurfaceWorkers, "_compute", watched)  # the live server runs in this process
    with httpx.Client(base_url=patient.base, timeout=60) as http:
        sid = trained_session(http, 10, dataset="circle", samples=6000, hidden_layers=[24] * 6)
    with pytest.raises(httpx.ReadTimeout):  # the client gives up: httpx closes its connection
        httpx.post(f"{patient.base}/api/v1/sessions/{sid}/loss-surface", json={"directions": "random",
                                                                             "resolution": 101}, timeout=1.0)
    left = time.monotonic()
    surfaces = patient.lab.surfaces
    while surfaces.computing or patient.lab.manager.ledger.in_use(Resource.SURFACES):
        assert time.monotonic() - left < 1.5, "the grid went on computing for nobody"
        time.sleep(0.01)
    assert len(ended) == 1 and ended[0][0] == "SurfaceAbandoned"
    _, ran, estimate = ended[0]
    assert estimate > 2 * ran, f"stopped after {ran:.2f} s of a grid estimated at {estimate:.2f} s"
    assert httpx.get(f"{patient.base}/api/v1/health").json()["surfaces_computing"] == 0
