"""iom.core.settings: one module reads the environment, with defaults and validation."""

from __future__ import annotations

import re

import pytest

from iom.core import settings
from tests.conftest import ROOT


def test_defaults_match_scripts_env_sh() -> None:
    config = settings.from_env({})
    env_sh = (ROOT / "scripts" / "env.sh").read_text()
    for name, value in [
        ("RASA_PORT", config.rasa_port),
        ("ACTION_PORT", config.action_port),
        ("WIDGET_PORT", config.widget_port),
        ("CONSOLE_PORT", config.console_port),
        ("RETENTION_DAYS", config.retention_days),
    ]:
        assert re.search(rf"{name}:-{value}\b", env_sh), name
    assert (config.rasa_port, config.action_port) == (5005, 5055)
    assert (config.widget_port, config.console_port) == (8080, 8081)
    assert config.tracker_url == f"sqlite:///{ROOT / 'var' / 'rasa.db'}"
    assert config.cors_origins == ()  # unset: Rasa's behaviour, no origin check


def test_values_are_parsed() -> None:
    config = settings.from_env(
        {
            "VAR_DIR": "/srv/iom",
            "CORS_ORIGIN": "https://a.example/, https://b.example",
            "CONSOLE_SECURE_COOKIES": "1",
            "RATE_LIMIT_IP_PER_MIN": "0",
            "QUICK_EXIT_URL": "/healthz?quick-exit",
        }
    )
    assert config.tracker_url == "sqlite:////srv/iom/rasa.db"
    assert str(config.topology_dir) == "/srv/iom/topology"
    assert config.cors_origins == ("https://a.example", "https://b.example")
    assert config.console_secure_cookies is True
    assert config.rate_limit_ip_per_min == 0
    assert settings.from_env({"CORS_ORIGIN": "*"}).cors_origins == ()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RASA_PORT", "50o5"),
        ("RASA_PORT", "70000"),
        ("RETENTION_DAYS", "0"),
        ("CONSOLE_SECURE_COOKIES", "yes"),
        ("CONSOLE_LOW_CONFIDENCE", "1.5"),
        ("RATE_LIMIT_SENDER_PER_MIN", "-1"),
        ("TRACKER_URL", "var/rasa.db"),
        ("QUICK_EXIT_URL", "javascript:alert(1)"),
    ],
)
def test_a_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(settings.SettingsError, match=name):
        settings.from_env({name: value})


def test_no_other_module_reads_the_environment_for_a_setting() -> None:
    """Outside settings.py, os.environ is only passed on to child processes."""
    reads = re.compile(r"os\.environ\.get|os\.getenv|os\.environ\[")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "iom").rglob("*.py")
        if path.name != "settings.py" and reads.search(path.read_text("utf-8"))
    ]
    # the browser helper for tests reads CI (headless Chromium flags), not a setting
    assert offenders == ["iom/tools/browser.py"]
