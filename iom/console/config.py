"""The console's settings (re-exported by `iom.console.app`).

A module of its own because the dependencies (deps.py) and the routes need the type,
and `app.py` imports them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from iom.core import settings


def _retrain_command() -> tuple[str, ...]:
    """The learning loop's command line, run in Rasa's venv (the console has no Rasa).

    By module name only: the console never imports the tool (iom/tools/retrain.py).
    """
    python = settings.ROOT / ".venv" / "bin" / "python"
    return (
        str(python if python.exists() else sys.executable),
        "-m",
        "iom.tools.retrain",
    )


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
    # The learning loop's command (iom/tools/retrain.py), started by the admin's
    # "Train a candidate" and "Roll back" buttons (learning.py).
    retrain_command: tuple[str, ...] = field(default_factory=_retrain_command)
    live_model: Path = field(default_factory=lambda: settings.current().live_model)
    candidates_dir: Path = field(
        default_factory=lambda: settings.current().candidates_dir
    )
    var_dir: Path = field(default_factory=lambda: settings.current().var_dir)
