"""LanguagePolicy keeps the `language` slot in step with the user's messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from iom.rasa.nlu.components import LANGUAGE_KEY
from iom.rasa.policy import LanguagePolicy, choose_language

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("detection", "current", "expected"),
    [
        ({"detected": "en"}, "pl", "en"),
        ({"detected": "pl"}, "en", "pl"),
        ({"detected": None}, "en", "en"),
        ({"detected": "other"}, "en", "en"),
        ({"detected": None, "metadata": "en"}, "pl", "en"),
        ({"detected": "pl", "metadata": "en"}, "en", "pl"),
        ({}, None, None),
    ],
)
def test_choose_language(detection: dict, current: str, expected: str) -> None:
    assert choose_language(detection, current) == expected


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def _policy(tmp_path: Path) -> LanguagePolicy:
    return LanguagePolicy.create(
        LanguagePolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("language_policy"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def _tracker(domain: Domain, detected: str | None, slot: str) -> DialogueStateTracker:
    parse = {
        "intent": {"name": "greet", "confidence": 1.0},
        LANGUAGE_KEY: {"detected": detected},
    }
    return DialogueStateTracker.from_events(
        "t",
        [
            ActionExecuted("action_listen"),
            SlotSet("language", slot),
            UserUttered("text", parse_data=parse),
        ],
        slots=domain.slots,
    )


def test_policy_sets_slot_when_language_changes(tmp_path: Path, domain: Domain) -> None:
    prediction = _policy(tmp_path).predict_action_probabilities(
        _tracker(domain, "en", "pl"), domain
    )
    assert prediction.events == [SlotSet("language", "en")]
    assert max(prediction.probabilities) == 0.0


def test_policy_keeps_slot_for_ambiguous_message(
    tmp_path: Path, domain: Domain
) -> None:
    prediction = _policy(tmp_path).predict_action_probabilities(
        _tracker(domain, None, "en"), domain
    )
    assert prediction.events == []


def test_button_payload_takes_the_language_from_the_widget_metadata(
    tmp_path: Path, domain: Domain
) -> None:
    """`/intent` payloads skip the NLU pipeline: only the event metadata is left."""
    tracker = DialogueStateTracker.from_events(
        "t",
        [
            ActionExecuted("action_listen"),
            SlotSet("language", "pl"),
            UserUttered(
                "/ask_learn_polish",
                parse_data={"intent": {"name": "ask_learn_polish", "confidence": 1.0}},
                metadata={"language": "en"},
            ),
        ],
        slots=domain.slots,
    )
    prediction = _policy(tmp_path).predict_action_probabilities(tracker, domain)
    assert prediction.events == [SlotSet("language", "en")]


@pytest.mark.parametrize(
    ("detection", "current", "expected"),
    [
        ({"detected": "uk"}, "pl", "uk"),
        ({"detected": "ru"}, "uk", "ru"),
        ({"detected": None, "metadata": "uk"}, "pl", "uk"),
        ({"detected": "other", "metadata": "ru"}, "pl", "ru"),
    ],
)
def test_choose_language_knows_ukrainian_and_russian(
    detection: dict, current: str, expected: str
) -> None:
    assert choose_language(detection, current) == expected


def _user(
    text: str, intent: str, detection: dict, entities: list | None = None
) -> UserUttered:
    parse = {
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        LANGUAGE_KEY: detection,
    }
    return UserUttered(
        text, parse_data=parse, intent=parse["intent"], entities=entities
    )


def _predict(tmp_path: Path, domain: Domain, *events):  # type: ignore[no-untyped-def]
    tracker = DialogueStateTracker.from_events(
        "t", [ActionExecuted("action_listen"), *events], slots=domain.slots
    )
    prediction = _policy(tmp_path).predict_action_probabilities(tracker, domain)
    best = max(
        range(len(prediction.probabilities)), key=prediction.probabilities.__getitem__
    )
    chosen = domain.action_names_or_texts[best] if prediction.max_confidence else None
    return chosen, prediction.events


UNCLEAR = {"detected": None, "unclear": True, "reason": "ambiguous (0.58)"}


def test_asks_for_the_language_when_unclear_and_unknown(
    tmp_path: Path, domain: Domain
) -> None:
    chosen, _ = _predict(
        tmp_path, domain, _user("PESEL UKR info", "ask_ukraine_help", UNCLEAR)
    )
    assert chosen == "utter_ask_language"


def test_listens_after_asking(tmp_path: Path, domain: Domain) -> None:
    chosen, _ = _predict(
        tmp_path,
        domain,
        _user("PESEL UKR info", "ask_ukraine_help", UNCLEAR),
        ActionExecuted("utter_ask_language"),
    )
    assert chosen == "action_listen"


@pytest.mark.parametrize(
    "events",
    [
        # the widget said which language its page is in
        [_user("PESEL UKR info", "ask_ukraine_help", {**UNCLEAR, "metadata": "uk"})],
        # safety messages are answered at once, never delayed by a question
        [_user("PESEL UKR help now", "immediate_danger", UNCLEAR)],
        # an earlier message already told the language
        [
            _user("добрий день", "greet", {"detected": "uk"}),
            ActionExecuted("utter_greet"),
            ActionExecuted("action_listen"),
            _user("PESEL UKR info", "ask_ukraine_help", UNCLEAR),
        ],
    ],
)
def test_does_not_ask_when_the_language_is_known_or_it_is_urgent(
    tmp_path: Path, domain: Domain, events: list
) -> None:
    chosen, _ = _predict(tmp_path, domain, *events)
    assert chosen is None


def test_language_button_sets_the_slot(tmp_path: Path, domain: Domain) -> None:
    button = _user(
        '/switch_language{"language": "ru"}',
        "switch_language",
        {},
        entities=[{"entity": "language", "value": "ru"}],
    )
    chosen, events = _predict(tmp_path, domain, SlotSet("language", "pl"), button)
    assert events == [SlotSet("language", "ru")]
    assert chosen is None
