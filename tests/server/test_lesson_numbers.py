"""Numbers that never contradict each other (issue 23), on a real uvicorn with a real WebSocket
client. Each gradient says what it is of, and a parameter's finite-difference check compares
like with like: the one-sample check perturbs that sample's loss and sits beside that sample's
backprop gradient (the inspector's ∂L/∂w), the whole-set check beside the REST gradient of the
training split's objective. Frames say how many hidden neurons have stopped learning, so the
page can explain a rate that saturates them."""

from __future__ import annotations

import httpx
import pytest
from server_helpers import Inbox
from websockets.asyncio.client import connect

pytestmark = pytest.mark.anyio

TOLERANCE = 1e-6  # relative: central differences at h = 1e-5 on float64 agree far better


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def close(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b), 1e-3)


async def test_a_weight_checked_at_both_scopes_agrees_with_its_own_backprop_numbers(live):
    sid = live.new_session(regularization="l2", regularization_rate=0.01)
    httpx.post(f"{live.base}/api/v1/sessions/{sid}/step", json={"steps": 30}, timeout=30).raise_for_status()
    gradients = httpx.get(f"{live.base}/api/v1/sessions/{sid}/gradients", timeout=30).json()
    async with connect(f"{live.ws}/ws/sessions/{sid}", origin=live.base, max_size=2**24) as ws:
        inbox = Inbox(ws)
        await inbox.until("hello")
        await inbox.send({"type": "probe", "split": "train", "index": 7})
        probe = (await inbox.until("probe"))["probe"]
        await inbox.send({"type": "check_parameter", "layer": 1, "kind": "weight", "i": 2, "j": 1, "id": "c"})
        check = await inbox.until("parameter_check")

    # the whole training set: the objective (penalty included) the REST gradient is of
    assert check["scope"] == "train" and check["samples"] == 250
    whole_backprop = gradients["layers"][1]["weights"][2][1]
    assert close(check["backprop"], whole_backprop) and close(check["numerical"], whole_backprop)
    # this sample: its own data loss, the number the inspector's ∂L/∂w = a·δ shows
    sample = check["sample"]
    assert (sample["scope"], sample["samples"], sample["split"], sample["index"]) == ("sample", 1, "train", 7)
    sample_backprop = probe["layers"][1]["weight_gradients"][2][1]
    assert close(sample["backprop"], sample_backprop) and close(sample["numerical"], sample_backprop)
    assert sample["relative_error"] < TOLERANCE and check["relative_error"] < TOLERANCE
    # two different numbers of one weight: why each must say what it is of
    assert not close(sample_backprop, whole_backprop)


async def frame_after(live, steps: int, **config: object) -> dict:
    sid = live.new_session(**config)
    httpx.post(f"{live.base}/api/v1/sessions/{sid}/step", json={"steps": steps}, timeout=60).raise_for_status()
    async with connect(f"{live.ws}/ws/sessions/{sid}", origin=live.base, max_size=2**24) as ws:
        inbox = Inbox(ws)
        await inbox.until("hello")
        await inbox.send({"type": "step", "steps": 1})
        return await inbox.until("frame", step=steps + 1)


@pytest.mark.parametrize(("activation", "kind"), [("tanh", "saturated"), ("relu", "dead")])
async def test_frames_count_the_hidden_neurons_a_huge_rate_stopped(live, activation, kind):
    sane = await frame_after(live, 300, activation=activation)
    assert sane["neurons"]["hidden"] == 6 and sane["neurons"]["kind"] == kind
    assert sane["neurons"]["stopped"] <= 1  # a ReLU may lose one at a sane rate; a tanh none
    huge = await frame_after(live, 300, activation=activation, learning_rate=1000)
    assert huge["metrics"]["train_loss"] > 100  # stuck far above ln 2, yet finite: not "diverged"
    if activation == "tanh":
        assert huge["neurons"]["stopped"] == 6  # every tanh pinned at ±1


async def test_a_linear_network_has_no_neuron_that_can_saturate(live):
    frame = await frame_after(live, 5, activation="linear")
    assert frame["neurons"] == {"hidden": 6, "stopped": 0, "kind": None}


def test_a_log_spaced_loss_line_keeps_the_current_rate_and_the_bottom_of_the_u_on_it(live):
    """Step 0 of the default classifier is a plateau: along the gradient the loss bottoms out
    ~100 × the current rate away, where an even grid leaves the current rate without a point."""
    sid = live.new_session()
    url = f"{live.base}/api/v1/sessions/{sid}/loss-line"
    line = httpx.post(url, json={"max_rate_multiple": 256, "spacing": "log"}, timeout=30).json()
    rates = line["rates"]
    assert rates[0] == pytest.approx(0.1 * 0.03) and rates[-1] == pytest.approx(256 * 0.03)
    ratios = [b / a for a, b in zip(rates, rates[1:], strict=False)]
    assert max(ratios) - min(ratios) < 1e-9  # geometric
    assert rates[0] < line["current_rate"] < line["best_rate"] < rates[-1]
    assert line["best_loss"] < line["current_loss"]
    even = httpx.post(url, json={"max_rate_multiple": 256}, timeout=30).json()
    assert even["rates"][0] == 0 and even["rates"][1] > line["current_rate"]  # linear: nothing near η
    refused = httpx.post(url, json={"spacing": "cubic"}, timeout=30)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "spacing"]
