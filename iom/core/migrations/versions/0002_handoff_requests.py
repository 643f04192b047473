"""handoff_requests: owned by Alembic (the action server used to create_all it).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEXED = ("conversation_id", "created_at", "status")


def upgrade() -> None:
    """Create the table, or adopt the one an older action server created."""
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("handoff_requests"):
        op.create_table(
            "handoff_requests",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("conversation_id", sa.String(255), nullable=False),
            sa.Column("language", sa.String(8)),
            sa.Column("topic", sa.String(64)),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("taken_by", sa.String(255)),
        )
        existing: set[str] = set()
    else:
        existing = {str(i["name"]) for i in inspector.get_indexes("handoff_requests")}
    for column in INDEXED:
        name = f"ix_handoff_requests_{column}"
        if name not in existing:
            op.create_index(name, "handoff_requests", [column])


def downgrade() -> None:
    """Drop the table (its rows are handoff requests, deleted with it)."""
    op.drop_table("handoff_requests")
