"""Runs remember whether they were imported: `imported`, the time of the import (ISO 8601, UTC),
null for a run saved from a session. An export → import on the same server gives a second run of
the same name (the document round-trips exactly, name included); the list marks the copy so the
two are told apart.

On SQLite `runs` is copied with `imported` before the long texts, as revisions 0003 and 0004 do.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ORDER = ("id", "name", "created", "step", "epoch", "parameters", "snapshot_count", "owner", "address", "published",
         "size_bytes", "note", "imported", "config", "history", "resume", "data")


def upgrade() -> None:
    copied = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("runs", recreate="always" if copied else "auto",
                              partial_reordering=[ORDER] if copied else None) as batch:
        batch.add_column(sa.Column("imported", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("imported")
