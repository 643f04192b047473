"""The socket.io channel (iom/rasa/channels/socketio.py): the session-room fix and the input checks.

Unit tests for the helpers, then real python-socketio clients against a real Rasa server.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
import socketio
import sqlalchemy as sa

from iom.rasa.channels.socketio import clean_metadata, session_id_from
from iom.tools.launch import LiveBot


@pytest.mark.parametrize(
    ("data", "kept"),
    [
        ({"session_id": "a1b2c3d4e5f6"}, True),
        ({"session_id": "x" * 64}, True),
        ({"session_id": "x" * 65}, False),
        ({"session_id": "short"}, False),
        ({"session_id": "../../etc/passwd"}, False),
        ({"session_id": 12345678}, False),
        ({}, False),
        (None, False),
        ("not a dict", False),
    ],
)
def test_session_ids_are_kept_only_when_well_formed(data: Any, kept: bool) -> None:
    session = session_id_from(data)
    assert (session == data["session_id"]) is kept if kept else len(session) == 32


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"language": "en"}, {"language": "en"}),
        ({"language": "pl", "evil": "x"}, {"language": "pl"}),
        ({"language": "uk"}, {"language": "uk"}),
        ({"language": "ru"}, {"language": "ru"}),
        ({"language": "de"}, {}),
        ("{'language': 'en'}", {}),
        (None, {}),
    ],
)
def test_only_the_language_metadata_passes(metadata: Any, expected: dict) -> None:
    assert clean_metadata({"metadata": metadata}, "metadata") == expected


@pytest.fixture()
def bot(live_bot: LiveBot) -> LiveBot:
    return live_bot


class Client:
    """A python-socketio asyncio client that collects `bot_uttered` texts."""

    def __init__(self) -> None:
        self.replies: list[str] = []
        self.confirmed = asyncio.Event()
        self.got = asyncio.Event()
        self.session: str | None = None
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("session_confirm", self._confirm)
        self.sio.on("bot_uttered", self._reply)

    @classmethod
    async def start(cls, port: int, session_id: str | None) -> Client:
        client = cls()
        await client.sio.connect(f"http://127.0.0.1:{port}", transports=["polling"])
        await client.sio.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(client.confirmed.wait(), 20)
        return client

    async def _confirm(self, session: str) -> None:
        self.session = session
        self.confirmed.set()

    async def _reply(self, data: dict) -> None:
        self.replies.append(data.get("text", ""))
        self.got.set()

    async def say(self, message: Any, **extra: Any) -> list[str]:
        self.replies.clear()
        self.got.clear()
        await self.sio.emit("user_uttered", {"message": message, **extra})
        await asyncio.wait_for(self.got.wait(), 30)
        await asyncio.sleep(0.5)  # later messages of the same turn
        return list(self.replies)

    async def close(self) -> None:
        # abort: a graceful close of the polling transport waits out a long poll (~25 s)
        await self.sio.eio.disconnect(abort=True)
        if self.sio.eio.http is not None:
            await self.sio.eio.http.close()


def user_texts(bot: LiveBot, sender: str) -> list[str]:
    with sa.create_engine(f"sqlite:///{bot.db}").connect() as connection:
        rows = connection.execute(
            sa.text("select data from events where sender_id=:s and type_name='user'"),
            {"s": sender},
        ).all()
    return [json.loads(r[0])["text"] for r in rows]


def test_replies_reach_the_session_and_persist_across_sockets(bot: LiveBot) -> None:
    session = uuid.uuid4().hex

    async def scenario() -> None:
        first = await Client.start(bot.rasa_port, session)
        assert first.session == session
        assert any("Dzień dobry" in r for r in await first.say("cześć"))
        await first.close()
        second = await Client.start(bot.rasa_port, session)  # reconnect: same session
        assert any("Migrant Info" in r for r in await second.say("numer do biura IOM"))
        await second.close()

    asyncio.run(scenario())
    assert user_texts(bot, session) == ["cześć", "numer do biura IOM"]


def test_a_client_cannot_write_into_another_conversation(bot: LiveBot) -> None:
    async def scenario() -> tuple[str, str, list[str]]:
        victim = await Client.start(bot.rasa_port, None)
        attacker = await Client.start(bot.rasa_port, None)
        await attacker.say("hello", session_id=victim.session)
        await asyncio.sleep(0.5)
        await victim.close()
        await attacker.close()
        return victim.session or "", attacker.session or "", victim.replies

    victim, attacker, victim_replies = asyncio.run(scenario())
    assert victim != attacker
    assert user_texts(bot, victim) == []
    assert user_texts(bot, attacker) == ["hello"]
    assert victim_replies == []


def test_malformed_messages_are_ignored_and_the_next_one_is_answered(
    bot: LiveBot,
) -> None:
    async def scenario() -> list[str]:
        client = await Client.start(bot.rasa_port, None)
        for bad in (None, 42, ["x"], {"text": "x"}):
            await client.sio.emit("user_uttered", {"message": bad})
        await client.sio.emit("user_uttered", "not a dict")
        await client.sio.emit("user_uttered")
        await client.sio.emit("session_request", "garbage")
        replies = await client.say("hello")
        await client.close()
        return replies

    assert any("Hello" in r for r in asyncio.run(scenario()))


def test_only_the_widget_origins_may_open_a_socket(bot: LiveBot) -> None:
    allowed = bot.env["CORS_ORIGIN"].split()[0]

    async def connect(origin: str) -> bool:
        client = socketio.AsyncClient(reconnection=False)
        try:
            await client.connect(
                f"http://127.0.0.1:{bot.rasa_port}",
                transports=["polling"],
                headers={"Origin": origin},
            )
        except socketio.exceptions.ConnectionError:
            return False
        await client.eio.disconnect(abort=True)
        if client.eio.http is not None:
            await client.eio.http.close()
        return True

    assert asyncio.run(connect(allowed)) is True
    assert asyncio.run(connect("http://evil.example")) is False
