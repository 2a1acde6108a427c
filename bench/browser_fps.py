"""Frames per second of the page while it trains at full speed (docs/budgets.md: ≥ 50 fps in
headless Chromium, default view and 6 × 16 hidden layers).

Starts `python -m backprop_lab` on a free port (or uses --url), opens the page in the system Chromium
(headless, the same flags as the browser tests), picks the speed "max" (the page starts at a pace a
class can watch), presses play and counts requestAnimationFrame callbacks for a few seconds after a
warm-up. Also reports the steps per second the server trained, the frames and heatmaps the page
received, and the main thread's long tasks (> 50 ms), which are what drops frames.

    python bench/browser_fps.py                 # both scenarios, 5 s each
    python bench/browser_fps.py --seconds 10 --url http://127.0.0.1:8000
    python bench/browser_fps.py --surface       # also with the loss surface recomputing

`--surface` adds both scenarios again with the loss-surface panel scrolled into view and a new
surface asked for ("Re-centre") each time the last one is drawn, for the whole measurement (the
page asks at most once a second while training): it must keep ≥ 50 fps while surfaces are
computed during play (docs/budgets.md).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCENARIOS = [
    ("default view (2-4-2-2)", ""),
    ("6 × 16 hidden layers", "#hidden_layers=16,16,16,16,16,16"),
]

# Runs in the page: counts animation frames and long tasks, and wraps the page's message handler
# to count what arrives, without touching the page's own render loop.
PROBE = """
() => {
  const result = { frames: 0, gaps: [], longTasks: 0, longTaskMs: 0, messages: {} };
  let last = performance.now();
  let running = true;
  function tick(now) {
    result.frames++;
    result.gaps.push(now - last);
    last = now;
    if (running) requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) { result.longTasks++; result.longTaskMs += entry.duration; }
  });
  try { observer.observe({ type: "longtask", buffered: false }); } catch (e) {}
  const store = window.__backpropLab.store;
  const startStep = store.step;
  const started = performance.now();
  window.__fpsProbe = () => {
    running = false;
    observer.disconnect();
    const seconds = (performance.now() - started) / 1000;
    const gaps = result.gaps.slice(1).sort((a, b) => a - b);
    return {
      seconds,
      fps: result.frames / seconds,
      p95_gap_ms: gaps.length ? gaps[Math.floor(gaps.length * 0.95)] : null,
      long_tasks: result.longTasks,
      long_task_ms: result.longTaskMs,
      steps_per_second: (store.step - startStep) / seconds,
      epochs: store.epoch,
    };
  };
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(url: str | None):
    if url:
        yield url.rstrip("/")
        return
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "backprop_lab", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started = time.monotonic()
        while True:  # up to 5 minutes: with an empty numba cache the kernels compile first
            try:
                urllib.request.urlopen(f"{base}/api/v1/health", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() - started > 300:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


# Runs in the page with --surface: asks for a new surface whenever the last one is drawn.
RECOMPUTE = """
() => {
  window.__surfaces = 0;
  window.__recompute = setInterval(() => {
    const surface = window.__backpropLab.store.surface;
    const button = document.querySelector('[data-testid=surface-recompute]');
    if (surface.status === 'done' && !button.disabled) { window.__surfaces++; button.click(); }
  }, 50);
}
"""


def measure(browser, base: str, hash_: str, warmup: float, seconds: float, surface: bool = False) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(f"{base}/{hash_}")
    page.wait_for_selector('[data-testid="connection-status"][data-status="open"]', timeout=30_000)
    page.wait_for_function("() => window.Plotly !== undefined && window.__backpropLab.store.network", timeout=30_000)
    if surface:
        page.get_by_test_id("loss-surface-view").scroll_into_view_if_needed()
        page.wait_for_function("() => document.querySelector('#surface-plot').dataset.surfaceId", timeout=60_000)
    page.locator("#speed").select_option("0")  # "max": the budget is for training at full speed
    page.get_by_test_id("play-button").click()
    page.wait_for_selector('[data-testid="play-button"][aria-pressed="true"]')
    time.sleep(warmup)
    if surface:
        page.evaluate(RECOMPUTE)
    page.evaluate(PROBE)
    time.sleep(seconds)
    result = page.evaluate("() => window.__fpsProbe()")
    result["surfaces"] = page.evaluate("() => { clearInterval(window.__recompute); return window.__surfaces; }") \
        if surface else None
    result["layer_sizes"] = page.evaluate("() => window.__backpropLab.store.network.layer_sizes")
    page.get_by_test_id("play-button").click()
    context.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of play before measuring")
    parser.add_argument("--repeat", type=int, default=1, help="runs per scenario (the median is printed)")
    parser.add_argument("--surface", action="store_true", help="also with the loss surface recomputing")
    options = parser.parse_args()
    scenarios = [(name, hash_, False) for name, hash_ in SCENARIOS]
    if options.surface:
        scenarios += [(f"{name}, surface", hash_, True) for name, hash_ in SCENARIOS]
    with running_server(options.url) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        print(f"{'scenario':<35} {'fps':>6} {'p95 gap':>8} {'long tasks':>11} {'steps/s':>9}  layer sizes")
        for name, hash_, surface in scenarios:
            runs = [measure(browser, base, hash_, options.warmup, options.seconds, surface)
                    for _ in range(options.repeat)]
            run = sorted(runs, key=lambda r: r["fps"])[len(runs) // 2]
            fps_values = [r["fps"] for r in runs]
            surfaces = f"  ({run['surfaces']} surfaces recomputed)" if surface else ""
            print(
                f"{name:<35} {statistics.median(fps_values):6.1f} {run['p95_gap_ms']:7.1f}ms"
                f" {run['long_tasks']:4d} ({run['long_task_ms']:5.0f}ms) {run['steps_per_second']:9.0f}"
                f"  {'-'.join(map(str, run['layer_sizes']))}{surfaces}"
            )
        browser.close()
    print("target (docs/budgets.md): ≥ 50 fps in both scenarios")


if __name__ == "__main__":
    main()
