"""The saved-runs store: migrations at start (0003 up and down on a database with a run in it),
WAL, a newer, damaged or read-only database refused at start and left untouched, each storage
failure named by its code, atomic saves, newest-first pages of every run or of what one owner
may see, publishing, what an owner or an address keeps, rename and delete (snapshots go with
their run). Every test that is not about SQLite's own file runs on SQLite and on PostgreSQL
(`blank_database`, tests/server/conftest.py), and several stores sharing one PostgreSQL
database (as the workers of a cluster do) migrate it once and lose no write."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from store_helpers import damage, on_each_connection, refuse_writes, write_lock_held

from backprop_lab.server.saved.capture import new_run_id
from backprop_lab.server.saved.run_store import (
    FAILURES,
    MIGRATIONS,
    RunFilter,
    RunStore,
    RunSummary,
    StoredRun,
    StoreError,
    database_url,
)

ROOT = Path(__file__).resolve().parents[2]


def a_run(run_id: str, created: str, snapshots: int = 3, size: int = 5, owner: str = "teacher",
          address: str = "") -> StoredRun:
    rows = np.random.default_rng(len(run_id)).normal(size=(snapshots, size))  # (S, P)
    summary = RunSummary(run_id, f"run <i>{run_id}</i>", created, 10 * snapshots, 2, size, {"dataset": "xor"},
                         owner=owner)
    history = [{"step": 0, "train_loss": 0.7, "test_loss": None}, {"step": 9, "train_loss": 0.5, "test_loss": 0.6}]
    return StoredRun(summary, history, {"step": 10 * snapshots, "orders": [[1, 0]]}, list(range(snapshots)), rows,
                     address=address)


def bytes_in_database(database: str | Path, run_id: str) -> int:
    """What a run keeps in the database, read back as the database stores it: its texts' UTF-8
    bytes (not the name) and its snapshots' bytes."""
    engine = sa.create_engine(database_url(database))
    with engine.connect() as connection:
        texts = connection.execute(sa.text("SELECT config, history, resume, data FROM runs WHERE id = :id"),
                                   {"id": run_id}).one()
        blobs = connection.execute(sa.text("SELECT parameters FROM run_snapshots WHERE run_id = :id"),
                                   {"id": run_id}).scalars().all()
    engine.dispose()
    return sum(len(text.encode()) for text in texts if text is not None) + sum(len(blob) for blob in blobs)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def a_damaged_database(path: Path) -> Path:
    """A real database with runs in it (wide ones: many pages), closed, then damaged."""
    made = RunStore(path)
    made.open()
    for index in range(4):
        made.save(a_run(f"d{index}", f"2026-01-0{index + 1}T00:00:00.000000Z", snapshots=8, size=2000))
    made.close()
    damage(path)
    return path


@pytest.fixture
def store(blank_database):
    """A store on a new database: SQLite, then PostgreSQL."""
    opened = RunStore(blank_database)
    opened.open()
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(tmp_path):
    """A store on an SQLite file, for what is about SQLite's own file (WAL, PRAGMAs, damage)."""
    opened = RunStore(tmp_path / "sub" / "runs.sqlite3")
    opened.open()
    yield opened
    opened.close()


def test_a_path_is_an_sqlite_file_a_url_stays_a_url_and_none_or_memory_is_memory(tmp_path):
    assert database_url(tmp_path / "r.db") == f"sqlite:///{tmp_path / 'r.db'}"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"
    assert database_url(None) == "sqlite://"
    assert database_url(":memory:") == "sqlite://"  # SQLite's name for it, not a file of that name here


@pytest.mark.parametrize("written", ["postgresql://lab:pw@db:5432/lab", "postgres://lab:pw@db:5432/lab",
                                     "postgresql+psycopg://lab:pw@db:5432/lab"])
def test_a_postgresql_url_as_people_write_it_gets_the_driver_the_lab_ships_with(written):
    assert database_url(written) == "postgresql+psycopg://lab:pw@db:5432/lab"
    store = RunStore(written)
    assert store.where == "postgresql+psycopg://lab:***@db:5432/lab"  # never the password
    store.close()


@pytest.mark.parametrize(("database", "said"), [
    ("mysql+nosuchdriver://lab@db/lab", "--db mysql+nosuchdriver://lab@db/lab: not a database Backprop Lab can use"),
    ("mysql://lab:secret@db/lab", "--db mysql://lab:***@db/lab: not a database Backprop Lab can use"),  # no driver
    ("http://:x/", "--db http://:x/: not a database URL"),
])
def test_a_database_url_the_lab_cannot_use_is_refused_in_one_line(database, said):
    with pytest.raises(ValueError, match=f"^{re.escape(said)}"):
        RunStore(database)
    result = backprop_lab(database)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"backprop-lab: {said}")


def test_opening_creates_the_schema_and_a_second_open_changes_nothing(store):
    head = store.revision()
    assert head == "0006"
    assert store.open() == head
    with store.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
    assert {"runs", "run_snapshots", "run_tags", "run_fields", "alembic_version"} <= tables


def test_an_sqlite_file_is_in_wal_mode(sqlite_store, tmp_path):
    with sqlite3.connect(tmp_path / "sub" / "runs.sqlite3") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"runs", "run_snapshots", "alembic_version"} <= tables


def test_a_database_written_by_a_newer_version_is_refused_with_a_clear_message(store, blank_database):
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    newer = RunStore(blank_database)
    with pytest.raises(StoreError, match=r"revision '9999_future'.*newer Backprop Lab.*upgrade") as refused:
        newer.open()
    assert refused.value.code == "newer_database"
    newer.close()


def test_the_command_refuses_to_start_on_a_newer_database(store, blank_database):
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    result = backprop_lab(blank_database)
    assert result.returncode != 0
    assert "newer Backprop Lab" in result.stderr and "Traceback" not in result.stderr


def test_a_saved_run_reads_back_identically_with_its_owner_address_and_stored_bytes(store, blank_database):
    run = replace(a_run("abc", "2026-01-01T00:00:00.000000Z", owner="ana", address="192.0.2.7"),
                  data={"name": "données.csv", "csv": "x,étiquette\n1,a\n"})  # bytes, not characters, count
    store.save(run)
    back = store.get("abc")
    assert back is not None
    size = bytes_in_database(blank_database, "abc")
    assert back.summary == replace(run.summary, size_bytes=size) and size > run.snapshots.nbytes
    assert back.summary.owner == "ana" and not back.summary.published and back.address == "192.0.2.7"
    assert back.history == run.history and back.resume == run.resume and back.data == run.data
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
    assert by_url.open() == "0006"
    by_url.save(a_run("u", "2026-01-01T00:00:00.000000Z"))
    by_url.close()
    again = RunStore(tmp_path / "by-url.db")  # the same file, named by its path
    again.open()
    assert again.get("u") is not None
    again.close()


def migrate(database: str | Path, revision: str, down: bool = False) -> None:
    """Alembic to `revision`, as an older release (or an operator going back) would run it: on a
    plain connection, where SQLite's foreign keys are off."""
    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    engine = sa.create_engine(database_url(database))
    with engine.begin() as connection:
        alembic.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(alembic, revision)
    engine.dispose()


def execute(database: str | Path, statement: str, *rows: dict[str, object]) -> None:
    """One statement for each of `rows` (its parameters) on a plain connection, as an older release wrote."""
    engine = sa.create_engine(database_url(database))
    with engine.begin() as connection:
        connection.execute(sa.text(statement), list(rows))
    engine.dispose()


def test_a_database_of_the_first_schema_is_migrated_and_its_runs_kept(blank_database):
    migrate(blank_database, "0001")  # what the first release wrote
    execute(blank_database,
            "INSERT INTO runs (id, name, created, step, epoch, parameters, snapshot_count, config, history, resume) "
            "VALUES ('r1', 'kept', '2026-01-01T00:00:00.000000Z', 5, 1, 2, 0, '{}', '[]', '{}')", {})
    old = RunStore(blank_database)
    assert old.revision() == "0001"
    assert old.open() == "0006"
    kept = old.get("r1")
    assert kept is not None and kept.summary.name == "kept" and kept.data is None and kept.summary.owner == "teacher"
    old.close()


def columns(database: str | Path) -> list[str]:
    """The columns of `runs`, in the database's order."""
    engine = sa.create_engine(database_url(database))
    names = [column["name"] for column in sa.inspect(engine).get_columns("runs")]
    engine.dispose()
    return names


def indexes(database: str | Path) -> set[str]:
    engine = sa.create_engine(database_url(database))
    names = {str(index["name"]) for index in sa.inspect(engine).get_indexes("runs")}
    engine.dispose()
    return names


def test_migration_0003_gives_a_run_of_0002_its_teacher_and_size_and_goes_back_keeping_it(blank_database):
    database = blank_database
    migrate(database, "0002")
    rows = np.arange(15, dtype="<f8").reshape(3, 5) / 7  # (S, P)
    execute(database,  # texts as the store writes them (compact JSON), some not ASCII
            "INSERT INTO runs (id, name, created, step, epoch, parameters, snapshot_count, config, history, resume, "
            "data) VALUES ('r1', 'été', '2026-01-01T00:00:00.000000Z', 20, 2, 5, 3, :config, :history, :resume, :data)",
            {"config": '{"dataset":"csv_é"}', "history": '[{"step":0,"train_loss":0.5}]', "resume": '{"step":20}',
             "data": '{"name":"ü.csv","csv":"a,b\\n1,ü\\n"}'})
    execute(database, "INSERT INTO run_snapshots VALUES ('r1', :position, :step, :parameters)",
            *({"position": position, "step": 10 * position, "parameters": rows[position].tobytes()}
              for position in range(3)))
    store = RunStore(database)
    assert store.open() == "0006"
    kept = store.get("r1")
    assert kept is not None and kept.summary.name == "été" and np.array_equal(kept.snapshots, rows)
    assert kept.summary.owner == "teacher" and not kept.summary.published and kept.address == ""
    texts = 20 + 29 + 11 + 37  # UTF-8 bytes of config, history, resume, data: é and both ü take 2 each
    assert kept.summary.size_bytes == bytes_in_database(database, "r1") == texts + 3 * 5 * 8
    store.save(replace(kept, summary=replace(kept.summary, id="r2")))  # the same run, saved by this version
    again = store.get("r2")
    assert again is not None and again.summary.size_bytes == kept.summary.size_bytes  # counted the same way
    names = columns(database)
    if store.is_sqlite:  # SQLite walks a long value to read a column after it; PostgreSQL keeps long values apart
        assert names.index("size_bytes") < names.index("config")  # what a listing reads comes before the long texts
    store.close()
    assert "runs_by_owner" in indexes(database)

    migrate(database, "0002", down=True)
    assert not {"owner", "address", "published", "size_bytes"} & set(columns(database))
    assert "runs_by_owner" not in indexes(database) and "runs_by_created" in indexes(database)
    back = RunStore(database)
    assert back.revision() == "0002"
    assert back.open() == "0006"  # up again: the runs and their snapshots kept through both ways
    again = back.get("r1")
    assert again is not None and np.array_equal(again.snapshots, rows) and again.summary.size_bytes == texts + 3 * 5 * 8
    back.close()


def test_runs_are_listed_for_an_owner_with_the_published_ones_and_counted_the_same(store):
    for day, (run_id, owner) in enumerate([("a1", "ana"), ("b1", "ben"), ("a2", "ana"), ("t1", "teacher")], 1):
        store.save(a_run(run_id, f"2026-01-0{day}T00:00:00.000000Z", owner=owner))
    assert store.set_published("b1", True) and not store.set_published("nope", True)

    def ids(visible_to: str | None, offset: int = 0, limit: int = 10) -> tuple[list[str], int]:
        summaries, total = store.list(offset, limit, visible_to)
        return [summary.id for summary in summaries], total

    assert ids(None) == (["t1", "a2", "b1", "a1"], 4)  # every run
    assert ids("ana") == (["a2", "b1", "a1"], 3) and ids("ana", 1, 1) == (["b1"], 3)
    assert ids("cara") == (["b1"], 1)
    summaries, _ = store.list(0, 10)
    assert {s.id: (s.owner, s.published) for s in summaries}["b1"] == ("ben", True)
    assert store.set_published("b1", False)
    assert ids("cara") == ([], 0) and ids("ben") == (["b1"], 1)


def test_usage_counts_the_runs_and_bytes_of_an_owner_or_from_an_address(store):
    saved = [("a1", "ana", "10.0.0.1", 3), ("a2", "ana", "10.0.0.2", 5), ("b1", "ben", "10.0.0.1", 7)]
    for run_id, owner, address, snapshots in saved:
        store.save(a_run(run_id, "2026-01-01T00:00:00.000000Z", snapshots=snapshots, owner=owner, address=address))
    size = {run_id: store.get(run_id).summary.size_bytes for run_id, *_ in saved}  # type: ignore[union-attr]
    assert size["a1"] < size["a2"] < size["b1"]
    assert store.usage(owner="ana") == (2, size["a1"] + size["a2"])
    assert store.usage(address="10.0.0.1") == (2, size["a1"] + size["b1"])
    assert store.usage(owner="ana", address="10.0.0.1") == (1, size["a1"])
    assert store.usage() == (3, sum(size.values()))
    assert store.usage(owner="cara") == (0, 0)
    store.delete("a2")
    assert store.usage(owner="ana") == (1, size["a1"])


# --- storage failures: each made for real, each named by its code ------------------------------
def test_a_full_disk_is_disk_full_and_the_runs_saved_before_stay_readable(sqlite_store, tmp_path):
    store = sqlite_store
    store.save(a_run("before", "2026-01-01T00:00:00.000000Z"))
    on_each_connection(store, "PRAGMA max_page_count = 1")  # no page past those it has: SQLite's own SQLITE_FULL
    with pytest.raises(StoreError, match="^the disk is full") as full:
        store.save(a_run("big", "2026-01-02T00:00:00.000000Z", snapshots=20, size=2000))
    assert full.value.code == "disk_full" and full.value.params == {"path": str(tmp_path / "sub" / "runs.sqlite3")}
    assert full.value.retry_after is None
    assert store.get("before") is not None and store.get("big") is None


def test_a_database_that_cannot_be_written_is_read_only(store):
    store.save(a_run("before", "2026-01-01T00:00:00.000000Z"))
    refuse_writes(store)
    for write in (lambda: store.save(a_run("after", "2026-01-02T00:00:00.000000Z")),
                  lambda: store.rename("before", "x"), lambda: store.set_published("before", True)):
        with pytest.raises(StoreError, match="^the database is read-only") as refused:
            write()
        assert refused.value.code == "read_only"
    assert [s.id for s in store.list(0, 10)[0]] == ["before"]


def test_a_busy_database_is_busy_says_when_to_try_again_and_then_works(store):
    with write_lock_held(store), pytest.raises(StoreError, match="^the database is busy, try again") as busy:
        store.save(a_run("wait", "2026-01-01T00:00:00.000000Z"))
    assert busy.value.code == "busy" and busy.value.retry_after == 5
    store.save(a_run("wait", "2026-01-01T00:00:00.000000Z"))
    assert store.get("wait") is not None


def test_a_database_that_can_no_longer_be_opened_is_unavailable(tmp_path):
    gone = RunStore(tmp_path / "gone" / "runs.sqlite3")
    gone.open()
    gone.engine.dispose()
    shutil.rmtree(tmp_path / "gone")  # its folder removed under it: SQLITE_CANTOPEN
    with pytest.raises(StoreError, match="^the runs database cannot be used right now") as refused:
        gone.list(0, 10)
    assert refused.value.code == "unavailable"
    gone.close()


def test_a_postgresql_database_that_is_gone_is_unavailable(postgres):
    url = postgres.create_database()
    gone = RunStore(url)
    gone.open()
    gone.engine.dispose()
    postgres.sql(f'DROP DATABASE "{sa.make_url(url).database}"')
    with pytest.raises(StoreError, match="^the runs database cannot be used right now") as refused:
        gone.list(0, 10)
    assert refused.value.code == "unavailable" and refused.value.params == {"path": gone.where}
    assert "***" in gone.where and postgres.password not in str(refused.value)
    gone.close()


def test_a_damaged_database_is_refused_at_start_and_left_byte_for_byte(tmp_path):
    database = a_damaged_database(tmp_path / "runs.sqlite3")
    before = sha256(database)
    with pytest.raises(StoreError, match=f"^the database file is damaged: {database}; .*move the file aside") as bad:
        RunStore(database).open()
    assert bad.value.code == "damaged" and bad.value.params == {"path": str(database)}
    assert sha256(database) == before


def test_a_file_that_is_not_a_database_is_refused_as_damaged_and_left_as_it_is(tmp_path):
    database = tmp_path / "runs.sqlite3"
    database.write_text("name,score\nana,3\n" * 500)  # a CSV saved over the database
    before = sha256(database)
    with pytest.raises(StoreError) as bad:
        RunStore(database).open()
    assert bad.value.code == "damaged" and sha256(database) == before


def test_a_read_only_database_is_refused_at_start_before_it_is_migrated(tmp_path):
    database = tmp_path / "runs.sqlite3"
    migrate(database, "0002")  # a database that would need migrating
    before = sha256(database)
    read_only = RunStore(f"sqlite:///file:{database}?mode=ro&uri=true")  # SQLite opens it read-only
    assert read_only.where == str(database)
    with pytest.raises(StoreError, match=f"^the database is read-only: {database} cannot be written") as refused:
        read_only.open()
    assert refused.value.code == "read_only" and sha256(database) == before
    assert RunStore(database).revision() == "0002"


def backprop_lab(database: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backprop_lab", "--db", database], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)


def test_the_command_refuses_a_damaged_database_in_one_line_naming_it_and_leaves_it(tmp_path):
    database = a_damaged_database(tmp_path / "runs.sqlite3")
    before = sha256(database)
    result = backprop_lab(str(database))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    said = result.stderr.strip().splitlines()[-1]
    assert said.startswith(f"backprop-lab: the database file is damaged: {database}; ")
    assert "move the file aside" in said
    assert sha256(database) == before


def test_the_command_refuses_a_read_only_database(tmp_path):
    database = tmp_path / "runs.sqlite3"
    RunStore(database).open()
    before = sha256(database)
    result = backprop_lab(f"sqlite:///file:{database}?mode=ro&uri=true")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"backprop-lab: the database is read-only: {database}")
    assert sha256(database) == before


def test_every_failure_has_its_english_sentence_and_the_path_it_names():
    for code in FAILURES:
        error = StoreError(code, path="/data/runs.sqlite3", revision="9", head="3")
        assert error.code == code and "/data/runs.sqlite3" in str(error)


def test_threads_share_a_store_in_memory_safely():
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


def test_migration_0004_makes_runs_of_0003_searchable_and_goes_back_keeping_them(blank_database):
    database = blank_database
    migrate(database, "0003")
    execute(database,
            "INSERT INTO runs (id, name, created, step, epoch, parameters, snapshot_count, owner, address, published, "
            "size_bytes, config, history, resume, data) VALUES ('r1', 'old', '2026-01-01T00:00:00.000000Z', 20, 2, "
            "5, 0, 'teacher', '', false, 0, :config, :history, :resume, NULL)",
            {"config": '{"dataset":"spiral","learning_rate":0.3,"hidden_layers":[4,2]}',
             "history": '[{"step":0,"test_loss":0.9},{"step":20,"test_loss":0.25}]', "resume": '{"step":20}'})
    store = RunStore(database)
    assert store.open() == "0006"
    found, total = store.list(0, 10, matching=RunFilter(texts={"dataset": ("spiral",)},
                                                        ranges={"learning_rate": (0.2, 0.4), "test_loss": (None, 0.3),
                                                                "hidden_layers": (2, 2), "neurons": (6, 6)}))
    assert [run.id for run in found] == ["r1"] and total == 1 and found[0].tags == () and found[0].note == ""
    assert store.list(0, 10, matching=RunFilter(ranges={"test_loss": (None, 0.2)}))[1] == 0  # the saved step's loss
    assert store.organise("r1", ["b", "a"], "a note")
    assert store.summary("r1") == replace(found[0], tags=("a", "b"), note="a note")
    if store.is_sqlite:  # as revision 0003's columns (test above)
        names = columns(database)
        assert names.index("note") < names.index("config")  # a listing reads it before the long texts
    store.close()
    migrate(database, "0003", down=True)
    assert "note" not in columns(database)
    back = RunStore(database)
    assert back.open() == "0006" and back.summary("r1") is not None
    back.close()


def test_a_filter_keeps_exactly_the_runs_with_every_tag_and_inside_every_range(store):
    def saved(run_id: str, tags: tuple[str, ...], rate: float, loss: float) -> None:
        run = a_run(run_id, f"2026-01-01T00:00:0{len(run_id)}.{run_id[-1]}00000Z")
        config = {"dataset": "xor", "learning_rate": rate}
        history = [{"step": run.summary.step, "test_loss": loss}]
        store.save(replace(run, summary=replace(run.summary, config=config, tags=tags), history=history))

    saved("r1", ("sweep", "adam"), 0.01, 0.5)
    saved("r2", ("sweep",), 0.1, 0.3)
    saved("r3", ("sweep", "adam"), 1.0, 0.2)
    saved("r4", (), 0.1, 0.1)

    def ids(**changes: object) -> set[str]:
        return {run.id for run in store.list(0, 50, matching=RunFilter(**changes))[0]}  # type: ignore[arg-type]

    assert ids(tags=("sweep",)) == {"r1", "r2", "r3"}
    assert ids(tags=("sweep", "adam")) == {"r1", "r3"}
    assert ids(ranges={"learning_rate": (0.05, 0.5)}) == {"r2", "r4"}
    assert ids(tags=("sweep",), ranges={"learning_rate": (0.1, None), "test_loss": (None, 0.25)}) == {"r3"}
    assert ids(texts={"dataset": ("moons", "xor")}) == {"r1", "r2", "r3", "r4"}
    assert ids(texts={"dataset": ("moons",)}) == set()
    assert store.delete("r1") and ids(tags=("adam",)) == {"r3"}  # its tags and fields went with it


# --- several servers on one PostgreSQL database, as the workers of a cluster --------------------------
def together(count: int, work: Callable[[int], None]) -> None:
    """`work(0)` … `work(count - 1)` in as many threads, started at the same moment; the first
    error any of them raised is raised here."""
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        start.wait()
        try:
            work(index)
        except BaseException as error:  # noqa: BLE001 (handed to the test's thread)
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "still at work after 60 s (waiting for each other?)"
    if errors:
        raise errors[0]


def test_servers_starting_together_on_a_new_postgresql_database_migrate_it_once(postgres):
    url = postgres.create_database()
    stores = [RunStore(url) for _ in range(4)]
    heads: list[str] = []
    together(len(stores), lambda index: heads.append(stores[index].open()))
    assert heads == ["0006"] * 4
    with stores[0].engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == ["0006"]
    for store in stores:
        store.close()


def test_servers_saving_and_organising_on_one_postgresql_database_lose_no_write(postgres):
    url = postgres.create_database()
    stores = [RunStore(url) for _ in range(4)]
    for store in stores:
        store.open()
    stores[0].save(a_run("shared", "2026-01-01T00:00:00.000000Z"))
    saved: list[str] = []
    tag_sets = [("a", "b", f"s{index}") for index in range(4)]  # each server's own set, overlapping the others'

    def work(index: int) -> None:
        store = stores[index]
        for count in range(10):
            run_id = new_run_id()
            store.save(a_run(run_id, f"2026-01-02T00:00:{count:02d}.000000Z", owner=f"server{index}"))
            saved.append(run_id)
            assert store.organise("shared", tag_sets[index])

    together(len(stores), work)
    listed, total = stores[1].list(0, 100)
    assert total == 41 and {summary.id for summary in listed} == {*saved, "shared"}
    assert all(stores[2].usage(owner=f"server{index}")[0] == 10 for index in range(4))
    shared = stores[3].summary("shared")
    assert shared is not None and shared.tags in tag_sets  # one server's whole change, never a mix of two
    for store in stores:
        store.close()
