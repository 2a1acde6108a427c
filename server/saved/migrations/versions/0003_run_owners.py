"""Runs have owners: `owner` (who saved the run; runs saved before are the teacher's),
`address` (where it was saved from), `published` (listed for everyone, not only its owner) and
`size_bytes` (what the run keeps: its texts and snapshots, `backprop_lab.server.saved.run_store.stored_bytes`,
counted here for the runs already saved), with an index on `owner`.

On SQLite the table is copied with the new columns before the long texts: SQLite reads a
column that comes after a long value by walking that value's overflow pages, so a listing of
runs would otherwise read every run's history and trainer state (a megabyte or more each). The
store runs migrations with foreign keys off (the old copy is dropped, and with them on that
would delete every snapshot). Other databases keep long values apart and just add the columns.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ORDER = ("id", "name", "created", "step", "epoch", "parameters", "snapshot_count", "owner", "address", "published",
         "size_bytes", "config", "history", "resume", "data")
TEXTS = ("config", "history", "resume", "data")  # what size_bytes counts besides the snapshots (not the name)


def _copied() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    copied = _copied()
    with op.batch_alter_table("runs", recreate="always" if copied else "auto",
                              partial_reordering=[ORDER] if copied else None) as batch:
        batch.add_column(sa.Column("owner", sa.String(128), nullable=False, server_default="teacher"))
        batch.add_column(sa.Column("address", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("published", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("size_bytes", sa.Integer, nullable=False, server_default=sa.text("0")))
        batch.create_index("runs_by_owner", ["owner"])
    runs = sa.table("runs", sa.column("id"), sa.column("size_bytes"), *(sa.column(name) for name in TEXTS))
    snapshots = sa.table("run_snapshots", sa.column("run_id"), sa.column("parameters"))
    snapshot_bytes = (sa.select(sa.func.coalesce(sa.func.sum(_bytes(snapshots.c.parameters)), 0))
                      .where(snapshots.c.run_id == runs.c.id).scalar_subquery())
    text_bytes = [sa.func.coalesce(_bytes(runs.c[name]), 0) for name in TEXTS]
    op.execute(runs.update().values(size_bytes=sum(text_bytes, snapshot_bytes)))


def _bytes(value: sa.ColumnElement) -> sa.ColumnElement:
    """A text's UTF-8 bytes (or a blob's): SQLite's length() counts a text's characters, and its
    octet_length() is newer than many SQLites, so the text is read as a blob first."""
    if _copied():
        return sa.func.length(sa.cast(value, sa.LargeBinary))
    return sa.func.octet_length(value)


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("runs_by_owner")
        for name in ("size_bytes", "published", "address", "owner"):
            batch.drop_column(name)
