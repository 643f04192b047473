"""Handoff requests: rows in the tracker store's database for the console.

The table (`iom.core.db.handoff_requests`) belongs to Alembic; the first request in a
process brings the schema to the newest migration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa

from iom.core import db, settings, takeover
from iom.core.contacts import Hours, TimeRange


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
    with db.migrated_engine(url or database_url()).begin() as connection:
        connection.execute(
            db.handoff_requests.insert().values(
                conversation_id=request.conversation_id,
                language=request.language,
                topic=request.topic,
                created_at=request.created_at,
                status="open",
            )
        )
    return request


def operators_online(url: str | None, now: datetime) -> bool:
    """Whether an operator has the console open now (a person can join the chat).

    A database error counts as "no": the person then gets the phone lines.
    """
    try:
        engine = db.migrated_engine(url or database_url())
        return takeover.operators_online(engine, now.timestamp()) > 0
    except sa.exc.SQLAlchemyError:
        return False


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


def take_requests(engine: sa.engine.Engine, conversation_id: str, username: str) -> int:
    """Mark the conversation's open requests `in_progress`, taken by `username`."""
    table = db.handoff_requests
    with engine.begin() as connection:
        result = connection.execute(
            table.update()
            .where(table.c.conversation_id == conversation_id)
            .where(table.c.status == "open")
            .values(status="in_progress", taken_by=username)
        )
    return int(result.rowcount)
