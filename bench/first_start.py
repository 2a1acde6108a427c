"""A first start against a warm one: how soon the server listens, answers its page, and is ready.

    python bench/first_start.py [--no-browser] [--screenshots /tmp] [--second-cold]

Starts `python -m backprop_lab` with numba's cache in an empty temporary folder (`NUMBA_CACHE_DIR`:
every kernel compiles, as after a fresh install), then again on the cache that start filled (they
load). For each it prints the seconds from the command until the port accepts a connection,
until `GET /` answers (the preparing page, 503, or the lab, 200) and until `/api/v1/health`
answers 200 (ready), and the terminal's progress lines. During the cold start the system
Chromium (headless, the browser tests' flags, 1366×768) opens the page as soon as it answers,
takes a screenshot of the preparing page in English and in Bahasa Indonesia once the bar is a
third of the way, and waits until the page has turned into the lab by itself (its session connected).

The last cold start's duration, which the page and the terminal use as their estimate, is kept
in a temporary data folder (`XDG_DATA_HOME`): the first cold start has none ("first time").
`--second-cold` starts cold once more with a new empty cache, to see the estimate in use.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_SECONDS = 600.0
# uvicorn's lines about each request and socket, and Alembic's chatter: left out of the log shown
NOISE = re.compile(r'HTTP/1\.1" \d{3}|WebSocket /|connection (open|closed)|SQLiteImpl|transactional DDL')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def status_of(url: str) -> int | None:
    """The HTTP status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return None


@dataclass
class Start:
    name: str
    listening: float | None = None  # seconds from the command
    page: float | None = None
    page_status: int | None = None
    ready: float | None = None
    browser_in_lab: float | None = None  # the browser's page turned into the lab
    log: list[str] = field(default_factory=list)


def watch(start: Start, port: int, began: float, process: subprocess.Popen[bytes]) -> None:
    """Polls the server every 20 ms until it is ready, noting when each answer first came."""
    base = f"http://127.0.0.1:{port}"
    while start.ready is None and process.poll() is None and time.perf_counter() - began < TIMEOUT_SECONDS:
        if start.listening is None:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    start.listening = time.perf_counter() - began
        if start.listening is not None and start.page is None:
            status = status_of(f"{base}/")
            if status is not None:
                start.page, start.page_status = time.perf_counter() - began, status
        if start.page is not None and status_of(f"{base}/api/v1/health") == 200:
            start.ready = time.perf_counter() - began
        time.sleep(0.02)


def look(start: Start, base: str, began: float, screenshots: Path) -> None:
    """The cold start in Chromium: screenshots of the preparing page, then the lab it turns into."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            pages = {}
            for language in ("en", "id"):
                context = browser.new_context(viewport={"width": 1366, "height": 768})
                pages[language] = context.new_page()
                pages[language].goto(f"{base}/#lang={language}")
            for language, page in pages.items():
                if page.get_by_test_id("preparing").count() == 0:
                    print(f"  ({language}: the lab was ready before the browser looked: no preparing page)")
                    continue
                page.wait_for_function(  # a third of the way: the bar has visibly moved
                    "() => { const bar = document.getElementById('preparing-bar'); return bar.value >= bar.max / 3; }",
                    timeout=TIMEOUT_SECONDS * 1000,
                )
                path = screenshots / f"first-start-preparing-{language}.png"
                page.screenshot(path=str(path))
                print(f"  screenshot: {path}")
            pages["en"].wait_for_selector('[data-testid="connection-status"][data-status="open"]',
                                          timeout=TIMEOUT_SECONDS * 1000)
            start.browser_in_lab = time.perf_counter() - began
        finally:
            browser.close()


def run(name: str, cache: Path, data: Path, browser: bool, screenshots: Path) -> Start:
    port = free_port()
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "XDG_DATA_HOME": str(data), "PYTHONPATH": str(ROOT)}
    start = Start(name)
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "backprop_lab", "--port", str(port), "--db", str(data / "runs.db")],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    output = process.stdout

    def keep_log() -> None:
        for raw in output:
            line = raw.decode(errors="replace").rstrip()
            if not NOISE.search(line):
                start.log.append(f"{time.perf_counter() - began:6.1f} s  {line}")

    reader = threading.Thread(target=keep_log, daemon=True)
    reader.start()
    watcher = threading.Thread(target=watch, args=(start, port, began, process), daemon=True)
    watcher.start()
    try:
        if browser:
            while start.page is None and watcher.is_alive():
                time.sleep(0.02)
            if start.page_status == 503:
                look(start, f"http://127.0.0.1:{port}", began, screenshots)
        watcher.join()
    finally:
        process.terminate()
        process.wait(15)
        reader.join(5)
    return start


def shown(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true", help="no Chromium, no screenshots")
    parser.add_argument("--screenshots", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--second-cold", action="store_true", help="a second cold start, with the first's estimate")
    args = parser.parse_args()
    starts = []
    with tempfile.TemporaryDirectory(prefix="first-start-") as folder:
        data = Path(folder) / "data"
        caches = [("cold", Path(folder) / "cache"), ("warm", Path(folder) / "cache")]
        if args.second_cold:
            caches.append(("cold again", Path(folder) / "cache-2"))
        for name, cache in caches:
            cache.mkdir(exist_ok=True)
            print(f"{name} start (NUMBA_CACHE_DIR={cache}) …", flush=True)
            start = run(name, cache, data, browser=not args.no_browser and name != "warm",
                        screenshots=args.screenshots)
            print("\n".join(f"  | {line}" for line in start.log))
            starts.append(start)
    print(f"\n{'start':<12}{'listening':>11}{'page':>8}{'status':>8}{'ready':>8}{'browser in lab':>16}  (seconds)")
    for start in starts:
        print(f"{start.name:<12}{shown(start.listening):>11}{shown(start.page):>8}{start.page_status or '—':>8}"
              f"{shown(start.ready):>8}{shown(start.browser_in_lab):>16}")


if __name__ == "__main__":
    main()
