"""Runs you can organise: a `note` on each run, its `tags` (table `run_tags`) and its config,
size and metrics as searchable fields (table `run_fields`: a text or a number per field, indexed
by field and value), filled here for the runs already saved
(`backprop_lab.server.saved.run_fields.searchable`).

On SQLite `runs` is copied with `note` before the long texts, as revision 0003 does, so a listing
does not walk every run's history to reach it.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from backprop_lab.server.saved.run_fields import searchable

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ORDER = ("id", "name", "created", "step", "epoch", "parameters", "snapshot_count", "owner", "address", "published",
         "size_bytes", "note", "config", "history", "resume", "data")


def upgrade() -> None:
    copied = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("runs", recreate="always" if copied else "auto",
                              partial_reordering=[ORDER] if copied else None) as batch:
        batch.add_column(sa.Column("note", sa.Text, nullable=False, server_default=""))
    op.create_table(
        "run_tags",
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tag", sa.String(40), primary_key=True),
    )
    op.create_index("run_tags_by_tag", "run_tags", ["tag"])
    op.create_table(
        "run_fields",
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("field", sa.String(40), primary_key=True),
        sa.Column("text", sa.String(200), nullable=True),
        sa.Column("number", sa.Float, nullable=True),
    )
    op.create_index("run_fields_by_number", "run_fields", ["field", "number"])
    op.create_index("run_fields_by_text", "run_fields", ["field", "text"])
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, step, epoch, parameters, config, history FROM runs")).all()
    fields = sa.table("run_fields", sa.column("run_id"), sa.column("field"), sa.column("text"), sa.column("number"))
    for row in rows:
        texts, numbers = searchable(json.loads(row.config), json.loads(row.history), int(row.step), int(row.epoch),
                                    int(row.parameters))
        values = [{"run_id": row.id, "field": name, "text": text, "number": None} for name, text in texts.items()]
        values += [{"run_id": row.id, "field": name, "text": None, "number": value} for name, value in numbers.items()]
        if values:
            bind.execute(fields.insert(), values)


def downgrade() -> None:
    op.drop_table("run_fields")
    op.drop_table("run_tags")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("note")
