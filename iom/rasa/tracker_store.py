"""A SQL tracker store that writes user text only after redaction.

Configured in endpoints.yml as
`type: iom.rasa.tracker_store.RedactingSQLTrackerStore`.
The bot still understands the whole message (NLU runs before storage, and the
tracker in memory for the current turn is untouched); what reaches the database is
the text with phone numbers, e-mails, PESEL, account, card and document numbers
replaced by placeholders, entity and slot values that contained them likewise, and
the intent, confidence and every other entity unchanged.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker

from iom.core.redaction import Redactor, apply, default_redactor, overlaps


def _redact_text_and_entities(parse_data: dict[str, Any], redactor: Redactor) -> None:
    text = parse_data.get("text")
    if not isinstance(text, str):
        return
    findings = redactor.find(text)
    if not findings:
        return
    parse_data["text"] = apply(text, findings)
    for entity in parse_data.get("entities") or []:
        start, end = entity.get("start"), entity.get("end")
        if isinstance(start, int) and isinstance(end, int):
            touched = [f for f in findings if overlaps(start, end, [f])]
            if touched:
                entity["value"] = touched[0].placeholder
                entity.pop("text", None)
        elif isinstance(entity.get("value"), str):
            entity["value"] = redactor.redact(entity["value"])


def _redact_strings(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return redactor.redact(value)
    if isinstance(value, list):
        return [_redact_strings(item, redactor) for item in value]
    if isinstance(value, dict):
        return {key: _redact_strings(item, redactor) for key, item in value.items()}
    return value


def redact_event(data: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """A serialised event as it may be stored.

    User text, its entities, slot values and user metadata are redacted; bot
    messages are kept (domain text only), except what a person from the team wrote
    in a live conversation (metadata `operator`), which is free text and redacted.
    """
    kind = data.get("event")
    if kind == "user":
        data = copy.deepcopy(data)
        if isinstance(data.get("text"), str):
            data["text"] = redactor.redact(data["text"])
        if isinstance(data.get("parse_data"), dict):
            _redact_text_and_entities(data["parse_data"], redactor)
        if data.get("metadata"):
            data["metadata"] = _redact_strings(data["metadata"], redactor)
    elif (
        kind == "bot"
        and isinstance(data.get("metadata"), dict)
        and data["metadata"].get("operator")
        and isinstance(data.get("text"), str)
    ):
        data = dict(data, text=redactor.redact(data["text"]))
    elif kind == "slot" and data.get("value") is not None:
        data = dict(data, value=_redact_strings(data["value"], redactor))
    return data


class _RedactedEvent:
    """What SQLTrackerStore.save reads from an event: its type and its dict."""

    def __init__(self, type_name: str, data: dict[str, Any]) -> None:
        self.type_name = type_name
        self._data = data

    def as_dict(self) -> dict[str, Any]:
        return self._data


logger = logging.getLogger(__name__)
T = TypeVar("T")
# After a database restart: the pauses before each new attempt to load or save.
SAVE_RETRIES = (0.5, 1.0, 2.0, 4.0)


_worker = threading.local()


def _run_in_this_thread(coroutine: Awaitable[T]) -> T:
    """Run a coroutine to completion on this worker thread's own event loop."""
    loop = getattr(_worker, "loop", None)
    if loop is None:
        loop = _worker.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coroutine)


def sqlite_engine(url: sa.engine.URL) -> sa.engine.Engine:
    """The embedded default's SQLite file, in WAL mode, with pooled connections.

    Measured (`make bench-store`, bench/results/tracker_store.md): a turn's load and
    save take about three quarters of the time they take with SQLAlchemy 1.4's
    defaults for a SQLite file (a new connection per session, a rollback journal).
    `synchronous=FULL` keeps every committed turn through a power cut (NORMAL is
    faster still but may lose the last commits). WAL also lets the console and the
    retention job read while the bot writes.
    """
    engine = sa.create_engine(  # no pre-ping: a local file does not restart
        url,
        poolclass=sa.pool.QueuePool,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @sa.event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    return engine


class RedactingSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQLTrackerStore (same tables, same `url`) with redaction on write.

    Also survives a database restart: connections are checked before use
    (`pool_pre_ping`), and loads and saves are retried for up to 7.5 s instead of
    losing the turn (Rasa falls back to an empty in-memory tracker when a load fails
    and answers without history; a failed save drops the turn: both measured in
    bench/results/faults.md).

    With `off_loop` (the default; `off_loop: false` in endpoints.yml turns it off)
    loads and saves run in a worker thread, so the server's event loop goes on
    answering other conversations while one waits for the database (bench/serve.py
    measures both ways). Rasa's lock store keeps one conversation's turns in order,
    and each call has its own database session. With an event broker configured the
    calls stay on the event loop, where the broker's connection lives.
    """

    def __init__(
        self,
        *args: Any,
        redactor: Redactor | None = None,
        off_loop: bool | str = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.redactor = redactor or default_redactor()
        self.off_loop = str(off_loop).lower() not in ("false", "0", "no", "off")
        engine: sa.engine.Engine = self.engine  # type: ignore[has-type]
        url = engine.url
        engine.dispose()
        self.engine = (
            sqlite_engine(url)
            if url.get_backend_name() == "sqlite" and url.database
            else sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        )
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        if self.off_loop and self.event_broker is None:
            return await asyncio.to_thread(_run_in_this_thread, call())
        return await call()

    async def _retrying(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        for pause in (*SAVE_RETRIES, None):
            try:
                return await self._call(call)
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
                if pause is None:
                    raise
                logger.warning(
                    f"Tracker store unreachable ({error.__class__.__name__});"
                    f" {what} again in {pause} s."
                )
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events; retry while the database is unreachable."""
        await self._retrying(
            "saving", lambda: super(RedactingSQLTrackerStore, self).save(tracker)
        )

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """Load a conversation; retry while the database is unreachable.

        Rasa would otherwise fall back to an empty in-memory tracker for the turn,
        answer without the conversation's history, and never store the turn.
        """
        return await self._retrying(
            "loading", lambda: super(RedactingSQLTrackerStore, self).retrieve(sender_id)
        )

    async def retrieve_full_tracker(
        self, conversation_id: str
    ) -> DialogueStateTracker | None:
        """All sessions of a conversation; retry while the database is unreachable."""
        return await self._retrying(
            "loading",
            lambda: super(RedactingSQLTrackerStore, self).retrieve_full_tracker(
                conversation_id
            ),
        )

    def _additional_events(  # type: ignore[override]
        self, session: Any, tracker: DialogueStateTracker
    ) -> Iterator[Any]:
        for event in super()._additional_events(session, tracker):
            yield _RedactedEvent(
                event.type_name, redact_event(event.as_dict(), self.redactor)
            )
