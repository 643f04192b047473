"""Bad input on the public REST channel: a polite answer or a clear 4xx, never a 500.

Against the real Rasa server (shared live bot). After each bad input, the next normal
message in the same conversation is answered correctly.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest
import sqlalchemy as sa

from iom.tools.launch import LiveBot


def post(
    bot: LiveBot, body: bytes, content_type: str = "application/json"
) -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{bot.rasa_port}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": content_type, "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def say(bot: LiveBot, sender: str, message: object) -> tuple[int, str]:
    return post(bot, json.dumps({"sender": sender, "message": message}).encode())


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b'{"sender": "x", "message":', "application/json", "parsing body as json"),
        (b"hello", "text/plain", "parsing body as json"),
        (b"[1, 2]", "application/json", "Send a JSON object"),
        (b'{"message": "hello"}', "application/json", "`sender` must be"),
        (b'{"sender": "", "message": "hello"}', "application/json", "`sender` must be"),
        (
            json.dumps({"sender": "a" * 129, "message": "hi"}).encode(),
            "application/json",
            "`sender` must be",
        ),
        (
            b'{"sender": "a\\u0000b", "message": "hi"}',
            "application/json",
            "`sender` must be",
        ),
        (b'{"sender": "x"}', "application/json", "`message` must be a string"),
        (
            b'{"sender": "x", "message": 42}',
            "application/json",
            "`message` must be a string",
        ),
        (
            b'{"sender": "x", "message": null}',
            "application/json",
            "`message` must be a string",
        ),
    ],
)
def test_malformed_requests_get_a_clear_400(
    live_bot: LiveBot, body: bytes, content_type: str, expected: str
) -> None:
    status, text = post(live_bot, body, content_type)
    assert status == 400
    assert expected in text and "Traceback" not in text


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   \n\t ",
        "😀😀😀",
        "\x00\x07\x1b[31mhello",
        "Привет hello cześć مرحبا",
        "pomoc " * 3400,  # 20,400 characters
        "<script>alert(1)</script>",
        "'; DROP TABLE events; --",
    ],
)
def test_odd_messages_get_a_polite_answer_and_the_next_one_works(
    live_bot: LiveBot, message: str
) -> None:
    sender = uuid.uuid4().hex
    status, text = say(live_bot, sender, message)
    assert status == 200, text
    answers = json.loads(text)
    assert answers and all(a.get("text") or a.get("buttons") for a in answers)
    status, text = say(live_bot, sender, "numer do biura IOM")
    assert status == 200 and "Infolinia Migrant Info (IOM)" in text


def test_a_typed_command_cannot_set_slots(live_bot: LiveBot) -> None:
    sender = uuid.uuid4().hex
    crafted = '/ask_info_line{"city": "<b>Atlantis</b>", "language": "en"}'
    status, text = say(live_bot, sender, crafted)
    assert status == 200 and json.loads(text)
    with sa.create_engine(f"sqlite:///{live_bot.db}").connect() as connection:
        rows = connection.execute(
            sa.text(
                "select data from events where sender_id=:s and type_name in ('user','slot')"
            ),
            {"s": sender},
        ).all()
    events = [json.loads(r[0]) for r in rows]
    assert events[0]["text"] == "/ask_info_line"
    assert not any(e.get("name") == "city" and e.get("value") for e in events)
    assert "Atlantis" not in text
