"""The tables this project owns: Alembic creates them, for the console and the bot alike."""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from iom.core import db
from iom.core.handoff import record_handoff

OLD_HANDOFFS = """
create table handoff_requests (
    id integer primary key autoincrement,
    conversation_id varchar(255) not null,
    language varchar(8), topic varchar(64),
    created_at datetime not null,
    status varchar(16) not null,
    taken_by varchar(255)
)
"""


def tables_and_indexes(url: str) -> tuple[set[str], set[str]]:
    inspector = sa.inspect(sa.create_engine(url))
    names = set(inspector.get_table_names())
    indexes = {i["name"] for i in inspector.get_indexes("handoff_requests")}
    return names, indexes


def test_migrate_creates_every_owned_table_and_never_events(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    db.migrate(url)
    names, indexes = tables_and_indexes(url)
    owned = {t.name for t in db.metadata.sorted_tables}
    assert owned <= names and "handoff_requests" in owned
    assert "events" not in names  # Rasa's table: Rasa creates it
    assert {
        "ix_handoff_requests_conversation_id",
        "ix_handoff_requests_status",
    } <= indexes
    db.migrate(url)  # a second run is a no-op


def test_migrate_adopts_the_table_an_older_action_server_created(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(OLD_HANDOFFS))
        connection.execute(
            sa.text(
                "insert into handoff_requests (conversation_id, created_at, status)"
                " values ('kept', '2026-11-01 10:00:00', 'open')"
            )
        )
    db.migrate(url)
    _, indexes = tables_and_indexes(url)
    assert "ix_handoff_requests_status" in indexes
    with engine.connect() as connection:
        rows = connection.execute(sa.select(db.handoff_requests.c.conversation_id))
        assert [r[0] for r in rows] == ["kept"]


def _migrate(url: str) -> None:
    db.migrate(url)


def test_two_processes_migrating_one_new_database_both_succeed(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_migrate, args=(url,)) for _ in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [p.exitcode for p in processes] == [0, 0]
    names, _ = tables_and_indexes(url)
    assert {"handoff_requests", "console_users"} <= names


def test_the_action_server_records_a_handoff_on_a_new_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    now = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
    record_handoff("user-1", "uk", "trafficking", now=now, url=url)
    with sa.create_engine(url).connect() as connection:
        row = connection.execute(sa.select(db.handoff_requests)).one()
        version = connection.execute(
            sa.text(f"select version_num from {db.VERSION_TABLE}")
        ).scalar()
    assert (row.conversation_id, row.language, row.status) == ("user-1", "uk", "open")
    head = ScriptDirectory.from_config(db.alembic_config(url)).get_current_head()
    assert version == head  # the newest migration, whichever it is
