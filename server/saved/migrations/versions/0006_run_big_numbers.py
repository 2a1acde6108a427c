"""A run's step and epoch, and each snapshot's step, hold any count a run document may carry (up
to 2^62, `backprop_lab.server.saved.run_models.Count`) on every database: SQLite's INTEGER is 64
bits already, so it is left as it is; PostgreSQL's is 32 bits and becomes BIGINT.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = (("runs", "step"), ("runs", "epoch"), ("run_snapshots", "step"))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.BigInteger, existing_type=sa.Integer, existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.Integer, existing_type=sa.BigInteger, existing_nullable=False)
