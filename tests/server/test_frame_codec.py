"""Frame arrays as one binary message after a JSON index: the layout round-trips exactly, a
probe field is packed by its name, nothing non-finite goes out, a damaged binary is refused;
and on a live server the decoded frames are the engine's numbers, float64 bit for bit when
training stands still and float32 of them at their step while it plays."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
from server_helpers import Inbox, decoded_frames

from backprop_lab.engine.config import Config
from backprop_lab.engine.trainer import Trainer
from backprop_lab.server.analyses import readouts
from backprop_lab.server.wire import views
from backprop_lab.server.wire.frame_codec import BLOCK_ALIGN, FrameDecodeError, FramePacker, decode_frame
from backprop_lab.server.wire.protocol import encode


def trained(hidden: tuple[int, ...] = (4, 2), steps: int = 30) -> Trainer:
    trainer = Trainer(Config(hidden_layers=hidden))
    trainer.step(steps)
    return trainer


def probe_of(trainer: Trainer) -> dict:
    return views.probe_view(readouts.sample_trace(trainer, "train", 3, ("index",)))


def pack_all(trainer: Trainer, dtype: str) -> tuple[dict, bytes]:
    packed = FramePacker(trainer.network.layout.shapes).pack(
        dtype,
        {"params": trainer.network.parameters, "gradients": trainer.last_gradient, "updates": trainer.last_update},
        probe_of(trainer),
    )
    return {"type": "frame", "step": trainer.step_count, "arrays": packed.index}, packed.data


def flat(layers: list[dict]) -> np.ndarray:
    """Back to the engine's flat layout: every layer's weights, then every layer's biases."""
    return np.concatenate([layer["weights"].ravel() for layer in layers] + [layer["biases"] for layer in layers])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_block_round_trips_to_the_engines_numbers(dtype):
    trainer = trained()
    message, data = pack_all(trainer, dtype)
    frame = decode_frame(message, data)
    wire = np.dtype(dtype)
    assert frame["dtype"] == dtype and frame["step"] == trainer.step_count
    assert np.array_equal(flat(frame["params"]), trainer.network.parameters.astype(wire))
    assert np.array_equal(flat(frame["gradients"]), trainer.last_gradient.astype(wire))
    assert np.array_equal(flat(frame["updates"]), trainer.last_update.astype(wire))
    assert frame["params"][1]["weights"].shape == (4, 2) and frame["params"][1]["biases"].shape == (2,)
    expected = probe_of(trainer)
    probe = frame["probe"]
    assert (probe["split"], probe["index"], probe["loss"]) == ("train", 3, expected["loss"])
    for name in ("inputs", "targets", "outputs"):
        assert np.array_equal(probe[name], expected[name].astype(wire))
    for got, want in zip(probe["layers"], expected["layers"], strict=True):
        assert set(got) == set(want)
        for name, values in want.items():
            assert got[name].shape == values.shape and np.array_equal(got[name], values.astype(wire))


def test_blocks_start_at_multiples_of_8_and_arrays_are_views_without_copies():
    trainer = trained((3, 5))
    message, data = pack_all(trainer, "float32")
    index = message["arrays"]
    assert index["bytes"] == len(data) and len(data) % BLOCK_ALIGN == 0
    starts = [index[name][0]["weights"][0] for name in ("params", "gradients", "updates")]
    assert starts[0] == 0 and all(start % BLOCK_ALIGN == 0 for start in starts)
    assert index["probe"]["inputs"][0] % BLOCK_ALIGN == 0
    frame = decode_frame(message, data)
    weights = frame["params"][0]["weights"]
    assert weights.base is not None and not weights.flags.writeable  # a view into `data`
    # the probe's outputs are its last layer's activations: stored once, referenced twice
    assert index["probe"]["outputs"] == index["probe"]["layers"][-1]["activations"]


def test_a_field_the_probe_gains_is_packed_by_its_name():
    trainer = trained()
    probe = probe_of(trainer)
    for layer in probe["layers"]:
        layer["derivatives"] = 1 - layer["activations"] ** 2  # tanh′(z), as the engine may add it
    packed = FramePacker(trainer.network.layout.shapes).pack("float64", {"params": trainer.network.parameters}, probe)
    frame = decode_frame({"type": "frame", "arrays": packed.index}, packed.data)
    for got, want in zip(frame["probe"]["layers"], probe["layers"], strict=True):
        assert np.array_equal(got["derivatives"], want["derivatives"])


def test_the_index_is_plain_json_and_a_frame_without_it_has_no_binary():
    trainer = trained()
    message, data = pack_all(trainer, "float32")
    assert encode(message).startswith('{"type":"frame"')
    assert decode_frame({"type": "frame", "step": 4}, None) == {"type": "frame", "step": 4}


def test_no_infinity_or_nan_is_packed():
    trainer = trained()
    probe = probe_of(trainer)
    probe["layers"][0]["pre_activations"] = np.array([1e300, -np.inf, np.nan, 2.0])
    parameters = trainer.network.parameters.copy()
    parameters[0] = 1e39  # beyond float32
    packed = FramePacker(trainer.network.layout.shapes).pack("float32", {"params": parameters}, probe)
    frame = decode_frame({"type": "frame", "arrays": packed.index}, packed.data)
    largest = np.finfo(np.float32).max
    assert frame["params"][0]["weights"][0, 0] == largest
    assert list(frame["probe"]["layers"][0]["pre_activations"]) == [largest, -largest, 0.0, 2.0]


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda message, data: (message, data[:-8]), "announces"),
        (lambda message, data: (message, data + bytes(8)), "announces"),
        (lambda message, data: (message, None), "missing"),
        (lambda message, data: ({"type": "frame"}, data), "announces none"),
        (lambda message, data: ({**message, "arrays": {**message["arrays"], "dtype": "int8"}}, data), "dtype"),
        (
            lambda message, data: (
                {**message, "arrays": {**message["arrays"], "params": [{"weights": [4096, [2, 4]]}]}},
                data,
            ),
            "does not fit",
        ),
        (
            lambda message, data: ({**message, "arrays": {**message["arrays"], "params": [{"weights": 7}]}}, data),
            "reference",
        ),
    ],
)
def test_a_binary_that_does_not_match_its_index_is_refused(damage, says):
    message, data = damage(*pack_all(trained(), "float32"))
    with pytest.raises(FrameDecodeError, match=says):
        decode_frame(message, data)


def test_a_script_can_decode_frames_with_numpy_alone():
    code = (
        "import sys, backprop_lab.server.wire.frame_codec; "
        "pulled = [m for m in sys.modules if m.split('.')[0] in ('engine', 'fastapi', 'starlette', 'numba')]; "
        "assert not pulled, pulled"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, env={"PYTHONPATH": str(root)})


# --- a live server --------------------------------------------------------------------------
@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def open_inbox(live, sid: str) -> Inbox:  # type: ignore[no-untyped-def]
    from websockets.asyncio.client import connect

    ws = await connect(f"{live.ws}/ws/sessions/{sid}", origin=live.base, max_size=2**24, close_timeout=1)
    inbox = Inbox(ws)
    await inbox.until("hello")
    return inbox


def rest_layers(live, sid: str, what: str, **params: object) -> dict:  # type: ignore[no-untyped-def]
    return httpx.get(f"{live.base}/api/v1/sessions/{sid}/{what}", params=params, timeout=30).json()


def assert_layers_equal(decoded: list[dict], layers: list[dict]) -> None:
    for got, want in zip(decoded, layers, strict=True):
        assert np.array_equal(got["weights"], np.array(want["weights"])) and got["weights"].dtype == np.float64
        assert np.array_equal(got["biases"], np.array(want["biases"]))


@pytest.mark.anyio
async def test_a_frame_after_a_step_or_a_pause_is_float64_bit_for_bit_the_engines(live):
    sid = live.new_session(hidden_layers=[5, 3])
    trainer = live.lab.manager.get(sid).trainer
    inbox = await open_inbox(live, sid)
    async with inbox.ws:
        await inbox.send({"type": "step", "steps": 7})
        stepped = await inbox.until("frame", step=7)
        await inbox.send({"type": "play"})
        await inbox.collect(0.4)
        await inbox.send({"type": "pause"})
        await inbox.until("state", state="paused")
        paused = await inbox.until("frame", state="paused")
        await inbox.collect(0.2)  # nothing trains now: the engine's numbers are the frame's
        assert stepped["dtype"] == paused["dtype"] == "float64"
        assert set(paused) >= {"params", "gradients", "updates", "probe", "metrics", "metrics_step", "epoch"}
        assert paused["step"] == trainer.step_count == paused["metrics_step"] > 7
        assert_layers_equal(paused["params"], rest_layers(live, sid, "params")["layers"])
        assert np.array_equal(flat(paused["gradients"]), trainer.last_gradient)
        assert np.array_equal(flat(paused["updates"]), trainer.last_update)
        trace = rest_layers(live, sid, "trace", split="train", index=0)
        for got, want in zip(paused["probe"]["layers"], trace["layers"], strict=True):
            for name in ("pre_activations", "activations", "deltas", "weight_gradients", "bias_gradients"):
                assert np.array_equal(got[name], np.array(want[name])), name
        assert paused["probe"]["loss"] == trace["loss"]


@pytest.mark.anyio
async def test_frames_while_playing_are_float32_of_the_engines_numbers_at_their_step(live):
    sid = live.new_session()
    session = live.lab.manager.get(sid)
    inbox = await open_inbox(live, sid)
    async with inbox.ws:
        await inbox.send({"type": "speed", "steps_per_second": 400})  # few steps: a short replay
        await inbox.send({"type": "play"})
        frames = decoded_frames(await inbox.collect(1.0))
        await inbox.send({"type": "pause"})
    playing = [frame for frame in frames if frame["state"] == "running" and "params" in frame]
    full = [frame for frame in playing if "probe" in frame]
    assert len(playing) >= 20 and len(full) >= 5 and {frame["dtype"] for frame in playing} == {"float32"}
    # The same config and seed, trained step by step here: the engine's numbers at each step.
    replica = Trainer(session.trainer.config)
    wanted = sorted({frame["step"] for frame in playing} | {frame["metrics_step"] for frame in full})
    at: dict[int, dict] = {}
    for step in wanted:
        if step > replica.step_count:
            replica.step(step - replica.step_count)
        at[step] = {
            "params": replica.network.parameters.astype(np.float32),
            "gradients": replica.last_gradient.astype(np.float32),
            "updates": replica.last_update.astype(np.float32),
            "probe": probe_of_sample(replica),
        }
    for frame in playing:
        expected = at[frame["step"]]
        assert np.array_equal(flat(frame["params"]), expected["params"]), frame["step"]
        if "gradients" in frame:
            assert np.array_equal(flat(frame["gradients"]), expected["gradients"])
            assert np.array_equal(flat(frame["updates"]), expected["updates"])
    for frame in full:  # the probe is evaluated at `metrics_step`
        probe = at[frame["metrics_step"]]["probe"]
        for got, want in zip(frame["probe"]["layers"], probe["layers"], strict=True):
            assert all(np.array_equal(got[name], want[name].astype(np.float32)) for name in want)


def probe_of_sample(trainer: Trainer) -> dict:
    return views.probe_view(readouts.sample_trace(trainer, "train", 0, ("index",)))
