"""The first schema: saved runs and their weight snapshots.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created", sa.String(32), nullable=False),  # ISO 8601, UTC: sorts as it reads
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("parameters", sa.Integer, nullable=False),  # weights and biases of the network
        sa.Column("snapshot_count", sa.Integer, nullable=False),  # rows in run_snapshots: a whole run has them all
        sa.Column("config", sa.Text, nullable=False),  # JSON
        sa.Column("history", sa.Text, nullable=False),  # JSON: [{"step", "train_loss", …}]
        sa.Column("resume", sa.Text, nullable=False),  # JSON: the trainer's state (backprop_lab.engine.trainer_state)
    )
    op.create_index("runs_by_created", "runs", ["created", "id"])
    op.create_table(
        "run_snapshots",
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("parameters", sa.LargeBinary, nullable=False),  # θ (P,) float64, little-endian
    )


def downgrade() -> None:
    op.drop_table("run_snapshots")
    op.drop_index("runs_by_created", "runs")
    op.drop_table("runs")
