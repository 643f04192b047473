"""Handoff requests: a table in the tracker store's database for the console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

import sqlalchemy as sa

from iom.core import settings
from iom.core.contacts import Hours, TimeRange

METADATA = sa.MetaData()
HANDOFF_REQUESTS = sa.Table(
    "handoff_requests",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("language", sa.String(8)),
    sa.Column("topic", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, default="open", index=True),
    sa.Column("taken_by", sa.String(255)),
)


@dataclass(frozen=True)
class HandoffRequest:
    """What the bot records when a user asks for a person."""

    conversation_id: str
    language: str | None
    topic: str | None
    created_at: datetime


def database_url() -> str:
    """The tracker store's database (TRACKER_URL), default var/rasa.db."""
    return settings.current().tracker_url


@lru_cache(maxsize=4)
def _engine(url: str) -> sa.engine.Engine:
    engine = sa.create_engine(url, future=True)
    METADATA.create_all(engine, checkfirst=True)
    return engine


def record_handoff(
    conversation_id: str,
    language: str | None,
    topic: str | None,
    now: datetime | None = None,
    url: str | None = None,
) -> HandoffRequest:
    """Insert an `open` handoff request and return it."""
    request = HandoffRequest(
        conversation_id, language, topic, now or datetime.now(timezone.utc)
    )
    with _engine(url or database_url()).begin() as connection:
        connection.execute(
            HANDOFF_REQUESTS.insert().values(
                conversation_id=request.conversation_id,
                language=request.language,
                topic=request.topic,
                created_at=request.created_at,
                status="open",
            )
        )
    return request


def _staff_hours() -> Hours:
    weekdays: list = ["mon", "tue", "wed", "thu", "fri"]
    return Hours(
        weekly=[TimeRange(days=weekdays, open="09:00", close="17:00")],
        source_url="https://poland.iom.int",
        seen_date=None,
        status="verified",
    )


# When operators review handoff requests (a product setting, not a sourced fact):
# Monday-Friday 09:00-17:00 Europe/Warsaw; see docs/contacts.md.
STAFF_HOURS = _staff_hours()
