"""Rasa's requests to the action server, encoded with orjson instead of `json`.

Every custom action call (and the city form's slot mapping, on every user message)
sends the action server the whole tracker: every event of the session with its
parse data. Python's `json.dumps` of that body was the largest part of a custom
action call that still grew with the conversation (about 4 ms at turn 95 on this
machine: docs/performance.md, "Conversation length"). orjson (a maintained Rust
library on PyPI) encodes the same values several times faster.

The JSON is the same data: orjson writes it compact and in UTF-8 instead of with
ASCII escapes, which any JSON reader (Sanic's, in rasa-sdk) reads back to the
same objects. Where orjson cannot encode a value (non-string keys, integers beyond
64 bits, types it does not know), `dumps` falls back to `json.dumps`. One difference
remains: a NaN or infinite float becomes `null` (`json.dumps` writes `NaN`, which is
not JSON and which strict readers refuse); Rasa's confidences and timestamps are
finite, and no action of this bot reads a float from the tracker. `install`
(called where the channels start) gives Rasa's `EndpointConfig` sessions this
encoder.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import orjson
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

RASA_SESSION = EndpointConfig.session


def dumps(value: Any) -> str:
    """`json.dumps(value)` in meaning, by orjson where it gives the same values."""
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value)


def session(self: EndpointConfig) -> aiohttp.ClientSession:
    """Rasa 3.6's `EndpointConfig.session`, with `dumps` as its JSON encoder.

    The same headers, authentication and time-out as Rasa's (a test checks Rasa's
    method is still the one this follows).
    """
    auth = None
    if self.basic_auth:
        auth = aiohttp.BasicAuth(
            self.basic_auth["username"], self.basic_auth["password"]
        )
    return aiohttp.ClientSession(
        headers=self.headers,
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        json_serialize=dumps,
    )


def install() -> None:
    """Encode Rasa's endpoint requests with `dumps` (idempotent)."""
    EndpointConfig.session = session  # type: ignore[method-assign]


def uninstall() -> None:
    """Rasa's own sessions again (tests, benchmarks)."""
    EndpointConfig.session = RASA_SESSION  # type: ignore[method-assign]
