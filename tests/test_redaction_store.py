"""The tracker store writes redacted user text; the bot still understands the original.

Unit tests save real Rasa events through RedactingSQLTrackerStore into SQLite; the
live test sends personal data to the real server configured by endpoints.yml.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from iom.core.redaction import default_redactor
from iom.rasa.tracker_store import RedactingSQLTrackerStore, redact_event
from iom.tools.launch import LiveBot
from tests.conftest import ROOT

TEXT = "Jestem w Krakowie, mój numer 512 345 678, mail olena@gmail.com"


def stored(database: Path, sender: str) -> list[dict]:
    with sa.create_engine(f"sqlite:///{database}").connect() as connection:
        rows = connection.execute(
            sa.text("select data from events where sender_id=:s order by id"),
            {"s": sender},
        ).all()
    return [json.loads(row[0]) for row in rows]


def user_event() -> UserUttered:
    email_at = TEXT.index("olena@")
    return UserUttered(
        TEXT,
        intent={"name": "ask_contact", "confidence": 0.93},
        entities=[
            {"entity": "city", "value": "Kraków", "start": 9, "end": 17},
            {
                "entity": "topic",
                "value": "olena@gmail.com",
                "start": email_at,
                "end": email_at + len("olena@gmail.com"),
            },
        ],
        parse_data={
            "text": TEXT,
            "intent": {"name": "ask_contact", "confidence": 0.93},
            "entities": [
                {"entity": "city", "value": "Kraków", "start": 9, "end": 17},
                {
                    "entity": "topic",
                    "value": "olena@gmail.com",
                    "start": email_at,
                    "end": email_at + len("olena@gmail.com"),
                },
            ],
        },
        metadata={"language": "pl"},
    )


def test_store_writes_redacted_events_and_reads_them_back(tmp_path: Path) -> None:
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(
        domain=Domain.load(str(ROOT / "domain.yml")), host=f"sqlite:///{database}"
    )
    tracker = DialogueStateTracker.from_events(
        "olena",
        [
            ActionExecuted("action_listen"),
            user_event(),
            SlotSet("city", "Kraków"),
            SlotSet("topic", "olena@gmail.com"),
            BotUttered("Infolinia Migrant Info: +48 22 490 20 44"),
        ],
    )
    asyncio.run(store.save(tracker))
    # the tracker in memory (this turn) still has the original text
    assert tracker.latest_message.text == TEXT

    events = stored(database, "olena")
    user = next(e for e in events if e["event"] == "user")
    expected = "Jestem w Krakowie, mój numer [PHONE], mail [EMAIL]"
    assert user["text"] == expected
    assert user["parse_data"]["text"] == expected
    assert user["parse_data"]["intent"]["name"] == "ask_contact"
    values = {e["entity"]: e["value"] for e in user["parse_data"]["entities"]}
    assert values == {"city": "Kraków", "topic": "[EMAIL]"}
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"city": "Kraków", "topic": "[EMAIL]"}
    bot = next(e for e in events if e["event"] == "bot")
    assert bot["text"] == "Infolinia Migrant Info: +48 22 490 20 44"
    raw = database.read_bytes()
    assert b"512 345 678" not in raw and b"olena@gmail.com" not in raw

    # a later turn appends only its own events, also redacted
    again = asyncio.run(store.retrieve("olena"))
    assert again is not None and again.latest_message.text == expected
    again.update(UserUttered("PESEL 44051401458", intent={"name": "affirm"}))
    asyncio.run(store.save(again))
    texts = [e["text"] for e in stored(database, "olena") if e["event"] == "user"]
    assert texts == [expected, "PESEL [PESEL]"]


def test_events_without_personal_data_are_unchanged() -> None:
    redactor = default_redactor()
    event = UserUttered(
        "gdzie jest biuro IOM?", intent={"name": "ask_office"}
    ).as_dict()
    assert redact_event(event, redactor) == event
    slot = SlotSet("language", "pl").as_dict()
    assert redact_event(slot, redactor) == slot


def test_what_an_operator_wrote_is_redacted_the_bots_own_text_is_not() -> None:
    redactor = default_redactor()
    text = "Proszę zadzwonić 601 234 567 albo KCIK +48 22 628 01 20."
    operator = BotUttered(text, metadata={"operator": "Anna"}).as_dict()
    stored = redact_event(operator, redactor)
    assert "601 234 567" not in stored["text"] and "[PHONE]" in stored["text"]
    assert "+48 22 628 01 20" in stored["text"]  # a public directory number stays
    assert stored["metadata"] == {"operator": "Anna"}
    bot = BotUttered(text, metadata={"utter_action": "utter_x"}).as_dict()
    assert redact_event(bot, redactor) == bot  # domain text, kept as written


def test_live_server_stores_redacted_text(live_bot: LiveBot) -> None:
    sender = uuid.uuid4().hex
    answer = live_bot.say(
        sender,
        "szef zabrał mi paszport ZS0000177, mój numer 512 345 678, PESEL 44051401458",
    )
    assert any("KCIK" in text for text in answer), answer  # understood as usual
    events = stored(live_bot.db, sender)
    user = next(e for e in events if e["event"] == "user")
    assert (
        user["text"]
        == "szef zabrał mi paszport [PASSPORT], mój numer [PHONE], PESEL [PESEL]"
    )
    assert user["parse_data"]["intent"]["name"] == "report_trafficking"
    assert "512 345 678" not in json.dumps(events)


def sessions_recorded(
    store: RedactingSQLTrackerStore, calls: list[str], fail_first: Exception | None
) -> None:
    """Note the thread of every database session of `store`; fail the first one."""
    import contextlib
    import threading

    original = store.session_scope

    @contextlib.contextmanager
    def scope() -> Iterator[Any]:
        calls.append(threading.current_thread().name)
        if fail_first is not None and len(calls) == 1:
            raise fail_first
        with original() as session:
            yield session

    store.session_scope = scope  # type: ignore[method-assign]


@pytest.mark.parametrize("cache_size", [0, 256])
def test_a_save_that_fails_while_the_database_restarts_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_size: int
) -> None:
    """bench/results/faults.md: without the retry, a turn answered during a
    PostgreSQL restart was never stored (with the tracker cache and without)."""
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(
        domain=Domain.load(str(ROOT / "domain.yml")),
        host=f"sqlite:///{database}",
        cache_size=cache_size,
    )
    monkeypatch.setattr("iom.rasa.tracker_store.SAVE_RETRIES", (0.01, 0.01))
    calls: list[str] = []
    failure = sa.exc.OperationalError("insert", {}, Exception("server closed"))
    sessions_recorded(store, calls, failure)
    tracker = DialogueStateTracker.from_events("r", [UserUttered("dzień dobry")])
    asyncio.run(store.save(tracker))
    assert len(calls) == 2
    assert [e["text"] for e in stored(database, "r")] == ["dzień dobry"]


@pytest.mark.parametrize("cache_size", [0, 256])
def test_a_load_that_fails_while_the_database_restarts_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_size: int
) -> None:
    """Rasa would answer from an empty in-memory tracker and never store the turn."""
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(
        domain=Domain.load(str(ROOT / "domain.yml")),
        host=f"sqlite:///{database}",
        cache_size=cache_size,
    )
    asyncio.run(store.save(DialogueStateTracker.from_events("r", [UserUttered("hej")])))
    store.cache.drop("r")  # a load from the database, as after a restart
    monkeypatch.setattr("iom.rasa.tracker_store.SAVE_RETRIES", (0.01,))
    calls: list[str] = []
    failure = sa.exc.OperationalError("select", {}, Exception("starting up"))
    sessions_recorded(store, calls, failure)
    tracker = asyncio.run(store.retrieve("r"))
    assert len(calls) == 2 and tracker is not None
    assert tracker.latest_message.text == "hej"


@pytest.mark.parametrize("cache_size", [0, 256])
@pytest.mark.parametrize("off_loop", [True, "false"])
def test_loads_and_saves_leave_the_event_loop_unless_turned_off(
    tmp_path: Path, off_loop: bool | str, cache_size: int
) -> None:
    """The blocking SQL work runs in a worker thread (endpoints.yml may say
    `off_loop: false`); the stored events are the same either way."""
    import threading

    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(
        domain=Domain.load(str(ROOT / "domain.yml")),
        host=f"sqlite:///{database}",
        off_loop=off_loop,
        cache_size=cache_size,
    )
    threads: list[str] = []
    sessions_recorded(store, threads, None)
    text = "mój numer 512 345 678"
    asyncio.run(store.save(DialogueStateTracker.from_events("t", [UserUttered(text)])))
    tracker = asyncio.run(store.retrieve("t"))
    assert tracker is not None and tracker.latest_message.text == "mój numer [PHONE]"
    main = threading.main_thread().name
    if off_loop is True:
        assert len(threads) == 2 and main not in threads
    else:
        assert threads == [main, main]


def test_the_embedded_sqlite_file_is_in_wal_mode(tmp_path: Path) -> None:
    """docs/performance.md: WAL with synchronous=FULL and pooled connections."""
    import sqlite3

    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(
        domain=Domain.load(str(ROOT / "domain.yml")), host=f"sqlite:///{database}"
    )
    asyncio.run(store.save(DialogueStateTracker.from_events("w", [UserUttered("hej")])))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    with sqlite3.connect(database) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert [e["text"] for e in stored(database, "w")] == ["hej"]
