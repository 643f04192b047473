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
import itertools
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from iom.core.redaction import Redactor, apply, default_redactor, overlaps
from iom.rasa.tracker_cache import (
    CachedTracker,
    StoredRow,
    TrackerCache,
    session_start,
)


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


def sql_event_row(sql_event: Any, sender_id: str, event: Any) -> Any:
    """The row Rasa's `SQLTrackerStore.save` writes for one (redacted) event."""
    data = event.as_dict()
    return sql_event(
        sender_id=sender_id,
        type_name=event.type_name,
        timestamp=data.get("timestamp"),
        intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        action_name=data.get("name"),
        data=json.dumps(data),
    )


# Rasa's events table has an index on sender_id alone. SQLite's includes the row id
# (the primary key), so it also serves `ORDER BY id` and `max(id)` per conversation;
# PostgreSQL's does not, and sorts every conversation's events on each load.
SENDER_ID_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_events_sender_id_id ON events (sender_id, id)"
)


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

    With `cache_size` above 0 (the default, 256 conversations) the store keeps the
    latest session of recent conversations in memory, as a load would give it
    (iom/rasa/tracker_cache.py): a turn then reads only the events stored after the
    cached ones (another instance's turns, events appended through the HTTP API)
    instead of the whole session, and a save writes the new events without first
    counting the stored ones. A conversation not saved for `cache_seconds` (default
    1,800) is forgotten. `cache_size: 0` gives Rasa's loading and saving.
    """

    def __init__(
        self,
        *args: Any,
        redactor: Redactor | None = None,
        off_loop: bool | str = True,
        cache_size: int | str = 256,
        cache_seconds: float | str = 1800,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.redactor = redactor or default_redactor()
        self.off_loop = str(off_loop).lower() not in ("false", "0", "no", "off")
        self.cache = TrackerCache(int(cache_size), float(cache_seconds))
        engine: sa.engine.Engine = self.engine  # type: ignore[has-type]
        url = engine.url
        engine.dispose()
        self.engine = (
            sqlite_engine(url)
            if url.get_backend_name() == "sqlite" and url.database
            else sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        )
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        if url.get_backend_name() == "postgresql":
            self._create_sender_id_index()

    def _create_sender_id_index(self) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(sa.text(SENDER_ID_INDEX))
        except (sa.exc.ProgrammingError, sa.exc.IntegrityError) as error:
            # two instances starting at once: the other one created it
            logger.info(f"Index on events (sender_id, id) not created here: {error}")

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
        if self.cache.size > 0:
            await self._retrying("saving", lambda: self._save_cached(tracker))
            return
        await self._retrying(
            "saving", lambda: super(RedactingSQLTrackerStore, self).save(tracker)
        )

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """Load a conversation; retry while the database is unreachable.

        Rasa would otherwise fall back to an empty in-memory tracker for the turn,
        answer without the conversation's history, and never store the turn.
        """
        if self.cache.size > 0:
            return await self._retrying(
                "loading", lambda: self._retrieve_cached(sender_id)
            )
        return await self._retrying(
            "loading", lambda: super(RedactingSQLTrackerStore, self).retrieve(sender_id)
        )

    async def _retrieve_cached(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session: the cached one and the events stored after it."""
        entry = self.cache.get(sender_id)
        try:
            with self.session_scope() as session:
                fresh = self._refreshed(session, sender_id, entry) if entry else None
                if fresh is None:
                    fresh = self._loaded(session, sender_id)
        except BaseException:
            self.cache.drop(sender_id)
            raise
        if fresh is not entry:
            self.cache.put(sender_id, fresh, replacing=entry)
        return fresh.handed_out()

    def _refreshed(
        self, session: Any, sender_id: str, entry: CachedTracker
    ) -> CachedTracker | None:
        """`entry` with the events stored after it; None if its newest event is gone."""
        event = self.SQLEvent
        query = session.query(
            event.id, event.type_name, event.timestamp, event.data
        ).filter(event.sender_id == sender_id)
        if entry.last_id is not None:
            query = query.filter(event.id >= entry.last_id)
        rows = query.order_by(event.id).all()
        if entry.last_id is not None:
            newest = rows[0] if rows else None
            if (
                newest is None
                or newest.id != entry.last_id
                or newest.timestamp != entry.last_timestamp
            ):
                return None  # erased (or ids reused): load it as Rasa does
            rows = rows[1:]
        return entry.advanced(
            [
                StoredRow(row.id, row.type_name, row.timestamp, json.loads(row.data))
                for row in rows
            ]
        )

    def _loaded(self, session: Any, sender_id: str) -> CachedTracker:
        """The latest session as Rasa's `retrieve` loads it, and the newest event id."""
        event = self.SQLEvent
        newest = (
            session.query(sa.func.max(event.id))
            .filter(event.sender_id == sender_id)
            .scalar_subquery()
        )
        # one statement, so that the newest id matches the rows (one snapshot)
        results = self._event_query(session, sender_id, False).add_columns(newest).all()
        tracker = DialogueStateTracker(sender_id, self.domain.slots)
        if not results:
            return CachedTracker(tracker, None, None, None, 0)
        rows = [
            StoredRow(row.id, row.type_name, row.timestamp, json.loads(row.data))
            for row, _ in results
        ]
        last_id = results[0][1]
        last_timestamp = (
            rows[-1].timestamp
            if rows[-1].id == last_id
            else session.query(event.timestamp).filter(event.id == last_id).scalar()
        )
        tracker = DialogueStateTracker.from_dict(
            sender_id, [row.data for row in rows], self.domain.slots
        )
        return CachedTracker(
            tracker, last_id, last_timestamp, session_start(rows), len(rows)
        )

    def _stored_count(
        self, session: Any, tracker: DialogueStateTracker, entry: CachedTracker | None
    ) -> int | None:
        """How many of the tracker's events are stored, if the cache can tell.

        It can when the tracker continues the cached one (a turn on a tracker this
        store handed out) and no event was stored since (the newest id is the
        cached one: one indexed look-up instead of Rasa's count of the session).
        """
        if entry is None or tracker._max_event_history is not None:
            return None
        cached = entry.tracker.events
        count = len(cached)
        if entry.stored != count or len(tracker.events) < count:
            return None
        if count and tracker.events[count - 1] is not cached[count - 1]:
            return None
        event = self.SQLEvent
        newest = (
            session.query(sa.func.max(event.id))
            .filter(event.sender_id == tracker.sender_id)
            .scalar()
        )
        return count if newest == entry.last_id else None

    async def _save_cached(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save, skipping the count of stored events when the cache knows it."""
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        entry = self.cache.get(sender_id)
        try:
            with self.session_scope() as session:
                count = self._stored_count(session, tracker, entry)
                if count is None:
                    events: Iterator[Any] = self._additional_events(session, tracker)
                else:
                    events = (
                        _RedactedEvent(
                            event.type_name,
                            redact_event(event.as_dict(), self.redactor),
                        )
                        for event in itertools.islice(tracker.events, count, None)
                    )
                rows = [sql_event_row(self.SQLEvent, sender_id, e) for e in events]
                session.add_all(rows)
                session.flush()  # the ids, without a reload after the commit
                stored = [
                    StoredRow(
                        row.id, row.type_name, row.timestamp, json.loads(row.data)
                    )
                    for row in rows
                ]
                session.commit()
        except BaseException:
            self.cache.drop(sender_id)
            raise
        if entry is None or count is None:
            self.cache.drop(sender_id)
        else:
            self.cache.put(sender_id, entry.advanced(stored), replacing=entry)

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
