"""Clarification from the model: the candidates, and action_clarify's buttons."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionClarify
from iom.core import clarify
from iom.core.language import SUPPORTED

OFFERED = ["ask_residence", "ask_work_rights", "ask_health", "immediate_danger"]


def ranking(*pairs: tuple[str, float]) -> list[dict[str, Any]]:
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def test_the_top_answerable_intents_best_first() -> None:
    ranked = ranking(
        ("nlu_fallback", 0.7),
        ("ask_health", 0.2),
        ("greet", 0.15),
        ("ask_residence", 0.1),
        ("ask_work_rights", 0.06),
        ("ask_school", 0.05),
    )
    assert clarify.candidates(ranked, OFFERED) == [
        "ask_health",
        "ask_residence",
        "ask_work_rights",
    ]


def test_a_safety_intent_among_the_candidates_comes_first() -> None:
    ranked = ranking(("ask_residence", 0.3), ("immediate_danger", 0.1))
    assert clarify.candidates(ranked, OFFERED) == ["immediate_danger", "ask_residence"]


def test_nothing_usable_in_the_ranking_gives_the_default_topics() -> None:
    ranked = ranking(("greet", 0.5), ("ask_health", 0.01))
    expected = [i for i in clarify.DEFAULT if i in OFFERED]
    assert clarify.candidates(ranked, OFFERED) == expected
    assert clarify.candidates([], OFFERED) == expected


def fallback_tracker(language: str, ranked: list[dict[str, Any]]) -> Tracker:
    return Tracker(
        sender_id="clarify",
        slots={"language": language},
        latest_message={
            "text": "hmm",
            "intent": {"name": "nlu_fallback", "confidence": 0.7},
            "intent_ranking": ranked,
            "entities": [],
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.mark.parametrize("language", SUPPORTED)
def test_buttons_carry_domain_titles_in_the_users_language(
    domain: dict, language: str
) -> None:
    ranked = ranking(("nlu_fallback", 0.7), ("ask_health", 0.2), ("ask_school", 0.1))
    dispatcher = CollectingDispatcher()
    ActionClarify().run(dispatcher, fallback_tracker(language, ranked), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_clarify"
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads == ["/ask_health", "/ask_school", "/deny"]

    def title(response: str) -> str:
        variations = domain["responses"][response]
        return next(
            v["text"] for v in variations if v["condition"][0]["value"] == language
        )

    assert [b["title"] for b in message["buttons"]] == [
        title("utter_title_ask_health"),
        title("utter_title_ask_school"),
        title("utter_title_none"),
    ]


def test_every_offerable_intent_has_a_title_in_every_language(domain: dict) -> None:
    intents = [i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]]
    for intent in intents:
        if intent in clarify.NOT_OFFERED:
            continue
        variations = domain["responses"][f"utter_title_{intent}"]
        languages = {v["condition"][0]["value"] for v in variations}
        assert languages == set(SUPPORTED), intent
