"""``LanguagePolicy``: keeps the ``language`` slot in step with the user.

It never chooses an action (all its scores are zero); it only returns a
``SlotSet("language", ...)`` event, which Rasa applies before the next action
runs, so that response variations conditioned on the slot answer in the
language the user wrote in. No action server is involved, so this also works
when the action server is down.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from iom_nlu.components import language_of
from iom_nlu.language import SUPPORTED

LANGUAGE_SLOT = "language"


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


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT,
    is_trainable=False,
)
class LanguagePolicy(Policy):
    """Sets the ``language`` slot from the latest user message; predicts nothing."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Lowest priority: it must never win an action prediction."""
        return {"priority": 0}

    def train(
        self,
        training_trackers: list[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Nothing to learn."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Zero scores, plus a ``SlotSet`` when the user's language changed."""
        events = []
        slot_names = {slot.name for slot in domain.slots}
        if LANGUAGE_SLOT in slot_names and tracker.latest_message is not None:
            current = tracker.get_slot(LANGUAGE_SLOT)
            chosen = choose_language(detection_of(tracker.latest_message), current)
            if chosen != current:
                events.append(SlotSet(LANGUAGE_SLOT, chosen))
        return self._prediction(self._default_predictions(domain), events=events)
