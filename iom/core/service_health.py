"""Is a service up? For the console's dashboard (bot, action server) and `make status`.

Standard library only: the console imports it from its own venv.
"""

from __future__ import annotations

import os
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

TIMEOUT = 1.5


def reachable(url: str, timeout: float = TIMEOUT) -> bool:
    """http(s)://: answers below 500; tcp://host:port: accepts a connection."""
    try:
        if url.startswith("tcp://"):
            parts = urlsplit(url)
            with socket.create_connection((parts.hostname, parts.port or 0), timeout):
                return True
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except (OSError, ValueError):
        return False


def local(host: str) -> str:
    """The address to check a service on (a wildcard listen address is local)."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def bot_services(env: Mapping[str, str] | None = None) -> list[dict[str, object]]:
    """The bot (Rasa, or nginx in front of it) and the action server: name, url, up."""
    env = os.environ if env is None else env
    rasa_host = local(env.get("RASA_HOST", "127.0.0.1"))
    action_host = local(env.get("ACTION_HOST", "127.0.0.1"))
    services = [
        ("Bot (Rasa)", f"http://{rasa_host}:{env.get('RASA_PORT', '5005')}/"),
        (
            "Action server",
            f"http://{action_host}:{env.get('ACTION_PORT', '5055')}/health",
        ),
    ]
    with ThreadPoolExecutor(len(services)) as pool:
        ups = list(pool.map(reachable, [url for _, url in services]))
    return [
        {"name": name, "url": url, "up": up}
        for (name, url), up in zip(services, ups, strict=True)
    ]
