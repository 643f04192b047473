"""LanguagePolicy keeps the `language` slot in step with the user's messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from iom.rasa.nlu.components import LANGUAGE_KEY
from iom.rasa.policy import LanguagePolicy, OperatorPolicy, choose_language

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


def _operator_policy(tmp_path: Path) -> OperatorPolicy:
    return OperatorPolicy.create(
        OperatorPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("operator_policy"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def _held(
    domain: Domain, intent: str, joined: float, wrote: float
) -> DialogueStateTracker:
    """An operator joined at `joined`; the person wrote `intent` at `wrote`."""
    parsed = {"name": intent, "confidence": 0.9}
    return DialogueStateTracker.from_events(
        "t",
        [
            ActionExecuted("action_listen"),
            SlotSet("operator", "Anna", timestamp=joined),
            UserUttered("text", intent=parsed, timestamp=wrote),
        ],
        slots=domain.slots,
    )


LISTEN = "action_listen"


def _chosen(prediction: PolicyPrediction, domain: Domain) -> str | None:
    if max(prediction.probabilities) == 0:
        return None
    best = prediction.probabilities.index(max(prediction.probabilities))
    return domain.action_names_or_texts[best]


@pytest.mark.parametrize(
    ("intent", "chosen"),
    [
        ("ask_residence", LISTEN),  # the operator answers
        ("request_human", LISTEN),
        ("nlu_fallback", LISTEN),
        ("immediate_danger", None),  # the rules give the safety answer at once
        ("report_trafficking", None),
        ("emotional_crisis", None),
        ("ask_trafficking_signs", None),
    ],
)
def test_operator_policy_listens_while_held_except_safety(
    tmp_path: Path, domain: Domain, intent: str, chosen: str | None
) -> None:
    policy = _operator_policy(tmp_path)
    prediction = policy.predict_action_probabilities(
        _held(domain, intent, 1000.0, 1010.0), domain
    )
    assert _chosen(prediction, domain) == chosen
    assert prediction.events == []


def test_operator_policy_steps_aside_when_nobody_holds_the_chat(
    tmp_path: Path, domain: Domain
) -> None:
    policy = _operator_policy(tmp_path)
    tracker = _held(domain, "ask_residence", 1000.0, 1010.0)
    tracker.update(SlotSet("operator", None, timestamp=1011.0))
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("text", intent={"name": "greet"}))
    assert _chosen(policy.predict_action_probabilities(tracker, domain), domain) is None


def test_operator_policy_times_out_when_the_console_died(
    tmp_path: Path, domain: Domain
) -> None:
    policy = _operator_policy(tmp_path)
    timeout = float(OperatorPolicy.get_default_config()["timeout"])
    late = _held(domain, "ask_residence", 1000.0, 1000.0 + timeout + 1)
    assert _chosen(policy.predict_action_probabilities(late, domain), domain) is None
    # a message from the operator counts as activity
    recent = _held(domain, "ask_residence", 1000.0, 1000.0 + timeout + 1)
    recent.events.insert(
        2, BotUttered("hi", metadata={"operator": "Anna"}, timestamp=1000.0 + timeout)
    )
    recent = DialogueStateTracker.from_events("t", list(recent.events), domain.slots)
    assert (
        _chosen(policy.predict_action_probabilities(recent, domain), domain) == LISTEN
    )


def test_operator_policy_does_not_act_after_its_own_listen(
    tmp_path: Path, domain: Domain
) -> None:
    tracker = _held(domain, "ask_residence", 1000.0, 1010.0)
    tracker.update(ActionExecuted("utter_operator_joined"))
    prediction = _operator_policy(tmp_path).predict_action_probabilities(
        tracker, domain
    )
    assert _chosen(prediction, domain) is None
