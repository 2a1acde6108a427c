"""Storage failures made for real on a store's SQLite file, shared by the store's tests and the
REST tests of its 503 answers."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from backprop_lab.server.saved.run_store import RunStore

PAGE = 4096  # SQLite's default page size, the one the store's files have


def on_each_connection(store: RunStore, pragma: str) -> None:
    """Run `pragma` on every connection the store opens from now on (its pool starts anew), as
    a setting SQLite then enforces: `PRAGMA max_page_count` (the file cannot grow: SQLITE_FULL),
    `PRAGMA query_only` (nothing can be written: SQLITE_READONLY), `PRAGMA busy_timeout`."""
    sa.event.listen(store.engine, "connect", lambda connection, _record: connection.execute(pragma))
    store.engine.dispose()


def damage(database: Path) -> None:
    """Overwrite every page of a database file but its first and last, as a failing disk or a
    copy cut short would: the header and the schema (page 1) still read, the tables do not."""
    pages = database.stat().st_size // PAGE
    assert pages >= 3, "too small a database to damage in the middle"
    with database.open("r+b") as file:
        file.seek(PAGE)
        file.write(bytes(range(256)) * (PAGE // 256) * (pages - 2))
