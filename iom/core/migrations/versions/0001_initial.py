"""Console tables: users, sessions, audit, index, reviews, tags, corrections.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every console table with the indexes the list and filters need."""
    op.create_table(
        "console_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.Float, nullable=False, server_default="0"),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False, index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_table(
        "console_audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.Float, nullable=False, index=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255)),
        sa.Column("detail", sa.Text),
    )
    op.create_table(
        "console_conversations",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("last_at", sa.Float, nullable=False, index=True),
        sa.Column("language", sa.String(8), index=True),
        sa.Column("user_turns", sa.Integer, nullable=False, server_default="0"),
        sa.Column("min_confidence", sa.Float, index=True),
        sa.Column("fallback", sa.Boolean, nullable=False, index=True),
        sa.Column("handoff", sa.Boolean, nullable=False, index=True),
        sa.Column("safety", sa.Boolean, nullable=False, index=True),
        sa.Column("first_message", sa.Text),
        sa.Column("search_text", sa.Text),
    )
    op.create_table(
        "console_conversation_intents",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("intent", sa.String(64), primary_key=True, index=True),
    )
    op.create_table(
        "console_reviews",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("reviewed", sa.Boolean, nullable=False, index=True),
        sa.Column("reviewed_by", sa.String(64)),
        sa.Column("reviewed_at", sa.Float),
        sa.Column("note", sa.Text),
    )
    op.create_table(
        "console_tags",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("tag", sa.String(64), primary_key=True, index=True),
    )
    op.create_table(
        "console_corrections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer, nullable=False, unique=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("predicted_intent", sa.String(64)),
        sa.Column("corrected_intent", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "console_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    """Drop the console's tables (Rasa's tables are untouched)."""
    for table in (
        "console_state",
        "console_corrections",
        "console_tags",
        "console_reviews",
        "console_conversation_intents",
        "console_conversations",
        "console_audit",
        "console_sessions",
        "console_users",
    ):
        op.drop_table(table)
