"""Which intents to offer when the model is unsure ("did you mean…?").

The candidates come from the NLU ranking of the user's message: the top intents the
assistant can answer, best first. Chit-chat and control intents are never offered
(nobody needs a button for "goodbye"), and the safety intents come first when the
model saw any of them among the candidates, so a possible call for help is never
hidden behind a question about a residence card.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from iom.core.safety import SAFETY_INTENTS

# Never a "did you mean" option: they answer nothing a person asks about.
NOT_OFFERED = frozenset(
    {
        "nlu_fallback",
        "greet",
        "goodbye",
        "thanks",
        "affirm",
        "deny",
        "bot_challenge",
        "feedback",
        "ask_capabilities",
        "out_of_scope",
        "switch_language",
        "other_language",
    }
)
# When the ranking has nothing to offer (e.g. the dialogue policy, not the NLU, was
# unsure): the topics people ask about most, and a person.
DEFAULT = ("ask_residence", "ask_work_rights", "report_trafficking", "request_human")
MAX_OPTIONS = 3
MIN_CONFIDENCE = 0.05


def candidates(
    ranking: Iterable[Mapping[str, Any]],
    offered: Iterable[str],
    limit: int = MAX_OPTIONS,
) -> list[str]:
    """The intents to offer, best first: at most `limit`, only those in `offered`.

    `ranking` is Rasa's `intent_ranking` (name and confidence, best first).
    """
    allowed = set(offered) - NOT_OFFERED
    ranked = [
        str(item.get("name"))
        for item in ranking
        if item.get("name") in allowed
        and float(item.get("confidence") or 0.0) >= MIN_CONFIDENCE
    ]
    unique = list(dict.fromkeys(ranked))[:limit]
    if not unique:
        return [i for i in DEFAULT if i in allowed][:limit]
    safety = [i for i in unique if i in SAFETY_INTENTS]
    return safety + [i for i in unique if i not in SAFETY_INTENTS]
