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

from iom_nlu.components import LANGUAGE_KEY
from iom_nlu.policy import LanguagePolicy, choose_language

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
