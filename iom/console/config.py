"""The console's settings (re-exported by `iom.console.app`).

A module of its own because the dependencies (deps.py) and the routes need the type,
and `app.py` imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from iom.core import settings


@dataclass
class Settings:
    """Console settings, from the environment (`iom.core.settings`) by default."""

    database_url: str = field(default_factory=lambda: settings.current().tracker_url)
    secure_cookies: bool = field(
        default_factory=lambda: settings.current().console_secure_cookies
    )
    low_confidence: float = field(
        default_factory=lambda: settings.current().console_low_confidence
    )
    page_size: int = 50
    domain_file: Path = field(default_factory=lambda: settings.current().domain_file)
    # Seconds between two runs of the background job that indexes new tracker events
    # (jobs.py); 0 turns it off (tests, or `cli sync` from cron instead).
    sync_seconds: float = field(
        default_factory=lambda: settings.current().console_sync_seconds
    )
    # Live operator conversations (live.py): Rasa's HTTP API on a private interface,
    # with its token; when a console stops watching / an operator stops writing.
    rasa_api_url: str = field(default_factory=lambda: settings.current().rasa_api_url)
    rasa_api_token: str = field(
        default_factory=lambda: settings.current().rasa_api_token
    )
    takeover_gone_seconds: float = field(
        default_factory=lambda: settings.current().takeover_gone_seconds
    )
    takeover_idle_seconds: float = field(
        default_factory=lambda: settings.current().takeover_idle_seconds
    )
    hand_back_check_seconds: float = 5.0
