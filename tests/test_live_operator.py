"""Live operator conversations, the Rasa side, against the real running bot.

A python-socketio client plays the widget; the console's own Rasa API client
(`iom.console.rasa_api`, standard library only) and the shared live tables
(`iom.core.takeover`) play the console. Rasa runs with its HTTP API on, on 127.0.0.1,
with a token, as `make run` starts it. The browser flow is in test_live_chat.py.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import socketio
import sqlalchemy as sa
import yaml

from iom.console.rasa_api import RasaApi, RasaApiError
from iom.core import db, takeover
from iom.tools.launch import LiveBot
from tests.conftest import ROOT

TOKEN = secrets.token_urlsafe(36)
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text("utf-8"))


def text_of(response: str, language: str = "pl") -> str:
    for variation in DOMAIN["responses"][response]:
        if variation["condition"][0]["value"] == language:
            return str(variation["text"])
    raise KeyError(response)


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBot]:
    live = LiveBot(tmp_path_factory.mktemp("live-operator"), api_token=TOKEN)
    yield live
    live.close()


@pytest.fixture()
def engine(bot: LiveBot) -> sa.engine.Engine:
    return db.migrated_engine(f"sqlite:///{bot.db}")


class Widget:
    """What the widget receives: whole `bot_uttered` messages, `user_received` acks."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.received = 0
        self.session = ""
        self.confirmed = asyncio.Event()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("session_confirm", self._confirm)
        self.sio.on("bot_uttered", self._bot)
        self.sio.on("user_received", self._received)

    async def _confirm(self, session: str) -> None:
        self.session = session
        self.confirmed.set()

    async def _bot(self, data: dict[str, Any]) -> None:
        self.messages.append(data)

    async def _received(self, _: Any = None) -> None:
        self.received += 1

    @classmethod
    async def open(cls, url: str) -> Widget:
        widget = cls()
        await widget.sio.connect(url, transports=["polling"])
        await widget.sio.emit("session_request", {"session_id": None})
        await asyncio.wait_for(widget.confirmed.wait(), 20)
        return widget

    async def wait_for(self, count: int, seconds: float = 30) -> list[dict[str, Any]]:
        """Until `count` messages have arrived since the start; all of them."""
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(self.messages) >= count, self.messages
        return self.messages

    async def say(self, text: str) -> None:
        await self.sio.emit(
            "user_uttered", {"message": text, "metadata": {"language": "pl"}}
        )

    async def close(self) -> None:
        await self.sio.eio.disconnect(abort=True)
        if self.sio.eio.http is not None:
            await self.sio.eio.http.close()


def stored(engine: sa.engine.Engine, sender: str) -> list[tuple[str, dict[str, Any]]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "select type_name, data from events where sender_id=:s order by id"
            ),
            {"s": sender},
        ).all()
    return [(row[0], json.loads(row[1])) for row in rows]


async def takeover_flow(
    socket_url: str, apis: list[RasaApi], engine: sa.engine.Engine
) -> None:
    """The whole flow; the console's calls go to each of `apis` in turn.

    With two Rasa instances, the widget's socket is on one of them and the operator's
    calls reach both: each message must arrive whichever instance emitted it.
    """
    api, other = apis[0], apis[-1]
    widget = await Widget.open(socket_url)
    try:
        person = widget.session
        assert takeover.widget_open(engine, person)

        # an operator has the console open: the person hears someone will join
        takeover.present(engine, "olga", time.time())
        await widget.say("Chcę porozmawiać z człowiekiem")
        texts = [m["text"] for m in await widget.wait_for(2)]
        assert texts[-1] == text_of("utter_handoff_operator_online")
        assert "112" in texts[0]  # the phone lines first, as when nobody is online

        # the operator joins: the bot stops answering, the person is told
        seen = len(widget.messages)
        assert takeover.join(engine, person, "olga", "Anna", time.time())[0]
        api.join(person, "Anna")
        joined = (await widget.wait_for(seen + 1))[seen]
        assert joined["text"] == text_of("utter_operator_joined")
        assert "operator" not in joined  # the bot's text, not the operator's

        # the operator writes: one message, marked with the name only
        for number, each in enumerate(apis, start=1):
            text = f"Dzień dobry ({number}), tu Anna. Mój prywatny: 601 234 567."
            seen = len(widget.messages)
            each.say(person, text, "Anna", "olga")
            message = (await widget.wait_for(seen + 1))[seen]
            assert message == {"text": text, "operator": "Anna"}

        # the person writes: stored, acknowledged, no bot answer
        seen = len(widget.messages)
        await widget.say("Jak mogę dostać kartę pobytu?")
        deadline = time.monotonic() + 20
        while widget.received < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert widget.received == 1, widget.messages[seen:]
        await asyncio.sleep(1.0)
        assert len(widget.messages) == seen, widget.messages[seen:]

        # a danger message still gets the safety answer at once
        await widget.say("Ktoś mi grozi, boję się o swoje życie")
        danger = await widget.wait_for(seen + 1)
        assert "112" in danger[seen]["text"]

        # hand back: the person is told, and the bot answers again
        takeover.release(engine, person, "olga")
        seen = len(widget.messages)
        other.hand_back(person)
        left = (await widget.wait_for(seen + 1))[seen]
        assert left["text"] == text_of("utter_operator_left")
        seen = len(widget.messages)
        await widget.say("Jak mogę dostać kartę pobytu?")
        answer = (await widget.wait_for(seen + 1))[seen]
        assert answer.get("text") and "operator" not in answer

        events = stored(engine, person)
        operator = [
            d for kind, d in events if kind == "bot" and d["metadata"].get("operator")
        ]
        assert len(operator) == len(apis)
        metadata = operator[0]["metadata"]
        assert (metadata["operator"], metadata["operator_user"]) == ("Anna", "olga")
        assert "601 234 567" not in operator[0]["text"]  # redacted before storage
        assert "[PHONE]" in operator[0]["text"]
        users = [d["text"] for kind, d in events if kind == "user"]
        assert users.count("Jak mogę dostać kartę pobytu?") == 2  # nothing lost
        slots = [
            d["value"]
            for kind, d in events
            if kind == "slot" and d["name"] == "operator"
        ]
        assert slots == ["Anna", "Anna", None, None]  # before and after `execute`
    finally:
        await widget.close()


def test_operator_takes_over_and_hands_back(
    bot: LiveBot, engine: sa.engine.Engine
) -> None:
    url = f"http://127.0.0.1:{bot.rasa_port}"
    asyncio.run(takeover_flow(url, [RasaApi(url, TOKEN)], engine))


def test_the_api_refuses_a_wrong_token(bot: LiveBot) -> None:
    api = RasaApi(f"http://127.0.0.1:{bot.rasa_port}", "not-the-token")
    with pytest.raises(RasaApiError, match="refused"):
        api.say("someone", "hello", "Anna", "olga")
    with pytest.raises(RasaApiError, match="not set"):
        RasaApi(f"http://127.0.0.1:{bot.rasa_port}", "").say("x", "y", "A", "o")


def test_a_socket_that_closes_is_no_longer_open(
    bot: LiveBot, engine: sa.engine.Engine
) -> None:
    async def run() -> str:
        widget = await Widget.open(f"http://127.0.0.1:{bot.rasa_port}")
        assert takeover.widget_open(engine, widget.session)
        await widget.sio.disconnect()
        return widget.session

    session = asyncio.run(run())
    deadline = time.monotonic() + 10
    while takeover.widget_open(engine, session) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not takeover.widget_open(engine, session)


def test_joining_a_conversation_whose_session_must_start_anew(bot: LiveBot) -> None:
    """`execute` starts a new session there; the operator slot must be in it."""
    url = f"http://127.0.0.1:{bot.rasa_port}"
    api = RasaApi(url, TOKEN)
    api.join("no-session-yet", "Anna")
    with urllib.request.urlopen(
        f"{url}/conversations/no-session-yet/tracker?token={TOKEN}", timeout=30
    ) as response:
        tracker = json.load(response)
    assert tracker["slots"]["operator"] == "Anna"
    assert tracker["latest_action_name"] == "action_listen"
    api.hand_back("no-session-yet")
    with urllib.request.urlopen(
        f"{url}/conversations/no-session-yet/tracker?token={TOKEN}", timeout=30
    ) as response:
        assert json.load(response)["slots"]["operator"] is None
