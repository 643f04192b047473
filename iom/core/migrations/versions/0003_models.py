"""The learning loop: corrections get a review status and entities; model registry.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Review columns on console_corrections; the console_models table."""
    with op.batch_alter_table("console_corrections") as batch:
        batch.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="pending")
        )
        batch.add_column(sa.Column("reviewed_by", sa.String(64)))
        batch.add_column(sa.Column("reviewed_at", sa.Float))
        batch.add_column(sa.Column("entities", sa.Text))
    op.create_index("ix_console_corrections_status", "console_corrections", ["status"])
    op.create_table(
        "console_models",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False, index=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("stage", sa.String(255)),
        sa.Column("path", sa.String(1024)),
        sa.Column("parent_id", sa.String(32)),
        sa.Column("data_diff", sa.Text),
        sa.Column("gate", sa.Text),
        sa.Column("report_dir", sa.String(1024)),
        sa.Column("promoted_at", sa.Float),
        sa.Column("promoted_by", sa.String(64)),
    )


def downgrade() -> None:
    """Drop the registry and the review columns."""
    op.drop_table("console_models")
    op.drop_index("ix_console_corrections_status", "console_corrections")
    with op.batch_alter_table("console_corrections") as batch:
        for column in ("entities", "reviewed_at", "reviewed_by", "status"):
            batch.drop_column(column)
