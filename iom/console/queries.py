"""Every SQL statement the console's pages run, as small typed functions.

SQLAlchemy Core over the tables of `iom.core.db`, so the same code runs on SQLite and
PostgreSQL. Each function opens its own short connection (or transaction) from the
engine; routes hold no SQL. Writes of the audit log are `auth.record`; the
conversation index is written only by `tracker.sync` (jobs.py, `cli sync`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from iom.core import db

Rows = Sequence[Row[Any]]
HANDOFF_STATUSES = ("open", "in_progress", "done")


# ---- the conversation list ---------------------------------------------------------
@dataclass(frozen=True)
class ListFilter:
    """Which conversations to list (every given condition must hold)."""

    search: str = ""  # substring of the user's messages (lower case), literal % and _
    since: float | None = None  # last message at or after this Unix time
    before: float | None = None  # last message before this Unix time
    language: str | None = None
    intent: str = ""
    tag: str = ""
    reviewed: bool | None = None  # False: not reviewed (or never opened)
    below_confidence: float | None = None  # lowest intent confidence below this
    fallback: bool = False
    handoff: bool = False
    safety: bool = False


def _conditions(where: ListFilter) -> list[sa.ColumnElement[bool]]:
    c = db.conversations.c
    conditions: list[sa.ColumnElement[bool]] = []
    if where.search:
        conditions.append(c.search_text.contains(where.search, autoescape=True))
    if where.since is not None:
        conditions.append(c.last_at >= where.since)
    if where.before is not None:
        conditions.append(c.last_at < where.before)
    if where.language:
        conditions.append(c.language == where.language)
    if where.intent:
        intents = db.conversation_intents.c
        conditions.append(
            c.sender_id.in_(
                sa.select(intents.sender_id).where(intents.intent == where.intent)
            )
        )
    if where.tag:
        conditions.append(
            c.sender_id.in_(
                sa.select(db.tags.c.sender_id).where(db.tags.c.tag == where.tag)
            )
        )
    if where.reviewed is True:
        conditions.append(db.reviews.c.reviewed.is_(True))
    elif where.reviewed is False:
        conditions.append(
            sa.or_(db.reviews.c.reviewed.is_(None), db.reviews.c.reviewed.is_(False))
        )
    if where.below_confidence is not None:
        conditions.append(c.min_confidence < where.below_confidence)
    for flag, column in (
        (where.fallback, c.fallback),
        (where.handoff, c.handoff),
        (where.safety, c.safety),
    ):
        if flag:
            conditions.append(column.is_(True))
    return conditions


def list_conversations(
    engine: Engine, where: ListFilter, limit: int, offset: int
) -> tuple[int, Rows]:
    """How many conversations match, and one page of them, newest first."""
    c = db.conversations.c
    query = sa.select(db.conversations, db.reviews.c.reviewed).outerjoin(
        db.reviews, db.reviews.c.sender_id == c.sender_id
    )
    conditions = _conditions(where)
    if conditions:
        query = query.where(*conditions)
    with engine.connect() as connection:
        total = connection.execute(
            sa.select(sa.func.count()).select_from(query.subquery())
        ).scalar()
        rows = connection.execute(
            query.order_by(c.last_at.desc(), c.sender_id).limit(limit).offset(offset)
        ).all()
    return total or 0, rows


def all_tags(engine: Engine) -> list[str]:
    """Every tag in use, sorted."""
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(db.tags.c.tag).distinct().order_by(db.tags.c.tag)
            ).scalars()
        )


# ---- one conversation --------------------------------------------------------------
@dataclass(frozen=True)
class ConversationNotes:
    """What the console keeps about one conversation beside its events."""

    summary: Row[Any] | None  # its row in the index (None until indexed)
    review: Row[Any] | None
    tags: list[str]
    corrected: dict[int, str]  # event id -> corrected intent
    # event id -> the correction's entities (JSON, as stored; None: none marked)
    corrected_entities: dict[int, str | None] = field(default_factory=dict)


def conversation_notes(engine: Engine, sender_id: str) -> ConversationNotes:
    """Index row, review, tags and corrections of one conversation."""
    with engine.connect() as connection:
        review = connection.execute(
            sa.select(db.reviews).where(db.reviews.c.sender_id == sender_id)
        ).first()
        tags = list(
            connection.execute(
                sa.select(db.tags.c.tag)
                .where(db.tags.c.sender_id == sender_id)
                .order_by(db.tags.c.tag)
            ).scalars()
        )
        rows = connection.execute(
            sa.select(db.corrections).where(db.corrections.c.sender_id == sender_id)
        ).all()
        corrected = {row.event_id: row.corrected_intent for row in rows}
        entities = {row.event_id: row.entities for row in rows}
        summary = connection.execute(
            sa.select(db.conversations).where(db.conversations.c.sender_id == sender_id)
        ).first()
    return ConversationNotes(summary, review, tags, corrected, entities)


def conversation_exists(engine: Engine, sender_id: str) -> bool:
    """Whether the tracker store has any event of this conversation."""
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(db.events.c.id).where(db.events.c.sender_id == sender_id).limit(1)
        ).first()
    return found is not None


def conversation_language(engine: Engine, sender_id: str) -> str | None:
    """The conversation's language in the index, if known."""
    with engine.connect() as connection:
        language = connection.execute(
            sa.select(db.conversations.c.language).where(
                db.conversations.c.sender_id == sender_id
            )
        ).scalar()
    return str(language) if language else None


def revealed_since(engine: Engine, username: str, sender_id: str, since: float) -> bool:
    """Whether `username` revealed this conversation's personal data after `since`."""
    audit = db.audit.c
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(audit.id).where(
                audit.username == username,
                audit.action == "reveal",
                audit.target == sender_id,
                audit.at > since,
            )
        ).first()
    return found is not None


def save_review(
    engine: Engine, sender_id: str, reviewed: bool, username: str, note: str | None
) -> None:
    """Set the conversation's review (insert or update)."""
    values = {
        "reviewed": reviewed,
        "reviewed_by": username,
        "reviewed_at": time.time(),
        "note": note,
    }
    with engine.begin() as connection:
        if not connection.execute(
            db.reviews.update()
            .where(db.reviews.c.sender_id == sender_id)
            .values(**values)
        ).rowcount:
            connection.execute(
                db.reviews.insert().values(sender_id=sender_id, **values)
            )


def add_tag(engine: Engine, sender_id: str, tag: str) -> None:
    """Tag the conversation (no-op if it has the tag)."""
    key = (db.tags.c.sender_id == sender_id) & (db.tags.c.tag == tag)
    with engine.begin() as connection:
        if not connection.execute(sa.select(db.tags).where(key)).first():
            connection.execute(db.tags.insert().values(sender_id=sender_id, tag=tag))


def remove_tag(engine: Engine, sender_id: str, tag: str) -> None:
    """Remove a tag from the conversation."""
    key = (db.tags.c.sender_id == sender_id) & (db.tags.c.tag == tag)
    with engine.begin() as connection:
        connection.execute(db.tags.delete().where(key))


@dataclass(frozen=True)
class Correction:
    """An operator's intent for one user message (a training example)."""

    event_id: int
    sender_id: str
    text: str
    language: str | None
    predicted_intent: str | None
    corrected_intent: str
    username: str
    entities: str | None = None  # JSON, the message's entities with their spans


def save_correction(engine: Engine, correction: Correction) -> None:
    """Store the correction of one message (replacing an earlier one).

    A new or changed correction waits for an admin's review (status `pending`).
    """
    values = {
        "status": "pending",
        "reviewed_by": None,
        "reviewed_at": None,
        "entities": correction.entities,
        "sender_id": correction.sender_id,
        "text": correction.text,
        "language": correction.language,
        "predicted_intent": correction.predicted_intent,
        "corrected_intent": correction.corrected_intent,
        "username": correction.username,
        "at": time.time(),
    }
    with engine.begin() as connection:
        if not connection.execute(
            db.corrections.update()
            .where(db.corrections.c.event_id == correction.event_id)
            .values(**values)
        ).rowcount:
            connection.execute(
                db.corrections.insert().values(event_id=correction.event_id, **values)
            )


# ---- corrections -------------------------------------------------------------------
REVIEW_STATUSES = ("pending", "accepted", "rejected")


def review_correction(engine: Engine, correction_id: int, status: str, by: str) -> bool:
    """An admin's verdict on one correction; False if there is no such correction."""
    with engine.begin() as connection:
        return bool(
            connection.execute(
                db.corrections.update()
                .where(db.corrections.c.id == correction_id)
                .values(status=status, reviewed_by=by, reviewed_at=time.time())
            ).rowcount
        )


def all_corrections(engine: Engine) -> Rows:
    """Every correction, newest first."""
    with engine.connect() as connection:
        return connection.execute(
            sa.select(db.corrections).order_by(db.corrections.c.at.desc())
        ).all()


def corrections_in(engine: Engine, language: str) -> Rows:
    """The corrections of one language, by corrected intent, oldest first."""
    with engine.connect() as connection:
        return connection.execute(
            sa.select(db.corrections)
            .where(db.corrections.c.language == language)
            .order_by(db.corrections.c.corrected_intent, db.corrections.c.id)
        ).all()


# ---- handoffs ----------------------------------------------------------------------
def handoff_requests(engine: Engine, status: str | None, limit: int = 500) -> Rows:
    """Handoff requests (newest first), of one status if given.

    The action server creates the table with its first request: none until then.
    """
    if "handoff_requests" not in sa.inspect(engine).get_table_names():
        return []
    query = (
        sa.select(db.handoff_requests)
        .order_by(db.handoff_requests.c.created_at.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(db.handoff_requests.c.status == status)
    with engine.connect() as connection:
        return connection.execute(query).all()


def set_handoff_status(
    engine: Engine, request_id: int, status: str, taken_by: str | None
) -> bool:
    """Change a handoff request's status; False if there is no such request."""
    with engine.begin() as connection:
        updated = connection.execute(
            db.handoff_requests.update()
            .where(db.handoff_requests.c.id == request_id)
            .values(status=status, taken_by=taken_by)
        ).rowcount
    return bool(updated)


# ---- dashboard and audit -----------------------------------------------------------
def conversations_since(engine: Engine, since: float) -> Rows:
    """Time, language and flags of each conversation active since `since`."""
    c = db.conversations.c
    with engine.connect() as connection:
        return connection.execute(
            sa.select(c.last_at, c.language, c.fallback, c.handoff, c.safety).where(
                c.last_at >= since
            )
        ).all()


def top_intents(engine: Engine, since: float, limit: int = 12) -> Rows:
    """(intent, n): in how many conversations active since `since` each intent was."""
    intents = db.conversation_intents.c
    with engine.connect() as connection:
        return connection.execute(
            sa.select(intents.intent, sa.func.count().label("n"))
            .join(
                db.conversations,
                db.conversations.c.sender_id == intents.sender_id,
            )
            .where(db.conversations.c.last_at >= since)
            .group_by(intents.intent)
            .order_by(sa.text("n desc"))
            .limit(limit)
        ).all()


def audit_entries(engine: Engine, limit: int = 500) -> Rows:
    """The newest entries of the audit log."""
    with engine.connect() as connection:
        return connection.execute(
            sa.select(db.audit).order_by(db.audit.c.id.desc()).limit(limit)
        ).all()
