"""The few calls the console makes to Rasa's HTTP API for live operator conversations.

Standard library only (urllib), so the tests of the Rasa side can use it too.

Rasa's API is never exposed to the internet: nginx forwards only the channels
(deploy/nginx.conf.template), Rasa listens on a private interface, and every call
carries the token (`RASA_API_TOKEN`). The console uses three endpoints:

- `POST /conversations/{id}/tracker/events`: set or clear the `operator` slot, and
  append what the operator wrote as a bot event with the operator in its metadata;
  with `output_channel=socketio&execute_side_effects=true` Rasa also delivers the
  message to the widget (through Redis to whichever instance holds the socket).
- `POST /conversations/{id}/execute`: run one response (`utter_operator_joined`,
  `utter_operator_left`), so the text comes from the domain in the person's language.

Each call holds Rasa's lock on the conversation, like a user turn, so the operator's
message and the person's are stored in order.
"""

from __future__ import annotations

import urllib.error
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from iom.core import rasa_http

DELIVER = {"output_channel": "socketio", "execute_side_effects": "true"}
OPERATOR_SLOT = "operator"
LISTEN = {"event": "action", "name": "action_listen"}
RESPONSE_JOINED = "utter_operator_joined"
RESPONSE_LEFT = "utter_operator_left"


class RasaApiError(RuntimeError):
    """Rasa did not take the call (down, wrong token, refused)."""


@dataclass
class RasaApi:
    """Rasa's HTTP API at `url`, with `token`."""

    url: str
    token: str
    timeout: float = 10.0

    def _post(self, path: str, body: Any, **params: str) -> None:
        if not self.token:
            raise RasaApiError("RASA_API_TOKEN is not set: live chat is off.")
        try:
            rasa_http.call(
                "POST",
                f"{self.url.rstrip('/')}{path}",
                self.token,
                body,
                self.timeout,
                **params,
            )
        except urllib.error.HTTPError as error:
            raise RasaApiError(
                f"The assistant refused the call ({error.code})."
            ) from error
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise RasaApiError(f"The assistant is not reachable ({error}).") from error

    def _events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        path = f"/conversations/{quote(conversation_id, safe='')}/tracker/events"
        self._post(path, events, **DELIVER)

    def _execute(
        self, conversation_id: str, action: str, then: list[dict[str, Any]]
    ) -> None:
        """Run one response, then listen, as after a turn of the bot's own.

        Rasa's `execute` runs just the action; without the `action_listen` after it,
        the person's next message would not follow a listen, and the rules (the
        safety answers among them) would not match it. `then` is appended after the
        listen: a slot event sent before `execute` is not part of a session that
        `execute` had to start anew (its timestamp is older), so it is sent again.
        """
        path = f"/conversations/{quote(conversation_id, safe='')}/execute"
        self._post(path, {"name": action}, output_channel="socketio")
        self._events(conversation_id, [LISTEN, *then])

    def join(self, conversation_id: str, display_name: str) -> None:
        """The bot stops answering (except safety); the person is told."""
        slot = [{"event": "slot", "name": OPERATOR_SLOT, "value": display_name}]
        self._events(conversation_id, slot)  # the bot listens from now on
        self._execute(conversation_id, RESPONSE_JOINED, slot)

    def say(
        self, conversation_id: str, text: str, display_name: str, username: str
    ) -> None:
        """Deliver and store what the operator wrote (redacted when stored)."""
        metadata = {"operator": display_name, "operator_user": username}
        self._events(
            conversation_id, [{"event": "bot", "text": text, "metadata": metadata}]
        )

    def hand_back(self, conversation_id: str) -> None:
        """The bot answers again (any open question is dropped); the person is told."""
        back = [
            {"event": "slot", "name": OPERATOR_SLOT, "value": None},
            {"event": "active_loop", "name": None},
        ]
        self._events(conversation_id, back)
        self._execute(conversation_id, RESPONSE_LEFT, back)
