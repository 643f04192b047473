"""Supervision (iom/tools/supervision/): the restart policy, the supervisord
configuration, a real supervisord with crashing programs, and the systemd units.

The product under supervision, with real kills, is in tests/test_supervision_run.py
(`make run`) and tests/test_supervision_topology.py (`make topology`); the helpers
below are shared with them.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from iom.tools import supervision
from iom.tools.supervision import Program, RestartLimit
from iom.tools.supervision import cli as supervision_cli
from tests.conftest import ROOT

SUPERVISORD = ROOT / ".venv" / "bin" / "supervisord"
UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/iom-assistant"


# ---- helpers shared with the product tests -----------------------------------------
def need(ok: bool, message: str) -> None:
    """Fail in CI, skip elsewhere, when something a test needs is missing."""
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def wait_until(check: Callable[[], Any], seconds: float, what: str) -> float:
    """Poll check until it returns truthy; returns the seconds it took."""
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        try:
            if check():
                return time.monotonic() - began
        except Exception:  # noqa: BLE001, S110 (not up yet)
            pass
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {seconds:.0f} s")


def up(url: str) -> bool:
    """Whether url answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status < 300
    except (OSError, urllib.error.URLError):
        return False


def info(state: Path, name: str) -> dict[str, Any]:
    """supervisord's view of one process."""
    return supervision.connect(state).supervisor.getProcessInfo(name)


def kill(state: Path, name: str, sig: int = signal.SIGKILL) -> int:
    """Kill a supervised process behind supervisord's back (a crash); its pid."""
    pid = info(state, name)["pid"]
    assert pid, f"{name} is not running"
    os.kill(pid, sig)
    return pid


def restarted(state: Path, name: str, old_pid: int) -> bool:
    """Whether name runs again under a new pid."""
    now = info(state, name)
    return now["statename"] in ("STARTING", "RUNNING") and now["pid"] not in (
        0,
        old_pid,
    )


def say(port: int, text: str, sender: str | None = None) -> tuple[int, list[str]]:
    """One REST message: (HTTP status, texts); status 0 = no HTTP answer at all."""
    body = {"sender": sender or uuid.uuid4().hex, "message": text}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/rest/webhook",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, [m.get("text", "") for m in json.load(response)]
    except urllib.error.HTTPError as error:
        return error.code, []
    except (OSError, urllib.error.URLError):
        return 0, []


TRAFFICKING = "my boss took my passport and I cant leave"
DANGER = "pomocy zamknęli mnie w pokoju i grożą mi"
LOOKUP = "numer do biura IOM"
KCIK, MIGRANT_INFO = "+48 22 628 01 20", "+48 22 490 20 44"


@dataclass
class Load:
    """Clients sending trafficking, danger and lookup messages until stopped."""

    port: int
    clients: int = 3
    replies: list[tuple[float, str, int, str]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Load:
        for i in range(self.clients):
            thread = threading.Thread(target=self.client, args=(i,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def client(self, i: int) -> None:
        texts = [TRAFFICKING, LOOKUP, DANGER]
        turn = i
        deadline = time.monotonic() + 240  # bounded, whatever happens
        while not self.stopping.is_set() and time.monotonic() < deadline:
            text = texts[turn % len(texts)]
            began = time.monotonic()
            status, answer = say(self.port, text)
            self.replies.append((began, text, status, "\n".join(answer)))
            turn += 1

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(90)

    def of(self, text: str) -> list[tuple[float, str, int, str]]:
        """The replies to one kind of message."""
        return [r for r in self.replies if r[1] == text]


# ---- the restart policy ------------------------------------------------------------
def test_restart_limit_allows_the_limit_per_window_then_pauses() -> None:
    limit = RestartLimit(max_restarts=5, window=60, cooldown=30, max_cooldown=300)
    assert [limit.crashed("rasa", t) for t in range(5)] == [0.0] * 5
    assert limit.crashed("actions", 5) == 0.0  # per process
    assert limit.crashed("rasa", 5) == 30.0  # the sixth within a minute
    assert limit.due(34) == [] and limit.due(35) == ["rasa"]
    assert limit.due(36) == []


def test_restarts_spread_over_more_than_a_window_are_not_limited() -> None:
    limit = RestartLimit(max_restarts=5, window=60, cooldown=30)
    assert all(limit.crashed("rasa", t * 13.0) == 0.0 for t in range(20))


def test_repeated_pauses_double_up_to_the_maximum_and_reset_later() -> None:
    limit = RestartLimit(max_restarts=0, window=60, cooldown=30, max_cooldown=100)
    assert [limit.crashed("x", t) for t in (0, 40, 110, 220)] == [30, 60, 100, 100]
    assert limit.crashed("x", 220 + supervision.PAUSE_RESET + 1) == 30


# ---- the configuration -------------------------------------------------------------
RUN_ENV = {
    "RASA_HOST": "127.0.0.1",
    "RASA_PORT": "5005",
    "ACTION_HOST": "127.0.0.1",
    "ACTION_PORT": "5055",
    "WIDGET_PORT": "8080",
    "CONSOLE_PORT": "8081",
    "CORS_ORIGIN": "http://localhost:8080 http://127.0.0.1:8080",
}


def parsed(text: str) -> configparser.RawConfigParser:
    config = configparser.RawConfigParser()
    config.read_string(text)
    return config


def test_make_run_supervises_every_process_with_restarts(tmp_path: Path) -> None:
    programs = supervision.run_programs(RUN_ENV)
    assert [p.name for p in programs] == [
        "actions",
        "rasa",
        "widget",
        "console",
        "retention",
    ]
    config = parsed(supervision.render(programs, tmp_path, "iom-run"))
    for program in programs:
        section = config[f"program:{program.name}"]
        assert section["autorestart"] == "true"  # any exit it did not ask for
        assert section["startretries"] == str(supervision.START_RETRIES)
        assert section["stdout_logfile"] == str(
            tmp_path / "logs" / f"{program.name}.log"
        )
    listener = config[f"eventlistener:{supervision.LISTENER}"]
    assert "listen --state" in listener["command"]
    assert "--max-restarts 5 --window 60.0" in listener["command"]
    assert config["unix_http_server"]["chmod"] == "0700"
    rasa = config["program:rasa"]["command"]
    assert "--cors http://localhost:8080 http://127.0.0.1:8080" in rasa
    assert "--enable-api" not in rasa


def test_the_api_token_is_never_written_to_the_configuration(tmp_path: Path) -> None:
    token = "x" * 40
    env = {**RUN_ENV, "RASA_ENABLE_API": "1", "RASA_API_TOKEN": token}
    text = supervision.render(supervision.run_programs(env), tmp_path, "iom-run")
    assert token not in text
    assert "--enable-api --auth-token %(ENV_RASA_API_TOKEN)s" in text


@pytest.mark.parametrize("enabled", ["0", "1"])
def test_topology_instances_get_the_api_only_when_enabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enabled: str
) -> None:
    """The learning loop swaps models through the API of each instance (docs/nlu.md)."""
    monkeypatch.setenv("RASA_ENABLE_API", enabled)
    args = supervision_cli.parser().parse_args(
        [
            *("config", "topology", str(tmp_path), "--instances", "2"),
            *("--base-port", "5011", "--pg-bin", "/usr/lib/postgresql/15/bin"),
            *("--pg-port", "5433", "--redis-port", "6380", "--endpoints", "e.yml"),
            *("--action-port", "5055", "--port", "5005", "--cors", "*"),
        ]
    )
    programs = supervision.topology_programs(args)
    rasa = [p.command for p in programs if p.name.startswith("rasa-")]
    assert len(rasa) == 2
    for command in rasa:
        api = "--enable-api" in command
        assert api == (enabled == "1")
        if api:
            assert command[-2:] == ["--auth-token", "%(ENV_RASA_API_TOKEN)s"]


def test_percent_signs_are_escaped_for_supervisord() -> None:
    assert supervision.quote("a%b c") == "'a%%b c'"
    assert supervision.quote("%(ENV_REDIS_PASSWORD)s") == "%(ENV_REDIS_PASSWORD)s"


# ---- a real supervisord: crashes, restarts, the limit, the others keep running ---------
@pytest.fixture()
def crashing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    need(SUPERVISORD.exists(), f"{SUPERVISORD} missing: make install")
    state = tmp_path_factory.mktemp("sv")
    python = sys.executable
    programs = [
        # runs 1.5 s, then exits with status 3: restarted at once each time
        Program(
            "crasher",
            [python, "-c", "import time, sys; time.sleep(1.5); sys.exit(3)"],
            startsecs=1,
        ),
        # never gets going: supervisord's back-off (1 s, 2 s, ...) while starting
        Program("starter", [python, "-c", "raise SystemExit(2)"], startsecs=1),
        Program("steady", [python, "-c", "import time; time.sleep(600)"], startsecs=1),
    ]
    conf = supervision.write_config(programs, state, "iom-test", policy=(3, 60, 4, 8))
    subprocess.run([str(SUPERVISORD), "-c", str(conf)], check=True, cwd=ROOT)
    try:
        wait_until(lambda: supervision.alive(state), 10, "supervisord")
        yield state
    finally:
        supervision.shutdown(state, 30)


def test_crashes_are_restarted_logged_with_their_exit_status_and_limited(
    crashing: Path,
) -> None:
    state = crashing
    log = state / "logs" / "restarts.log"
    wait_until(lambda: info(state, "steady")["statename"] == "RUNNING", 10, "steady")
    steady = info(state, "steady")["pid"]

    def text() -> str:
        return log.read_text("utf-8") if log.exists() else ""

    wait_until(lambda: "crasher: pause over" in text(), 45, "pause and restart")
    lines = text()
    for n in (1, 2, 3):
        assert f"crasher: exited (exit status 3; not expected), restart {n} (" in lines
    assert "more than 3 restarts in 60 s: paused for 4 s" in lines
    assert "starter: exited (exit status 2; not expected)" in lines
    assert re.search(r"starter: .*paused for \d+ s", lines)
    records = json.loads((state / "restarts.json").read_text())
    assert records["crasher"]["restarts"] >= 4
    assert records["crasher"]["last_exit"] == "exit status 3; not expected"
    assert "steady" not in records
    # the others keep running: the same process all along
    assert info(state, "steady")["pid"] == steady
    # and supervisord's own log has every exit too
    main_log = (state / "supervisord.log").read_text()
    assert "exited: crasher (exit status 3; not expected)" in main_log

    out = subprocess.run(
        [sys.executable, "-m", "iom.tools.supervision", "status", str(state)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 1, out.stdout + out.stderr  # not all RUNNING
    row = next(line for line in out.stdout.splitlines() if "crasher" in line)
    assert "exit status 3" in row
    assert re.search(r"\s(\d+)\s", row.split("crasher", 1)[1])
    steady_row = next(line for line in out.stdout.splitlines() if "steady" in line)
    assert "RUNNING" in steady_row
    # supervisord's own client works with the written configuration (and its password)
    conf = state / "supervisord.conf"
    assert conf.stat().st_mode & 0o777 == 0o600
    assert "CRIT" not in main_log  # the control socket asks for the password
    ctl = subprocess.run(
        [
            str(SUPERVISORD.parent / "supervisorctl"),
            "-c",
            str(conf),
            "status",
            "steady",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "RUNNING" in ctl.stdout, ctl.stdout + ctl.stderr


def test_status_says_when_nothing_is_supervised(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "iom.tools.supervision", "status", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 3 and "No supervisord is running" in out.stdout


def test_make_status_is_a_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^status:.*## ", makefile, re.M)
    assert "-m iom.tools.supervision status" in makefile


# ---- deployments: systemd units, compose restart policies, docs -----------------------
def unit(name: str) -> configparser.RawConfigParser:
    config = configparser.RawConfigParser(strict=False)
    config.optionxform = str  # type: ignore[assignment,method-assign]
    config.read(UNITS / name)
    return config


def test_each_supervised_process_has_an_equivalent_systemd_unit() -> None:
    placeholders = {
        **RUN_ENV,
        "RASA_HOST": "${RASA_HOST}",
        "RASA_PORT": "%i",
        "ACTION_PORT": "${ACTION_PORT}",
        "WIDGET_PORT": "${WIDGET_PORT}",
        "CONSOLE_PORT": "${CONSOLE_PORT}",
        "CORS_ORIGIN": "$CORS_ORIGIN",
    }
    names = {
        "actions": "iom-actions.service",
        "rasa": "iom-rasa@.service",
        "widget": "iom-widget.service",
        "console": "iom-console.service",
        "retention": "iom-retention.service",
    }
    for program in supervision.run_programs(placeholders):
        command = " ".join(program.command).replace(str(ROOT), INSTALLED)
        command = command.replace(
            "--endpoints endpoints.yml", "--endpoints ${RASA_ENDPOINTS}"
        )
        command = command.replace(" --every 86400", "")  # a daily timer instead
        config = unit(names[program.name])
        assert config["Service"]["ExecStart"] == command, program.name
        if program.name == "retention":
            assert config["Service"]["Type"] == "oneshot"
            continue
        assert config["Service"]["Restart"] == "always"
        assert config["Unit"]["StartLimitBurst"] == str(supervision.MAX_RESTARTS)
        assert config["Unit"]["StartLimitIntervalSec"] == str(int(supervision.WINDOW))
        assert config["Unit"]["OnFailure"] == "iom-assistant-retry@%N.service"
    timer = unit("iom-retention.timer")
    assert timer["Timer"]["OnUnitActiveSec"] == "1d"


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    need(bool(analyze), "systemd-analyze missing (Debian package systemd)")
    env = tmp_path / "env"
    shutil.copy(ROOT / ".env.example", env)
    for path in UNITS.iterdir():
        if path.suffix in (".service", ".timer", ".target"):
            text = path.read_text().replace(INSTALLED, str(ROOT))
            text = text.replace("/etc/iom-assistant/env", str(env))
            text = re.sub(r"^(User|Group)=iom$", r"\1=root", text, flags=re.M)
            (tmp_path / path.name).write_text(text)
    shutil.copy(tmp_path / "iom-rasa@.service", tmp_path / "iom-rasa@5005.service")
    shutil.copy(
        tmp_path / "iom-assistant-retry@.service",
        tmp_path / "iom-assistant-retry@iom-rasa@5005.service",
    )
    units = [
        "iom-assistant.target",
        "iom-actions.service",
        "iom-rasa@5005.service",
        "iom-widget.service",
        "iom-console.service",
        "iom-retention.service",
        "iom-retention.timer",
        "iom-assistant-retry@iom-rasa@5005.service",
    ]
    done = subprocess.run(
        [str(analyze), "verify", "--man=no", *(str(tmp_path / u) for u in units)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        # systemd < 254 does not know the growing restart delay yet
        if line
        and not re.search(r"Unknown key '(RestartSteps|RestartMaxDelaySec)'", line)
    ]
    assert done.returncode == 0 and not problems, problems


def test_compose_keeps_its_restart_policies() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        assert service.get("restart") == "unless-stopped", name


def test_docs_describe_supervision_status_and_logs() -> None:
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    for words in (
        "supervisord",
        "make status",
        "restarts.log",
        "deploy/systemd",
        "Ctrl-C",
        "5 restarts",
    ):
        assert words in deploy, words
