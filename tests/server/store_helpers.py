"""Storage failures made for real on a store's database (its SQLite file, or PostgreSQL), shared
by the store's tests and the REST tests of its 503 answers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from backprop_lab.server.saved.run_store import RunStore

PAGE = 4096  # SQLite's default page size, the one the store's files have


def on_each_connection(store: RunStore, setting: str) -> None:
    """Run `setting` on every connection the store opens from now on (its pool starts anew), as
    a setting the database then enforces: SQLite's `PRAGMA max_page_count` (the file cannot
    grow: SQLITE_FULL), `PRAGMA query_only` (nothing can be written: SQLITE_READONLY), `PRAGMA
    busy_timeout`; PostgreSQL's `SET …` for the connection's whole life (outside a transaction,
    which a rollback would undo)."""

    def run(connection: Any, _record: object) -> None:
        if store.is_sqlite:
            connection.execute(setting)
            return
        connection.autocommit = True
        connection.execute(setting)
        connection.autocommit = False

    sa.event.listen(store.engine, "connect", run)
    store.engine.dispose()


def refuse_writes(store: RunStore) -> None:
    """From now on the database itself refuses every write the store makes: SQLite's
    SQLITE_READONLY, PostgreSQL's read_only_sql_transaction."""
    on_each_connection(store, "PRAGMA query_only = ON" if store.is_sqlite else "SET default_transaction_read_only = on")


@contextmanager
def write_lock_held(store: RunStore) -> Iterator[None]:
    """Another program holds the lock every write needs, and the store waits 50 ms for it (not
    30 s: the test waits too): SQLite's write lock (SQLITE_BUSY), a lock on PostgreSQL's `runs`
    table (lock_not_available). Reading is not blocked."""
    if store.is_sqlite:
        assert store.file is not None
        on_each_connection(store, "PRAGMA busy_timeout = 50")
        holder = sqlite3.connect(store.file)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.rollback()
            holder.close()
        return
    on_each_connection(store, "SET lock_timeout = '50ms'")
    engine = sa.create_engine(store.url)
    try:
        with engine.connect() as holder:
            holder.execute(sa.text("LOCK TABLE runs IN EXCLUSIVE MODE"))
            yield
            holder.rollback()
    finally:
        engine.dispose()


def damage(database: Path) -> None:
    """Overwrite every page of a database file but its first and last, as a failing disk or a
    copy cut short would: the header and the schema (page 1) still read, the tables do not."""
    pages = database.stat().st_size // PAGE
    assert pages >= 3, "too small a database to damage in the middle"
    with database.open("r+b") as file:
        file.seek(PAGE)
        file.write(bytes(range(256)) * (PAGE // 256) * (pages - 2))
