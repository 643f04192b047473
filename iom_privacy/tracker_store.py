"""A SQL tracker store that writes user text only after redaction.

Configured in endpoints.yml as
`type: iom_privacy.tracker_store.RedactingSQLTrackerStore`.
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
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker

from iom_privacy.redaction import Redactor, apply, default_redactor, overlaps


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
    messages (domain text only) are kept.
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


class RedactingSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQLTrackerStore (same tables, same `url`) with redaction on write.

    Also survives a database restart: connections are checked before use
    (`pool_pre_ping`), and loads and saves are retried for up to 7.5 s instead of
    losing the turn (Rasa falls back to an empty in-memory tracker when a load fails
    and answers without history; a failed save drops the turn: both measured in
    bench/results/faults.md).
    """

    def __init__(
        self, *args: Any, redactor: Redactor | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.redactor = redactor or default_redactor()
        engine: sa.engine.Engine = self.engine  # type: ignore[has-type]
        url = engine.url
        engine.dispose()
        self.engine = sa.create_engine(
            url, pool_pre_ping=True, **create_engine_kwargs(url)
        )
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _retrying(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        for pause in (*SAVE_RETRIES, None):
            try:
                return await call()
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
