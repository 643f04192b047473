"""Security defaults: Rasa's HTTP API off, local interfaces, secrets only from the
environment (all documented in .env.example), nothing secret in the repository.
"""

from __future__ import annotations

import os
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from iom.core import settings
from iom.tools.launch import LiveBot
from tests.conftest import ROOT

CODE_DIRS = ("actions", "iom", "scripts")
# Only for the tests and tools, not settings of the product.
NOT_SETTINGS = {"BIN", "ROOT", "STAMP", "PYTHONPATH", "BASH_SOURCE", "MODEL_URL", "CI"}
NOT_SETTINGS |= {"REMOTE_ADDR"}  # a WSGI environ key, not an environment variable
NOT_SETTINGS |= {"STATE", "PG_BIN"}  # local variables of scripts/topology.sh
NOT_SETTINGS |= {"DOMAIN_FILE", "CONTACTS_FILE", "TF_CPP_MIN_LOG_LEVEL", "VAR_DIR"}


def status_of(url: str, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/status"),
        ("GET", "/conversations/someone/tracker"),
        ("POST", "/conversations/someone/messages"),
        ("POST", "/model/parse"),
        ("PUT", "/model"),
        ("GET", "/domain"),
    ],
)
def test_rasa_http_api_is_off_by_default(
    live_bot: LiveBot, method: str, path: str
) -> None:
    url = f"http://127.0.0.1:{live_bot.rasa_port}{path}"
    request = urllib.request.Request(url, data=b"{}" if method != "GET" else None)
    request.method = method
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            code, body = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        code, body = error.code, error.read().decode("utf-8", "replace")
    assert code in (404, 405), (code, body[:200])
    assert "Traceback" not in body


@pytest.mark.parametrize("token", ["short-token", "x" * 31])
def test_run_refuses_the_api_without_a_strong_token(token: str) -> None:
    env = {**os.environ, "RASA_ENABLE_API": "1", "RASA_API_TOKEN": token}
    done = subprocess.run(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "RASA_API_TOKEN of at least 32 characters" in done.stderr


def test_without_a_token_a_strong_one_is_generated_once(tmp_path: Path) -> None:
    """make run turns the API on for the console with a generated token (mode 0600)."""
    env = {**os.environ, "VAR_DIR": str(tmp_path)}
    env.pop("RASA_API_TOKEN", None)
    env.pop("RASA_ENABLE_API", None)
    script = "source scripts/env.sh && echo $RASA_ENABLE_API $RASA_API_TOKEN"
    runs = [
        subprocess.run(
            ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs[0] == runs[1]  # generated once, then read back
    enabled, token = runs[0]
    assert enabled == "1" and len(token) >= 32
    assert (tmp_path / "rasa-api-token").stat().st_mode & 0o777 == 0o600


def test_services_listen_on_localhost_by_default() -> None:
    script = "source scripts/env.sh && echo $RASA_HOST $ACTION_HOST $WIDGET_HOST"
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_HOST")}
    out = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=clean, capture_output=True, text=True
    ).stdout.split()
    assert out == ["127.0.0.1"] * 3
    assert settings.from_env({}).console_host == "127.0.0.1"
    console = (ROOT / "iom" / "console" / "cli.py").read_text()
    assert "default=settings.current().console_host" in console


def settings_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for directory in CODE_DIRS:
        for path in (ROOT / directory).rglob("*"):
            if path.suffix not in (".py", ".sh") or "tests" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            names |= set(re.findall(r'environ(?:\.get)?\(\s*"([A-Z_]+)"', text))
            names |= set(re.findall(r'environ\["([A-Z_]+)"\]', text))
            names |= set(re.findall(r"\$\{?([A-Z][A-Z_]{2,})", text))
    for name in ("endpoints.yml", "credentials.yml"):
        names |= set(re.findall(r"\$\{([A-Z_]+)\}", (ROOT / name).read_text()))
    return names - NOT_SETTINGS


def test_every_setting_is_documented_in_env_example() -> None:
    documented = set(
        re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )
    missing = settings_read_by_the_code() - documented
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_no_secret_is_committed() -> None:
    """detect-secrets (Yelp) over every tracked file; test fixtures are allow-listed
    inline with `pragma: allowlist secret`."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    skip = (".png", ".lock", "package-lock.json", ".tar.gz", ".db")
    found = SecretsCollection()
    with default_settings():
        for name in tracked:
            if not name.endswith(skip) and (ROOT / name).is_file():
                found.scan_file(str(ROOT / name))
    assert not found.json(), found.json()
    example = (ROOT / ".env.example").read_text()
    assert re.search(r"^RASA_API_TOKEN=$", example, re.M)  # documented, empty
