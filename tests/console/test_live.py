"""Live operator conversations in the console: who may join, write and hand back.

Rasa's HTTP API is replaced by a recording fake (the real one is exercised against a
running bot in tests/test_live_operator.py and in the browser in test_live_chat.py);
everything else is the real app on a copy of the recorded tracker store.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from iom.console import auth
from iom.console.app import Settings, create_app
from iom.console.live import Live
from iom.console.rasa_api import RasaApiError
from iom.core import db, takeover
from tests.console.conftest import login

CHAT = "fixture-pl-trafficking"


class FakeApi:
    """Records the calls the console makes to Rasa; can be told to fail."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.down = False

    def _call(self, *call: str) -> None:
        if self.down:
            raise RasaApiError("The assistant is not reachable (test).")
        self.calls.append(call)

    def join(self, conversation_id: str, display_name: str) -> None:
        self._call("join", conversation_id, display_name)

    def say(self, conversation_id: str, text: str, name: str, username: str) -> None:
        self._call("say", conversation_id, text, name, username)

    def hand_back(self, conversation_id: str) -> None:
        self._call("hand_back", conversation_id)


@pytest.fixture()
def app_and_api(db_url: str, contacts: Path) -> tuple[TestClient, FakeApi, Live]:
    app = create_app(Settings(database_url=db_url, sync_seconds=0))
    api = FakeApi()
    app.state.live.api = api
    return app, api, app.state.live  # type: ignore[return-value]


@pytest.fixture()
def engine(db_url: str) -> sa.engine.Engine:
    return db.engine_for(db_url)


def _client(app: object) -> TestClient:
    return TestClient(app, follow_redirects=False)  # type: ignore[arg-type]


def _audit(engine: sa.engine.Engine) -> list[tuple[str, str, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(db.audit.c.username, db.audit.c.action, db.audit.c.detail)
            .where(db.audit.c.action.like("live_%"))
            .order_by(db.audit.c.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_join_write_and_hand_back(app_and_api, engine) -> None:  # type: ignore[no-untyped-def]
    app, api, _ = app_and_api
    takeover.socket_opened(engine, "sid-1", CHAT, 1e12)  # the person's widget is open
    with _client(app) as client:
        csrf = login(client, "olga")
        page = client.get(f"/conversations/{CHAT}").text
        assert "Join chat" in page
        response = client.post(
            f"/live/{CHAT}/join", data={"csrf_token": csrf, "display_name": "Anna"}
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/live/{CHAT}"
        live = client.get(f"/live/{CHAT}").text
        assert "You are in this chat as <strong>Anna</strong>" in live
        response = client.post(
            f"/live/{CHAT}/say",
            data={"csrf_token": csrf, "text": "Dzień dobry"},
            headers={"X-Requested-With": "fetch"},
        )
        assert response.json() == {"ok": True}
        empty = client.post(
            f"/live/{CHAT}/say",
            data={"csrf_token": csrf, "text": "  "},
            headers={"X-Requested-With": "fetch"},
        )
        assert empty.status_code == 400 and "empty" in empty.json()["error"]
        response = client.post(f"/live/{CHAT}/leave", data={"csrf_token": csrf})
        assert response.status_code == 303
    assert api.calls == [
        ("join", CHAT, "Anna"),
        ("say", CHAT, "Dzień dobry", "Anna", "olga"),
        ("hand_back", CHAT),
    ]
    assert takeover.holder(engine, CHAT) is None
    assert _audit(engine) == [
        ("olga", "live_join", "Anna"),
        ("olga", "live_message", None),  # never the text
        ("olga", "live_leave", "handed back"),
    ]


def test_a_second_operator_sees_who_holds_the_chat(app_and_api, engine) -> None:  # type: ignore[no-untyped-def]
    app, api, _ = app_and_api
    takeover.socket_opened(engine, "sid-1", CHAT, 1e12)
    with _client(app) as olga, _client(app) as adam:
        olga_csrf = login(olga, "olga")
        adam_csrf = login(adam, "adam")
        assert (
            olga.post(f"/live/{CHAT}/join", data={"csrf_token": olga_csrf}).status_code
            == 303
        )
        refused = adam.post(f"/live/{CHAT}/join", data={"csrf_token": adam_csrf})
        assert refused.status_code == 409
        assert "olga is already in this chat" in refused.text
        assert "olga is in this chat" in adam.get(f"/conversations/{CHAT}").text
        said = adam.post(
            f"/live/{CHAT}/say",
            data={"csrf_token": adam_csrf, "text": "hello"},
            headers={"X-Requested-With": "fetch"},
        )
        assert said.status_code == 409
        assert (
            adam.post(f"/live/{CHAT}/leave", data={"csrf_token": adam_csrf}).status_code
            == 409
        )
    assert takeover.holder(engine, CHAT).username == "olga"  # type: ignore[union-attr]
    assert [c[0] for c in api.calls] == ["join"]
    assert api.calls[0][2] == takeover.TEAM  # no name typed: "IOM", never "olga"


def test_anonymous_and_forged_requests_change_nothing(app_and_api, engine) -> None:  # type: ignore[no-untyped-def]
    app, api, _ = app_and_api
    takeover.socket_opened(engine, "sid-1", CHAT, 1e12)
    with _client(app) as client:
        for path in ("/queue/stream", f"/live/{CHAT}/stream", f"/live/{CHAT}"):
            response = client.get(path)
            assert (
                response.status_code == 303 and "/login" in response.headers["location"]
            )
        assert (
            client.post(f"/live/{CHAT}/join", data={"csrf_token": "x"}).status_code
            == 303
        )
        login(client, "olga")
        for data in ({}, {"csrf_token": "forged"}):
            assert client.post(f"/live/{CHAT}/join", data=data).status_code == 403
    assert api.calls == [] and takeover.holder(engine, CHAT) is None


def test_a_closed_chat_window_cannot_be_joined(app_and_api, engine) -> None:  # type: ignore[no-untyped-def]
    app, api, _ = app_and_api
    with _client(app) as client:
        csrf = login(client, "olga")
        assert "Chat window closed" in client.get(f"/conversations/{CHAT}").text
        refused = client.post(f"/live/{CHAT}/join", data={"csrf_token": csrf})
        assert refused.status_code == 409 and "closed" in refused.text
    assert api.calls == []


def test_rasa_unreachable_undoes_the_join(app_and_api, engine) -> None:  # type: ignore[no-untyped-def]
    app, api, _ = app_and_api
    takeover.socket_opened(engine, "sid-1", CHAT, 1e12)
    api.down = True
    with _client(app) as client:
        csrf = login(client, "olga")
        refused = client.post(f"/live/{CHAT}/join", data={"csrf_token": csrf})
        assert refused.status_code == 502 and "not reachable" in refused.text
        assert "Traceback" not in refused.text
    assert takeover.holder(engine, CHAT) is None  # nobody waits on a dead chat


def test_automatic_hand_back_when_the_console_goes_away_or_idles(
    app_and_api, engine  # type: ignore[no-untyped-def]
) -> None:
    _, api, live = app_and_api
    now = [1000.0]
    live.clock = lambda: now[0]
    user = auth.User(1, "olga", "operator", "csrf")
    for chat in ("watched", "gone", "idle"):
        takeover.socket_opened(engine, f"sid-{chat}", chat, 1000.0)
        live.join(user, chat, "Anna")
    now[0] = 1000.0 + live.gone_after - 1
    live.heartbeat(user, "watched")
    live.heartbeat(user, "idle")
    live.say(user, "watched", "still here")
    assert live.hand_back_expired() == []
    now[0] = 1000.0 + live.gone_after + 1  # "gone" had no heartbeat since joining
    assert live.hand_back_expired() == ["gone"]
    now[0] = 1000.0 + live.idle_after + 1  # "idle" watched but never wrote
    live.heartbeat(user, "watched")
    live.heartbeat(user, "idle")
    assert live.hand_back_expired() == ["idle"]
    assert takeover.holder(engine, "watched") is not None
    assert ("hand_back", "gone") in api.calls and ("hand_back", "idle") in api.calls
    timeouts = [a for a in _audit(engine) if a[1] == "live_timeout"]
    assert timeouts == [
        ("system", "live_timeout", "console disconnected"),
        ("system", "live_timeout", "operator idle"),
    ]


def test_the_background_job_hands_back(db_url: str, contacts: Path, engine) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=db_url, sync_seconds=0, takeover_gone_seconds=0.2)
    settings.hand_back_check_seconds = 0.05
    app = create_app(settings)
    api = FakeApi()
    app.state.live.api = api
    takeover.socket_opened(engine, "sid-1", CHAT, 1e12)
    with _client(app) as client:
        csrf = login(client, "olga")
        client.post(f"/live/{CHAT}/join", data={"csrf_token": csrf})
        assert takeover.holder(engine, CHAT) is not None
        deadline = time.monotonic() + 10
        while takeover.holder(engine, CHAT) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
    assert takeover.holder(engine, CHAT) is None
    assert api.calls[-1] == ("hand_back", CHAT)


def test_handoff_queue_shows_join_and_live_parts(app_and_api, engine) -> None:  # type: ignore[no-untyped-def]
    app, _, _ = app_and_api
    with _client(app) as client:
        login(client, "olga")
        page = client.get("/handoffs")
        assert (
            'id="handoff-badge"' in page.text
            and 'src="/static/console.js"' in page.text
        )
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "unsafe-inline" not in page.headers["content-security-policy"]
        assert client.get("/static/console.js").status_code == 200
