"""Erasure reaches the learning loop: models count the erased examples they hold.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """console_models.erased_examples: examples of erased conversations trained in."""
    with op.batch_alter_table("console_models") as batch:
        batch.add_column(
            sa.Column("erased_examples", sa.Integer, nullable=False, server_default="0")
        )


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("console_models") as batch:
        batch.drop_column("erased_examples")
