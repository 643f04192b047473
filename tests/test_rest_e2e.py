"""End to end over HTTP: real Rasa server + real action server, REST channel.

Also checks that safety answers do not depend on the action server: after it is
stopped, danger and trafficking messages still get 112 / KCIK / La Strada from static
domain responses, a contact lookup gets the static `utter_service_unavailable` answer
instead of silence, and the bot recovers when the action server is back.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.live import LiveBot


@pytest.fixture()
def bot(live_bot: LiveBot) -> LiveBot:
    return live_bot


def sender() -> str:
    return uuid.uuid4().hex


def test_polish_lookup_over_rest(bot: LiveBot) -> None:
    replies = bot.say(sender(), "numer do biura IOM")
    text = "\n".join(replies)
    assert "Infolinia Migrant Info (IOM)" in text
    assert "[+48 22 490 20 44](tel:+48224902044)" in text


def test_english_lookup_over_rest(bot: LiveBot) -> None:
    user = sender()
    bot.say(user, "hello")
    text = "\n".join(bot.say(user, "what is the phone number of IOM?"))
    assert "Migrant Info line (IOM)" in text
    assert "iomwarsaw@iom.int" in text


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("gdzie w Krakowie pomogą cudzoziemcom", "[+48 887 201 598](tel:+48887201598)"),
        ("where can I get help in Wroclaw", "WroMigrant information point (Wrocław)"),
        ("is the trafficking hotline open now?", "+48 22 628 01 20"),
    ],
)
def test_issue_examples_get_sourced_answers(
    bot: LiveBot, message: str, expected: str
) -> None:
    assert expected in "\n".join(bot.say(sender(), message))


def test_handoff_request_is_recorded_in_the_tracker_database(bot: LiveBot) -> None:
    user = sender()
    replies = bot.say(user, "chcę rozmawiać z człowiekiem")
    assert any("Migrant Info" in r for r in replies)
    with sa.create_engine(f"sqlite:///{bot.db}").connect() as connection:
        rows = connection.execute(
            sa.text("select status from handoff_requests where conversation_id = :c"),
            {"c": user},
        ).all()
    assert rows == [("open",)]


def test_safety_answers_work_with_the_action_server_stopped(bot: LiveBot) -> None:
    bot.stop_actions()
    try:
        check_safety_without_actions(bot)
    finally:
        bot.start_actions()  # the other modules share this bot
    # ...and the bot recovers by itself once the action server is back.
    back = "\n".join(bot.say(sender(), "numer do biura IOM"))
    assert "Infolinia Migrant Info (IOM)" in back and not back.startswith("Przepraszam")


def check_safety_without_actions(bot: LiveBot) -> None:
    user = sender()
    danger = "\n".join(bot.say(user, "pomocy zamknęli mnie w pokoju i grożą mi"))
    assert "112" in danger.splitlines()[0]
    trafficking = "\n".join(bot.say(user, "my boss took my passport and I cant leave"))
    assert "+48 22 628 01 20" in trafficking and "+48 605 687 750" in trafficking
    # The lookup needs the action server: a static answer with the key lines instead.
    down = "\n".join(bot.say(user, "numer do biura IOM"))
    assert (
        down.startswith("Przepraszam") and "+48 22 490 20 44" in down and "112" in down
    )
    assert bot.say(user, "dziękuję") == [
        "Nie ma za co. Czy mogę pomóc w czymś jeszcze?"
    ]
