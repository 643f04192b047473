"""One call to Rasa's HTTP API: JSON in and out, the token in the query string.

Standard library only, so the console (live chat) and the retrain tool (model swap),
in their different virtual environments, share it. Errors are urllib's own
(`HTTPError` for a refusal, `URLError` / `OSError` when Rasa is unreachable); each
caller decides what they mean.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import urlencode


def call(
    method: str,
    url: str,
    token: str,
    body: Any = None,
    timeout: float = 10.0,
    **params: str,
) -> Any:
    """`method` on `url` with the token (and `params`); the JSON answer, if any."""
    query = urlencode({"token": token, **params})
    request = urllib.request.Request(
        f"{url}?{query}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
    return json.loads(raw) if raw else None
