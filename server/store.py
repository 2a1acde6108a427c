"""The saved-runs store: SQLAlchemy Core over SQLite (the default) or any database URL.

`--db PATH` is an SQLite file (created with its folder), in WAL mode so readers never wait for
a writer; `--db URL` (for example `postgresql://lab@db/lab`) points one or several servers at
a shared database. The CLI's default is a file in the user's data folder (`default_path`);
`Settings(database=None)`, what tests and notebooks get, keeps runs in memory.

The schema is Alembic's (`server/migrations/`), migrated at every start by `open`; a database
whose revision this code does not know was written by a newer version and is refused with
`StoreError` rather than guessed at. Each write is one transaction: a run's row and all its
snapshots are there together or not at all, whenever the process dies. Every method here
blocks: the routes run them in a worker thread (`anyio.to_thread`), never on the event loop.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import platformdirs
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import StaticPool

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
MEMORY = "sqlite://"

metadata = sa.MetaData()
runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created", sa.String(32), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("epoch", sa.Integer, nullable=False),
    sa.Column("parameters", sa.Integer, nullable=False),
    sa.Column("snapshot_count", sa.Integer, nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("history", sa.Text, nullable=False),
    sa.Column("resume", sa.Text, nullable=False),
    sa.Column("data", sa.Text, nullable=True),  # revision 0002: an uploaded table, or null
)
run_snapshots = sa.Table(
    "run_snapshots", metadata,
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("parameters", sa.LargeBinary, nullable=False),
)


class StoreError(RuntimeError):
    """The database cannot be used (newer than this code, or unreachable); the message says why."""


@dataclass(frozen=True)
class RunSummary:
    id: str
    name: str
    created: str  # ISO 8601, UTC
    step: int
    epoch: int
    parameters: int
    config: dict[str, Any]


@dataclass(frozen=True)
class StoredRun:
    summary: RunSummary
    history: list[dict[str, Any]]  # [{"step", "train_loss", …}], oldest first
    resume: dict[str, Any]  # the trainer's state as JSON values (server.runs writes and reads it)
    snapshot_steps: list[int]
    snapshots: np.ndarray  # (S, P) θ at those steps
    data: dict[str, str] | None = None  # an uploaded table: {"name", "csv"}; None for a built-in set


def default_path() -> Path:
    """Where the CLI keeps runs when `--db` is not given: the user's data folder."""
    return Path(platformdirs.user_data_dir("backprop-lab", appauthor=False)) / "runs.sqlite3"


def database_url(database: str | Path | None) -> str:
    """A URL as given (it has `://`), else an SQLite file at that path; None: in memory."""
    if database is None:
        return MEMORY
    text = str(database)
    if "://" in text:
        return text
    path = Path(text).expanduser().resolve()
    return f"sqlite:///{path}"


def _dump(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


class RunStore:
    def __init__(self, database: str | Path | None) -> None:
        self.url = database_url(database)
        url = sa.make_url(self.url)
        self._one_at_a_time: AbstractContextManager[Any] = contextlib.nullcontext()
        self.is_sqlite = url.get_backend_name() == "sqlite"
        options: dict[str, Any] = {}
        if self.is_sqlite:
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if url.database in (None, "", ":memory:"):
                options["poolclass"] = StaticPool  # one connection, so the memory database is shared
                self._one_at_a_time = threading.Lock()  # ... and one thread at a time uses it
            else:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(url, **options)
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)

    @property
    def where(self) -> str:
        """The database as a user would name it (no password)."""
        return sa.make_url(self.url).render_as_string(hide_password=True)

    # --- schema ---------------------------------------------------------------------------
    def open(self) -> str:
        """Migrate the schema to this code's head and return its revision; raises `StoreError`
        for a database written by a newer version, or one that cannot be reached."""
        alembic = AlembicConfig()
        alembic.set_main_option("script_location", str(MIGRATIONS))
        scripts = ScriptDirectory.from_config(alembic)
        known = {script.revision for script in scripts.walk_revisions()}
        head = scripts.get_current_head()
        assert head is not None
        try:
            with self._one_at_a_time, self.engine.begin() as connection:
                current = MigrationContext.configure(connection).get_current_revision()
                if current is not None and current not in known:
                    raise StoreError(
                        f"the database {self.where} has schema revision {current!r}, written by a newer "
                        f"Backprop Lab than this one (which knows up to {head!r}); upgrade Backprop Lab, or "
                        "start it with another --db"
                    )
                alembic.attributes["connection"] = connection
                command.upgrade(alembic, "head")
        except sa.exc.SQLAlchemyError as error:
            raise StoreError(f"cannot open the database {self.where}: {error.__class__.__name__}: {error}") from None
        if current != head:
            logger.info("runs database %s migrated from %s to %s", self.where, current, head)
        return head

    def revision(self) -> str | None:
        with self._one_at_a_time, self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def close(self) -> None:
        self.engine.dispose()

    # --- runs -----------------------------------------------------------------------------
    def save(self, run: StoredRun) -> None:
        """The run and every snapshot in one transaction."""
        summary = run.summary
        snapshots = np.ascontiguousarray(run.snapshots, dtype="<f8")  # (S, P)
        with self._one_at_a_time, self.engine.begin() as connection:
            connection.execute(runs.insert().values(
                id=summary.id, name=summary.name, created=summary.created, step=summary.step,
                epoch=summary.epoch, parameters=summary.parameters, snapshot_count=len(run.snapshot_steps),
                config=_dump(summary.config), history=_dump(run.history), resume=_dump(run.resume),
                data=None if run.data is None else _dump(run.data),
            ))
            if run.snapshot_steps:
                connection.execute(run_snapshots.insert(), [
                    {"run_id": summary.id, "position": position, "step": step,
                     "parameters": snapshots[position].tobytes()}
                    for position, step in enumerate(run.snapshot_steps)
                ])

    def list(self, offset: int, limit: int) -> tuple[list[RunSummary], int]:
        """Newest first: `limit` summaries from `offset`, and how many runs there are."""
        columns = (runs.c.id, runs.c.name, runs.c.created, runs.c.step, runs.c.epoch, runs.c.parameters, runs.c.config)
        query = sa.select(*columns).order_by(runs.c.created.desc(), runs.c.id.desc()).offset(offset).limit(limit)
        with self._one_at_a_time, self.engine.connect() as connection:
            rows = connection.execute(query).all()
            total = connection.execute(sa.select(sa.func.count()).select_from(runs)).scalar_one()
        return [_summary(row) for row in rows], int(total)

    def get(self, run_id: str) -> StoredRun | None:
        with self._one_at_a_time, self.engine.connect() as connection:
            row = connection.execute(sa.select(runs).where(runs.c.id == run_id)).first()
            if row is None:
                return None
            shots = connection.execute(
                sa.select(run_snapshots.c.step, run_snapshots.c.parameters)
                .where(run_snapshots.c.run_id == run_id).order_by(run_snapshots.c.position)
            ).all()
        size = int(row.parameters)
        snapshots = np.zeros((len(shots), size))  # (S, P)
        for position, shot in enumerate(shots):
            snapshots[position] = np.frombuffer(shot.parameters, dtype="<f8", count=size)
        data = None if row.data is None else orjson.loads(row.data)
        return StoredRun(_summary(row), orjson.loads(row.history), orjson.loads(row.resume),
                         [int(shot.step) for shot in shots], snapshots, data)

    def rename(self, run_id: str, name: str) -> bool:
        with self._one_at_a_time, self.engine.begin() as connection:
            done = connection.execute(runs.update().where(runs.c.id == run_id).values(name=name))
        return done.rowcount == 1

    def delete(self, run_id: str) -> bool:
        with self._one_at_a_time, self.engine.begin() as connection:
            connection.execute(run_snapshots.delete().where(run_snapshots.c.run_id == run_id))
            done = connection.execute(runs.delete().where(runs.c.id == run_id))
        return done.rowcount == 1


def _summary(row: Any) -> RunSummary:
    return RunSummary(row.id, row.name, row.created, int(row.step), int(row.epoch), int(row.parameters),
                      orjson.loads(row.config))


def _sqlite_pragmas(connection: sqlite3.Connection, _record: object) -> None:
    """WAL (readers and one writer at once, and a killed writer leaves no torn page), and
    foreign keys on (SQLite's default is off)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
