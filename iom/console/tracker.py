"""Reading Rasa's tracker store: an incremental conversation index and transcripts.

Rasa's `events` table has one row per event. Listing and filtering 100,000 conversations
straight from it would scan a million rows per page, so `sync()` folds new events (by
id, from where it stopped) into `console_conversations` (one row per conversation) and
`console_conversation_intents`, which the list pages query through indexes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from iom.core import db
from iom.core.language import SUPPORTED

SAFETY_INTENTS = frozenset(
    {"immediate_danger", "report_trafficking", "ask_trafficking_signs"}
)
FALLBACK_ACTIONS = frozenset(
    {
        "action_clarify",
        "utter_clarify",
        "utter_clarify_human",
        "action_default_fallback",
    }
)
FALLBACK_INTENTS = frozenset({"nlu_fallback"})
HANDOFF_ACTIONS = frozenset({"action_request_human"})
BATCH = 20_000
SEARCH_CHARS = 4_000


@dataclass
class Summary:
    """What the index keeps about one conversation."""

    sender_id: str
    started_at: float
    last_at: float
    language: str | None = None
    user_turns: int = 0
    min_confidence: float | None = None
    fallback: bool = False
    handoff: bool = False
    safety: bool = False
    first_message: str | None = None
    search_text: str = ""
    intents: set[str] = field(default_factory=set)

    def add(self, row: Any, data: dict[str, Any]) -> None:
        """Fold one event into the summary."""
        at = row.timestamp or self.last_at
        self.started_at = min(self.started_at, at)
        self.last_at = max(self.last_at, at)
        if row.type_name == "user":
            self._user(row, data)
        elif row.type_name == "action":
            if row.action_name in FALLBACK_ACTIONS:
                self.fallback = True
            if row.action_name in HANDOFF_ACTIONS:
                self.handoff = True
        elif row.type_name == "slot" and data.get("name") == "language":
            if data.get("value") in SUPPORTED:
                self.language = data["value"]

    def _user(self, row: Any, data: dict[str, Any]) -> None:
        text = str(data.get("text") or "")
        intent = (data.get("parse_data") or {}).get("intent") or {}
        name = row.intent_name or intent.get("name")
        confidence = intent.get("confidence")
        self.user_turns += 1
        if self.first_message is None:
            self.first_message = text[:200]
        if len(self.search_text) < SEARCH_CHARS:
            self.search_text = (self.search_text + " " + text.lower())[:SEARCH_CHARS]
        if name:
            self.intents.add(name)
            if name in SAFETY_INTENTS:
                self.safety = True
            if name in FALLBACK_INTENTS:
                self.fallback = True
        if isinstance(confidence, int | float) and not text.startswith("/"):
            if self.min_confidence is None or confidence < self.min_confidence:
                self.min_confidence = float(confidence)
        detected = ((data.get("parse_data") or {}).get("language_detection") or {}).get(
            "detected"
        )
        if self.language is None and detected in SUPPORTED:
            self.language = detected


CURSOR_KEY = "last_event_id"


def _stored_cursor(connection: sa.engine.Connection) -> str | None:
    value = connection.execute(
        sa.select(db.state.c.value).where(db.state.c.key == CURSOR_KEY)
    ).scalar()
    return None if value is None else str(value)


def _anything_new(engine: sa.engine.Engine) -> bool:
    """Whether there are events past the cursor (read only, no lock taken)."""
    with engine.connect() as connection:
        cursor = int(_stored_cursor(connection) or 0)
        newer = connection.execute(
            sa.select(db.events.c.id).where(db.events.c.id > cursor).limit(1)
        ).first()
    return newer is not None


def _create_cursor(engine: sa.engine.Engine) -> None:
    """Store the cursor row (at 0) if there is none, so that it can be locked."""
    with engine.connect() as connection:
        if _stored_cursor(connection) is not None:
            return
    try:
        with engine.begin() as connection:
            connection.execute(db.state.insert().values(key=CURSOR_KEY, value="0"))
    except IntegrityError:
        pass  # another process stored it first


def _cursor(connection: sa.engine.Connection) -> int:
    """The last indexed event id, with the cursor row locked until commit.

    The first statement is a write to the row (setting it to itself), so a second
    sync, in this process or another one, waits here (PostgreSQL's row lock, SQLite's
    write lock) and then reads the cursor the first one stored: no event is folded
    into the index twice.
    """
    connection.execute(
        db.state.update()
        .where(db.state.c.key == CURSOR_KEY)
        .values(value=db.state.c.value)
    )
    return int(_stored_cursor(connection) or 0)


def _set_cursor(connection: sa.engine.Connection, value: int) -> None:
    updated = connection.execute(
        db.state.update().where(db.state.c.key == CURSOR_KEY).values(value=str(value))
    ).rowcount
    if not updated:
        connection.execute(db.state.insert().values(key=CURSOR_KEY, value=str(value)))


def _load(connection: sa.engine.Connection, senders: list[str]) -> dict[str, Summary]:
    found: dict[str, Summary] = {}
    for start in range(0, len(senders), 500):
        chunk = senders[start : start + 500]
        rows = connection.execute(
            sa.select(db.conversations).where(db.conversations.c.sender_id.in_(chunk))
        )
        for row in rows:
            found[row.sender_id] = Summary(
                sender_id=row.sender_id,
                started_at=row.started_at,
                last_at=row.last_at,
                language=row.language,
                user_turns=row.user_turns,
                min_confidence=row.min_confidence,
                fallback=row.fallback,
                handoff=row.handoff,
                safety=row.safety,
                first_message=row.first_message,
                search_text=row.search_text or "",
            )
        for row in connection.execute(
            sa.select(db.conversation_intents).where(
                db.conversation_intents.c.sender_id.in_(chunk)
            )
        ):
            found[row.sender_id].intents.add(row.intent)
    return found


def _store(
    connection: sa.engine.Connection, summaries: dict[str, Summary], known: set[str]
) -> None:
    for summary in summaries.values():
        values = {
            "started_at": summary.started_at,
            "last_at": summary.last_at,
            "language": summary.language,
            "user_turns": summary.user_turns,
            "min_confidence": summary.min_confidence,
            "fallback": summary.fallback,
            "handoff": summary.handoff,
            "safety": summary.safety,
            "first_message": summary.first_message,
            "search_text": summary.search_text,
        }
        if summary.sender_id in known:
            connection.execute(
                db.conversations.update()
                .where(db.conversations.c.sender_id == summary.sender_id)
                .values(**values)
            )
            connection.execute(
                db.conversation_intents.delete().where(
                    db.conversation_intents.c.sender_id == summary.sender_id
                )
            )
        else:
            connection.execute(
                db.conversations.insert().values(sender_id=summary.sender_id, **values)
            )
        if summary.intents:
            connection.execute(
                db.conversation_intents.insert(),
                [
                    {"sender_id": summary.sender_id, "intent": i}
                    for i in summary.intents
                ],
            )


def sync(engine: sa.engine.Engine, batch: int = BATCH) -> int:
    """Fold events newer than the cursor into the index; returns how many were read.

    Writes the console's index only; called by the background job (jobs.py) and by
    `python -m iom.console.cli sync`, never by a page view. Safe to run from several
    processes at once (the cursor row is locked per batch).
    """
    if "events" not in sa.inspect(engine).get_table_names():
        return 0
    if not _anything_new(engine):  # the usual case: no write at all
        return 0
    _create_cursor(engine)
    total = 0
    while True:
        with engine.begin() as connection:
            cursor = _cursor(connection)
            rows = connection.execute(
                sa.select(db.events)
                .where(db.events.c.id > cursor)
                .order_by(db.events.c.id)
                .limit(batch)
            ).all()
            if not rows:
                return total
            senders = sorted({row.sender_id for row in rows})
            summaries = _load(connection, senders)
            known = set(summaries)
            for row in rows:
                try:
                    data = json.loads(row.data or "{}")
                except ValueError:
                    data = {}
                summary = summaries.get(row.sender_id)
                if summary is None:
                    at = row.timestamp or 0.0
                    summary = summaries[row.sender_id] = Summary(row.sender_id, at, at)
                summary.add(row, data if isinstance(data, dict) else {})
            _store(connection, summaries, known)
            _set_cursor(connection, rows[-1].id)
            total += len(rows)
        if len(rows) < batch:
            return total


@dataclass(frozen=True)
class Turn:
    """One line of a transcript."""

    event_id: int
    kind: str  # user | bot | action | slot | session
    at: float
    text: str = ""
    intent: str | None = None
    confidence: float | None = None
    entities: tuple[tuple[str, str], ...] = ()
    # the entities with their place in `text` (for a correction's training example)
    spans: tuple[dict[str, Any], ...] = ()
    name: str | None = None
    value: Any = None
    language: str | None = None


def _spans(text: str, entities: Any) -> tuple[dict[str, Any], ...]:
    """Entities that have a start and an end inside `text` and no placeholder in it."""
    found = []
    for e in entities if isinstance(entities, list) else []:
        if not isinstance(e, dict):
            continue
        start, end = e.get("start"), e.get("end")
        if not (isinstance(start, int) and isinstance(end, int)):
            continue
        if 0 <= start < end <= len(text) and "[" not in text[start:end]:
            found.append(
                {
                    "start": start,
                    "end": end,
                    "entity": e.get("entity"),
                    "value": e.get("value"),
                }
            )
    return tuple(found)


def transcript(engine: sa.engine.Engine, sender_id: str) -> list[Turn]:
    """Every event of one conversation worth showing, oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(db.events)
            .where(db.events.c.sender_id == sender_id)
            .order_by(db.events.c.id)
        ).all()
    turns: list[Turn] = []
    for row in rows:
        try:
            data = json.loads(row.data or "{}")
        except ValueError:
            data = {}
        at = row.timestamp or 0.0
        if row.type_name == "user":
            parse = data.get("parse_data") or {}
            intent = parse.get("intent") or {}
            entities = tuple(
                (str(e.get("entity")), str(e.get("value")))
                for e in parse.get("entities") or []
                if isinstance(e, dict)
            )
            turns.append(
                Turn(
                    row.id,
                    "user",
                    at,
                    text=str(data.get("text") or ""),
                    intent=intent.get("name"),
                    confidence=intent.get("confidence"),
                    entities=entities,
                    spans=_spans(str(data.get("text") or ""), parse.get("entities")),
                    language=(parse.get("language_detection") or {}).get("detected"),
                )
            )
        elif row.type_name == "bot":
            turns.append(Turn(row.id, "bot", at, text=str(data.get("text") or "")))
        elif row.type_name == "action" and row.action_name != "action_listen":
            turns.append(Turn(row.id, "action", at, name=row.action_name))
        elif row.type_name == "slot":
            turns.append(
                Turn(row.id, "slot", at, name=data.get("name"), value=data.get("value"))
            )
        elif row.type_name == "session_started":
            turns.append(Turn(row.id, "session", at))
    return turns
