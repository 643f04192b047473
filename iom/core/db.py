"""The tables that are not Rasa's, in the tracker store's database, and their owner.

The console's tables (prefix ``console_``) and ``handoff_requests`` (written by the
action server, updated by the console) live beside Rasa's ``events`` table, which is
described here read-only. SQLAlchemy Core, so the same code runs on SQLite (default)
and PostgreSQL. Alembic (``iom/core/migrations``) is the schema's only owner: both the
console and the action server call :func:`migrate` at start, nothing calls
``create_all``.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.util import CommandError

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
    # Added by 0003: an admin's review (pending / accepted / rejected) decides whether
    # the correction becomes a training example (iom/core/learning); entities as
    # JSON [{"start", "end", "entity", "value"?}] over `text`, or NULL.
    sa.Column("status", sa.String(16), nullable=False, default="pending", index=True),
    sa.Column("reviewed_by", sa.String(64)),
    sa.Column("reviewed_at", sa.Float),
    sa.Column("entities", sa.Text),
)

# The model registry (0003): every model the learning loop trained, its gate report
# and whether it is live (iom/core/learning/registry.py, iom/tools/retrain.py).
models = sa.Table(
    "console_models",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False, index=True),
    sa.Column("created_by", sa.String(64), nullable=False),
    # training, evaluating, live, retired, refused, failed, deleted
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("stage", sa.String(255)),
    sa.Column("path", sa.String(1024)),
    sa.Column("parent_id", sa.String(32)),
    sa.Column("data_diff", sa.Text),
    sa.Column("gate", sa.Text),
    sa.Column("report_dir", sa.String(1024)),
    sa.Column("promoted_at", sa.Float),
    sa.Column("promoted_by", sa.String(64)),
    # Added by 0005: examples of conversations erased after this model was trained
    # (its weights still hold them; the next retrain leaves them out).
    sa.Column("erased_examples", sa.Integer, nullable=False, default=0),
)

state = sa.Table(
    "console_state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)

# Written by the action server (iom/core/handoff.py); the console updates the status.
# Created by migration 0002 (before it, the action server created it with create_all).
handoff_requests = sa.Table(
    "handoff_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("language", sa.String(8)),
    sa.Column("topic", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, default="open", index=True),
    sa.Column("taken_by", sa.String(255)),
)

# Live operator conversations (iom/core/takeover.py, migration 0004). One row per
# conversation an operator holds now (the primary key allows one holder); the audit log
# keeps the history. Times are Unix seconds.
takeovers = sa.Table(
    "live_takeovers",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("display_name", sa.String(64), nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("seen_at", sa.Float, nullable=False),
    sa.Column("active_at", sa.Float, nullable=False),
)

# Operators with the console open (its live stream touches the row).
operator_presence = sa.Table(
    "live_operator_presence",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("seen_at", sa.Float, nullable=False, index=True),
)

# Open widget sockets, written by the socket.io channel of every Rasa instance.
widget_sockets = sa.Table(
    "live_widget_sockets",
    metadata,
    sa.Column("sid", sa.String(64), primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("connected_at", sa.Float, nullable=False),
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
    """Create or upgrade the tables to the newest migration.

    The console and the action server may start together on one new database: if
    the other process is upgrading at the same moment, this one fails on a table
    that now exists or a locked file, waits and runs again (by then a no-op).
    """
    for attempt in range(5):
        try:
            command.upgrade(alembic_config(url), "head")
            return
        except (
            sa.exc.OperationalError,
            sa.exc.IntegrityError,
            sa.exc.ProgrammingError,
            # the other process moved the version row on between our read and write
            CommandError,
        ):
            if attempt == 4:
                raise
            time.sleep(0.5 * (attempt + 1))


def append_audit(
    engine: sa.engine.Engine,
    username: str,
    action: str,
    target: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one line to the audit log (the console and the retrain tool write it)."""
    with engine.begin() as connection:
        connection.execute(
            audit.insert().values(
                at=time.time(),
                username=username,
                action=action,
                target=target,
                detail=detail,
            )
        )


@lru_cache(maxsize=8)
def migrated_engine(url: str) -> sa.engine.Engine:
    """An engine on `url` whose tables are at the newest migration (once a process)."""
    migrate(url)
    return engine_for(url)
