"""Rasa's check of the action server's responses, without re-checking its schema.

Rasa 3.6 checks every response of the action server with `jsonschema.validate`,
which first checks the schema itself against JSON Schema's meta-schema, on every
call: 14 ms of CPU per custom action call on this machine, against 0.2 ms for the
same check with the schema's validator built once (docs/performance.md). A turn of
this bot calls the action server at least once (the city form's slot mapping).
`install` (called where the channels start) replaces that method with one that
gives the same answer and raises the same error (jsonschema's `best_match`, the
same message) for an invalid response.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def response_validator() -> Validator:
    """Rasa's response schema, checked once, as a validator."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)  # type: ignore[no-any-return]


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """`RemoteAction._validate_action_result`, with the validator built once."""
    error: ValidationError | None = best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    """Use `validate_action_result` for every remote action (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
