"""The saved-runs store: SQLAlchemy Core over SQLite (the default) or any database URL.

`--db PATH` is an SQLite file (created with its folder), in WAL mode so readers never wait for
a writer; `--db URL` (for example `postgresql://lab@db/lab`) points one or several servers at
a shared database. The CLI's default is a file in the user's data folder (`default_path`);
`Settings(database=None)`, what tests and notebooks get, keeps runs in memory.

The schema is Alembic's (`server/saved/migrations/`), migrated at every start by `open`. Before
anything writes to an SQLite database (a migration does, and so does switching it to WAL),
`open` checks it: `PRAGMA quick_check` finds a damaged file and a write that is rolled back
finds a read-only one; both are refused with the file left byte for byte as it was, and so is
a database whose revision this code does not know (a newer version wrote it). Each write is
one transaction: a run's row and all its snapshots are there together or not at all, whenever
the process dies. Every method here blocks: the routes run them in a worker thread
(`anyio.to_thread`), never on the event loop.

A database that fails raises `StoreError`, whose `code` says what a person can do about it
(`FAILURES`: the disk is full, the file is read-only or damaged, another program holds it) in
stable words a page translates; `failure` is the one place that reads SQLite's error codes.

Each run has an `owner` (who saved it: "teacher" until the routes pass someone else), the
`address` it was saved from, whether it is `published` (seen by everyone, not only its owner)
and its `size_bytes`, so the routes can show each person their runs and count what each
person or address keeps. A run also has `tags` (`run_tags`), a `note`, and searchable fields
(`run_fields`, `backprop_lab.server.saved.run_fields`) that `list` filters by (`RunFilter`).
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
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

from backprop_lab.server.classroom.identity import TEACHER_ID
from backprop_lab.server.saved.run_fields import searchable
from backprop_lab.server.saved.run_models import MAX_NAME, MAX_TAG
from backprop_lab.server.wire.problems import Unavailable

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
MEMORY = "sqlite://"
POSTGRESQL_SCHEMES = ("postgresql", "postgres")  # how people write a PostgreSQL URL
POSTGRESQL_DRIVER = "postgresql+psycopg"  # psycopg 3, in the `cluster` extra
# A PostgreSQL store's connection pool, per server process: each store call in flight holds one
# connection (the routes call the store from worker threads), so a process opens at most
# POOL_SIZE + POOL_OVERFLOW; a database serving N workers needs N × that (docs/deploy.md).
# Past them a call waits POOL_TIMEOUT_SECONDS for one, then answers `busy`.
POOL_SIZE = 5
POOL_OVERFLOW = 5
POOL_TIMEOUT_SECONDS = 10
# PostgreSQL's advisory lock that lets one server at a time migrate a shared database: the others
# wait, then find it at the head (any 64-bit number the lab alone uses)
MIGRATION_LOCK = 0x6C61625F72756E73  # b"lab_runs"
BUSY_RETRY_SECONDS = 5  # a busy database's Retry-After: SQLite has already waited 30 s for its lock

metadata = sa.MetaData()
runs = sa.Table(  # the columns in the database's order: the small ones before the long texts (revision 0003)
    "runs", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(MAX_NAME), nullable=False),
    sa.Column("created", sa.String(32), nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),  # revision 0006: 64 bits on every database
    sa.Column("epoch", sa.BigInteger, nullable=False),
    sa.Column("parameters", sa.Integer, nullable=False),
    sa.Column("snapshot_count", sa.Integer, nullable=False),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("published", sa.Boolean, nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("note", sa.Text, nullable=False),  # revision 0004
    sa.Column("imported", sa.String(32), nullable=True),  # revision 0005: when it was imported, or null
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("history", sa.Text, nullable=False),
    sa.Column("resume", sa.Text, nullable=False),
    sa.Column("data", sa.Text, nullable=True),  # revision 0002: an uploaded table, or null
)
run_snapshots = sa.Table(
    "run_snapshots", metadata,
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("parameters", sa.LargeBinary, nullable=False),
)
run_tags = sa.Table(  # revision 0004
    "run_tags", metadata,
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag", sa.String(MAX_TAG), primary_key=True),
)
run_fields = sa.Table(  # revision 0004: a text or a number per searchable field
    "run_fields", metadata,
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("field", sa.String(40), primary_key=True),
    sa.Column("text", sa.String(200), nullable=True),
    sa.Column("number", sa.Float, nullable=True),
)
SUMMARY_COLUMNS = (runs.c.id, runs.c.name, runs.c.created, runs.c.step, runs.c.epoch, runs.c.parameters,
                   runs.c.config, runs.c.owner, runs.c.published, runs.c.size_bytes, runs.c.note, runs.c.imported)

# What each failure's `code` means, as the English `detail` (docs/api.md, "Errors"); the page
# says the same from the code and `params` (static/i18n, `refusal.<code>`).
FAILURES = {
    "newer_database": "the database {path} has schema revision {revision!r}, written by a newer Backprop Lab than "
                      "this one (which knows up to {head!r}); upgrade Backprop Lab, or start it with another --db",
    "damaged": "the database file is damaged: {path}; with Backprop Lab stopped, move the file aside (keep it: "
               "its runs may be recoverable) and start Backprop Lab again, which starts a new database",
    "read_only": "the database is read-only: {path} cannot be written; make the file and its folder writable, or "
                 "start Backprop Lab with another --db",
    "disk_full": "the disk is full: the database {path} cannot grow; free some space on its disk",
    "busy": "the database is busy, try again: another program or server holds {path}",
    "unavailable": "the runs database cannot be used right now: {path}; the server's log says why",
}
# SQLite's primary result codes (the low byte of an extended one, e.g. SQLITE_READONLY_DIRECTORY)
SQLITE_FAILURES = {
    5: "busy",  # SQLITE_BUSY: another connection holds the lock past the busy timeout
    6: "busy",  # SQLITE_LOCKED
    8: "read_only",  # SQLITE_READONLY: a read-only file, folder or connection
    11: "damaged",  # SQLITE_CORRUPT
    13: "disk_full",  # SQLITE_FULL
    26: "damaged",  # SQLITE_NOTADB: the file is not (or no longer) a database
}
# PostgreSQL's SQLSTATEs (its manual, appendix A) for the same failures
POSTGRESQL_FAILURES = {
    "53100": "disk_full",  # disk_full
    "25006": "read_only",  # read_only_sql_transaction: a read-only role, a standby, default_transaction_read_only
    "55P03": "busy",  # lock_not_available: another program holds a lock past lock_timeout
    "40001": "busy",  # serialization_failure
    "40P01": "busy",  # deadlock_detected
    "53300": "busy",  # too_many_connections
    "57P03": "busy",  # cannot_connect_now: the database is starting or stopping
}


class StoreError(Unavailable):
    """The database cannot be used. The message says why in English; `code` (a key of
    `FAILURES`) and `params` (always the database's `path`) say it in stable words a client
    translates; only a busy database, a failure that passes, says when to try again."""

    logged = True

    def __init__(self, code: str, **params: Any) -> None:
        retry_after = BUSY_RETRY_SECONDS if code == "busy" else None
        super().__init__(FAILURES[code].format(**params), code, params, retry_after)


def failure(error: Exception, path: str) -> StoreError:
    """A database failure as what it means to the person using the lab: SQLite says it with an
    error code (on `error.orig` when SQLAlchemy wrapped it); anything else is `unavailable`, and
    the log keeps the original."""
    if isinstance(error, sa.exc.TimeoutError):  # every pooled connection stayed in use
        return StoreError("busy", path=path)
    cause = error.orig if isinstance(error, sa.exc.DBAPIError) else error
    code = getattr(cause, "sqlite_errorcode", None)
    if isinstance(code, int):
        return StoreError(SQLITE_FAILURES.get(code & 0xFF, "unavailable"), path=path)
    state = getattr(cause, "sqlstate", None)  # psycopg's: PostgreSQL's SQLSTATE
    return StoreError(POSTGRESQL_FAILURES.get(state, "unavailable") if isinstance(state, str) else "unavailable",
                      path=path)


@dataclass(frozen=True)
class RunSummary:
    id: str
    name: str
    created: str  # ISO 8601, UTC
    step: int
    epoch: int
    parameters: int
    config: dict[str, Any]
    owner: str = TEACHER_ID  # who saved it (server.classroom.identity); runs saved before owners were the teacher's
    published: bool = False  # listed for everyone, not only its owner
    size_bytes: int = 0  # what the run keeps in the database (`stored_bytes`), counted by `RunStore.save`
    tags: tuple[str, ...] = ()  # alphabetical
    note: str = ""
    imported: str | None = None  # ISO 8601, UTC: when an import made it (None: saved from a session)


@dataclass(frozen=True)
class StoredRun:
    summary: RunSummary
    history: list[dict[str, Any]]  # [{"step", "train_loss", …}], oldest first
    resume: dict[str, Any]  # the trainer's state as JSON values (backprop_lab.server.saved.capture writes and reads it)
    snapshot_steps: list[int]
    snapshots: np.ndarray  # (S, P) θ at those steps
    data: dict[str, str] | None = None  # an uploaded table: {"name", "csv"}; None for a built-in set
    address: str = ""  # where the save came from (the client's address), for counting what an address keeps


@dataclass(frozen=True)
class RunFilter:
    """What `RunStore.list` keeps: runs with every one of `tags`, each text field equal to one of
    its values, each number field inside its range (either end None: open)."""

    tags: tuple[str, ...] = ()
    texts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        out: list[sa.ColumnElement[bool]] = []
        for tag in self.tags:
            out.append(sa.exists().where(run_tags.c.run_id == runs.c.id, run_tags.c.tag == tag))
        for name, values in self.texts.items():
            out.append(sa.exists().where(run_fields.c.run_id == runs.c.id, run_fields.c.field == name,
                                         run_fields.c.text.in_(values)))
        for name, (low, high) in self.ranges.items():
            bounds = [run_fields.c.number >= low] if low is not None else []
            bounds += [run_fields.c.number <= high] if high is not None else []
            out.append(sa.exists().where(run_fields.c.run_id == runs.c.id, run_fields.c.field == name,
                                         run_fields.c.number.is_not(None), *bounds))
        return out


def stored_bytes(texts: Iterable[str | None], snapshot_bytes: int) -> int:
    """A run's `size_bytes`: its texts as stored (config, history, trainer state, data: UTF-8
    bytes) and its snapshots. The name is left out (at most 200 characters), so a rename does
    not change a run's size. Migration 0003 counts runs saved before it the same way."""
    return sum(len(text.encode("utf-8")) for text in texts if text is not None) + snapshot_bytes


def default_path() -> Path:
    """Where the CLI keeps runs when `--db` is not given: the user's data folder."""
    return Path(platformdirs.user_data_dir("backprop-lab", appauthor=False)) / "runs.sqlite3"


def database_url(database: str | Path | None) -> str:
    """A URL (it has `://`), else an SQLite file at that path; None or `:memory:` (SQLite's own
    name for it): in memory, not a file of that name in the working folder. A PostgreSQL URL
    as people write it (`postgresql://` or `postgres://`) gets the driver the lab ships with,
    psycopg 3 (SQLAlchemy's own default for it is psycopg2)."""
    if database is None or str(database) == ":memory:":
        return MEMORY
    text = str(database)
    if "://" in text:
        scheme, rest = text.split("://", 1)
        return f"{POSTGRESQL_DRIVER}://{rest}" if scheme in POSTGRESQL_SCHEMES else text
    path = Path(text).expanduser().resolve()
    return f"sqlite:///{path}"


def create_engine(url: sa.URL, **options: Any) -> sa.Engine:
    """SQLAlchemy's engine for `url`, or ValueError saying in one line what is wrong with it
    (a database the lab does not know, a malformed URL, PostgreSQL without its driver)."""
    try:
        return sa.create_engine(url, **options)
    except ImportError:  # a database SQLAlchemy knows, whose driver is not installed
        if url.get_backend_name() == "postgresql":
            raise ValueError("--db: PostgreSQL needs its driver: pip install 'backprop-lab[cluster]'") from None
    except sa.exc.NoSuchModuleError:  # a database SQLAlchemy does not know
        pass
    raise ValueError(f"--db {url.render_as_string(hide_password=True)}: not a database Backprop Lab can use; "
                     "give an SQLite file's path or a postgresql:// URL")


def sqlite_file(url: sa.URL) -> Path | None:
    """The file an SQLite URL names, or None for a database in memory. A URI filename
    (`sqlite:///file:PATH?mode=ro&uri=true`, SQLite's way to open a file read-only) names it
    after `file:`."""
    name = url.database or ""
    if url.query.get("uri") == "true" and name.startswith("file:"):
        name = name.removeprefix("file:")
    return None if name in ("", ":memory:") else Path(name)


def _dump(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


class RunStore:
    def __init__(self, database: str | Path | None) -> None:
        self.url = database_url(database)
        try:
            url = sa.make_url(self.url)
            url.port  # noqa: B018 (a port that is not a number is found when it is read)
        except (sa.exc.ArgumentError, ValueError):
            raise ValueError(f"--db {database}: not a database URL (e.g. postgresql://user@host/lab)") from None
        self._one_at_a_time: AbstractContextManager[Any] = contextlib.nullcontext()
        self.is_sqlite = url.get_backend_name() == "sqlite"
        self.file = sqlite_file(url) if self.is_sqlite else None
        options: dict[str, Any] = {}
        if self.is_sqlite:
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if self.file is None:
                options["poolclass"] = StaticPool  # one connection, so the memory database is shared
                self._one_at_a_time = threading.Lock()  # ... and one thread at a time uses it
            else:
                self.file.parent.mkdir(parents=True, exist_ok=True)
        elif url.get_backend_name() == "postgresql":
            options.update(pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_timeout=POOL_TIMEOUT_SECONDS,
                           pool_pre_ping=True)  # a connection the database dropped (a restart) is replaced, not failed
        self.engine = create_engine(url, **options)
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_foreign_keys)

    @property
    def where(self) -> str:
        """The database as a user would name it: an SQLite file's path, else its URL (no password)."""
        if self.file is not None:
            return str(self.file)
        return sa.make_url(self.url).render_as_string(hide_password=True)

    @contextlib.contextmanager
    def _connected(self, write: bool = False) -> Iterator[sa.Connection]:
        """A connection (in a transaction that commits at the end when `write`); a database
        failure inside comes out as `StoreError`."""
        try:
            with self._one_at_a_time, (self.engine.begin() if write else self.engine.connect()) as connection:
                yield connection
        except (sa.exc.SQLAlchemyError, sqlite3.Error) as error:
            raise failure(error, self.where) from error

    # --- schema ---------------------------------------------------------------------------
    def open(self) -> str:
        """Check the database, migrate its schema to this code's head and return the revision.
        Raises `StoreError`: `damaged` or `read_only` (an SQLite file, found before anything is
        written to it), `newer_database`, or what reaching the database failed with."""
        with self._connected() as connection:
            if self.is_sqlite:
                driver = connection.connection.driver_connection
                assert isinstance(driver, sqlite3.Connection)
                self._check(driver)
                with _migration_transaction(driver):
                    current, head = self._migrate(connection)
                    if driver.execute("PRAGMA foreign_key_check").fetchone() is not None:
                        raise StoreError("damaged", path=self.where)
                    connection.commit()
            else:
                if connection.dialect.name == "postgresql":  # servers sharing a database migrate it one at a time
                    connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK)))
                current, head = self._migrate(connection)
                connection.commit()
        if current != head:
            logger.info("runs database %s migrated from %s to %s", self.where, current, head)
        return head

    def _migrate(self, connection: sa.Connection) -> tuple[str | None, str]:
        """Upgrade the schema to this code's head; the revisions before and after. A revision
        this code does not know was written by a newer version: refused, not guessed at."""
        alembic = AlembicConfig()
        alembic.set_main_option("script_location", str(MIGRATIONS))
        scripts = ScriptDirectory.from_config(alembic)
        head = scripts.get_current_head()
        assert head is not None
        current = MigrationContext.configure(connection).get_current_revision()
        if current is not None and current not in {script.revision for script in scripts.walk_revisions()}:
            raise StoreError("newer_database", path=self.where, revision=current, head=head)
        alembic.attributes["connection"] = connection
        command.upgrade(alembic, "head")
        return current, head

    def _check(self, driver: sqlite3.Connection) -> None:
        """Refuse a damaged or read-only SQLite database before anything writes to it: `PRAGMA
        quick_check` reads every page, and a write inside a transaction that is rolled back finds
        what SQLite would refuse to write (a read-only file, folder or connection) without
        changing a byte. Then a file goes to WAL mode (that writes its header)."""
        problems = [row[0] for row in driver.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            logger.error("PRAGMA quick_check of %s: %s", self.where, "; ".join(problems[:5]))
            raise StoreError("damaged", path=self.where)
        (version,) = driver.execute("PRAGMA user_version").fetchone()
        driver.execute("BEGIN IMMEDIATE")
        try:
            driver.execute(f"PRAGMA user_version = {int(version)}")
        finally:
            driver.execute("ROLLBACK")
        if self.file is not None:  # WAL: readers and one writer at once, and a killed writer leaves no torn page
            driver.execute("PRAGMA journal_mode=WAL")

    def revision(self) -> str | None:
        with self._connected() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def close(self) -> None:
        self.engine.dispose()

    # --- runs -----------------------------------------------------------------------------
    def save(self, run: StoredRun, admit: Callable[[int], None] | None = None) -> None:
        """The run and every snapshot in one transaction; its `size_bytes` is counted here (the
        summary's is not read), and `admit(size_bytes)`, when given, may refuse it first (a
        student's share of the store, `backprop_lab.server.classroom.quotas.check_storage`)."""
        summary = run.summary
        snapshots = np.ascontiguousarray(run.snapshots, dtype="<f8")  # (S, P)
        texts = {"config": _dump(summary.config), "history": _dump(run.history), "resume": _dump(run.resume),
                 "data": None if run.data is None else _dump(run.data)}
        size = stored_bytes(texts.values(), len(run.snapshot_steps) * snapshots.shape[-1] * snapshots.itemsize)
        if admit is not None:
            admit(size)
        with self._connected(write=True) as connection:
            connection.execute(runs.insert().values(
                id=summary.id, name=summary.name, created=summary.created, step=summary.step,
                epoch=summary.epoch, parameters=summary.parameters, snapshot_count=len(run.snapshot_steps),
                owner=summary.owner, address=run.address, published=summary.published, size_bytes=size,
                note=summary.note, imported=summary.imported, **texts,
            ))
            self._write_tags(connection, summary.id, summary.tags)
            found_texts, numbers = searchable(summary.config, run.history, summary.step, summary.epoch,
                                              summary.parameters)
            connection.execute(run_fields.insert(), [
                *({"run_id": summary.id, "field": name, "text": text, "number": None}
                  for name, text in found_texts.items()),
                *({"run_id": summary.id, "field": name, "text": None, "number": number}
                  for name, number in numbers.items()),
            ])
            if run.snapshot_steps:
                connection.execute(run_snapshots.insert(), [
                    {"run_id": summary.id, "position": position, "step": step,
                     "parameters": snapshots[position].tobytes()}
                    for position, step in enumerate(run.snapshot_steps)
                ])

    def list(self, offset: int, limit: int, visible_to: str | None = None,
             matching: RunFilter | None = None) -> tuple[list[RunSummary], int]:
        """Newest first: `limit` summaries from `offset`, and how many there are. `visible_to`
        None lists every run; an owner, that owner's runs and the published ones; `matching`
        keeps the runs it matches (and `total` counts the same runs)."""
        where = [] if visible_to is None else [sa.or_(runs.c.owner == visible_to, runs.c.published.is_(True))]
        where += [] if matching is None else matching.conditions()
        query = (sa.select(*SUMMARY_COLUMNS).where(*where).order_by(runs.c.created.desc(), runs.c.id.desc())
                 .offset(offset).limit(limit))
        with self._connected() as connection:
            rows = connection.execute(query).all()
            total = connection.execute(sa.select(sa.func.count()).select_from(runs).where(*where)).scalar_one()
            tags = self._tags(connection, [row.id for row in rows])
        return [_summary(row, tags.get(row.id, ())) for row in rows], int(total)

    def summary(self, run_id: str) -> RunSummary | None:
        """A run's summary alone (whose it is, its name, tags and note): no history, no snapshots."""
        with self._connected() as connection:
            row = connection.execute(sa.select(*SUMMARY_COLUMNS).where(runs.c.id == run_id)).first()
            tags = self._tags(connection, [run_id])
        return None if row is None else _summary(row, tags.get(run_id, ()))

    @staticmethod
    def _tags(connection: sa.Connection, run_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Each run's tags, in alphabetical order."""
        if not run_ids:
            return {}
        found: dict[str, builtins.list[str]] = {}
        query = (sa.select(run_tags.c.run_id, run_tags.c.tag).where(run_tags.c.run_id.in_(run_ids))
                 .order_by(run_tags.c.run_id, run_tags.c.tag))
        for row in connection.execute(query):
            found.setdefault(row.run_id, []).append(row.tag)
        return {run_id: tuple(tags) for run_id, tags in found.items()}

    @staticmethod
    def _write_tags(connection: sa.Connection, run_id: str, tags: Iterable[str]) -> None:
        connection.execute(run_tags.delete().where(run_tags.c.run_id == run_id))
        rows = [{"run_id": run_id, "tag": tag} for tag in dict.fromkeys(tags)]
        if rows:
            connection.execute(run_tags.insert(), rows)

    def organise(self, run_id: str, tags: Sequence[str] | None = None, note: str | None = None) -> bool:
        """Replace the run's tags and/or note (None: leave as it is); False when there is no such run."""
        with self._connected(write=True) as connection:
            # the run's row locked to the end of the transaction (PostgreSQL: SQLite locks the whole
            # file at the first write), so two servers replacing its tags at once never merge them
            locked = sa.select(runs.c.id).where(runs.c.id == run_id).with_for_update()
            exists = connection.execute(locked).first() is not None
            if exists and note is not None:
                connection.execute(runs.update().where(runs.c.id == run_id).values(note=note))
            if exists and tags is not None:
                self._write_tags(connection, run_id, tags)
        return exists

    def get(self, run_id: str) -> StoredRun | None:
        with self._connected() as connection:
            row = connection.execute(sa.select(runs).where(runs.c.id == run_id)).first()
            if row is None:
                return None
            shots = connection.execute(
                sa.select(run_snapshots.c.step, run_snapshots.c.parameters)
                .where(run_snapshots.c.run_id == run_id).order_by(run_snapshots.c.position)
            ).all()
            tags = self._tags(connection, [run_id]).get(run_id, ())
        size = int(row.parameters)
        snapshots = np.zeros((len(shots), size))  # (S, P)
        for position, shot in enumerate(shots):
            snapshots[position] = np.frombuffer(shot.parameters, dtype="<f8", count=size)
        data = None if row.data is None else orjson.loads(row.data)
        return StoredRun(_summary(row, tags), orjson.loads(row.history), orjson.loads(row.resume),
                         [int(shot.step) for shot in shots], snapshots, data, row.address)

    def rename(self, run_id: str, name: str) -> bool:
        with self._connected(write=True) as connection:
            done = connection.execute(runs.update().where(runs.c.id == run_id).values(name=name))
        return done.rowcount == 1

    def set_published(self, run_id: str, published: bool) -> bool:
        """Show the run to everyone (True) or to its owner only; False when there is no such run."""
        with self._connected(write=True) as connection:
            done = connection.execute(runs.update().where(runs.c.id == run_id).values(published=published))
        return done.rowcount == 1

    def usage(self, owner: str | None = None, address: str | None = None) -> tuple[int, int]:
        """How many runs, and how many bytes (`size_bytes`), that owner keeps, or were saved from
        that address (given both: runs of that owner from that address; neither: every run)."""
        query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(runs.c.size_bytes), 0))
        if owner is not None:
            query = query.where(runs.c.owner == owner)
        if address is not None:
            query = query.where(runs.c.address == address)
        with self._connected() as connection:
            count, size = connection.execute(query).one()
        return int(count), int(size)

    def delete(self, run_id: str) -> bool:
        with self._connected(write=True) as connection:
            for table in (run_snapshots, run_tags, run_fields):
                connection.execute(table.delete().where(table.c.run_id == run_id))
            done = connection.execute(runs.delete().where(runs.c.id == run_id))
        return done.rowcount == 1


def _summary(row: Any, tags: tuple[str, ...] = ()) -> RunSummary:
    return RunSummary(row.id, row.name, row.created, int(row.step), int(row.epoch), int(row.parameters),
                      orjson.loads(row.config), row.owner, bool(row.published), int(row.size_bytes), tags, row.note,
                      row.imported)


@contextlib.contextmanager
def _migration_transaction(driver: sqlite3.Connection) -> Iterator[None]:
    """SQLite around a migration: foreign keys off, because a migration may copy `runs` (SQLite
    cannot reorder a table's columns) and drop the old copy, which with them on would delete every
    snapshot; and one explicit transaction, because the driver would commit each CREATE on its own."""
    driver.execute("PRAGMA foreign_keys=OFF")  # (a no-op inside a transaction: so first)
    driver.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        driver.rollback()  # what a failed migration left (after its commit, nothing)
        driver.execute("PRAGMA foreign_keys=ON")


def _sqlite_foreign_keys(connection: sqlite3.Connection, _record: object) -> None:
    """Foreign keys on, for each connection (SQLite's default is off): deleting a run deletes
    its snapshots. (WAL mode is the file's own, set once by `RunStore.open`.)"""
    connection.execute("PRAGMA foreign_keys=ON")
