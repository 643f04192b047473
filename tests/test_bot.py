"""End-to-end through the trained model with Rasa's Agent (make test trains first)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from tests.conftest import MODEL

Loop = asyncio.AbstractEventLoop


@pytest.fixture(scope="module")
def loop() -> Iterator[Loop]:
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()


@pytest.fixture(scope="module")
def agent(loop: Loop) -> Agent:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    return Agent.load(str(MODEL))


def text_of(domain: dict, response: str, language: str) -> str:
    """The response's text in ``language`` (the one text of a multilingual one)."""
    for variation in domain["responses"][response]:
        conditions = variation.get("condition") or []
        if not conditions or conditions[0]["value"] == language:
            return variation["text"]
    raise KeyError(response)


def all_in_language(domain: dict, replies: list[str], language: str) -> bool:
    """Every reply is one of the domain's texts in ``language`` (and there is one)."""
    texts = {text_of(domain, name, language) for name in domain["responses"]}
    return bool(replies) and all(reply in texts for reply in replies)


class Chat:
    """One conversation with the agent."""

    def __init__(self, agent: Agent, loop: Loop) -> None:
        self.agent, self.loop, self.sender = agent, loop, uuid.uuid4().hex

    def say(self, text: str, **metadata: Any) -> list[str]:
        message = UserMessage(
            text, CollectingOutputChannel(), self.sender, metadata=metadata or None
        )
        replies = self.loop.run_until_complete(self.agent.handle_message(message))
        return [r.get("text", "") for r in replies or []]


@pytest.fixture
def chat(agent: Agent, loop: Loop) -> Chat:
    return Chat(agent, loop)


@pytest.mark.parametrize(
    ("message", "response", "language"),
    [
        ("dzień dobry", "utter_greet", "pl"),
        ("hi", "utter_greet", "en"),
        ("co to jest IOM?", "utter_about_iom", "pl"),
        ("what is IOM", "utter_about_iom", "en"),
        (
            "moj pracodawca zabral mi paszport i nie pozwala odejsc",
            "utter_trafficking_help",
            "pl",
        ),
        ("my boss took my passport and I cant leave", "utter_trafficking_help", "en"),
        ("zamkneli mnie w pokoju i grozą mi", "utter_immediate_danger", "pl"),
        ("they locked me in and will hurt me", "utter_immediate_danger", "en"),
        ("jak dostac karte pobytu", "utter_residence", "pl"),
        ("how do I get a residence card", "utter_residence", "en"),
        ("pracodawca nie płaci mi wypłaty", "utter_work_rights", "pl"),
        ("what's the weather tomorrow", "utter_out_of_scope", "en"),
        ("Привіт, мені потрібна допомога", "utter_greet", "uk"),
        ("Роботодавець забрав мій паспорт", "utter_trafficking_help", "uk"),
        (
            "хозяин забрал паспорт и говорит отработать долг",
            "utter_trafficking_help",
            "ru",
        ),
        ("меня заперли в комнате", "utter_immediate_danger", "ru"),
        ("як продовжити карту побиту", "utter_residence", "uk"),
        ("где выучить польский язык", "utter_learn_polish", "ru"),
        ("pryvit, de vyvchyty polsku movu", "utter_learn_polish", "uk"),
        ("გამარჯობა, დახმარება მჭირდება", "utter_other_language", "pl"),
        ("hola necesito ayuda con mi trabajo", "utter_other_language", "pl"),
    ],
)
def test_answers_in_the_users_language(
    chat: Chat, domain: dict, message: str, response: str, language: str
) -> None:
    expected = [text_of(domain, response, language)]
    if response == "utter_work_rights":  # followed by the forced-labour question
        expected.append(text_of(domain, "utter_ask_forced_labour", language))
    assert chat.say(message) == expected


def test_danger_answer_starts_with_112(chat: Chat) -> None:
    (reply,) = chat.say("help they are coming to beat me")
    assert "112" in reply.splitlines()[0]


def test_ambiguous_message_keeps_english(chat: Chat, domain: dict) -> None:
    chat.say("hello")
    replies = chat.say("ok")
    assert all_in_language(domain, replies, "en")


def test_switch_language_on_request(chat: Chat, domain: dict) -> None:
    chat.say("hello")
    assert chat.say("po polsku proszę") == [
        text_of(domain, "utter_language_switched", "pl")
    ]
    assert chat.say("in English please") == [
        text_of(domain, "utter_language_switched", "en")
    ]


def test_widget_language_metadata_decides_ambiguous_messages(
    chat: Chat, domain: dict
) -> None:
    replies = chat.say("ok", language="en")
    assert all_in_language(domain, replies, "en")


def test_danger_interrupts_any_topic(chat: Chat, domain: dict) -> None:
    chat.say("jak dostac karte pobytu")
    assert chat.say("pomocy zamknęli mnie") == [
        text_of(domain, "utter_immediate_danger", "pl")
    ]
    assert chat.say("dziękuję") == [text_of(domain, "utter_thanks", "pl")]
