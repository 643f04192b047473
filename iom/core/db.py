"""The console's own tables (prefix ``console_``) beside Rasa's ``events`` table.

SQLAlchemy Core, so the same code runs on SQLite (default) and PostgreSQL. The schema
is created and upgraded by Alembic (``iom/core/migrations``), never by ``create_all``.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "console_alembic_version"

metadata = sa.MetaData()

users = sa.Table(
    "console_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.Float, nullable=False, default=0),
)

sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

audit = sa.Table(
    "console_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(255)),
    sa.Column("detail", sa.Text),
)

conversations = sa.Table(
    "console_conversations",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("last_at", sa.Float, nullable=False, index=True),
    sa.Column("language", sa.String(8), index=True),
    sa.Column("user_turns", sa.Integer, nullable=False, default=0),
    sa.Column("min_confidence", sa.Float, index=True),
    sa.Column("fallback", sa.Boolean, nullable=False, default=False, index=True),
    sa.Column("handoff", sa.Boolean, nullable=False, default=False, index=True),
    sa.Column("safety", sa.Boolean, nullable=False, default=False, index=True),
    sa.Column("first_message", sa.Text),
    sa.Column("search_text", sa.Text),
)

conversation_intents = sa.Table(
    "console_conversation_intents",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("intent", sa.String(64), primary_key=True, index=True),
)

reviews = sa.Table(
    "console_reviews",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("reviewed", sa.Boolean, nullable=False, default=False, index=True),
    sa.Column("reviewed_by", sa.String(64)),
    sa.Column("reviewed_at", sa.Float),
    sa.Column("note", sa.Text),
)

tags = sa.Table(
    "console_tags",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("tag", sa.String(64), primary_key=True, index=True),
)

corrections = sa.Table(
    "console_corrections",
    metadata,
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

state = sa.Table(
    "console_state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)

# Written by the action server (iom/core/handoff.py); the console updates the status.
handoff_requests = sa.Table(
    "handoff_requests",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("language", sa.String(8)),
    sa.Column("topic", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("taken_by", sa.String(255)),
)

# Rasa's SQLTrackerStore table (read only, except erasure).
events = sa.Table(
    "events",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

PER_CONVERSATION = (conversations, conversation_intents, reviews, tags, corrections)


def engine_for(url: str) -> sa.engine.Engine:
    """An engine; SQLite gets a busy timeout (Rasa writes to the same file)."""
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args={"timeout": 30})
    return sa.create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    """Alembic configuration for the console's migrations on `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Create or upgrade the console's tables to the newest migration."""
    command.upgrade(alembic_config(url), "head")
