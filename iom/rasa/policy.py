"""``LanguagePolicy``: keeps the ``language`` slot in step with the user.

It returns a ``SlotSet("language", ...)`` event, which Rasa applies before the
next action runs, so that response variations conditioned on the slot answer in
the language the user wrote in. No action server is involved, so this also works
when the action server is down.

It chooses an action in one case only: the conversation has no language yet (no
earlier message was in a language the assistant speaks, the widget sent none), the
message has words whose language cannot be told, and it is not a safety message.
Then it asks which language to use (``utter_ask_language``, four buttons each
labelled in its own language) and listens. Otherwise all its scores are zero, so
it never wins against the rules and the memoization policy.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from iom.core.language import SUPPORTED
from iom.core.safety import SAFETY_INTENTS  # never delayed by a language question
from iom.rasa.nlu.components import language_of

LANGUAGE_SLOT = "language"
ASK_LANGUAGE = "utter_ask_language"
SWITCH_INTENT = "switch_language"


def chosen_by_button(message: UserUttered) -> str | None:
    """The language a ``/switch_language{"language": "uk"}`` button chose."""
    if (message.intent or {}).get("name") != SWITCH_INTENT:
        return None
    for entity in message.entities or []:
        if entity.get("entity") == LANGUAGE_SLOT and entity.get("value") in SUPPORTED:
            return str(entity["value"])
    return None


def choose_language(detection: dict[str, Any], current: str | None) -> str | None:
    """The language to answer in: the text's, else the widget's, else current."""
    detected = detection.get("detected")
    if detected in SUPPORTED:
        return detected
    ui_language = detection.get("metadata")
    if ui_language in SUPPORTED:
        return ui_language
    return current


def detection_of(message: UserUttered) -> dict[str, Any]:
    """The NLU's language detection, with the channel metadata's language added.

    Button payloads (``/intent``) skip the NLU pipeline, so for them the widget's
    language arrives only in the event's metadata.
    """
    detection = dict(language_of(message.parse_data))
    if detection.get("metadata") not in SUPPORTED:
        detection["metadata"] = (message.metadata or {}).get("language")
    return detection


class _FixedPolicy(Policy):
    """A policy of fixed rules: nothing to learn from the training stories."""

    def train(
        self,
        training_trackers: list[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Nothing to learn."""
        return self._resource


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT,
    is_trainable=False,
)
class LanguagePolicy(_FixedPolicy):
    """Sets the ``language`` slot from the latest user message; predicts nothing."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Highest priority, but zero scores except when it asks for the language.

        With all scores zero it loses to any policy that predicts something; when it
        asks (score 1.0) it must win over the rule that answers the guessed intent.
        """
        return {"priority": 7}

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Zero scores, plus a ``SlotSet`` when the user's language changed.

        When the language is unknown and unclear (see the module docstring), asks
        for it; after asking, listens.
        """
        events = []
        probabilities = self._default_predictions(domain)
        slot_names = {slot.name for slot in domain.slots}
        message = tracker.latest_message
        if LANGUAGE_SLOT not in slot_names or message is None:
            return self._prediction(probabilities)
        if tracker.latest_action_name == ASK_LANGUAGE:
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
            return self._prediction(probabilities)
        current = tracker.get_slot(LANGUAGE_SLOT)
        detection = detection_of(message)
        chosen = chosen_by_button(message) or choose_language(detection, current)
        if chosen != current:
            events.append(SlotSet(LANGUAGE_SLOT, chosen))
        if (
            tracker.latest_action_name == ACTION_LISTEN_NAME
            and detection.get("unclear")
            and detection.get("metadata") not in SUPPORTED
            and (message.intent or {}).get("name") not in SAFETY_INTENTS
            and ASK_LANGUAGE in domain.action_names_or_texts
            and not _language_known(tracker)
        ):
            probabilities[domain.index_for_action(ASK_LANGUAGE)] = 1.0
        return self._prediction(probabilities, events=events)


def _language_known(tracker: DialogueStateTracker) -> bool:
    """Tell whether an earlier user message told the conversation's language."""
    messages = [e for e in tracker.events if isinstance(e, UserUttered)][:-1]
    return any(
        chosen_by_button(m) or choose_language(detection_of(m), None) in SUPPORTED
        for m in messages
    )


OPERATOR_SLOT = "operator"
OPERATOR_KEY = "operator"  # a bot event's metadata key naming the operator who wrote it


def _operator_last_active(tracker: DialogueStateTracker) -> float | None:
    """When an operator last joined or wrote in this conversation (Unix seconds)."""
    for event in reversed(tracker.events):
        if isinstance(event, SlotSet) and event.key == OPERATOR_SLOT:
            return event.timestamp if event.value else None
        if isinstance(event, BotUttered) and (event.metadata or {}).get(OPERATOR_KEY):
            return event.timestamp
    return None


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT,
    is_trainable=False,
)
class OperatorPolicy(_FixedPolicy):
    """While a person from the team holds the chat, the bot listens, except for safety.

    The console sets the ``operator`` slot when an operator joins and clears it when
    they hand the chat back (iom/console/live.py). While it is set, this policy
    predicts ``action_listen`` after every user message, with the highest priority,
    so the message is stored like any other and the operator answers it; a danger,
    trafficking or crisis message is left to the rules, which give the static safety
    answer at once. If no operator has joined or written for ``timeout`` seconds (a
    console that died without handing back), it steps aside and the bot answers.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Above the language policy (7) and the rules (6); a 20-minute timeout."""
        return {"priority": 8, "timeout": 1200}

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """``action_listen`` at 1.0 while an operator holds the chat; else zeros."""
        probabilities = self._default_predictions(domain)
        message = tracker.latest_message
        if (
            message is not None
            and tracker.latest_action_name == ACTION_LISTEN_NAME
            and OPERATOR_SLOT in {slot.name for slot in domain.slots}
            and tracker.get_slot(OPERATOR_SLOT)
            and (message.intent or {}).get("name") not in SAFETY_INTENTS
        ):
            active = _operator_last_active(tracker)
            if active is not None and message.timestamp - active <= float(
                self.config["timeout"]
            ):
                probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(probabilities)
