"""Live operator state (iom.core.takeover) on a real, migrated SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from iom.core import db, takeover


@pytest.fixture()
def engine(tmp_path: Path) -> sa.engine.Engine:
    return db.migrated_engine(f"sqlite:///{tmp_path / 'live.db'}")


def test_one_operator_holds_a_conversation(engine: sa.engine.Engine) -> None:
    taken, row = takeover.join(engine, "c1", "olga", "Olga", 100.0)
    assert taken and row.username == "olga"
    taken, row = takeover.join(engine, "c1", "adam", "Adam", 101.0)
    assert not taken and row.username == "olga"  # the second one sees who holds it
    taken, row = takeover.join(engine, "c1", "olga", "Olga", 102.0)  # a second tab
    assert taken and row.started_at == 100.0
    assert takeover.holder(engine, "c1") == row
    assert takeover.holder(engine, "c2") is None


def test_release_only_by_the_holder_unless_forced(engine: sa.engine.Engine) -> None:
    takeover.join(engine, "c1", "olga", "Olga", 100.0)
    assert takeover.release(engine, "c1", "adam") is None
    assert takeover.holder(engine, "c1") is not None
    ended = takeover.release(engine, "c1")
    assert ended is not None and ended.username == "olga"
    assert takeover.holder(engine, "c1") is None
    assert takeover.join(engine, "c1", "adam", "IOM", 200.0)[0]


def test_expired_when_the_console_is_gone_or_idle(engine: sa.engine.Engine) -> None:
    takeover.join(engine, "gone", "olga", "Olga", 0.0)
    takeover.join(engine, "idle", "adam", "Adam", 0.0)
    takeover.join(engine, "fine", "ewa", "Ewa", 0.0)
    takeover.touch(engine, "idle", "adam", 100.0)  # watching, never writing
    takeover.touch(engine, "fine", "ewa", 100.0, active=True)
    assert not takeover.touch(engine, "fine", "olga", 100.0)  # not hers
    expired = {t.conversation_id for t in takeover.expired(engine, 100.0, 30, 60)}
    assert expired == {"gone", "idle"}
    assert takeover.expired(engine, 100.0, 200, 200) == []


def test_presence_counts_operators_seen_lately(engine: sa.engine.Engine) -> None:
    assert takeover.operators_online(engine, 1000.0) == 0
    takeover.present(engine, "olga", 1000.0)
    takeover.present(engine, "olga", 1001.0)
    takeover.present(engine, "adam", 900.0)
    assert takeover.operators_online(engine, 1001.0, within=60) == 1
    assert takeover.operators_online(engine, 1001.0, within=200) == 2
    assert takeover.operators_online(engine, 5000.0) == 0


def test_open_widget_sockets(engine: sa.engine.Engine) -> None:
    takeover.socket_opened(engine, "sid-1", "c1", 100.0)
    takeover.socket_opened(engine, "sid-2", "c1", 100.0)  # a second tab
    takeover.socket_opened(engine, "sid-1", "c1", 101.0)  # the same socket again
    assert takeover.widget_open(engine, "c1")
    assert takeover.open_widgets(engine) == {"c1"}
    takeover.socket_closed(engine, "sid-1")
    assert takeover.widget_open(engine, "c1")
    takeover.socket_closed(engine, "sid-2")
    assert not takeover.widget_open(engine, "c1")
    takeover.socket_opened(engine, "old", "c2", 0.0)
    takeover.socket_opened(engine, "new", "c3", 10 * takeover.STALE_SOCKET_SECONDS)
    assert takeover.open_widgets(engine) == {"c3"}  # left over from a crash: gone


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("Anna", "Anna"),
        ("  Anna  Maria ", "Anna Maria"),
        ("", "IOM"),
        (None, "IOM"),
        ("<script>", "IOM"),
        ("Anna 555 123 456", "IOM"),
        ("Ołena", "Ołena"),
        ("Олена", "Олена"),
        ("A" * 100, "A" * takeover.MAX_NAME),
    ],
)
def test_the_name_the_person_sees(typed: str | None, shown: str) -> None:
    assert takeover.shown_name(typed) == shown
