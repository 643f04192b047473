"""Follow-up questions over HTTP: real Rasa server, real action server (issue 15).

The city question (city_form with validate_city_form), its way out, and the
clarification whose buttons come from the NLU ranking.
"""

from __future__ import annotations

import uuid

from iom.tools.launch import LiveBot


def sender() -> str:
    return uuid.uuid4().hex


def test_the_city_question_takes_an_inflected_town(live_bot: LiveBot) -> None:
    user = sender()
    [question] = live_bot.post(user, "gdzie jest punkt informacyjny dla cudzoziemcow")
    assert "W jakim mieście jesteś?" in question["text"]
    assert "112" in question["text"]
    titles = [b["title"] for b in question["buttons"]]
    assert (
        titles[:2] == ["Warszawa", "Kraków"] and titles[-1] == "Gdziekolwiek w Polsce"
    )
    text = "\n".join(live_bot.say(user, "we Wroclawiu"))
    assert "WroMigrant" in text


def test_anywhere_in_poland_gives_the_nationwide_lines(live_bot: LiveBot) -> None:
    user = sender()
    [question] = live_bot.post(user, "where can foreigners get information")
    anywhere = question["buttons"][-1]
    assert anywhere["title"] == "Anywhere in Poland"
    text = "\n".join(live_bot.say(user, anywhere["payload"]))
    assert "Migrant Info line (IOM)" in text
    assert "no local" not in text.lower() and "*" not in text.split("\n")[0]


def test_danger_inside_the_city_question_is_answered_first(live_bot: LiveBot) -> None:
    user = sender()
    live_bot.say(user, "де є інформаційна лінія для іноземців")
    text = "\n".join(live_bot.say(user, "мене замкнули в кімнаті і погрожують"))
    assert text.lstrip().startswith("112") or "112" in text.split("\n")[0]
    # the question is gone: a new message is not read as a town
    follow = "\n".join(live_bot.say(user, "дякую"))
    assert "У якому місті" not in follow


def test_clarification_offers_the_models_candidates(live_bot: LiveBot) -> None:
    [message] = live_bot.post(sender(), "xqzt vbnm kjhg")
    assert "112" in message["text"]
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[-1] == "/deny" and 1 <= len(payloads) - 1 <= 3
    assert all(p.startswith("/") for p in payloads)


def test_an_unknown_town_gets_the_nationwide_lines(live_bot: LiveBot) -> None:
    user = sender()
    live_bot.say(user, "where can foreigners get information")
    text = "\n".join(live_bot.say(user, "Zyrardow"))
    assert "Zyrardow" in text  # "no local office known in Zyrardow"
    assert "Migrant Info line (IOM)" in text
