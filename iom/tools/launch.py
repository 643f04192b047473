"""Live services for end-to-end tests: Rasa, the action server and the widget page.

Each runs as a real subprocess on a free port, with its own SQLite tracker file.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from iom.core.settings import ROOT

MODEL = ROOT / "models" / "iom.tar.gz"

RASA = str(ROOT / ".venv" / "bin" / "rasa")
PYTHON = sys.executable


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def two_free_ports() -> int:
    """A free port p with p + 1 free as well (the base port of two Rasa instances)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


def wait_for(url: str, seconds: float = 240) -> None:
    """Wait until `url` answers (any HTTP status), or raise after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(1)
    raise TimeoutError(f"{url} did not come up in {seconds} s")


class LiveBot:
    """A Rasa server and an action server on free ports, with their own SQLite file."""

    def __init__(
        self, tmp: Path, model: Path = MODEL, api_token: str | None = None
    ) -> None:
        """`api_token`: Rasa's HTTP API on (`--enable-api`) with this token."""
        self.model = model
        self.rasa_port, self.action_port = free_port(), free_port()
        self.widget_ports = [free_port(), free_port()]  # the origins Rasa allows
        self.db = tmp / "tracker.db"
        self.env = {
            **os.environ,
            "ACTION_HOST": "127.0.0.1",
            "ACTION_PORT": str(self.action_port),
            "TRACKER_URL": f"sqlite:///{self.db}",
            "RASA_TELEMETRY_ENABLED": "false",
            # every test client shares 127.0.0.1: per-IP limit off, per-sender on
            "RATE_LIMIT_SENDER_PER_MIN": "30",
            "RATE_LIMIT_IP_PER_MIN": "0",
            "CORS_ORIGIN": " ".join(f"http://127.0.0.1:{p}" for p in self.widget_ports),
        }
        self.logs = tmp / "logs"
        self.logs.mkdir()
        self.extra: list[subprocess.Popen] = []
        self.actions = self._start_action_server()
        api = ["--enable-api", "--auth-token", api_token] if api_token else []
        self.rasa = self._rasa(
            "rasa",
            *("--model", str(model), "--port", str(self.rasa_port)),
            *("--interface", "127.0.0.1", "--endpoints", "endpoints.yml"),
            *("--credentials", "credentials.yml", *api),
        )
        wait_for(f"http://127.0.0.1:{self.action_port}/health")
        wait_for(f"http://127.0.0.1:{self.rasa_port}/")

    def _start_action_server(self) -> subprocess.Popen:
        return self._rasa(
            "actions",
            "actions",
            "--port",
            str(self.action_port),
            "--actions",
            "actions",
        )

    def _rasa(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "a")  # noqa: SIM115 (lives with it)
        return subprocess.Popen(
            [RASA, "run", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        """Rasa's base URL."""
        return f"http://127.0.0.1:{self.rasa_port}"

    def post(self, sender: str, text: str) -> list[dict]:
        """The bot's whole messages (text, buttons, …) for one user message."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return list(json.load(response))

    def say(self, sender: str, text: str) -> list[str]:
        """The texts of the bot's answers to one user message."""
        return [m.get("text", "") for m in self.post(sender, text)]

    def start_widget(self, rasa_port: int | None = None, **env: str) -> int:
        """Start a widget page server (talking to this bot); returns its port.

        The first two get the origins the bot allows; later ones are foreign origins.
        """
        port = self.widget_ports.pop(0) if self.widget_ports else free_port()
        log = open(self.logs / f"widget-{port}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [PYTHON, "-m", "iom.tools.widget_server", "--port", str(port)],
            cwd=ROOT,
            env={
                **os.environ,
                "RASA_PORT": str(rasa_port or self.rasa_port),
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.extra.append(process)
        wait_for(f"http://127.0.0.1:{port}/healthz", 30)
        return port

    def stop_actions(self) -> None:
        """Stop the action server (the bot keeps running)."""
        self.actions.terminate()
        self.actions.wait(30)

    def start_actions(self) -> None:
        """Start the action server again (after `stop_actions`)."""
        if self.actions.poll() is None:
            return
        self.actions = self._start_action_server()
        wait_for(f"http://127.0.0.1:{self.action_port}/health")

    def close(self) -> None:
        """Stop every process this bot started."""
        for process in (self.rasa, self.actions, *self.extra):
            if process.poll() is None:
                process.terminate()
                process.wait(30)
