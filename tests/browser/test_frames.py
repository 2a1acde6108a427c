"""Binary frames in the page: what the page's worker decodes is the engine's numbers (float64,
bit for bit, once training stands still; float32 of them at their step while it plays), and a
damaged binary on the wire is skipped: the page keeps training and drawing."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from browser_helpers import api, session_id, step_count

from backprop_lab.engine.config import Config
from backprop_lab.engine.trainer import Trainer

# One synchronous read of the store: the step, the dtype and every weight, gradient and update
# (flat, in the engine's layout: every layer's weights, then every layer's biases), and the probe.
READ_STORE = """() => {
  const store = window.__backpropLab.store;
  const flat = (layers) =>
    layers && [...layers.map((l) => Array.from(l.weights)), ...layers.map((l) => Array.from(l.biases))].flat();
  return {
    step: store.step,
    state: store.state,
    types: [store.params, store.gradients, store.updates].map((layers) => layers?.[0]?.weights?.constructor?.name),
    params: flat(store.params),
    gradients: flat(store.gradients),
    updates: flat(store.updates),
    probe: store.probe.layers.map((layer) =>
      Object.fromEntries(Object.entries(layer).map(([name, values]) => [name, Array.from(values)]))),
    probeType: store.probe.layers[0].activations.constructor.name,
  };
}"""


def replica(base: str, sid: str, steps: int) -> Trainer:
    """The session's config and seed trained `steps` steps here: the engine's numbers."""
    config = api(base, "GET", f"/api/v1/sessions/{sid}")["config"]
    trainer = Trainer(Config().replace(**config))
    trainer.step(steps)
    return trainer


def test_a_step_leaves_the_engines_exact_float64_numbers_in_the_page(open_page):
    page, watch = open_page(chart=False)
    page.get_by_test_id("step-button").click()
    page.wait_for_function("() => window.__backpropLab.store.step === 1 && window.__backpropLab.store.gradients")
    page.wait_for_timeout(200)
    got = page.evaluate(READ_STORE)
    assert got["types"] == ["Float64Array"] * 3 and got["probeType"] == "Float64Array"
    engine = replica(watch.base, session_id(page), 1)
    assert np.array_equal(got["params"], engine.network.parameters)
    assert np.array_equal(got["gradients"], engine.last_gradient)
    assert np.array_equal(got["updates"], engine.last_update)
    trace = api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}/trace?split=train&index=0")
    for layer, expected in zip(got["probe"], trace["layers"], strict=True):
        assert set(layer) == set(expected)  # every field, f′(z) of hidden layers included, by name
        for name, values in expected.items():
            assert layer[name] == list(np.ravel(values)), name
    watch.assert_clean()


def test_while_playing_the_page_holds_float32_of_the_engines_numbers_at_its_step(open_page):
    page, watch = open_page(chart=False)
    page.locator("#speed").select_option("300")  # a few hundred steps: a quick replay here
    page.get_by_test_id("play-button").click()
    page.wait_for_function("() => window.__backpropLab.store.step > 60")
    got = page.evaluate(READ_STORE)
    page.get_by_test_id("play-button").click()
    assert got["state"] == "running" and got["types"][0] == "Float32Array"
    engine = replica(watch.base, session_id(page), got["step"])
    assert np.array_equal(np.float32(got["params"]), engine.network.parameters.astype(np.float32))
    # and after the pause, the same step in float64: exactly the engine's
    page.wait_for_selector('[data-testid="play-button"][aria-pressed="false"]')
    page.wait_for_function("() => window.__backpropLab.store.params[0].weights instanceof Float64Array")
    paused = page.evaluate(READ_STORE)
    assert paused["state"] == "paused" and paused["types"] == ["Float64Array"] * 3
    params = api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}/params")["layers"]
    weights = [w for layer in params for w in np.ravel(layer["weights"])]
    assert paused["params"] == weights + [b for layer in params for b in layer["biases"]]
    watch.assert_clean()


def test_a_large_network_keeps_its_arrays_through_frames_that_carry_none(open_page):
    # 6 × 16: the arrays (~25 KB) go about 12 times a second, frames in between are JSON alone
    page, watch = open_page("#hidden_layers=16,16,16,16,16,16", chart=False)
    page.get_by_test_id("play-button").click()
    page.wait_for_function("() => window.__backpropLab.store.step > 200", timeout=15_000)
    page.wait_for_timeout(1000)
    got = page.evaluate(READ_STORE)
    page.get_by_test_id("play-button").click()
    assert got["state"] == "running" and got["types"] == ["Float32Array"] * 3
    assert len(got["params"]) == len(got["gradients"]) == 1442 and np.all(np.isfinite(got["params"]))
    watch.assert_clean()


# The page's own worker, started behind a WebSocket that damages some of the server's frames on
# their way in: the page's code is the real code, only the wire is damaged. (Playwright cannot
# route a worker's socket, and a routed worker script cannot open one in Chromium, so the test
# wraps `Worker` before the page loads and starts the real script from a small module.)
DAMAGE = r"""
const RealWebSocket = WebSocket;
let framesSeen = 0;
let swallowNextBinary = false;
let damageNextBinary = null;
self.damagedFrames = 0;
function damage(data, deliver) {
  if (typeof data === "string" && data.startsWith('{"type":"frame"') && data.includes('"arrays"')) {
    framesSeen++;
    const kind = framesSeen % 7;
    if (kind === 1) damageNextBinary = (b) => b.slice(0, b.byteLength - 8); // too short
    if (kind === 2) damageNextBinary = (b) => new Uint8Array([...new Uint8Array(b), 0, 0, 0, 0]).buffer; // too long
    if (kind === 3) swallowNextBinary = true; // the binary never comes
    if (kind >= 1 && kind <= 6) self.damagedFrames++;
    if (kind === 4) data = data.replace('"dtype":"float', '"dtype":"int'); // an index with no such dtype
    if (kind === 5) data = data.replace(/\[(\d+),\[/, "[999999,["); // an array past the end
    if (kind === 6) { deliver('{"type":"frame","step":'); swallowNextBinary = true; return; } // not JSON
    deliver(data);
    return;
  }
  if (typeof data !== "string" && swallowNextBinary) { swallowNextBinary = false; return; }
  if (typeof data !== "string" && damageNextBinary) {
    const change = damageNextBinary;
    damageNextBinary = null;
    deliver(change(data));
    return;
  }
  deliver(data);
  if (typeof data !== "string" && framesSeen % 5 === 0) deliver(new ArrayBuffer(24)); // a binary no index announced
}
self.WebSocket = class extends RealWebSocket {
  set onmessage(handler) {
    super.onmessage = (event) => damage(event.data, (data) => handler({ data }));
  }
};
const early = []; // what the page posts before the real script has set its handler
self.onmessage = (event) => early.push(event);
import(SCRIPT).then(() => early.forEach((event) => self.onmessage(event)));
"""

WRAP_WORKER = """(() => {
  const RealWorker = window.Worker;
  window.Worker = class extends RealWorker {
    constructor(url, options) {
      if (String(url).endsWith("/socket_worker.js")) {
        const source = `const SCRIPT = ${JSON.stringify(String(url))};` + DAMAGE;
        url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      }
      super(url, options);
    }
  };
})();"""


def test_damaged_frame_binaries_are_skipped_and_the_page_keeps_training_and_drawing(browser, server):
    # bypass_csp: the wrapper starts from a blob: URL, which the lab's policy rightly refuses (the
    # page itself runs under it: tests/browser/test_csp.py); this test is about the wire
    context = browser.new_context(viewport={"width": 1280, "height": 720}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    warnings: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: (errors if m.type == "error" else warnings).append(m.text))
    workers: list[Any] = []
    page.on("worker", lambda worker: workers.append(worker))
    context.add_init_script(f"const DAMAGE = {json.dumps(DAMAGE)};" + WRAP_WORKER)
    try:
        page.goto(f"{server}/")
        page.wait_for_selector('[data-testid="connection-status"][data-status="open"]', timeout=15_000)
        page.wait_for_selector(".neuron-hit")
        page.get_by_test_id("play-button").click()
        page.wait_for_function("() => window.__backpropLab.store.step > 500", timeout=15_000)
        page.wait_for_timeout(1500)
        damaged = workers[-1].evaluate("() => self.damagedFrames")
        before = step_count(page)
        page.wait_for_timeout(800)
        assert step_count(page) > before, "the page stopped following the training"
        got = page.evaluate(READ_STORE)
        assert got["types"][0] == "Float32Array" and len(got["params"]) == 28
        assert np.all(np.isfinite(got["params"]))
        # the network is still drawn: the edge canvas has ink on it
        inked = page.evaluate(
            """() => { const c = document.getElementById('network-edges');
                       const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                       let ink = 0; for (let i = 3; i < d.length; i += 4) ink += d[i] > 0; return ink; }"""
        )
        page.get_by_test_id("play-button").click()
        page.wait_for_selector('[data-testid="play-button"][aria-pressed="false"]')
    finally:
        context.close()
    assert damaged > 20, f"only {damaged} frames were damaged"
    assert errors == [], errors
    assert any("skipped a damaged message" in text for text in warnings), warnings
    assert inked > 1000
