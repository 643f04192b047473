"""Live operator conversations: takeovers, operator presence, open widget sockets.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three tables of iom/core/takeover.py."""
    op.create_table(
        "live_takeovers",
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
        sa.Column("active_at", sa.Float, nullable=False),
    )
    op.create_table(
        "live_operator_presence",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_live_operator_presence_seen_at", "live_operator_presence", ["seen_at"]
    )
    op.create_table(
        "live_widget_sockets",
        sa.Column("sid", sa.String(64), primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("connected_at", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_live_widget_sockets_conversation_id",
        "live_widget_sockets",
        ["conversation_id"],
    )


def downgrade() -> None:
    """Drop them (live state only; the audit log keeps the history)."""
    for table in ("live_widget_sockets", "live_operator_presence", "live_takeovers"):
        op.drop_table(table)
