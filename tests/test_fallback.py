"""A turn never ends in silence (iom/rasa/channels/fallback.py), with real Rasa objects."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from iom.rasa.channels.fallback import (
    clean_text,
    fallback_text,
    language_for,
    never_silent,
)
from iom.rasa.channels.socketio import CountingSocketIOOutput


@pytest.mark.parametrize(
    ("text", "metadata", "language"),
    [
        ("numer do biura IOM", None, "pl"),
        ("what is the phone number of IOM?", None, "en"),
        ("ok", {"language": "en"}, "en"),
        ("what is the number", {"language": "pl"}, "pl"),
        ("", None, "pl"),
        ("👍", {"language": "xx"}, "pl"),
        (None, "not a dict", "pl"),
    ],
)
def test_language_of_the_fallback(text, metadata, language: str) -> None:
    assert language_for(text, metadata) == language


def test_the_fallback_comes_from_the_domain_with_the_key_lines() -> None:
    polish = fallback_text("numer do biura IOM")
    english = fallback_text("phone number of IOM please")
    for text in (polish, english):
        assert (
            "112" in text and "+48 22 628 01 20" in text and "+48 22 490 20 44" in text
        )
    assert polish.startswith("Przepraszam") and english.startswith("Sorry")


def run(handler, text: str, output) -> list:
    message = UserMessage(text, output, "someone", input_channel="rest")
    asyncio.run(never_silent(handler)(message))
    return output.messages


def test_a_silent_turn_gets_the_fallback() -> None:
    async def silent(message: UserMessage) -> None:
        return None

    messages = run(silent, "numer do biura IOM", CollectingOutputChannel())
    assert len(messages) == 1 and "+48 22 490 20 44" in messages[0]["text"]


def test_a_failing_turn_gets_the_fallback() -> None:
    async def broken(message: UserMessage) -> None:
        raise ConnectionError("action server down")

    messages = run(broken, "where is the IOM office", CollectingOutputChannel())
    assert messages[0]["text"].startswith("Sorry")


def test_an_answered_turn_is_left_alone() -> None:
    async def answers(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "Hello!")

    assert [m["text"] for m in run(answers, "hello", CollectingOutputChannel())] == [
        "Hello!"
    ]


def test_the_socketio_output_counts_what_it_sends() -> None:
    class FakeServer:
        def __init__(self) -> None:
            self.emitted: list = []

        async def emit(self, event, data, room=None) -> None:
            self.emitted.append((event, data, room))

    server = FakeServer()
    output = CountingSocketIOOutput(server, "bot_uttered")

    async def silent(message: UserMessage) -> None:
        return None

    asyncio.run(
        never_silent(silent)(
            UserMessage("cześć", output, "s1", input_channel="socketio")
        )
    )
    assert output.sent == 1 and server.emitted[0][0] == "bot_uttered"
    assert "112" in server.emitted[0][1]["text"] and server.emitted[0][2] == "s1"


class _Server:
    def __init__(self) -> None:
        self.emitted: list[tuple[str, Any, Any]] = []

    async def emit(self, event: str, data: Any, room: Any = None) -> None:
        self.emitted.append((event, data, room))


def test_a_silent_turn_while_an_operator_holds_the_chat_stays_silent() -> None:
    server = _Server()
    output = CountingSocketIOOutput(server, "bot_uttered")
    asked: list[str] = []

    async def silent(message: UserMessage) -> None:
        return None

    async def held(sender_id: str) -> bool:
        asked.append(sender_id)
        return True

    message = UserMessage("cześć", output, "s1", input_channel="socketio")
    asyncio.run(never_silent(silent, held)(message))
    assert output.sent == 0 and server.emitted == [] and asked == ["s1"]


def test_an_operator_message_reaches_the_widget_whole_with_the_name() -> None:
    server = _Server()
    output = CountingSocketIOOutput(server, "bot_uttered")
    text = "Dzień dobry.\n\nTu Anna z zespołu IOM."
    message = {"text": text, "operator": "Anna", "operator_user": "olga", "x": 1}
    asyncio.run(output.send_response("s1", message))
    # one message (Rasa would split it at the blank line), the name, nothing else
    assert server.emitted == [("bot_uttered", {"text": text, "operator": "Anna"}, "s1")]
    asyncio.run(output.send_response("s1", {"text": "A.\n\nB."}))
    assert [e[1] for e in server.emitted[1:]] == [{"text": "A."}, {"text": "B."}]


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        # the language question's buttons pass, in one canonical form
        ('/switch_language{"language": "uk"}', '/switch_language{"language": "uk"}'),
        ('/switch_language{"language":"ru"}', '/switch_language{"language": "ru"}'),
        # anything else loses its entity part
        ('/switch_language{"language": "de"}', "/switch_language"),
        ('/switch_language{"language": "uk", "city": "X"}', "/switch_language"),
        ('/switch_language{"city": "Kraków"}', "/switch_language"),
        ('/ask_info_line{"language": "uk"}', "/ask_info_line"),
        # the city question's buttons: a known city or "*" (anywhere), nothing else
        ('/ask_info_line{"city": "Kraków"}', '/ask_info_line{"city": "Kraków"}'),
        ('/ask_info_line{"city":"*"}', '/ask_info_line{"city": "*"}'),
        ('/ask_info_line{"city": "Atlantis"}', "/ask_info_line"),
        ('/ask_info_line{"city": "Kraków", "topic": "x"}', "/ask_info_line"),
        ('/contact_iom{"city": "Kraków"}', "/contact_iom"),
        ("/greet", "/greet"),
        ("dzień dobry", "dzień dobry"),
    ],
)
def test_only_language_and_city_choices_keep_their_entity(
    typed: str, seen: str
) -> None:
    assert clean_text(typed) == seen
