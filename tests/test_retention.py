"""Retention purge and erasure on a tracker store written by Rasa's own SQLTrackerStore."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from iom.core import retention
from iom.core.handoff import record_handoff
from tests.conftest import ROOT

NOW = time.time()
DAY = 86400.0


@pytest.fixture()
def url(tmp_path: Path) -> str:
    """A SQLite tracker store with three conversations of different ages."""
    database = tmp_path / "tracker.db"
    store = SQLTrackerStore(
        Domain.load(str(ROOT / "domain.yml")), dialect="sqlite", db=str(database)
    )
    for sender, age_days in (("old", 45), ("edge", 29), ("new", 1)):
        at = NOW - age_days * DAY
        tracker = DialogueStateTracker.from_events(
            sender,
            [
                ActionExecuted("action_listen", timestamp=at),
                UserUttered("mój numer to 600 100 200", timestamp=at + 1),
                BotUttered("Dziękuję", timestamp=at + 2),
            ],
        )
        asyncio.run(store.save(tracker))
    link = f"sqlite:///{database}"
    for sender in ("old", "new"):
        record_handoff(sender, "pl", None, url=link)
    return link


def senders(url: str) -> set[str]:
    with sa.create_engine(url).connect() as connection:
        return {
            r[0] for r in connection.execute(sa.text("select sender_id from events"))
        }


def handoffs(url: str) -> set[str]:
    with sa.create_engine(url).connect() as connection:
        rows = connection.execute(
            sa.text("select conversation_id from handoff_requests")
        )
        return {r[0] for r in rows}


def test_purge_deletes_only_conversations_past_the_retention(url: str) -> None:
    deleted = retention.purge(sa.create_engine(url), days=30, now=NOW)
    assert deleted.conversations == 1 and deleted.events == 3 and deleted.handoffs == 1
    assert senders(url) == {"edge", "new"}
    assert handoffs(url) == {"new"}
    again = retention.purge(sa.create_engine(url), days=30, now=NOW)
    assert again == retention.Deleted(0, 0, 0)


def test_erase_deletes_one_conversation_and_its_handoff(url: str) -> None:
    deleted = retention.erase(sa.create_engine(url), "new")
    assert deleted == retention.Deleted(1, 3, 1)
    assert senders(url) == {"old", "edge"}
    assert handoffs(url) == {"old"}


def test_command_line(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert retention.main(["--url", url, "erase", "nobody"]) == 1
    assert retention.main(["--url", url, "purge", "--days", "10"]) == 0
    output = capsys.readouterr().out
    assert "deleted 2 conversations" in output
    assert "600" not in output  # counts only, never message text
    assert senders(url) == {"new"}


def test_an_empty_database_is_fine(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert retention.purge(engine, 30) == retention.Deleted(0, 0, 0)
    with pytest.raises(ValueError):
        retention.purge(engine, 0)
