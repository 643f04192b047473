"""Rasa's REST channel, with a static answer instead of silence.

Same name and URL as Rasa's `rest` channel (POST /webhooks/rest/webhook). When the
processing of a message ends with no bot message (e.g. the action server is down), the
response carries `utter_service_unavailable` instead of an empty list
(iom/rasa/channels/fallback.py). Requests must be a JSON object with a string `sender`
(1-128 printable characters) and a string `message`; anything else is a 400 with a
clear message (Rasa would put sender-less requests into one shared "default"
conversation, and answer a non-string message with nothing). Typed `/intent{...}`
commands lose their entity part. Too many messages a minute from one conversation or
address (iom/rasa/channels/ratelimit.py) get a 429 whose message is the polite
`utter_rate_limited` text. Every error is a JSON object. Configured in
`credentials.yml`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from iom.rasa import action_json, action_response, past_states
from iom.rasa.channels.fallback import clean_text, domain_text, never_silent
from iom.rasa.channels.ratelimit import RESPONSE as RATE_LIMITED
from iom.rasa.channels.ratelimit import RateLimiter

MAX_SENDER = 128


class RestInput(RasaRestInput):
    """REST input channel (same name and URL as Rasa's `rest`)."""

    @classmethod
    def name(cls) -> str:
        """Keep Rasa's channel name."""
        return "rest"

    def __init__(self) -> None:
        super().__init__()
        self.limiter = RateLimiter()

    @staticmethod
    def _body(req: Request) -> dict[str, Any]:
        body = req.json
        if not isinstance(body, dict):
            raise InvalidUsage(
                'Send a JSON object: {"sender": "...", "message": "..."}'
            )
        return body

    async def _extract_sender(self, req: Request) -> str | None:
        sender = self._body(req).get("sender")
        if (
            not isinstance(sender, str)
            or not 0 < len(sender) <= MAX_SENDER
            or not sender.isprintable()
        ):
            raise InvalidUsage(
                f"`sender` must be a string of 1-{MAX_SENDER} printable characters"
            )
        if not self.limiter.allow(sender, req.remote_addr or req.ip):
            message = self._body(req).get("message")
            raise SanicException(
                domain_text(RATE_LIMITED, message if isinstance(message, str) else ""),
                status_code=429,
            )
        return sender

    def _extract_message(self, req: Request) -> str | None:
        message = self._body(req).get("message")
        if not isinstance(message, str):
            raise InvalidUsage("`message` must be a string")
        return clean_text(message)

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()  # a client cannot claim to be another channel

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Rasa's blueprint around a handler that never leaves a turn silent.

        Its errors are JSON whatever the client accepts (Sanic would otherwise pick
        HTML or plain text from the request's headers).
        """
        action_response.install()  # the server starts: schema checked once
        past_states.install()  # and the policies' states extended, not replayed
        action_json.install()  # and the tracker sent to it encoded by orjson
        blueprint = super().blueprint(never_silent(on_new_message))
        blueprint.exception(SanicException)(json_error)
        return blueprint


async def json_error(request: Request, error: SanicException) -> HTTPResponse:
    """A 4xx as `{"status", "description", "message"}` (Sanic's JSON error shape)."""
    status = int(getattr(error, "status_code", 500) or 500)
    reason = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
    reason |= {413: "Payload Too Large", 429: "Too Many Requests"}
    return response.json(
        {
            "status": status,
            "description": reason.get(status, "Error"),
            "message": str(error),
        },
        status=status,
    )
