"""Indexing tracker events: only the background job and `cli sync`, never a page view."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from iom.console import cli, jobs, tracker
from iom.console.app import Settings, create_app
from iom.core import db
from tests.console.conftest import (
    FIXTURE,
    GET_PAGES,
    index,
    insert_unredacted,
    login,
)

Client = tuple[TestClient, str]
MORE_GETS = [
    "/login",
    "/healthz",
    "/conversations?q=dzie&language=pl&page=1",
    "/conversations/arrived-late",
    "/handoffs?status=open",
    "/dashboard?days=3",
    "/corrections/export?language=en",
]


def _database(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to compare before and after."""
    engine = sa.create_engine(db_url)
    with engine.connect() as connection:
        return {
            table: sorted(
                (
                    tuple(row)
                    for row in connection.execute(sa.text(f"select * from {table}"))
                ),
                key=repr,
            )
            for table in sa.inspect(engine).get_table_names()
        }


def test_page_views_write_nothing(admin: Client, db_url: str) -> None:
    """Not even the index: an event that came in stays unindexed until a sync."""
    client, _ = admin
    insert_unredacted(db_url, "arrived-late", "dzień dobry")
    before = _database(db_url)
    for path in [*GET_PAGES, *MORE_GETS]:
        assert client.get(path).status_code in (200, 303), path
        after = _database(db_url)
        if path.startswith("/corrections/export"):  # the export is audited
            added = set(after["console_audit"]) - set(before["console_audit"])
            assert [row[3] for row in added] == ["export"]  # (id, at, user, action..
            before["console_audit"] = after["console_audit"]
        assert after == before, path
    assert "arrived-late" not in client.get("/conversations").text
    assert index(db_url) == 1
    assert "arrived-late" in client.get("/conversations").text


def test_the_background_job_indexes_new_events(db_url: str, contacts: Path) -> None:
    app = create_app(Settings(database_url=db_url, sync_seconds=0.05))
    with TestClient(app, follow_redirects=False) as client:
        job = app.state.index_job
        login(client, "olga")
        insert_unredacted(db_url, "arrived-late", "dzień dobry")
        deadline = time.monotonic() + 10
        while "arrived-late" not in client.get("/conversations").text:
            assert time.monotonic() < deadline, "not indexed within 10 s"
            time.sleep(0.05)
        assert job.runs >= 2  # once at start, then again
    runs = job.runs
    time.sleep(0.2)
    assert job.runs == runs  # stopped with the app


def test_sync_seconds_0_turns_the_job_off(db_url: str, contacts: Path) -> None:
    app = create_app(Settings(database_url=db_url, sync_seconds=0))
    with TestClient(app, follow_redirects=False) as client:
        login(client, "olga")
        insert_unredacted(db_url, "arrived-late", "dzień dobry")
        time.sleep(0.3)
        assert "arrived-late" not in client.get("/conversations").text
        assert app.state.index_job.runs == 0


def test_cli_sync_indexes_new_events(
    operator: Client, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m iom.console.cli sync`, for cron when the job is off."""
    client, _ = operator
    insert_unredacted(db_url, "arrived-late", "dzień dobry")
    assert cli.main(["--url", db_url, "sync"]) == 0
    assert "Indexed 1 new events." in capsys.readouterr().out
    assert "arrived-late" in client.get("/conversations").text
    assert cli.main(["--url", db_url, "sync"]) == 0
    assert "Indexed 0 new events." in capsys.readouterr().out


def test_runs_of_the_job_never_overlap(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def slow_sync(engine: sa.engine.Engine) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return 1

    monkeypatch.setattr(tracker, "sync", slow_sync)
    job = jobs.IndexJob(db.engine_for(db_url), interval=0)

    async def three_at_once() -> list[int]:
        return list(await asyncio.gather(*(job.run_once() for _ in range(3))))

    assert asyncio.run(three_at_once()) == [1, 1, 1]
    assert most == 1 and job.runs == 3


def test_a_failing_run_is_logged_and_the_job_goes_on(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(engine: sa.engine.Engine) -> int:
        raise sa.exc.OperationalError("select 1", {}, Exception("database is locked"))

    monkeypatch.setattr(tracker, "sync", broken)
    job = jobs.IndexJob(db.engine_for(db_url), interval=0.01)

    async def run_a_while() -> None:
        job.start()
        await asyncio.sleep(0.2)
        await job.stop()

    asyncio.run(run_a_while())
    assert job.runs >= 2
    assert "indexing new tracker events failed" in caplog.text


def _fresh_copy(tmp_path: Path, name: str) -> str:
    copy = tmp_path / name
    shutil.copy(FIXTURE, copy)
    url = f"sqlite:///{copy}"
    db.migrate(url)
    return url


def _index_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    tables = _database(url)
    return {
        name: rows
        for name, rows in tables.items()
        if name in ("console_conversations", "console_conversation_intents")
    }


def test_two_syncs_at_once_index_each_event_once(tmp_path: Path) -> None:
    """E.g. `cli sync` from cron while the console's job runs (two processes)."""
    if not FIXTURE.exists():
        pytest.skip(f"{FIXTURE} missing")
    once = _fresh_copy(tmp_path, "once.db")
    assert tracker.sync(db.engine_for(once)) > 0
    twice = _fresh_copy(tmp_path, "twice.db")
    start = threading.Barrier(2)
    errors: list[Exception] = []

    def run() -> None:
        engine = db.engine_for(twice)  # its own connections, as another process
        start.wait()
        try:
            tracker.sync(engine, batch=7)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert _index_rows(twice) == _index_rows(once)  # no event counted twice
