"""The saved-runs store: migrations at start, WAL, a newer database refused, atomic saves,
newest-first pages, rename and delete (snapshots go with their run)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from server.store import RunStore, RunSummary, StoredRun, StoreError, database_url

ROOT = Path(__file__).resolve().parents[2]


def a_run(run_id: str, created: str, snapshots: int = 3, size: int = 5) -> StoredRun:
    rows = np.random.default_rng(len(run_id)).normal(size=(snapshots, size))  # (S, P)
    summary = RunSummary(run_id, f"run <i>{run_id}</i>", created, 10 * snapshots, 2, size, {"dataset": "xor"})
    history = [{"step": 0, "train_loss": 0.7, "test_loss": None}, {"step": 9, "train_loss": 0.5, "test_loss": 0.6}]
    return StoredRun(summary, history, {"step": 10 * snapshots, "orders": [[1, 0]]}, list(range(snapshots)), rows)


@pytest.fixture
def store(tmp_path):
    opened = RunStore(tmp_path / "sub" / "runs.sqlite3")
    opened.open()
    yield opened
    opened.close()


def test_a_path_is_an_sqlite_file_a_url_stays_a_url_and_none_is_memory(tmp_path):
    assert database_url(tmp_path / "r.db") == f"sqlite:///{tmp_path / 'r.db'}"
    assert database_url("postgresql://lab@db/lab") == "postgresql://lab@db/lab"
    assert database_url(None) == "sqlite://"


def test_opening_creates_the_schema_in_wal_mode_and_a_second_open_changes_nothing(store, tmp_path):
    head = store.revision()
    assert head == "0002"
    assert store.open() == head
    with sqlite3.connect(tmp_path / "sub" / "runs.sqlite3") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"runs", "run_snapshots", "alembic_version"} <= tables


def test_a_database_written_by_a_newer_version_is_refused_with_a_clear_message(store, tmp_path):
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(StoreError, match=r"revision '9999_future'.*newer Backprop Lab.*upgrade"):
        RunStore(tmp_path / "sub" / "runs.sqlite3").open()


def test_the_command_refuses_to_start_on_a_newer_database(store, tmp_path):
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    result = subprocess.run([sys.executable, "-m", "server", "--db", str(tmp_path / "sub" / "runs.sqlite3")],
                            cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            timeout=60)
    assert result.returncode != 0
    assert "newer Backprop Lab" in result.stderr and "Traceback" not in result.stderr


def test_a_saved_run_reads_back_identically(store):
    run = a_run("abc", "2026-01-01T00:00:00.000000Z")
    store.save(run)
    back = store.get("abc")
    assert back is not None
    assert back.summary == run.summary and back.history == run.history and back.resume == run.resume
    assert back.snapshot_steps == run.snapshot_steps
    assert np.array_equal(back.snapshots, run.snapshots)  # float64 bytes: bit for bit
    assert store.get("nope") is None


def test_a_save_that_fails_half_way_leaves_no_trace_of_the_run(store):
    broken = a_run("half", "2026-01-01T00:00:00.000000Z")
    broken = StoredRun(broken.summary, broken.history, broken.resume, [0, 1, 2, 3], broken.snapshots)  # 4 steps, 3 rows
    with pytest.raises(IndexError):
        store.save(broken)  # the run's row went in, then a snapshot failed
    assert store.get("half") is None
    assert store.list(0, 10) == ([], 0)
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM run_snapshots")).scalar_one() == 0


def test_runs_are_listed_newest_first_a_page_at_a_time(store):
    for day in (3, 1, 4, 2):
        store.save(a_run(f"r{day}", f"2026-01-0{day}T00:00:00.000000Z"))
    first, total = store.list(0, 3)
    second, _ = store.list(3, 3)
    assert total == 4
    assert [s.id for s in first] == ["r4", "r3", "r2"] and [s.id for s in second] == ["r1"]


def test_rename_changes_only_the_name_and_delete_takes_the_snapshots_too(store):
    store.save(a_run("x", "2026-01-01T00:00:00.000000Z"))
    store.save(a_run("y", "2026-01-02T00:00:00.000000Z"))
    assert store.rename("x", "<script>alert(1)</script>")
    renamed = store.get("x")
    assert renamed is not None and renamed.summary.name == "<script>alert(1)</script>"
    assert renamed.snapshot_steps == [0, 1, 2]
    assert store.delete("x") and not store.delete("x") and not store.rename("x", "again")
    with store.engine.connect() as connection:
        owners = connection.execute(sa.text("SELECT DISTINCT run_id FROM run_snapshots")).scalars().all()
    assert owners == ["y"]


def test_a_store_in_memory_works_the_same_for_tests_and_notebooks():
    memory = RunStore(None)
    memory.open()
    memory.save(a_run("m", "2026-01-01T00:00:00.000000Z"))
    assert [s.id for s in memory.list(0, 5)[0]] == ["m"]
    memory.close()


def test_a_database_url_is_used_as_given(tmp_path):
    by_url = RunStore(f"sqlite:///{tmp_path / 'by-url.db'}")
    assert by_url.open() == "0002"
    by_url.save(a_run("u", "2026-01-01T00:00:00.000000Z"))
    by_url.close()
    again = RunStore(tmp_path / "by-url.db")  # the same file, named by its path
    again.open()
    assert again.get("u") is not None
    again.close()


def test_a_database_of_the_first_schema_is_migrated_and_its_runs_kept(tmp_path):
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from server.store import MIGRATIONS

    old = RunStore(tmp_path / "old.db")
    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    with old.engine.begin() as connection:  # what the first release wrote
        alembic.attributes["connection"] = connection
        command.upgrade(alembic, "0001")
        connection.execute(sa.text(
            "INSERT INTO runs (id, name, created, step, epoch, parameters, snapshot_count, config, history, resume) "
            "VALUES ('r1', 'kept', '2026-01-01T00:00:00.000000Z', 5, 1, 2, 0, '{}', '[]', '{}')"))
    assert old.revision() == "0001"
    assert old.open() == "0002"
    kept = old.get("r1")
    assert kept is not None and kept.summary.name == "kept" and kept.data is None
    old.close()


def test_threads_share_a_store_in_memory_safely():
    import threading

    memory = RunStore(None)
    memory.open()

    def save_ten(thread: int) -> None:
        for index in range(10):
            memory.save(a_run(f"t{thread}-{index}", f"2026-01-01T00:00:{index:02d}.000000Z"))
            assert memory.get(f"t{thread}-{index}") is not None

    threads = [threading.Thread(target=save_ten, args=(thread,)) for thread in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert memory.list(0, 100)[1] == 40
    memory.close()
