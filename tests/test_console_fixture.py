"""Real conversations for the operator console's tests.

The console's tests (tests/console/) must read a tracker store written by Rasa itself,
not hand-made rows. This test talks to the real bot over REST (the shared live bot),
checks a few answers, and saves a consistent copy of its SQLite tracker store to
var/fixtures/console_tracker.db (SQLite's backup API). `make test` runs it before
the console's tests.
"""

from __future__ import annotations

import sqlite3

from iom.tools.launch import LiveBot
from tests.conftest import ROOT, load_yaml

FIXTURE = ROOT / "var" / "fixtures" / "console_tracker.db"

CONVERSATIONS: dict[str, list[str]] = {
    "fixture-pl-trafficking": [
        "dzień dobry",
        "szef zabrał mi paszport i nie mogę odejść z pracy",
        "mój numer to 600 100 200, email jan.kowalski@example.com",
        "dziękuję",
    ],
    "fixture-en-danger": ["help they locked me in a room and threaten me", "thanks"],
    "fixture-pl-handoff": ["chcę rozmawiać z człowiekiem"],
    "fixture-en-contact": ["hello", "what is the phone number of IOM?"],
    "fixture-fallback": ["asdf qwer zxcv"],  # then FALLBACK_CANDIDATES, see below
    "fixture-xss": ["<script>alert(1)</script> <img src=x onerror=alert(2)>"],
    "fixture-sql": ["'; DROP TABLE events; --"],
    "fixture-pl-polish-course": ["gdzie mogę się nauczyć polskiego w Krakowie"],
    "fixture-en-residence": [
        "how do I get a residence card",
        "my passport number is AB1234567 and PESEL 90010112345",
    ],
}


# What a model is unsure about changes with every training run: the fallback
# conversation goes on with these until one of them gets the clarification.
FALLBACK_CANDIDATES = [
    "bla bla bla",
    "kjhg lkjh",
    "qwrty zxcvb plmokn",
    "zzzz hmm",
    "xqzt vbnm kjhg",
    "ggg fff ddd",
]


def record_a_fallback(live_bot: LiveBot, sender: str, first_answer: str) -> None:
    clarify = {
        v["text"] for v in load_yaml(ROOT / "domain.yml")["responses"]["utter_clarify"]
    }
    answer = first_answer
    for candidate in FALLBACK_CANDIDATES:
        if answer in clarify:
            return
        answer = "\n".join(live_bot.say(sender, candidate))
    assert answer in clarify, "no candidate message got the clarification"


def test_record_real_conversations_for_the_console(live_bot: LiveBot) -> None:
    answers = {}
    for sender, messages in CONVERSATIONS.items():
        for message in messages:
            answers[(sender, message)] = "\n".join(live_bot.say(sender, message))
    record_a_fallback(
        live_bot, "fixture-fallback", answers[("fixture-fallback", "asdf qwer zxcv")]
    )
    assert (
        "112" in answers[("fixture-en-danger", CONVERSATIONS["fixture-en-danger"][0])]
    )
    assert (
        "+48 22 628 01 20"
        in answers[
            ("fixture-pl-trafficking", CONVERSATIONS["fixture-pl-trafficking"][1])
        ]
    )
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.unlink(missing_ok=True)
    source = sqlite3.connect(live_bot.db)
    target = sqlite3.connect(FIXTURE)
    with target:
        source.backup(target)
    source.close()
    target.close()
    with sqlite3.connect(FIXTURE) as check:
        senders = {r[0] for r in check.execute("select distinct sender_id from events")}
    assert set(CONVERSATIONS) <= senders
