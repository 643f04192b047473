"""Rasa's check of action server responses, with the schema checked once."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from iom.rasa.action_response import install, validate_action_result

VALID = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "city", "value": "Kraków"}],
        "responses": [{"response": "utter_city", "city": "Kraków"}],
    },
    {"events": [{"event": "followup", "name": "action_listen"}]},
]
INVALID = [
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": [{"response": 3}], "events": [{"event": "slot"}]},
]


def rasa_check(result: dict[str, Any]) -> str | None:
    """The message of Rasa's own check (None: valid)."""
    try:
        RemoteAction._validate_action_result(RemoteAction("a", None), result)
    except jsonschema.ValidationError as error:
        return error.message
    return None


@pytest.mark.parametrize("result", VALID + INVALID)
def test_the_one_time_schema_gives_rasas_answer_and_message(
    result: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        RemoteAction, "_validate_action_result", RemoteAction._validate_action_result
    )
    expected = rasa_check(result)
    assert (expected is None) == (result in VALID)
    install()
    assert RemoteAction._validate_action_result is validate_action_result
    assert rasa_check(result) == expected
