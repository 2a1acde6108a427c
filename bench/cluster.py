"""The cluster against one process (docs/budgets.md, docs/deploy.md), on loopback, run by hand;
prints one table per scenario.

    python bench/cluster.py                      # every scenario
    python bench/cluster.py --scenarios a --seconds 4 --rounds 1

Scenarios (`SCENARIOS`; each a function taking the options and giving its table):

- `a`: two workers with one training thread each (`backprop-lab cluster --workers 2
  --training-threads 1`: Redis, PostgreSQL, HAProxy in front) against one process with two
  (`backprop-lab --training-threads 2`), 50 sessions each time, each with one client, all playing
  at full speed, the clients going through the proxy: the epochs/s of all sessions together and
  of each (min, median), every client's frames/s (min, median), the p95 gap between frames; the
  cluster ÷ the process beside each (target ≥ 0.9). The proxy's CPU is read from /proc.
  The clients and their measurement are bench/hall.py's (`hall.hall`), imported, not copied.
- `b`: a presenter on one worker with 100 viewers spread over both (bench/cluster_viewers.py);
- `c`: a student's epochs/s with and without checkpoints (bench/cluster_checkpoints.py).

The setups take turns, `--rounds` times, so a slow spell of the machine falls on both.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # this checkout's backprop_lab, and bench/hall.py
import cluster_checkpoints  # noqa: E402  bench/cluster_checkpoints.py: scenario c
import cluster_viewers  # noqa: E402  bench/cluster_viewers.py: scenario b
import hall  # noqa: E402  bench/hall.py: the clients, the window, the figures

from backprop_lab.server.cluster.services import free_port  # noqa: E402

START_SECONDS = 600  # workers with a cold numba cache compile for minutes
ADDRESS = re.compile(r"a cluster of \d+ workers?: (http://\S+)/")
Figures = dict[str, float]
Row = tuple[str, dict[str, float], str]  # a label, a figure per column, the target
Table = tuple[str, list[str], list[Row]]  # a title, the columns, the rows


@contextlib.contextmanager
def start_cluster(workers: int, training_threads: int, *extra: str) -> Iterator[tuple[str, int]]:
    """`backprop-lab cluster` with `workers` workers, ready: (its address, HAProxy's pid); stopped
    (Ctrl-C, as a user stops it) after the block."""
    with tempfile.TemporaryDirectory(prefix="backprop-lab-bench-") as folder:
        Path(folder).chmod(0o755)  # PostgreSQL runs as the postgres user when we are root
        output = Path(folder) / "output.txt"
        with output.open("wb") as out:
            launcher = subprocess.Popen(
                [sys.executable, "-m", "backprop_lab.server.cli", "cluster", "--workers", str(workers),
                 "--training-threads", str(training_threads), "--port", str(free_port()),
                 "--data", str(Path(folder) / "cluster"), *extra],
                cwd=ROOT, env=hall.tree_env(ROOT), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + START_SECONDS
            while not (found := ADDRESS.search(output.read_text())):
                if launcher.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the cluster did not start: {output.read_text()}")
                time.sleep(0.1)
            yield found[1], haproxy_pid(launcher.pid)
        finally:
            launcher.send_signal(signal.SIGINT)
            launcher.wait(60)


def haproxy_pid(parent: int) -> int:
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if entry.name.isdigit() and "(haproxy)" in stat and int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                return int(entry.name)
    raise SystemExit("the cluster's HAProxy is not running")


@contextlib.contextmanager
def start_single(training_threads: int) -> Iterator[tuple[str, int]]:
    """One `backprop-lab` process (hall.py's start, which gives it two training threads)."""
    assert training_threads == 2, "hall.start_server starts the process with two training threads"
    with tempfile.TemporaryDirectory() as folder:
        server, base = hall.start_server(ROOT, Path(folder) / "runs.sqlite3", [])
        try:
            yield base, server.pid
        finally:
            server.terminate()
            server.wait(15)


# --- scenario a: two workers of one thread against one process of two ------------------------
SESSIONS = 50
A_ROWS = [  # (hall's figure, label, target of the cluster ÷ the process)
    ("epochs_total", "epochs/s, all sessions", "≥ 0.9"),
    ("epochs_min", "epochs/s per session, min", ""),
    ("epochs_median", "epochs/s per session, median", ""),
    ("fps_min", "frames/s per client, min", "≥ 0.9"),
    ("fps_median", "frames/s per client, median", ""),
    ("p95_gap_ms", "p95 gap between frames, ms", ""),
    ("cpu_cores", "HAProxy's CPU, cores", ""),
]


def workers_against_threads(options: argparse.Namespace) -> Table:
    setups: dict[str, Callable[[], contextlib.AbstractContextManager[tuple[str, int]]]] = {
        "1 process, 2 threads": lambda: start_single(2),
        "2 workers, 1 thread each": lambda: start_cluster(2, 1),
    }
    results: dict[str, list[Figures]] = {name: [] for name in setups}
    names = list(setups)
    for round_index in range(options.rounds):
        for name in names if round_index % 2 == 0 else names[::-1]:
            print(f"round {round_index + 1}: {name}, load {os.getloadavg()[0]:.1f}", flush=True)
            with setups[name]() as (base, pid):
                results[name].append(hall.hall(base, pid, SESSIONS, 0.0, options.seconds, options.client_processes))
    single, cluster = names
    rows: list[Row] = []
    for key, label, target in A_ROWS:
        figures = {name: statistics.median(r[key] for r in results[name]) for name in names}
        if key == "cpu_cores":  # the single process's pid is the server itself: no proxy there
            figures = {cluster: figures[cluster]}
        elif figures[single]:
            figures["cluster ÷ process"] = figures[cluster] / figures[single]
        rows.append((label, figures, target))
    title = f"a: {SESSIONS} sessions at full speed, median of {options.rounds} round(s), {options.seconds:g} s windows"
    return title, [*names, "cluster ÷ process"], rows


SCENARIOS: dict[str, Callable[[argparse.Namespace], Table]] = {
    "a": workers_against_threads,
    "b": cluster_viewers.scenario,
    "c": cluster_checkpoints.scenario,
}


def report(table: Table) -> None:
    title, columns, rows = table
    print(f"\n{title}")
    print(f"{'':32}" + "".join(f"{column:>26}" for column in columns) + f"{'target':>10}")
    for label, figures, target in rows:
        cells = "".join(f"{figures[column]:>26.2f}" if column in figures else f"{'':>26}" for column in columns)
        print(f"{label:32}{cells}{target:>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", nargs="+", choices=sorted(SCENARIOS), default=sorted(SCENARIOS))
    parser.add_argument("--seconds", type=float, default=6.0, help="each window")
    parser.add_argument("--rounds", type=int, default=2, help="turns of every setup (their order alternates)")
    parser.add_argument("--client-processes", type=int, default=2)
    options = parser.parse_args()
    tables = [SCENARIOS[name](options) for name in options.scenarios]
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    for table in tables:
        report(table)


if __name__ == "__main__":
    main()
