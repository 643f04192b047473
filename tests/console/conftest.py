"""Fixtures for the console: a copy of a tracker store written by the real bot.

`tests/test_console_fixture.py` (rasa's venv, run first by `make test`) records real
conversations through Rasa's REST channel into var/fixtures/console_tracker.db.

The app under test has its background indexing job off (`sync_seconds=0`): a test that
adds events calls `index(db_url)`, as the job or `cli sync` would, since page views
never index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from iom.console import auth, tracker
from iom.console.app import Settings, create_app
from iom.core import db

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "var" / "fixtures" / "console_tracker.db"
PASSWORD = "correct horse battery staple"  # pragma: allowlist secret

GET_PAGES = [
    "/",
    "/conversations",
    "/conversations/fixture-pl-trafficking",
    "/corrections",
    "/corrections/export?language=pl",
    "/models",
    "/handoffs",
    "/live/fixture-pl-trafficking",
    "/directory",
    "/directory/kcik/edit",
    "/dashboard",
    "/audit",
]


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    if not FIXTURE.exists():
        message = f"{FIXTURE} missing: run `make pytest` first (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    copy = tmp_path / "tracker.db"
    shutil.copy(FIXTURE, copy)
    url = f"sqlite:///{copy}"
    db.migrate(url)
    engine = db.engine_for(url)
    auth.create_user(engine, "olga", PASSWORD, "operator")
    auth.create_user(engine, "adam", PASSWORD, "admin")
    tracker.sync(engine)
    return url


def index(db_url: str) -> int:
    """Index events added since the last run (what the background job does)."""
    return tracker.sync(db.engine_for(db_url))


def insert_unredacted(db_url: str, sender: str, text: str) -> None:
    """A user event as Rasa's plain SQLTrackerStore wrote it before redaction."""
    event = {"event": "user", "timestamp": time.time(), "text": text}
    event["parse_data"] = {"text": text, "intent": {"name": "greet"}, "entities": []}
    with sa.create_engine(db_url).begin() as connection:
        connection.execute(
            sa.text(
                "insert into events (sender_id, type_name, timestamp, intent_name, data)"
                " values (:s, 'user', :t, 'greet', :d)"
            ),
            {"s": sender, "t": event["timestamp"], "d": json.dumps(event)},
        )


@pytest.fixture()
def contacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "contacts.yml"
    shutil.copy(ROOT / "knowledge" / "contacts.yml", copy)
    monkeypatch.setenv("CONTACTS_FILE", str(copy))
    return copy


@pytest.fixture()
def client(db_url: str, contacts: Path) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=db_url, sync_seconds=0))
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in; returns the session's CSRF token for later forms."""
    form = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_from(form.text),
        },
    )
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/conversations").text)


@pytest.fixture()
def operator(client: TestClient) -> tuple[TestClient, str]:
    return client, login(client, "olga")


@pytest.fixture()
def admin(client: TestClient) -> tuple[TestClient, str]:
    return client, login(client, "adam")
